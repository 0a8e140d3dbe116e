package api

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/anomaly"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestAlertRoutes: with the anomaly detector on the signing path, an agent that
// pays the same request three times in a row is frozen; over HTTP an auditor
// lists the alert, an operator acknowledges it, and the filters refuse bad input.
func TestAlertRoutes(t *testing.T) {
	e := newOpEnv(t)
	ctx := context.Background()
	det, err := anomaly.New(ctx, anomaly.Config{Store: e.Store, Audit: e.Audit, FlushEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close(ctx)
	svc, err := payments.New(payments.Config{Store: e.Store, Keys: e.Vault, Registry: e.Registry, Audit: e.Audit, Detector: det})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(NewHandler(Config{Payments: svc, Operators: svc, Audit: e.Store, AuditKey: testAuditKey, Alerts: det}))
	defer e.srv.Close()

	a := e.agents[0]
	for _, key := range []string{"r1", "r2"} {
		if got := e.pay(a, payBody(t, key, "10000")); got.status != 200 {
			t.Fatalf("payment %s: %d %s", key, got.status, got.body)
		}
	}
	got := e.pay(a, payBody(t, "r3", "10000"))
	if got.status != 403 || got.errorBody(t).Reason != anomaly.ReasonAgentFrozen {
		t.Fatalf("third identical payment: %d %s", got.status, got.body)
	}

	var list alertsResponse
	e.ok(200, "GET", "/v1/alerts", e.auditor, nil, &list)
	if len(list.Alerts) != 1 || list.Alerts[0].Signal != string(anomaly.SignalRepeat) || list.Alerts[0].AgentID != a.Agent.ID ||
		list.Alerts[0].Action != string(anomaly.FreezeAgent) || list.Alerts[0].Status != "open" {
		t.Fatalf("alerts %+v", list.Alerts)
	}
	e.ok(200, "GET", "/v1/alerts?agent_id="+e.agents[1].Agent.ID, e.auditor, nil, &list)
	if len(list.Alerts) != 0 {
		t.Fatalf("the other agent's alerts: %+v", list.Alerts)
	}
	id := func() string {
		e.ok(200, "GET", "/v1/alerts?status=all&limit=5", e.operator, nil, &list)
		return list.Alerts[0].ID
	}()
	var acked alertResponse
	e.ok(200, "POST", "/v1/alerts/"+id+"/ack", e.operator, nil, &acked)
	if acked.Alert.Status != string(store.AlertAcked) || acked.Alert.AckedBy == "" || acked.Alert.AckedAt == nil {
		t.Fatalf("acked %+v", acked.Alert)
	}
	e.ok(200, "GET", "/v1/alerts", e.auditor, nil, &list)
	if len(list.Alerts) != 0 {
		t.Fatalf("open alerts after the ack: %+v", list.Alerts)
	}
	e.ok(200, "GET", "/v1/alerts?status=acked", e.auditor, nil, &list)
	if len(list.Alerts) != 1 {
		t.Fatalf("acked alerts: %+v", list.Alerts)
	}
	for _, path := range []string{"/v1/alerts?status=maybe", "/v1/alerts?agent_id=a%20b", "/v1/alerts?limit=0", "/v1/alerts?since=1"} {
		e.ok(400, "GET", path, e.auditor, nil, nil)
	}
	e.ok(404, "POST", "/v1/alerts/alr_missing/ack", e.operator, nil, nil)
}

// TestSecondRuntimeOverHTTP: the API names the runtime of a payment request by its
// client address and User-Agent; the agent's token used by a second runtime while
// the first is active is held for approval.
func TestSecondRuntimeOverHTTP(t *testing.T) {
	e := newOpEnv(t)
	ctx := context.Background()
	det, err := anomaly.New(ctx, anomaly.Config{Store: e.Store, Audit: e.Audit, FlushEvery: -1,
		Approvers: []string{"root"}, Quorum: 1, ApprovalExpiresAfter: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close(ctx)
	svc, err := payments.New(payments.Config{Store: e.Store, Keys: e.Vault, Registry: e.Registry, Audit: e.Audit, Detector: det})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(NewHandler(Config{Payments: svc, Operators: svc, Audit: e.Store, AuditKey: testAuditKey, Alerts: det}))
	defer e.srv.Close()

	a := e.agents[0]
	if got := e.pay(a, payBody(t, "u1", "10000"), "User-Agent", "agent-runtime/1"); got.status != 200 {
		t.Fatalf("first runtime: %d %s", got.status, got.body)
	}
	if got := e.pay(a, payBody(t, "u2", "11000"), "User-Agent", "agent-runtime/1"); got.status != 200 {
		t.Fatalf("first runtime again: %d %s", got.status, got.body)
	}
	if got := e.pay(a, payBody(t, "u3", "12000"), "User-Agent", "curl/8"); got.status != 202 {
		t.Fatalf("second runtime: %d %s, want 202 held for approval", got.status, got.body)
	}
	var list alertsResponse
	e.ok(200, "GET", "/v1/alerts", e.auditor, nil, &list)
	if len(list.Alerts) != 1 || list.Alerts[0].Signal != string(anomaly.SignalSecondRuntime) || list.Alerts[0].Severity != "high" {
		t.Fatalf("alerts %+v", list.Alerts)
	}
}

// TestAlertRoutesFleetScoped: an alert of fleet A is listed to a credential
// scoped to fleet A, absent for one scoped to fleet B, whose ack of it is a 404
// that leaves it open.
func TestAlertRoutesFleetScoped(t *testing.T) {
	e := newOpEnv(t)
	ctx := context.Background()
	det, err := anomaly.New(ctx, anomaly.Config{Store: e.Store, Audit: e.Audit, FlushEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close(ctx)
	svc, err := payments.New(payments.Config{Store: e.Store, Keys: e.Vault, Registry: e.Registry, Audit: e.Audit, Detector: det})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(NewHandler(Config{Payments: svc, Operators: svc, Audit: e.Store, AuditKey: testAuditKey, Alerts: det}))
	defer e.srv.Close()
	fleetB, err := svc.CreateFleet(ctx, payments.OperatorIdentity{CredentialID: "test", Role: store.RoleAdmin}, "fleet-b", "")
	if err != nil {
		t.Fatal(err)
	}
	scoped := func(fleetID string) string {
		var ic issuedResponse
		e.ok(201, "POST", "/v1/credentials", e.admin, jsonBody(t, map[string]any{"name": "s-" + e.unique(), "role": "operator", "fleet_id": fleetID}), &ic)
		return "Bearer " + ic.Token
	}
	inA, inB := scoped(e.Fleet.ID), scoped(fleetB.ID)

	a := e.agents[0]
	for _, key := range []string{"r1", "r2", "r3"} {
		e.pay(a, payBody(t, key, "10000"))
	}
	var list alertsResponse
	e.ok(200, "GET", "/v1/alerts", inA, nil, &list)
	if len(list.Alerts) != 1 || list.Alerts[0].AgentID != a.Agent.ID {
		t.Fatalf("fleet A's alerts to its scoped credential: %+v", list.Alerts)
	}
	id := list.Alerts[0].ID
	e.ok(200, "GET", "/v1/alerts?status=all", inB, nil, &list)
	if len(list.Alerts) != 0 {
		t.Errorf("fleet A's alerts to fleet B's credential: %+v", list.Alerts)
	}
	e.ok(404, "POST", "/v1/alerts/"+id+"/ack", inB, nil, nil)
	e.ok(200, "GET", "/v1/alerts", inA, nil, &list)
	if len(list.Alerts) != 1 || list.Alerts[0].Status != "open" {
		t.Errorf("after fleet B's ack: %+v", list.Alerts)
	}
	e.ok(200, "POST", "/v1/alerts/"+id+"/ack", inA, nil, nil)
}
