package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

func randHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "0x" + hex.EncodeToString(b)
}

// TestBatchesAcrossFleetsAndStores runs, on two Stores of one schema (two replicas),
// write transactions that each reserve in two fleets (in opposite orders on
// alternate transactions), every payment in its own savepoint followed by an audit
// append, as the payments service's group commit does. No transaction may fail (a
// deadlock inside a savepoint would fail that payment rather than re-run the
// transaction), every payment is stored, and the audit chain has no gap.
func TestBatchesAcrossFleetsAndStores(t *testing.T) {
	ctx := context.Background()
	url := testURL(t)
	schema := tempSchema(t, url)
	var stores [2]*Store
	for i := range stores {
		s, err := Open(ctx, url, Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	type payer struct{ agent, key string }
	var payers [2]payer
	if err := stores[0].Tx(ctx, func(tx store.Tx) error {
		for f := range payers {
			fl, err := tx.CreateFleet(ctx, store.Fleet{Name: fmt.Sprintf("fleet-%d", f), Index: uint32(f + 1)})
			if err != nil {
				return err
			}
			res, err := tx.CreateAgents(ctx, store.CreateAgentsRequest{FleetID: fl.ID, Agents: []store.NewAgent{{Name: "a", ExternalID: "a"}}})
			if err != nil {
				return err
			}
			k, err := tx.CreateKey(ctx, store.Key{AgentID: res[0].Agent.ID, Path: fmt.Sprintf("m/44'/60'/%d'/0'/0'", f+1), Address: randHex(t, 20)})
			if err != nil {
				return err
			}
			payers[f] = payer{res[0].Agent.ID, k.ID}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	const workers, txs = 8, 15
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range workers {
		wg.Go(func() {
			st := stores[w%2]
			for i := range txs {
				order := []int{0, 1}
				if (w+i)%2 == 1 {
					order = []int{1, 0}
				}
				err := st.Tx(ctx, func(tx store.Tx) error {
					for _, f := range order {
						if err := tx.Savepoint(ctx, func(tx store.Tx) error {
							now := time.Now()
							_, _, err := tx.ReserveAuthorization(ctx, store.ReserveRequest{Now: now, Authorization: store.Authorization{
								AgentID: payers[f].agent, KeyID: payers[f].key, IdempotencyKey: randHex(t, 8), Network: "eip155:84532",
								Asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", PayTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
								Origin: "https://api.example.com", ResourceURL: "https://api.example.com/x", AmountAtomic: "1", AmountMicro: 1,
								Nonce: randHex(t, 32), ValidAfter: now.Add(-time.Minute), ValidBefore: now.Add(time.Minute), PolicyHash: "sha256:t",
							}})
							if err != nil {
								return err
							}
							head, err := tx.AuditHead(ctx)
							var seq uint64 = 1
							var prev [32]byte
							switch {
							case err == nil:
								seq, prev = head.Seq+1, head.Hash
							case !errors.Is(err, store.ErrNotFound):
								return err
							}
							var h [32]byte
							rand.Read(h[:])
							return tx.AppendAudit(ctx, store.AuditRecord{Seq: seq, Time: now, Actor: "system", Action: "test.paid",
								Subject: payers[f].agent, Data: []byte("{}"), PrevHash: prev, Hash: h})
						}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d transactions failed, first: %v", len(errs), errs[0])
	}
	var n int
	var records []store.AuditRecord
	if err := stores[1].ReadTx(ctx, func(rt store.ReadTx) error {
		as, err := rt.Authorizations(ctx, store.AuthorizationFilter{})
		n = len(as)
		if err != nil {
			return err
		}
		records, err = rt.AuditRecords(ctx, 0, 10_000)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if want := workers * txs * 2; n != want || len(records) != want {
		t.Fatalf("%d authorizations and %d audit records, want %d of each", n, len(records), want)
	}
	for i, r := range records {
		if r.Seq != uint64(i+1) || (i > 0 && r.PrevHash != records[i-1].Hash) {
			t.Fatalf("audit record %d: seq %d, links to %x", i, r.Seq, r.PrevHash[:4])
		}
	}
}
