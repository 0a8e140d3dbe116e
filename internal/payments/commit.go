package payments

import (
	"context"
	"fmt"
	"sync"

	"github.com/fleetkey/fleetkey/internal/store"
)

// maxBatch bounds the writes committed together in one transaction.
const maxBatch = 64

// committer runs the service's per-payment writes with group commit: writes that
// arrive while a transaction is running are queued and then committed together in
// the next one, each in its own savepoint, so one write transaction (and one WAL
// commit) carries many payments while a refused payment still leaves no trace and
// undoes none of the others. Whoever finds no transaction running leads one batch
// and hands the lead to the next waiting writer, so no caller waits for more than
// the batch it is in and the one before it. No goroutine outlives its caller.
type committer struct {
	st store.Store

	mu      sync.Mutex
	queue   []*writeJob
	leading bool
}

type writeJob struct {
	ctx  context.Context
	fn   func(store.Tx) error
	err  error
	done chan bool // true: lead the next batch; false: err is the result
}

// write runs fn in a savepoint of a group-committed write transaction and returns
// its error, or the transaction's if the commit failed. fn must be safe to run
// more than once (a backend may retry the transaction).
func (c *committer) write(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan bool, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, j)
	if c.leading {
		c.mu.Unlock()
		if lead := <-j.done; !lead {
			return j.err
		}
	} else {
		c.leading = true
		c.mu.Unlock()
	}
	// This caller leads: its own job is first in the queue, so the batch taken
	// now contains it.
	c.mu.Lock()
	n := min(len(c.queue), maxBatch)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()

	c.run(ctx, batch)

	c.mu.Lock()
	if len(c.queue) == 0 {
		c.leading = false
		c.mu.Unlock()
	} else {
		next := c.queue[0]
		c.mu.Unlock()
		next.done <- true
	}
	for _, b := range batch {
		if b != j {
			b.done <- false
		}
	}
	return j.err
}

// run commits one batch. The transaction does not stop when the leader's context
// is cancelled: it carries other callers' payments too. A job whose own context is
// done before the batch runs is skipped.
func (c *committer) run(ctx context.Context, batch []*writeJob) {
	defer func() {
		// Whatever happens in the store, every writer of the batch gets an answer
		// and the lead is handed on.
		if p := recover(); p != nil {
			for _, j := range batch {
				j.err = fmt.Errorf("payments: panic in a write transaction: %v", p)
			}
		}
	}()
	txCtx := context.WithoutCancel(ctx)
	if len(batch) == 1 {
		// Alone in its transaction, a write needs no savepoint: the transaction's
		// own rollback undoes it, two statements cheaper.
		j := batch[0]
		if j.err = j.ctx.Err(); j.err == nil {
			j.err = c.st.Tx(txCtx, j.safeFn)
		}
		return
	}
	err := c.st.Tx(txCtx, func(tx store.Tx) error {
		for _, j := range batch {
			if j.err = j.ctx.Err(); j.err != nil {
				continue
			}
			j.err = tx.Savepoint(txCtx, j.safeFn)
		}
		return nil
	})
	if err != nil {
		for _, j := range batch {
			j.err = err
		}
	}
}

// safeFn runs the job's function and turns a panic into its error: a panic must
// not unwind through the leader and leave the writers queued behind it waiting
// forever. The write is undone with its savepoint or transaction.
func (j *writeJob) safeFn(tx store.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("payments: panic in a write: %v", p)
		}
	}()
	return j.fn(tx)
}
