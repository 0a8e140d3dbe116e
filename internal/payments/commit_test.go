package payments

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/store"
)

// countingStore counts write transactions.
type countingStore struct {
	store.Store
	txs atomic.Int64
}

func (c *countingStore) Tx(ctx context.Context, fn func(store.Tx) error) error {
	c.txs.Add(1)
	return c.Store.Tx(ctx, fn)
}

func TestCommitterGroupsWritesAndIsolatesFailures(t *testing.T) {
	e := newEnv(t)
	cs := &countingStore{Store: e.st}
	c := &committer{st: cs}
	log, err := audit.New(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	errRefused := errors.New("refused")
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = c.write(e.ctx, func(tx store.Tx) error {
				if _, err := log.Append(e.ctx, tx, audit.Entry{Actor: audit.System, Action: "test.write", Subject: strconv.Itoa(i)}); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errRefused // written, then undone with its savepoint
				case 7:
					panic("boom")
				}
				return nil
			})
		})
	}
	wg.Wait()
	var ok int
	for i, err := range errs {
		switch i % 10 {
		case 3:
			if !errors.Is(err, errRefused) {
				t.Errorf("write %d: %v, want the refusal", i, err)
			}
		case 7:
			if err == nil {
				t.Errorf("write %d panicked but reported success", i)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
			ok++
		}
	}
	if got := e.auditCount(); got != uint64(ok) {
		t.Errorf("%d records kept, want the %d successful writes", got, ok)
	}
	if txs := cs.txs.Load(); txs >= n {
		t.Errorf("%d transactions for %d concurrent writes: no grouping", txs, n)
	} else {
		t.Logf("%d writes in %d transactions", n, txs)
	}
	// Alone in its transaction (no savepoint), a panicking write is undone too and
	// the committer goes on.
	if err := c.write(e.ctx, func(tx store.Tx) error {
		if _, err := log.Append(e.ctx, tx, audit.Entry{Actor: audit.System, Action: "test.write", Subject: "alone"}); err != nil {
			return err
		}
		panic("alone")
	}); err == nil {
		t.Error("a panicking write alone reported success")
	}
	if err := c.write(e.ctx, func(tx store.Tx) error {
		_, err := log.Append(e.ctx, tx, audit.Entry{Actor: audit.System, Action: "test.write", Subject: "after"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := e.auditCount(); got != uint64(ok)+1 {
		t.Errorf("%d records after the lone panic and one more write, want %d", got, ok+1)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	ran := false
	if err := c.write(ctx, func(store.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("cancelled write: ran=%v err=%v", ran, err)
	}
}
