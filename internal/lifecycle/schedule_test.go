package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// TestDueByPolicy: keys are due by the strictest rotation rule of the policies at
// the agent's fleet, group and agent level; agents without a rule are never due.
func TestDueByPolicy(t *testing.T) {
	e := newEnv(t)
	ps := e.provision("busy", "quiet", "loose")
	busy, quiet, loose := ps[0].Agent.ID, ps[1].Agent.ID, ps[2].Agent.ID
	for i, id := range []string{busy, busy, quiet, loose, loose} {
		e.pay(id, string(rune('a'+i)), merchant, "100")
	}
	// The fleet policy of the environment has no rotation rule: nothing is due.
	if due, err := e.m.DueByPolicy(e.ctx, ""); err != nil || len(due) != 0 {
		t.Fatalf("no rule: %v %s", err, mustJSON(due))
	}
	apply := func(level store.Level, scope, name, src string) {
		t.Helper()
		if _, _, err := e.svc.ApplyPolicy(e.ctx, admin, level, scope, name, src); err != nil {
			t.Fatal(err)
		}
	}
	apply(store.LevelFleet, e.fleet.ID, "lifecycle-test", testPolicy+"rotation:\n  max_key_age: 30d\n  max_signatures: 100\n  outstanding: expire\n")
	apply(store.LevelGroup, e.group.ID, "g", "version: 1\nname: g\nrotation:\n  max_signatures: 2\n")
	// An agent-level rule cannot loosen the group's.
	apply(store.LevelAgent, loose, "a", "version: 1\nname: a\nrotation:\n  max_signatures: 50\n  outstanding: cancel\n")

	due, err := e.m.DueByPolicy(e.ctx, e.fleet.ID)
	if err != nil || len(due) != 2 {
		t.Fatalf("by signatures: %v %s", err, mustJSON(due))
	}
	byAgent := map[string]Due{}
	for _, d := range due {
		byAgent[d.AgentID] = d
	}
	if d, ok := byAgent[busy]; !ok || d.SignCount != 2 || d.Outstanding != OutstandingExpire || d.KeyID != ps[0].Key.ID {
		t.Errorf("busy: %s", mustJSON(d))
	}
	if d, ok := byAgent[loose]; !ok || d.Outstanding != OutstandingCancel {
		t.Errorf("loose (cancel at agent level wins over expire): %s", mustJSON(d))
	}
	if _, ok := byAgent[quiet]; ok {
		t.Error("quiet signed once and is due")
	}

	// Past the fleet's maximum age every key is due; another fleet's filter sees none.
	e.m.now = func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	if due, err = e.m.DueByPolicy(e.ctx, ""); err != nil || len(due) != 3 {
		t.Fatalf("by age: %v %s", err, mustJSON(due))
	}
	if due, err = e.m.DueByPolicy(e.ctx, "flt_other"); err != nil || len(due) != 0 {
		t.Fatalf("other fleet: %v %s", err, mustJSON(due))
	}

	// A rotated agent's new key starts again from zero.
	e.m.now = time.Now
	if _, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: busy, Actor: operator, Outstanding: OutstandingExpire}); err != nil {
		t.Fatal(err)
	}
	due, err = e.m.DueByPolicy(e.ctx, "")
	if err != nil || len(due) != 1 || due[0].AgentID != loose {
		t.Fatalf("after rotating busy: %v %s", err, mustJSON(due))
	}

	// A stored policy that does not hash as recorded holds up only its own agent: the
	// error names it, and the others are still listed.
	if err := e.st.Tx(e.ctx, func(tx store.Tx) error {
		_, err := tx.PutPolicy(e.ctx, store.PutPolicyRequest{Level: store.LevelAgent, ScopeID: quiet, Name: "a",
			Hash: "sha256:" + strings.Repeat("0", 64), Source: "version: 1\nname: a\n", Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	due, err = e.m.DueByPolicy(e.ctx, "")
	if err == nil || !strings.Contains(err.Error(), quiet) || len(due) != 1 || due[0].AgentID != loose {
		t.Fatalf("with a bad stored policy: %v %s", err, mustJSON(due))
	}
}
