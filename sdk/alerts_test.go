package sdk_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/anomaly"
	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/sdk"
)

// TestAlertsAgainstRealAPI: an agent that repeats one payment is frozen by the anomaly
// detector; an operator lists and acknowledges the alert through the SDK.
func TestAlertsAgainstRealAPI(t *testing.T) {
	ctx := context.Background()
	env := paymentstest.New(t, paymentstest.Options{FleetIndex: 5})
	det, err := anomaly.New(ctx, anomaly.Config{Store: env.Store, Audit: env.Audit, FlushEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close(ctx)
	svc, err := payments.New(payments.Config{Store: env.Store, Keys: env.Vault, Registry: env.Registry, Audit: env.Audit, Detector: det})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: env.Fleet.ID, Agents: []payments.NewAgent{{ExternalID: "loop", Name: "loop"}}})
	if err != nil {
		t.Fatal(err)
	}
	env.PutPolicy(store.LevelFleet, env.Fleet.ID, "version: 1\nname: f\nlimits:\n  per_payment: \"1\"\n")
	demand := paymentstest.DemandV2(t, paymentstest.Requirement("10000"))
	for i, key := range []string{"l1", "l2", "l3"} {
		_, err := svc.Pay(ctx, ps[0].Agent.ID, payments.PayRequest{Version: 2, Raw: []byte(demand), ResourceURL: paymentstest.ResourceURL, IdempotencyKey: key})
		if (i < 2) != (err == nil) {
			t.Fatalf("payment %d: %v", i, err)
		}
	}
	root, err := payments.BootstrapAdmin(ctx, env.Store, env.Audit, "root", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(api.Config{Payments: svc, Operators: svc, Audit: env.Store, Alerts: det}))
	defer srv.Close()
	admin := mustClient(t, srv.URL, root.Token.Reveal())

	as, err := admin.Alerts(ctx, sdk.AlertFilter{})
	if err != nil || len(as) != 1 || as[0].Signal != "repeat_payment" || as[0].AgentID != ps[0].Agent.ID || as[0].Status != "open" {
		t.Fatalf("alerts %+v, %v", as, err)
	}
	a, err := admin.AckAlert(ctx, as[0].ID)
	if err != nil || a.Status != "acked" || a.AckedAt.IsZero() {
		t.Fatalf("ack %+v, %v", a, err)
	}
	if as, err := admin.Alerts(ctx, sdk.AlertFilter{Status: "all", AgentID: ps[0].Agent.ID, Limit: 10}); err != nil || len(as) != 1 {
		t.Fatalf("all alerts %+v, %v", as, err)
	}
	if _, err := admin.AckAlert(ctx, "alr_missing"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("ack of a missing alert: %v", err)
	}
}
