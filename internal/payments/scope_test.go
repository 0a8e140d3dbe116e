package payments

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/store"
)

func TestFleetScopedCredential(t *testing.T) {
	e := newEnv(t)
	admin := e.operator("root", store.RoleAdmin)
	other, err := e.svc.CreateFleet(e.ctx, admin, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	mine := e.provision(e.group.ID, "mine")[0].Agent
	theirs, err := e.svc.ProvisionAgents(e.ctx, ProvisionRequest{FleetID: other.ID, Agents: []NewAgent{{ExternalID: "theirs", Name: "theirs"}}})
	if err != nil {
		t.Fatal(err)
	}
	otherGroup, err := e.svc.CreateGroup(e.ctx, admin, other.ID, "g")
	if err != nil {
		t.Fatal(err)
	}

	ic, err := e.svc.CreateOperatorCredential(e.ctx, admin, NewCredential{Name: "fleet-a-ops", Role: store.RoleOperator, FleetID: e.fleet.ID})
	if err != nil {
		t.Fatal(err)
	}
	if ic.Credential.FleetID != e.fleet.ID {
		t.Errorf("issued credential's fleet scope = %q", ic.Credential.FleetID)
	}
	if last := e.lastAudit(); last.Action != ActionCredentialCreated || !strings.Contains(string(last.Data), e.fleet.ID) {
		t.Errorf("record %s: %s (no fleet scope)", last.Action, last.Data)
	}
	op, err := e.svc.AuthenticateOperator(e.ctx, ic.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if op.FleetID != e.fleet.ID || !op.Scoped() {
		t.Fatalf("scoped identity = %+v", op)
	}

	for _, c := range []struct {
		kind ScopeKind
		id   string
		in   bool
	}{
		{ScopeFleet, e.fleet.ID, true},
		{ScopeFleet, other.ID, false},
		{ScopeFleet, "flt_missing", false},
		{ScopeGroup, e.group.ID, true},
		{ScopeGroup, otherGroup.ID, false},
		{ScopeAgent, mine.ID, true},
		{ScopeAgent, theirs[0].Agent.ID, false},
		{ScopeAgent, "agt_missing", false},
		{ScopeApproval, "apr_missing", false},
		{ScopeAlert, "alr_missing", false},
	} {
		err := e.svc.InScope(e.ctx, op, c.kind, c.id)
		var nf *store.NotFoundError
		switch {
		case c.in && err != nil:
			t.Errorf("%s %s: %v, want in scope", c.kind, c.id, err)
		case !c.in && !errors.As(err, &nf):
			t.Errorf("%s %s: %v, want not found", c.kind, c.id, err)
		}
		// An unscoped identity reaches every existing record.
		if c.id != "" && !strings.HasSuffix(c.id, "_missing") {
			if err := e.svc.InScope(e.ctx, admin, c.kind, c.id); err != nil {
				t.Errorf("unscoped %s %s: %v", c.kind, c.id, err)
			}
		}
	}

	// A scoped credential never makes credentials or fleets, nor revokes.
	before := e.auditCount()
	scopedAdmin := op
	scopedAdmin.Role = store.RoleAdmin
	if _, err := e.svc.CreateOperatorCredential(e.ctx, scopedAdmin, NewCredential{Name: "wider", Role: store.RoleAdmin}); !errors.Is(err, ErrUnscopedOnly) || !errors.Is(err, ErrForbidden) {
		t.Errorf("scoped creates a credential: %v", err)
	}
	if _, err := e.svc.CreateFleet(e.ctx, scopedAdmin, "mine too", ""); !errors.Is(err, ErrUnscopedOnly) {
		t.Errorf("scoped creates a fleet: %v", err)
	}
	if _, err := e.svc.RevokeCredential(e.ctx, scopedAdmin, admin.CredentialID); !errors.Is(err, ErrUnscopedOnly) {
		t.Errorf("scoped revokes a credential: %v", err)
	}
	if _, err := e.svc.CreateOperatorCredential(e.ctx, admin, NewCredential{Name: "nowhere", Role: store.RoleOperator, FleetID: "flt_missing"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("scope of an unknown fleet: %v", err)
	}
	if n := e.auditCount(); n != before {
		t.Errorf("%d audit records after refusals", n-before)
	}
}
