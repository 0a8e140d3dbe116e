package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

func TestReasonLabel(t *testing.T) {
	for in, want := range map[string]string{
		"amount_above_per_payment_limit": "amount_above_per_payment_limit",
		"unknown_asset":                  "unknown_asset",
		"":                               "other",
		"Amount":                         "other",
		"agent_0123456789abcdefghjkmnpqrstvwxyz_0123456789": "other", // too long to be a code
		"a b": "other",
	} {
		if got := reasonLabel(in); got != want {
			t.Errorf("reasonLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFailureReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", payments.ErrBadRequest), "bad_request"},
		{store.ErrIdempotencyMismatch, "idempotency_mismatch"},
		{payments.ErrUnauthenticated, "unauthenticated"},
		{&store.StateError{Entity: "agent", ID: "a", Status: "frozen", Op: "pay"}, "state"},
		{context.Canceled, "canceled"},
		{errors.New("disk on fire"), "internal"},
	} {
		if got := failureReason(c.err); got != c.want {
			t.Errorf("failureReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestScrapeSurvivesStoreFailure: with the store closed, the scrape still answers 200 with the
// counters and fleetkey_up 0; the gauges it could not read are left out and the error is logged.
func TestScrapeSurvivesStoreFailure(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fleetkey.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, err := signer.NewRegistry([]signer.Asset{paymentstest.Asset})
	if err != nil {
		t.Fatal(err)
	}
	up := true
	m, err := New(Config{Store: st, Assets: reg, Build: BuildInfo{Version: "v"},
		Up: func(context.Context) bool { return up }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	get := func() string {
		res, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, b)
		}
		return string(b)
	}
	if body := get(); !strings.Contains(body, "fleetkey_approvals_pending 0") || !strings.Contains(body, "fleetkey_up 1") {
		t.Fatalf("healthy scrape:\n%s", body)
	}
	m.payments.WithLabelValues(OutcomeDenied, "unknown_asset", "", "").Inc()

	st.Close()
	up = false
	body := get()
	if strings.Contains(body, "fleetkey_approvals_pending") {
		t.Errorf("a gauge that could not be read is still exported:\n%s", body)
	}
	if !strings.Contains(body, "fleetkey_up 0") || !strings.Contains(body, `fleetkey_payments_total{asset="",group="",outcome="denied",reason="unknown_asset"} 1`) {
		t.Errorf("scrape with the store closed lost what it could answer:\n%s", body)
	}
	// The registry is the daemon's own: gathering it reports the read failure, the process-global
	// registry knows nothing of fleetkey.
	if _, err := m.Gatherer().Gather(); err == nil {
		t.Error("Gather hid the store failure")
	}
	fams, _ := prometheus.DefaultGatherer.Gather()
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "fleetkey_") {
			t.Errorf("%s registered globally", f.GetName())
		}
	}
}

func TestNewRefusesNoStore(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

// TestRecordRefusedCounted: a payment request refused before Pay is counted as failed with
// reason bad_request under the agent's group, once it is recorded.
func TestRecordRefusedCounted(t *testing.T) {
	env := paymentstest.New(t, paymentstest.Options{FleetIndex: 4})
	svc, err := payments.New(payments.Config{Store: env.Store, Keys: env.Vault, Registry: env.Registry, Audit: env.Audit})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(env.Ctx, payments.ProvisionRequest{FleetID: env.Fleet.ID, GroupID: env.Group.ID,
		Agents: []payments.NewAgent{{ExternalID: "a", Name: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Store: env.Store, Assets: env.Registry})
	if err != nil {
		t.Fatal(err)
	}
	isvc := m.Instrument(svc)
	if err := isvc.RecordRefused(env.Ctx, ps[0].Agent.ID, "k", `unknown field "x"`); err != nil {
		t.Fatal(err)
	}
	if err := isvc.RecordRefused(env.Ctx, "", "k", "x"); err == nil {
		t.Fatal("no agent: accepted")
	}
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got float64
	for _, f := range fams {
		if f.GetName() != "fleetkey_payments_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["outcome"] == OutcomeFailed && labels["reason"] == "bad_request" && labels["group"] == env.Group.ID {
				got += mt.GetCounter().GetValue()
			}
		}
	}
	if got != 1 {
		t.Errorf("failed/bad_request in group %s = %v, want 1", env.Group.ID, got)
	}
}
