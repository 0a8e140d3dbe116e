package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/anomaly"
	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestAlertsCommandOverAPI: fleetkey alerts list and ack against the real API with the
// anomaly detector, after an agent repeated one payment and was frozen.
func TestAlertsCommandOverAPI(t *testing.T) {
	ctx := context.Background()
	env := paymentstest.New(t, paymentstest.Options{FleetIndex: 8})
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
	for _, key := range []string{"l1", "l2", "l3"} {
		_, _ = svc.Pay(ctx, ps[0].Agent.ID, payments.PayRequest{Version: 2, Raw: []byte(demand), ResourceURL: paymentstest.ResourceURL, IdempotencyKey: key})
	}
	root, err := payments.BootstrapAdmin(ctx, env.Store, env.Audit, "root", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(api.Config{Payments: svc, Operators: svc, Audit: env.Store, Alerts: det}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(tokenFile, []byte(root.Token.Reveal()), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(&cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, append(args, "--api", srv.URL, "--token-file", tokenFile))
		return code, out.String(), errb.String()
	}
	code, out, stderr := cli("alerts", "list")
	if code != 0 || !strings.Contains(out, "repeat_payment") || !strings.Contains(out, "freeze_agent") {
		t.Fatalf("list: %d %q %q", code, out, stderr)
	}
	as, err := det.Alerts(ctx, store.AlertFilter{})
	if err != nil || len(as) != 1 {
		t.Fatalf("%+v, %v", as, err)
	}
	if code, out, stderr = cli("alerts", "ack", as[0].ID); code != 0 || !strings.Contains(out, as[0].ID+" acknowledged (repeat_payment high, freeze_agent)") {
		t.Fatalf("ack: %d %q %q", code, out, stderr)
	}
	if code, out, _ = cli("alerts", "list"); code != 0 || !strings.Contains(out, "no alerts") {
		t.Fatalf("list after ack: %d %q", code, out)
	}
	if code, out, _ = cli("alerts", "list", "--status", "acked", "--json"); code != 0 || !strings.Contains(out, `"acked_by": "operator:`) {
		t.Fatalf("acked list: %d %q", code, out)
	}
	if code, _, stderr = cli("alerts", "ack", "alr_missing"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Fatalf("ack of a missing alert: %d %q", code, stderr)
	}
}
