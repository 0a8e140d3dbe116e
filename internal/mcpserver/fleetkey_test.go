package mcpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/mcpserver"
	"github.com/fleetkey/fleetkey/internal/sidecar/sidecartest"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// TestSettlesThroughFleetkey: x402_fetch with the SDK payer against the real payments service
// and API, settled on the devnet from the address fleetkey derived for the agent; the
// receipt names fleetkey's authorization, and budget_status comes from GET /v1/agent.
func TestSettlesThroughFleetkey(t *testing.T) {
	a := env.StartFleetkey(t, `version: 1
name: mcp-e2e
allow_http: true
limits:
  per_payment: "0.01"
max_validity: 5m
`)
	payer, err := sdk.NewPayer(a.APIURL, a.Token, sdk.WithMaxApprovalWait(0))
	if err != nil {
		t.Fatal(err)
	}
	budget := mcpserver.BudgetSourceFunc(func(ctx context.Context) (*mcpserver.BudgetStatus, error) {
		id, err := payer.Client().AgentIdentity(ctx)
		if err != nil {
			return nil, err
		}
		return &mcpserver.BudgetStatus{AgentID: id.AgentID, FleetID: id.FleetID, GroupID: id.GroupID}, nil
	})
	cs := connectHTTP(t, mcpserver.Config{Payer: payer, Budget: budget})
	out := checkPaidFetch(t, cs, a.Address, sidecartest.PathWeather, map[string]any{"max_amount": "10000"}, x402.EVMNetwork(sidecartest.ChainID))
	as := a.Authorizations()
	if len(as) != 1 || out.Payment.AuthorizationID != as[0].ID {
		t.Fatalf("ledger %+v, receipt %+v", as, out.Payment)
	}
	res, text := call(t, cs, mcpserver.ToolBudget, nil)
	if res.IsError || !strings.Contains(text, a.ID) {
		t.Errorf("budget_status: %s", text)
	}
}
