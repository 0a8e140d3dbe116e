package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/anomaly"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestAnomalyDetectorOnSigningPath: with an anomaly section the daemon screens payments; the
// same paid request three times in a row freezes the agent (repeat_payment), over HTTP.
func TestAnomalyDetectorOnSigningPath(t *testing.T) {
	cfg := testConfig(t)
	cfg.Anomaly = &anomaly.Settings{Approvers: []string{"secops"}}
	if err := cfg.validate(false); err != nil {
		t.Fatal(err)
	}
	r := start(t, cfg)
	ctx := context.Background()
	fleet, group := fleetAndGroup(t, r.Server)
	putPolicy(t, r.Server, store.LevelGroup, group.ID, groupPolicy)
	agents, err := r.Service().ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, GroupID: group.ID,
		Agents: []payments.NewAgent{{ExternalID: "a", Name: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"k1", "k2"} {
		if status, body := pay(t, r.URL(), agents[0], payBody(t, key, "10000")); status != http.StatusOK {
			t.Fatalf("payment %d: %d %s", i, status, body)
		}
	}
	status, body := pay(t, r.URL(), agents[0], payBody(t, "k3", "10000"))
	var denied struct {
		Error struct{ Reason string } `json:"error"`
	}
	if err := json.Unmarshal(body, &denied); err != nil || status != http.StatusForbidden || denied.Error.Reason != anomaly.ReasonAgentFrozen {
		t.Fatalf("third identical payment: %d %s", status, body)
	}
	as, err := anomaly.Alerts(ctx, r.store, store.AlertFilter{})
	if err != nil || len(as) != 1 || as[0].Signal != string(anomaly.SignalRepeat) {
		t.Fatalf("alerts %+v, %v", as, err)
	}
}

func TestAnomalySettingsValidated(t *testing.T) {
	cfg := testConfig(t)
	cfg.Anomaly = &anomaly.Settings{PerPaymentLimit: "lots"}
	err := cfg.validate(false)
	if err == nil || !strings.Contains(err.Error(), "anomaly") {
		t.Fatalf("bad anomaly section: %v", err)
	}
}
