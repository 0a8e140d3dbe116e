package lifecycle

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/store"
)

// TestRotateOnDevnet: an agent pays, is rotated, and pays again with the same
// credential; the payment after the rotation comes from the new address, the old
// key is draining, its outstanding authorization is cancelled on chain and its
// balance is at the new address.
func TestRotateOnDevnet(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("rotating")[0]
	oldAddr := common.HexToAddress(ag.Key.Address)
	e.fund(oldAddr, 1_000_000)
	before := e.pay(ag.Agent.ID, "before", merchant, "10000")

	rep, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator})
	if err != nil {
		t.Fatalf("rotate: %v\n%s", err, mustJSON(rep))
	}
	keys := e.keys(ag.Agent.ID)
	if len(keys) != 2 || keys[0].Status != store.KeyDraining || keys[1].Status != store.KeyActive || keys[1].Generation != 1 {
		t.Fatalf("keys after rotation: %+v", keys)
	}
	newAddr := common.HexToAddress(keys[1].Address)
	if !strings.HasSuffix(keys[1].Path, "/1'") {
		t.Errorf("new key path %s", keys[1].Path)
	}
	if b := e.balance(newAddr); b.Int64() != 1_000_000 {
		t.Errorf("new address holds %v, want 1000000", b)
	}
	if b := e.balance(oldAddr); b.Sign() != 0 {
		t.Errorf("old address holds %v", b)
	}
	var a store.Authorization
	e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		a, err = rt.Authorization(e.ctx, before.AuthorizationID)
		return err
	})
	if a.Status != store.AuthCancelled || !e.authState(oldAddr, a.Nonce) {
		t.Errorf("outstanding authorization: %s, used on chain %v", a.Status, e.authState(oldAddr, a.Nonce))
	}

	// Same credential, new key.
	id, err := e.svc.Authenticate(e.ctx, ag.Token.Reveal())
	if err != nil || id.AgentID != ag.Agent.ID {
		t.Fatalf("credential after rotation: %v", err)
	}
	after := e.pay(ag.Agent.ID, "after", merchant, "10000")
	e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { a, err = rt.Authorization(e.ctx, after.AuthorizationID); return err })
	if a.KeyID != keys[1].ID || !strings.EqualFold(a.From, newAddr.Hex()) {
		t.Errorf("payment after rotation from key %s (%s), want %s", a.KeyID, a.From, keys[1].ID)
	}

	// Rotating again gives generation 2 and leaves the outstanding payment (policy
	// expire) with its amount behind.
	rep, err = e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator, Outstanding: OutstandingExpire})
	if err != nil {
		t.Fatalf("second rotation: %v\n%s", err, mustJSON(rep))
	}
	if b := e.balance(newAddr); b.Int64() != 10000 {
		t.Errorf("generation 1 keeps %v, want the 10000 its outstanding authorization may take", b)
	}
	if e.authState(newAddr, a.Nonce) {
		t.Error("the outstanding authorization was cancelled under policy expire")
	}
	keys = e.keys(ag.Agent.ID)
	if len(keys) != 3 || keys[2].Generation != 2 || keys[2].Status != store.KeyActive {
		t.Errorf("keys: %+v", keys)
	}
	if b := e.balance(common.HexToAddress(keys[2].Address)); b.Int64() != 990_000 {
		t.Errorf("generation 2 holds %v, want 990000", b)
	}
}

// TestDueForRotation: keys are due by age or by signature count.
func TestDueForRotation(t *testing.T) {
	e := newEnv(t)
	ps := e.provision("young", "busy")
	e.pay(ps[1].Agent.ID, "1", merchant, "100")
	e.pay(ps[1].Agent.ID, "2", merchant, "100")
	if _, err := e.m.DueForRotation(e.ctx, Schedule{}); err == nil {
		t.Error("empty schedule accepted")
	}
	due, err := e.m.DueForRotation(e.ctx, Schedule{MaxSignatures: 2})
	if err != nil || len(due) != 1 || due[0].AgentID != ps[1].Agent.ID {
		t.Fatalf("by signatures: %v %s", err, mustJSON(due))
	}
	due, err = e.m.DueForRotation(e.ctx, Schedule{MaxAge: time.Hour})
	if err != nil || len(due) != 0 {
		t.Fatalf("by age, nothing old: %v %s", err, mustJSON(due))
	}
	e.m.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	due, err = e.m.DueForRotation(e.ctx, Schedule{MaxAge: time.Hour, FleetID: e.fleet.ID})
	if err != nil || len(due) != 2 {
		t.Fatalf("by age: %v %s", err, mustJSON(due))
	}
}

// TestRotateResumesAfterCrash: a rotation stopped after its key step (the new key active,
// the old draining) is resumed: the old key's payment is cancelled and its balance swept
// once; the key is not created twice.
func TestRotateResumesAfterCrash(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("rot-crash")[0]
	oldAddr := common.HexToAddress(ag.Key.Address)
	e.fund(oldAddr, 70_000)
	e.pay(ag.Agent.ID, "p", merchant, "1000")
	e.m.failAfter = StepRotateKey
	if _, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator}); err != errInjected {
		t.Fatalf("first run: %v", err)
	}
	e.m.failAfter = ""
	// Meanwhile the agent pays with its new key.
	e.pay(ag.Agent.ID, "q", merchant, "1000")
	rep, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator})
	if err != nil || !rep.Resumed || rep.Status != store.JobDone {
		t.Fatalf("resume: %v %s", err, mustJSON(rep))
	}
	keys := e.keys(ag.Agent.ID)
	if len(keys) != 2 {
		t.Fatalf("%d keys", len(keys))
	}
	if n := countAction(rep, StepAuthorizations, "cancel_authorization"); n != 1 {
		t.Errorf("%d cancellations (only the old key's payment)", n)
	}
	if b := e.balance(common.HexToAddress(keys[1].Address)); b.Int64() != 70_000 {
		t.Errorf("new address holds %v", b)
	}
}

// TestRotateOnlyKeyID: a scheduler that found a key due does not rotate the agent a
// second time once someone else has rotated it: nothing is written.
func TestRotateOnlyKeyID(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("rot-once")[0]
	if _, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator, OnlyKeyID: ag.Key.ID}); err != nil {
		t.Fatalf("first rotation with the current key: %v", err)
	}
	jobs, err := e.m.Jobs(e.ctx, store.JobFilter{AgentID: ag.Agent.ID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator, OnlyKeyID: ag.Key.ID})
	if !errors.Is(err, ErrAlreadyRotated) {
		t.Fatalf("second rotation of the same key: %v, want ErrAlreadyRotated", err)
	}
	if keys := e.keys(ag.Agent.ID); len(keys) != 2 || keys[1].Status != store.KeyActive || keys[1].Generation != 1 {
		t.Fatalf("keys after the refused rotation: %+v", keys)
	}
	after, err := e.m.Jobs(e.ctx, store.JobFilter{AgentID: ag.Agent.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(jobs) {
		t.Fatalf("%d jobs after the refused rotation, %d before", len(after), len(jobs))
	}
}
