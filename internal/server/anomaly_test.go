package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

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
	// The alert routes are served.
	root, err := payments.BootstrapAdmin(ctx, r.store, r.audit, "root", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, r.URL()+"/v1/alerts", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+root.Token.Reveal())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list struct {
		Alerts []anomaly.AlertPayload `json:"alerts"`
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil || res.StatusCode != http.StatusOK || len(list.Alerts) != 1 {
		t.Fatalf("GET /v1/alerts: %d %+v %v", res.StatusCode, list, err)
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
