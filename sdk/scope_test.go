package sdk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fleetkey/fleetkey/sdk"
)

// TestFleetScopedCredential: an admin issues a credential scoped to the test
// fleet; through the real API it sees that fleet's agent, gets ErrNotFound for
// another fleet's, lists only its fleet, and is refused credentials and the
// audit chain.
func TestFleetScopedCredential(t *testing.T) {
	a := newRealAPI(t, smallPolicy)
	ctx := context.Background()
	admin := mustClient(t, a.url, a.admin)
	other, err := admin.CreateFleet(ctx, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	made, err := admin.CreateAgents(ctx, sdk.CreateAgentsRequest{FleetID: other.ID, Agents: []sdk.NewAgent{{ExternalID: "o-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	ic, err := admin.CreateCredential(ctx, sdk.NewCredential{Name: "fleet-ops", Role: sdk.RoleOperator, FleetID: a.env.Fleet.ID})
	if err != nil {
		t.Fatal(err)
	}
	if ic.Credential.FleetID != a.env.Fleet.ID {
		t.Fatalf("issued %+v without its fleet scope", ic.Credential)
	}
	scoped := mustClient(t, a.url, ic.Token.Reveal())
	me, err := scoped.OperatorIdentity(ctx)
	if err != nil || me.FleetID != a.env.Fleet.ID {
		t.Fatalf("scoped identity %+v, %v", me, err)
	}
	if _, err := scoped.Agent(ctx, a.agent.Agent.ID); err != nil {
		t.Errorf("own fleet's agent: %v", err)
	}
	if _, err := scoped.Agent(ctx, made[0].Agent.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("other fleet's agent: %v, want ErrNotFound", err)
	}
	fleets, err := scoped.Fleets(ctx)
	if err != nil || len(fleets) != 1 || fleets[0].ID != a.env.Fleet.ID {
		t.Errorf("scoped fleets %+v, %v", fleets, err)
	}
	page, err := scoped.Agents(ctx, sdk.AgentFilter{})
	if err != nil || len(page.Agents) != 1 || page.Agents[0].ID != a.agent.Agent.ID {
		t.Errorf("scoped agents %+v, %v", page, err)
	}
	if _, err := scoped.AuditRecords(ctx, 0, 10); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("scoped audit records: %v, want ErrForbidden", err)
	}
	list, err := admin.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.ID == ic.Credential.ID && c.FleetID != a.env.Fleet.ID {
			t.Errorf("listed %+v without its fleet scope", c)
		}
	}
}
