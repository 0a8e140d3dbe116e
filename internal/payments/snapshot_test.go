package payments

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestCachedStateFollowsChanges: after a payment has cached its agent's state, a
// new policy, a frozen agent, a thawed one and a revoked key each decide the very
// next payment (and a frozen agent's token authenticates no more).
func TestCachedStateFollowsChanges(t *testing.T) {
	e := newEnv(t)
	ps := e.provision(e.group.ID, "a", "b")
	a, b := ps[0], ps[1]
	e.putPolicy(store.LevelAgent, a.Agent.ID, agentPolicy)
	e.putPolicy(store.LevelAgent, b.Agent.ID, agentPolicy)
	pay := func(ag Provisioned, key string) error {
		t.Helper()
		_, err := e.svc.Pay(e.ctx, ag.Agent.ID, payReq(t, key, requirement("10000")))
		return err
	}
	if err := pay(a, "a1"); err != nil {
		t.Fatal(err)
	}
	// A stricter policy applies to the next payment.
	e.putPolicy(store.LevelAgent, a.Agent.ID, `version: 1
name: stricter
limits:
  per_payment: "0.005"
`)
	var d *DeniedError
	if err := pay(a, "a2"); !errors.As(err, &d) || d.Reason != "amount_above_per_payment_limit" {
		t.Fatalf("after a stricter policy: %v, want a per-payment denial", err)
	}

	if err := pay(b, "b1"); err != nil {
		t.Fatal(err)
	}
	setStatus := func(s store.AgentStatus) {
		t.Helper()
		if err := e.st.Tx(e.ctx, func(tx store.Tx) error {
			_, err := tx.SetAgentStatus(e.ctx, b.Agent.ID, s, time.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Authenticate(e.ctx, b.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	setStatus(store.AgentFrozen)
	if err := pay(b, "b2"); !errors.Is(err, store.ErrState) {
		t.Fatalf("frozen: %v, want a state error", err)
	}
	if _, err := e.svc.Authenticate(e.ctx, b.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("frozen agent's token: %v, want ErrUnauthenticated", err)
	}
	setStatus(store.AgentActive)
	if _, err := e.svc.Authenticate(e.ctx, b.Token.Reveal()); err != nil {
		t.Fatalf("thawed agent's token: %v", err)
	}
	if err := pay(b, "b3"); err != nil {
		t.Fatalf("thawed: %v", err)
	}
	if err := e.st.Tx(e.ctx, func(tx store.Tx) error {
		_, err := tx.SetKeyStatus(e.ctx, b.Key.ID, store.KeyRevoked)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := pay(b, "b4"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked key: %v, want no active key", err)
	}
	if n := len(e.authorizations(b.Agent.ID)); n != 2 {
		t.Errorf("%d authorizations of b, want 2", n)
	}
}

// TestHashesDataMatchesStruct: the audit data of a payment names the policy hashes
// exactly as the policy.Hashes JSON object did.
func TestHashesDataMatchesStruct(t *testing.T) {
	for _, h := range []policy.Hashes{{}, {Fleet: "sha256:f"}, {Group: "g"}, {Agent: "a"}, {Fleet: "f", Agent: "<&>"}, {Fleet: "f", Group: "g", Agent: "a"}} {
		got, err := audit.Canonical(map[string]any{"policy_hashes": hashesData(h)})
		if err != nil {
			t.Fatal(err)
		}
		want, err := audit.Canonical(map[string]any{"policy_hashes": h})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%+v: %s, want %s", h, got, want)
		}
	}
}
