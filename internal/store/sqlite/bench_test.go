package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/store"
)

type benchFleet struct {
	fleet  store.Fleet
	agents []store.Agent
	keys   []store.Key
}

func benchSetup(b *testing.B, opt Options, agents int) (*Store, benchFleet) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), opt)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var bf benchFleet
	err = s.Tx(ctx, func(tx store.Tx) error {
		var err error
		if bf.fleet, err = tx.CreateFleet(ctx, store.Fleet{Name: "bench", Index: 1}); err != nil {
			return err
		}
		g, err := tx.CreateGroup(ctx, store.Group{FleetID: bf.fleet.ID, Name: "g"})
		if err != nil {
			return err
		}
		na := make([]store.NewAgent, agents)
		for i := range na {
			na[i] = store.NewAgent{GroupID: g.ID, Name: fmt.Sprint(i)}
		}
		res, err := tx.CreateAgents(ctx, store.CreateAgentsRequest{FleetID: bf.fleet.ID, Agents: na})
		if err != nil {
			return err
		}
		for _, r := range res {
			k, err := tx.CreateKey(ctx, store.Key{AgentID: r.Agent.ID, Path: "m/" + r.Agent.ID, Address: randHex(20)})
			if err != nil {
				return err
			}
			bf.agents, bf.keys = append(bf.agents, r.Agent), append(bf.keys, k)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, bf
}

func randHex(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	return "0x" + hex.EncodeToString(buf)
}

var benchSeq atomic.Int64

// payOnce is the storage work of one payment: reserve against windows at every level
// with the signed response, and append the audit record, in one write transaction.
func payOnce(ctx context.Context, s *Store, log *audit.Log, bf benchFleet, i int, withWindows bool) error {
	return s.Tx(ctx, func(tx store.Tx) error { return pay(ctx, tx, log, bf, i, withWindows) })
}

func pay(ctx context.Context, tx store.Tx, log *audit.Log, bf benchFleet, i int, withWindows bool) error {
	n := benchSeq.Add(1)
	a := i % len(bf.agents)
	now := time.Now()
	req := store.ReserveRequest{Now: now, Authorization: store.Authorization{
		AgentID: bf.agents[a].ID, KeyID: bf.keys[a].ID, IdempotencyKey: strconv.FormatInt(n, 10),
		Network: "eip155:8453", Asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", PayTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
		Origin: "https://api.example.com", ResourceURL: "https://api.example.com/v1/data", AmountAtomic: "1000", AmountMicro: 1000,
		Nonce: randHex(32), ValidAfter: now.Add(-time.Minute), ValidBefore: now.Add(5 * time.Minute), PolicyHash: "sha256:bench",
	}}
	if withWindows {
		req.Windows = []store.WindowLimit{
			{Level: store.LevelFleet, ScopeID: bf.fleet.ID, Window: time.Hour, MaxAmountMicro: 1 << 60, MaxCount: -1},
			{Level: store.LevelGroup, ScopeID: bf.agents[a].GroupID, Window: time.Minute, MaxAmountMicro: -1, MaxCount: 1 << 40},
			{Level: store.LevelAgent, ScopeID: bf.agents[a].ID, Window: 24 * time.Hour, MaxAmountMicro: 1 << 60, MaxCount: 1 << 40},
		}
	}
	// Signed before it is reserved, as the payments service does: one INSERT.
	req.Signed = store.PaymentHeader{Name: "PAYMENT-SIGNATURE", Value: "eyJ4NDAyVmVyc2lvbiI6Mn0"}
	auth, _, err := tx.ReserveAuthorization(ctx, req)
	if err != nil {
		return err
	}
	_, err = log.Append(ctx, tx, audit.Entry{Actor: audit.AgentActor(auth.AgentID), Action: audit.ActionPaymentSigned, Subject: auth.ID,
		Data: map[string]any{"amount_micro": auth.AmountMicro, "pay_to": auth.PayTo, "policy_hash": auth.PolicyHash}})
	return err
}

// BenchmarkReserveBatched is the same work with 32 payments per write transaction,
// each in its own savepoint (group commit): what a signer that batches concurrent
// requests would get from this layer. ns/op is per payment.
func BenchmarkReserveBatched(b *testing.B) {
	for _, opt := range []struct {
		name string
		o    Options
	}{{"sync=full", Options{}}, {"sync=normal", Options{SynchronousNormal: true}}} {
		b.Run(opt.name+"/windows=3/batch=32", func(b *testing.B) {
			ctx := context.Background()
			s, bf := benchSetup(b, opt.o, 100)
			log, err := audit.New(audit.Options{})
			if err != nil {
				b.Fatal(err)
			}
			const batch = 32
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				err := s.Tx(ctx, func(tx store.Tx) error {
					for j := i; j < i+batch && j < b.N; j++ {
						if err := tx.Savepoint(ctx, func(tx store.Tx) error { return pay(ctx, tx, log, bf, j, true) }); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReserve measures a signed reservation + audit append in one transaction.
// Window sums scan the counted records of each window, so the figures depend on how
// many records the windows hold only through the bucket aggregate; the "prefilled"
// variant starts with 20,000 records inside every window.
func BenchmarkReserve(b *testing.B) {
	for _, bc := range []struct {
		name     string
		opt      Options
		windows  bool
		prefill  int
		parallel bool
	}{
		{"sync=full/windows=3/seq", Options{}, true, 0, false},
		{"sync=normal/windows=3/seq", Options{SynchronousNormal: true}, true, 0, false},
		{"sync=normal/windows=0/seq", Options{SynchronousNormal: true}, false, 0, false},
		{"sync=normal/windows=3/parallel", Options{SynchronousNormal: true}, true, 0, true},
		{"sync=full/windows=3/parallel", Options{}, true, 0, true},
		{"sync=normal/windows=3/prefilled20k/seq", Options{SynchronousNormal: true}, true, 20000, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			s, bf := benchSetup(b, bc.opt, 100)
			log, err := audit.New(audit.Options{})
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < bc.prefill; i += 500 {
				err := s.Tx(ctx, func(tx store.Tx) error {
					for j := i; j < i+500 && j < bc.prefill; j++ {
						if err := pay(ctx, tx, log, bf, j, false); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			if !bc.parallel {
				for i := 0; i < b.N; i++ {
					if err := payOnce(ctx, s, log, bf, i, bc.windows); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.SetParallelism(8)
			var ctr atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := payOnce(ctx, s, log, bf, int(ctr.Add(1)), bc.windows); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSpend measures one window total over a window holding 10,000 records.
func BenchmarkSpend(b *testing.B) {
	ctx := context.Background()
	s, bf := benchSetup(b, Options{SynchronousNormal: true}, 10)
	log, _ := audit.New(audit.Options{})
	err := s.Tx(ctx, func(tx store.Tx) error {
		for i := 0; i < 10000; i++ {
			if err := pay(ctx, tx, log, bf, i, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := s.ReadTx(ctx, func(tx store.ReadTx) error {
			sp, err := tx.Spend(ctx, store.LevelFleet, bf.fleet.ID, time.Hour, now)
			if err == nil && sp.Count != 10000 {
				err = fmt.Errorf("count %d", sp.Count)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
