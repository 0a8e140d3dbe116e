package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/reconcile"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestSettledThroughFacilitator: a payment settled by the facilitator is marked settled
// with the settlement's transaction hash and a system audit record, once.
func TestSettledThroughFacilitator(t *testing.T) {
	e := newEnv(t)
	p := e.pay("10000")
	before := e.spend()
	seq := e.auditSeq()
	txHash := e.settle(p)

	rep := e.once()
	if rep.Settled != 1 || rep.Checked != 1 || rep.Expired != 0 || rep.Cancelled != 0 || rep.Unresolved != 0 {
		t.Fatalf("report %+v", rep)
	}
	a := e.authorization(p.id)
	if a.Status != store.AuthSettled || !strings.EqualFold(a.TxHash, txHash) || a.SettledAt.IsZero() {
		t.Fatalf("authorization %s status %s tx %s settled at %s; facilitator tx %s", a.ID, a.Status, a.TxHash, a.SettledAt, txHash)
	}
	recs := findAudit(e.auditTail(seq), audit.ActionPaymentSettled, p.id)
	if len(recs) != 1 || recs[0].Actor != audit.System {
		t.Fatalf("settlement audit records %+v", recs)
	}
	var data map[string]any
	if err := json.Unmarshal(recs[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(data["tx_hash"].(string), txHash) || data["previous_status"] != "signed" {
		t.Errorf("audit data %s", recs[0].Data)
	}
	if got := e.spend(); got != before {
		t.Errorf("settling changed the window total from %+v to %+v", before, got)
	}
	e.checkWindows(time.Now())

	// Nothing left to do: a second pass checks nothing and writes nothing.
	seq = e.auditSeq()
	if rep := e.once(); rep.Changed() || rep.Checked != 0 {
		t.Errorf("second pass %+v", rep)
	}
	if e.auditSeq() != seq {
		t.Error("second pass wrote audit records")
	}
	e.VerifyAudit()
}

// TestUsedBeforeValidBeforeEndsSettled: an authorization settled before its validBefore
// but reconciled only after it is settled, not expired.
func TestUsedBeforeValidBeforeEndsSettled(t *testing.T) {
	e := newEnv(t)
	p := e.pay("10000")
	txHash := e.settle(p)
	e.skew.Store(int64(3 * time.Minute)) // past validBefore (max_validity 2m)

	rep := e.once()
	if rep.Settled != 1 || rep.Expired != 0 {
		t.Fatalf("report %+v", rep)
	}
	if a := e.authorization(p.id); a.Status != store.AuthSettled || !strings.EqualFold(a.TxHash, txHash) {
		t.Fatalf("status %s tx %s", a.Status, a.TxHash)
	}
	e.checkWindows(time.Now())
	e.checkWindows(e.now())
}

// TestExpiredThenSettledLate: unsettled authorizations expire after validBefore and leave
// the window total; one that the chain settles after being marked expired becomes settled
// and counts again.
func TestExpiredThenSettledLate(t *testing.T) {
	e := newEnv(t)
	late := e.pay("10000")
	never := e.pay("20000")
	if s := e.spend(); s.Count != 2 || s.AmountMicro != 30000 {
		t.Fatalf("spend before %+v", s)
	}
	seq := e.auditSeq()

	// Before validBefore nothing expires.
	if rep := e.once(); rep.Changed() || rep.Checked != 2 {
		t.Fatalf("pass before validBefore %+v", rep)
	}
	e.skew.Store(int64(3 * time.Minute))
	rep := e.once()
	if rep.Expired != 2 || rep.Settled != 0 || rep.Checked != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, id := range []string{late.id, never.id} {
		if a := e.authorization(id); a.Status != store.AuthExpired {
			t.Fatalf("%s is %s, want expired", id, a.Status)
		}
		if recs := findAudit(e.auditTail(seq), audit.ActionPaymentExpired, id); len(recs) != 1 || recs[0].Actor != audit.System {
			t.Errorf("expiry audit of %s: %+v", id, recs)
		}
	}
	if s := e.spend(); s.Count != 0 || s.AmountMicro != 0 {
		t.Fatalf("spend after expiry %+v", s)
	}
	e.checkWindows(time.Now())

	// The chain's clock is the wall clock: the authorization is still valid there.
	txHash := e.settle(late)
	rep = e.once()
	if rep.Settled != 1 || rep.Expired != 0 {
		t.Fatalf("late report %+v", rep)
	}
	a := e.authorization(late.id)
	if a.Status != store.AuthSettled || !strings.EqualFold(a.TxHash, txHash) {
		t.Fatalf("late settlement: status %s tx %s", a.Status, a.TxHash)
	}
	if recs := findAudit(e.auditTail(seq), audit.ActionPaymentSettled, late.id); len(recs) != 1 || !strings.Contains(string(recs[0].Data), `"previous_status":"expired"`) {
		t.Errorf("late settlement audit %+v", recs)
	}
	if s := e.spend(); s.Count != 1 || s.AmountMicro != 10000 {
		t.Fatalf("spend after late settlement %+v", s)
	}
	if a := e.authorization(never.id); a.Status != store.AuthExpired {
		t.Errorf("the unsettled one is %s", a.Status)
	}
	e.checkWindows(time.Now())
	e.VerifyAudit()
}

// TestCancelledOnChain: an authorization the agent's key cancels on chain
// (cancelAuthorization) is cancelled in the ledger and its budget released.
func TestCancelledOnChain(t *testing.T) {
	e := newEnv(t)
	p := e.pay("10000")
	kept := e.pay("15000")
	seq := e.auditSeq()
	e.cancelOnChain(p.id)

	rep := e.once()
	if rep.Cancelled != 1 || rep.Settled != 0 || rep.Checked != 2 {
		t.Fatalf("report %+v", rep)
	}
	if a := e.authorization(p.id); a.Status != store.AuthCancelled {
		t.Fatalf("status %s, want cancelled", a.Status)
	}
	if a := e.authorization(kept.id); a.Status != store.AuthSigned {
		t.Fatalf("the other authorization is %s", a.Status)
	}
	if recs := findAudit(e.auditTail(seq), reconcile.ActionPaymentCancelled, p.id); len(recs) != 1 || recs[0].Actor != audit.System {
		t.Errorf("cancellation audit %+v", recs)
	}
	if s := e.spend(); s.Count != 1 || s.AmountMicro != 15000 {
		t.Errorf("spend after cancellation %+v", s)
	}
	e.checkWindows(time.Now())
}

// TestApprovalExpiryReleasesReservation: a payment held for approval keeps its budget
// until the approval lapses; then the approval expires and the reservation is released.
func TestApprovalExpiryReleasesReservation(t *testing.T) {
	e := newEnv(t)
	held := e.pay("30000")
	if !held.res.NeedsApproval || len(held.res.ApprovalIDs) != 1 {
		t.Fatalf("payment %+v does not wait for approval", held.res)
	}
	if s := e.spend(); s.AmountMicro != 30000 {
		t.Fatalf("held spend %+v", s)
	}
	seq := e.auditSeq()
	if rep := e.once(); rep.Changed() {
		t.Fatalf("pass before the approval lapses %+v", rep)
	}
	e.skew.Store(int64(90 * time.Second)) // approval lapses after 1m; validBefore is later
	rep := e.once()
	if rep.ApprovalsExpired != 1 || rep.Released != 1 || rep.Expired != 0 {
		t.Fatalf("report %+v", rep)
	}
	if a := e.authorization(held.id); a.Status != store.AuthCancelled {
		t.Fatalf("held authorization is %s, want cancelled", a.Status)
	}
	err := e.Store.ReadTx(e.ctx, func(rt store.ReadTx) error {
		ap, err := rt.Approval(e.ctx, held.res.ApprovalIDs[0])
		if err == nil && ap.Status != store.ApprovalExpired {
			t.Errorf("approval is %s", ap.Status)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tail := e.auditTail(seq)
	if len(findAudit(tail, reconcile.ActionApprovalExpired, held.id)) != 1 || len(findAudit(tail, reconcile.ActionPaymentCancelled, held.id)) != 1 {
		t.Errorf("audit records after the approval lapsed: %+v", tail)
	}
	if s := e.spend(); s.Count != 0 || s.AmountMicro != 0 {
		t.Errorf("spend after release %+v", s)
	}
	e.checkWindows(time.Now())
}

// TestRPCDown: with the chain unreachable a pass fails and changes nothing, even with
// authorizations due to expire; Run keeps retrying and stops only with its context.
func TestRPCDown(t *testing.T) {
	e := newEnv(t)
	p := e.pay("10000")
	e.skew.Store(int64(3 * time.Minute))
	if err := e.dev.Close(); err != nil {
		t.Fatal(err)
	}
	seq, before := e.auditSeq(), e.spend()
	rep, err := e.rec.Once(e.ctx)
	if err == nil {
		t.Fatalf("pass without a chain succeeded: %+v", rep)
	}
	if rep.Changed() {
		t.Errorf("failed pass reports changes %+v", rep)
	}
	if a := e.authorization(p.id); a.Status != store.AuthSigned {
		t.Errorf("status %s after a failed pass", a.Status)
	}
	if e.auditSeq() != seq || e.spend() != before {
		t.Error("a failed pass wrote to the store")
	}

	errs := &errorCounter{errs: make(chan string, 16)}
	r := e.newReconciler(reconcile.Config{Interval: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Logger: slog.New(errs)})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for i := range 4 {
		select {
		case msg := <-errs.errs:
			if !strings.Contains(msg, "reconcile failed") {
				t.Errorf("logged %q", msg)
			}
		case err := <-done:
			t.Fatalf("Run stopped after %d failures: %v", i, err)
		case <-e.ctx.Done():
			t.Fatal("Run logged no failures")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if a := e.authorization(p.id); a.Status != store.AuthSigned {
		t.Errorf("status %s after Run without a chain", a.Status)
	}
}

// TestPrune: aggregates older than PruneAge are dropped once per PruneEvery, and
// totals still match the records at that time.
func TestPrune(t *testing.T) {
	e := newEnv(t)
	e.pay("10000")
	e.skew.Store(int64(40 * 24 * time.Hour))
	rep := e.once()
	if rep.Pruned == 0 || rep.Expired != 1 {
		t.Fatalf("report %+v", rep)
	}
	if rep := e.once(); rep.Pruned != 0 {
		t.Errorf("second prune within PruneEvery dropped %d rows", rep.Pruned)
	}
	e.checkWindows(e.now())
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	pe := paymentstest.New(t, paymentstest.Options{})
	rpc, err := ethclient.Dial("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer rpc.Close()
	full := reconcile.Config{Store: pe.Store, Audit: pe.Audit, RPC: rpc, Registry: pe.Registry}
	cases := map[string]func(*reconcile.Config){
		"no store":       func(c *reconcile.Config) { c.Store = nil },
		"no audit":       func(c *reconcile.Config) { c.Audit = nil },
		"no rpc":         func(c *reconcile.Config) { c.RPC = nil },
		"no registry":    func(c *reconcile.Config) { c.Registry = nil },
		"negative pause": func(c *reconcile.Config) { c.Interval = -time.Second },
		"short prune":    func(c *reconcile.Config) { c.PruneAge = 24 * time.Hour },
	}
	for name, mod := range cases {
		c := full
		mod(&c)
		if _, err := reconcile.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := reconcile.New(full); err != nil {
		t.Errorf("complete config refused: %v", err)
	}
}
