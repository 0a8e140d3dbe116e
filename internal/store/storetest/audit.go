package storetest

import (
	"crypto/ecdsa"
	"fmt"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/store"
)

// testSigner is an in-memory checkpoint signer for the suite.
type testSigner struct{ k *ecdsa.PrivateKey }

func (s testSigner) SignDigest(d [32]byte) ([65]byte, error) {
	var out [65]byte
	sig, err := crypto.Sign(d[:], s.k)
	copy(out[:], sig)
	return out, err
}

func (s testSigner) Address() common.Address { return crypto.PubkeyToAddress(s.k.PublicKey) }

// testAuditConcurrent appends 200 records from 200 goroutines, each in its own Tx
// together with a ledger change, and checks the chain has no fork and no gap.
func testAuditConcurrent(t *testing.T, s store.Store) {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer := testSigner{k}
	log, err := audit.New(audit.Options{Signer: signer, CheckpointEvery: 50})
	if err != nil {
		t.Fatal(err)
	}
	fx := newFixture(t, s, 1)
	const workers = 200
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		start = make(chan struct{})
	)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := s.Tx(ctx(), func(tx store.Tx) error {
				a, _, err := tx.ReserveAuthorization(ctx(), store.ReserveRequest{Authorization: fx.payment(i%2, fmt.Sprintf("au%d", i), 1), Now: t0})
				if err != nil {
					return err
				}
				_, err = log.Append(ctx(), tx, audit.Entry{Actor: audit.AgentActor(a.AgentID), Action: audit.ActionPaymentSigned, Subject: a.ID,
					Data: map[string]any{"amount_micro": a.AmountMicro, "worker": i}})
				return err
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d appends failed, first: %v", len(errs), errs[0])
	}
	rep, err := audit.Verify(ctx(), s, signer.Address())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != workers || rep.Head != workers || rep.Checkpoints != workers/50 {
		t.Fatalf("report = %+v, problem %v", rep, rep.Problem)
	}
	// Every record commits with its authorization: one subject per authorization.
	subjects := map[string]bool{}
	read(t, s, func(tx store.ReadTx) error {
		recs, err := tx.AuditRecords(ctx(), 0, 0)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if _, err := tx.Authorization(ctx(), r.Subject); err != nil {
				return err
			}
			subjects[r.Subject] = true
		}
		return nil
	})
	if len(subjects) != workers {
		t.Fatalf("%d distinct subjects, want %d", len(subjects), workers)
	}
}
