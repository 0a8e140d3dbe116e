package lifecycle

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestOrphansOnDevnet: funds that reach a drained generation and a revoked
// agent's key after the fact are found, a dry run moves nothing, the sweep moves
// tokens and native coin to the treasury and retires the keys; an idle agent's
// active key is swept only when idleness is asked for, and stays active.
func TestOrphansOnDevnet(t *testing.T) {
	e := newEnv(t)
	ps := e.provision("drained", "revoked", "idle")
	if _, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: ps[0].Agent.ID, Actor: operator}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ps[1].Agent.ID, Actor: operator}); err != nil {
		t.Fatal(err)
	}
	drained, revoked, idle := common.HexToAddress(ps[0].Key.Address), common.HexToAddress(ps[1].Key.Address), common.HexToAddress(ps[2].Key.Address)
	e.fund(drained, 5000)
	e.fund(revoked, 7000)
	e.fund(idle, 100)
	gift := new(big.Int).Mul(big.NewInt(5), big.NewInt(1e16))
	ntx, err := devSender(t, e.d, 3).Send(e.ctx, chainTx(&revoked, gift))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(e.ctx, e.d.Client(), ntx.Hash()); err != nil {
		t.Fatal(err)
	}

	found, err := e.m.Orphans(e.ctx, OrphanFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]Orphan{}
	for _, o := range found {
		byKey[o.KeyID] = o
	}
	if len(found) != 2 || byKey[ps[0].Key.ID].Reason != "drained generation" || byKey[ps[1].Key.ID].Native != gift.String() ||
		byKey[ps[1].Key.ID].Reason != "agent revoked" {
		t.Fatalf("orphans: %s", mustJSON(found))
	}
	treasury := e.balance(e.treasury)
	nativeBefore, _ := e.d.Client().BalanceAt(e.ctx, e.treasury, nil)
	dry, err := e.m.SweepOrphans(e.ctx, OrphanFilter{}, true, operator)
	if err != nil || len(dry.Found) != 2 || len(dry.Actions) != 0 || e.balance(e.treasury).Cmp(treasury) != 0 {
		t.Fatalf("dry run: %v %s", err, mustJSON(dry))
	}
	rep, err := e.m.SweepOrphans(e.ctx, OrphanFilter{}, false, operator)
	if err != nil {
		t.Fatalf("sweep: %v %s", err, mustJSON(rep))
	}
	if got := new(big.Int).Sub(e.balance(e.treasury), treasury); got.Int64() != 12000 {
		t.Errorf("treasury received %v tokens, want 12000", got)
	}
	nativeAfter, _ := e.d.Client().BalanceAt(e.ctx, e.treasury, nil)
	if got := new(big.Int).Sub(nativeAfter, nativeBefore); got.Sign() <= 0 || got.Cmp(gift) >= 0 {
		t.Errorf("treasury received %v wei, want the gift less gas", got)
	}
	if len(rep.Retired) != 2 {
		t.Errorf("retired %v", rep.Retired)
	}
	for _, id := range []string{ps[0].Agent.ID, ps[1].Agent.ID} {
		if k := e.keys(id)[0]; k.Status != store.KeyRetired {
			t.Errorf("key %s is %s", k.ID, k.Status)
		}
	}
	if again, err := e.m.Orphans(e.ctx, OrphanFilter{}); err != nil || len(again) != 0 {
		t.Errorf("orphans after the sweep: %v %s", err, mustJSON(again))
	}

	// Idle agents, when asked.
	rep, err = e.m.SweepOrphans(e.ctx, OrphanFilter{IdleFor: time.Nanosecond}, false, operator)
	if err != nil || len(rep.Found) != 1 || rep.Found[0].AgentID != ps[2].Agent.ID || len(rep.Retired) != 0 {
		t.Fatalf("idle sweep: %v %s", err, mustJSON(rep))
	}
	if e.balance(idle).Sign() != 0 || e.keys(ps[2].Agent.ID)[0].Status != store.KeyActive {
		t.Error("idle key not swept, or not active any more")
	}
}

// TestRevokeGroupDryRunAndPredicate: selection by group and by payee, and a
// revocation of every selected agent.
func TestRevokeGroupAndPredicate(t *testing.T) {
	e := newEnv(t)
	ps := e.provision("g1", "g2", "g3")
	other := common.HexToAddress("0x00000000000000000000000000000000000b0b00")
	e.pay(ps[0].Agent.ID, "x", other, "100")
	e.pay(ps[1].Agent.ID, "y", merchant, "100")

	if _, err := e.m.Select(e.ctx, Selector{}); err == nil {
		t.Error("empty selector accepted")
	}
	sel, err := e.m.Select(e.ctx, Selector{GroupID: e.group.ID})
	if err != nil || len(sel) != 3 {
		t.Fatalf("group: %d %v", len(sel), err)
	}
	sel, err = e.m.Select(e.ctx, Selector{FleetID: e.fleet.ID, PaidTo: other.Hex(), Since: time.Now().Add(-time.Hour)})
	if err != nil || len(sel) != 1 || sel[0].ID != ps[0].Agent.ID {
		t.Fatalf("paid-to: %+v %v", sel, err)
	}
	if sel, _ = e.m.Select(e.ctx, Selector{PaidTo: other.Hex(), Since: time.Now().Add(time.Hour)}); len(sel) != 0 {
		t.Errorf("paid-to in the future: %d", len(sel))
	}
	out := e.m.RevokeAll(e.ctx, []string{ps[0].Agent.ID, ps[2].Agent.ID}, operator, 2)
	for _, o := range out {
		if o.Error != "" || o.Report.Status != store.JobDone {
			t.Errorf("%s: %s", o.AgentID, o.Error)
		}
	}
	if e.agent(ps[1].Agent.ID).Status != store.AgentActive || e.agent(ps[2].Agent.ID).Status != store.AgentRevoked {
		t.Error("wrong agents revoked")
	}
}
