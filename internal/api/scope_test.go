package api

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestFleetScopeMatrix: a credential scoped to fleet A, of the admin role (so
// no route refuses it by role), asks every operator route about fleet A's
// records and about fleet B's. Its own answer as for an unscoped admin; fleet B's
// answer 404 not_found, exactly as records that do not exist, and change
// nothing; lists hold only fleet A; routes that reach past one fleet
// (credentials, new fleets, the audit chain) answer 403.
func TestFleetScopeMatrix(t *testing.T) {
	e := newOpEnv(t)
	root := payments.OperatorIdentity{CredentialID: "test", Name: "root", Role: store.RoleAdmin}
	fleetB, err := e.svc.CreateFleet(e.Ctx, root, "fleet-b", "")
	if err != nil {
		t.Fatal(err)
	}
	groupB, err := e.svc.CreateGroup(e.Ctx, root, fleetB.ID, "gb")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := e.svc.ProvisionAgents(e.Ctx, payments.ProvisionRequest{FleetID: fleetB.ID, GroupID: groupB.ID,
		Agents: []payments.NewAgent{{ExternalID: "b-1", Name: "b-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	agentB := ps[0]
	e.putPolicy(agentB.Agent.ID, approvalPolicy)
	voterA := e.newAgent()
	e.putPolicy(voterA.Agent.ID, approvalPolicy)
	_, heldA := e.heldPayment(voterA)
	_, heldB := e.heldPayment(agentB)
	agentA := e.agents[0]

	// The scoped admin is issued over HTTP; its name is one approvalPolicy's approvers.
	var ic issuedResponse
	e.ok(201, "POST", "/v1/credentials", e.admin, jsonBody(t, map[string]any{"name": "alice", "role": "admin", "fleet_id": e.Fleet.ID}), &ic)
	if ic.Credential.FleetID != e.Fleet.ID {
		t.Fatalf("issued credential %+v has no fleet scope", ic.Credential)
	}
	scoped := "Bearer " + ic.Token
	var who operatorResponse
	e.ok(200, "GET", "/v1/operator", scoped, nil, &who)
	if who.FleetID != e.Fleet.ID || who.Role != "admin" {
		t.Errorf("scoped operator is %+v", who)
	}
	// An unknown fleet cannot be a scope.
	if ans := e.do("POST", "/v1/credentials", e.admin, strings.NewReader(`{"name":"x","role":"operator","fleet_id":"flt_missing"}`)); ans.status != 400 {
		t.Errorf("scope of an unknown fleet: %d %s", ans.status, ans.body)
	}

	str := func(s string) func() string { return func() string { return s } }
	fresh := func(fleetID, groupID string) func() string {
		return func() string {
			ps, err := e.svc.ProvisionAgents(e.Ctx, payments.ProvisionRequest{FleetID: fleetID, GroupID: groupID,
				Agents: []payments.NewAgent{{ExternalID: "f-" + e.unique(), Name: "f"}}})
			if err != nil {
				t.Fatal(err)
			}
			return ps[0].Agent.ID
		}
	}
	frozen := func(fleetID, groupID string) func() string {
		return func() string {
			id := fresh(fleetID, groupID)()
			if _, err := e.svc.SetAgentStatus(e.Ctx, root, id, store.AgentFrozen); err != nil {
				t.Fatal(err)
			}
			return id
		}
	}
	pendingA := func() string { _, id := e.heldPayment(voterA); return id }
	agentPath := func(id func() string, suffix string) func() string {
		return func() string { return "/v1/agents/" + id() + suffix }
	}
	policySrc := `{"source":"version: 1\nname: p\n"}`

	rows := []struct {
		method          string
		own, other      func() string // URLs; other nil: the route names no record
		body, otherBody func() string
		ownStatus       int
	}{
		{"POST", str("/v1/credentials"), nil, str(`{"name":"c","role":"auditor"}`), nil, 403},
		{"GET", str("/v1/credentials"), nil, nil, nil, 403},
		{"POST", func() string { return "/v1/credentials/" + ic.Credential.ID + "/revoke" }, nil, nil, nil, 403},
		{"POST", str("/v1/fleets"), nil, str(`{"name":"mine"}`), nil, 403},
		{"GET", str("/v1/fleets/" + e.Fleet.ID + "/groups"), str("/v1/fleets/" + fleetB.ID + "/groups"), nil, nil, 200},
		{"POST", str("/v1/fleets/" + e.Fleet.ID + "/groups"), str("/v1/fleets/" + fleetB.ID + "/groups"),
			func() string { return `{"name":"g` + e.unique() + `"}` }, nil, 201},
		{"POST", str("/v1/agents"), str("/v1/agents"),
			func() string {
				return `{"fleet_id":"` + e.Fleet.ID + `","agents":[{"external_id":"s` + e.unique() + `"}]}`
			},
			func() string {
				return `{"fleet_id":"` + fleetB.ID + `","agents":[{"external_id":"s` + e.unique() + `"}]}`
			}, 200},
		{"GET", str("/v1/agents?fleet_id=" + e.Fleet.ID), str("/v1/agents?fleet_id=" + fleetB.ID), nil, nil, 200},
		{"GET", agentPath(str(agentA.Agent.ID), ""), agentPath(str(agentB.Agent.ID), ""), nil, nil, 200},
		{"POST", agentPath(fresh(e.Fleet.ID, e.Group.ID), "/freeze"), agentPath(str(agentB.Agent.ID), "/freeze"), nil, nil, 200},
		{"POST", agentPath(frozen(e.Fleet.ID, e.Group.ID), "/unfreeze"), agentPath(frozen(fleetB.ID, groupB.ID), "/unfreeze"), nil, nil, 200},
		{"POST", agentPath(str(agentA.Agent.ID), "/credentials"), agentPath(str(agentB.Agent.ID), "/credentials"), str(`{}`), nil, 201},
		// No key lifecycle in this environment: 503 for its own, but 404 first for fleet B's.
		{"GET", agentPath(str(agentA.Agent.ID), "/deps"), agentPath(str(agentB.Agent.ID), "/deps"), nil, nil, 503},
		{"GET", agentPath(str(agentA.Agent.ID), "/jobs"), agentPath(str(agentB.Agent.ID), "/jobs"), nil, nil, 503},
		{"POST", agentPath(str(agentA.Agent.ID), "/revoke"), agentPath(str(agentB.Agent.ID), "/revoke"), nil, nil, 503},
		{"POST", agentPath(str(agentA.Agent.ID), "/rotate"), agentPath(str(agentB.Agent.ID), "/rotate"), nil, nil, 503},
		{"PUT", str("/v1/policies/fleet/" + e.Fleet.ID), str("/v1/policies/fleet/" + fleetB.ID), str(policySrc), nil, 200},
		{"PUT", str("/v1/policies/group/" + e.Group.ID), str("/v1/policies/group/" + groupB.ID), str(policySrc), nil, 200},
		{"PUT", str("/v1/policies/agent/" + agentA.Agent.ID), str("/v1/policies/agent/" + agentB.Agent.ID), str(policySrc), nil, 200},
		{"GET", str("/v1/policies/fleet/" + e.Fleet.ID), str("/v1/policies/fleet/" + fleetB.ID), nil, nil, 200},
		{"GET", str("/v1/policies/group/" + e.Group.ID), str("/v1/policies/group/" + groupB.ID), nil, nil, 200},
		{"GET", str("/v1/policies/agent/" + agentA.Agent.ID), str("/v1/policies/agent/" + agentB.Agent.ID), nil, nil, 200},
		{"GET", str("/v1/approvals/" + heldA), str("/v1/approvals/" + heldB), nil, nil, 200},
		{"POST", func() string { return "/v1/approvals/" + pendingA() + "/approve" }, str("/v1/approvals/" + heldB + "/approve"), nil, nil, 200},
		{"POST", func() string { return "/v1/approvals/" + pendingA() + "/deny" }, str("/v1/approvals/" + heldB + "/deny"), nil, nil, 200},
		{"GET", str("/v1/authorizations?fleet_id=" + e.Fleet.ID), str("/v1/authorizations?fleet_id=" + fleetB.ID), nil, nil, 200},
		{"GET", str("/v1/audit/records"), nil, nil, nil, 403},
		{"GET", str("/v1/audit/checkpoints"), nil, nil, nil, 403},
		{"GET", str("/v1/audit/key"), nil, nil, nil, 403},
	}
	body := func(f func() string) io.Reader {
		if f == nil {
			return nil
		}
		return strings.NewReader(f())
	}
	for _, row := range rows {
		url := row.own()
		ans := e.do(row.method, url, scoped, body(row.body))
		if ans.status != row.ownStatus {
			t.Errorf("%s %s (fleet A) as scoped: %d, want %d: %s", row.method, url, ans.status, row.ownStatus, ans.body)
		}
		if row.other == nil {
			continue
		}
		ob := row.otherBody
		if ob == nil {
			ob = row.body
		}
		url = row.other()
		// Fleet B's record answers as one that does not exist; an unscoped admin
		// is not refused (the record is there).
		ans = e.do(row.method, url, scoped, body(ob))
		if ans.status != http.StatusNotFound {
			t.Errorf("%s %s (fleet B) as scoped: %d, want 404: %s", row.method, url, ans.status, ans.body)
			continue
		}
		if eb := ans.errorBody(t); eb.Code != CodeNotFound || strings.Contains(eb.Message, "fleet-b") {
			t.Errorf("%s %s (fleet B) as scoped: %+v", row.method, url, eb)
		}
	}

	// Fleet B is untouched: its agent not frozen, no policy at its scopes, its approval pending.
	d, err := e.svc.AgentDetail(e.Ctx, agentB.Agent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Agent.Status != store.AgentActive || len(d.Credentials) != 1 {
		t.Errorf("fleet B's agent after the scoped calls: %s, %d credentials", d.Agent.Status, len(d.Credentials))
	}
	for _, s := range []struct {
		l  store.Level
		id string
	}{{store.LevelFleet, fleetB.ID}, {store.LevelGroup, groupB.ID}} {
		if active, _, err := e.svc.Policies(e.Ctx, s.l, s.id); err != nil || active != nil {
			t.Errorf("policy at %s %s: %v, %v", s.l, s.id, active, err)
		}
	}
	if v, err := e.svc.Approval(e.Ctx, heldB); err != nil || v.Approval.Status != store.ApprovalPending || len(v.Approval.Votes) != 0 {
		t.Errorf("fleet B's approval: %+v, %v", v.Approval, err)
	}

	// Lists hold fleet A's records only.
	var fleets fleetsResponse
	e.ok(200, "GET", "/v1/fleets", scoped, nil, &fleets)
	if len(fleets.Fleets) != 1 || fleets.Fleets[0].ID != e.Fleet.ID {
		t.Errorf("scoped fleets: %+v", fleets.Fleets)
	}
	var agents agentsResponse
	e.ok(200, "GET", "/v1/agents?limit=1000", scoped, nil, &agents)
	for _, a := range agents.Agents {
		if a.FleetID != e.Fleet.ID {
			t.Errorf("scoped agent list holds %s of fleet %s", a.ID, a.FleetID)
		}
	}
	if len(agents.Agents) < 2 {
		t.Errorf("scoped agent list has %d agents", len(agents.Agents))
	}
	var auths authorizationsResponse
	e.ok(200, "GET", "/v1/authorizations?agent_id="+agentB.Agent.ID, scoped, nil, &auths)
	if len(auths.Authorizations) != 0 {
		t.Errorf("scoped authorization list holds fleet B's: %+v", auths.Authorizations)
	}
	e.ok(200, "GET", "/v1/authorizations", scoped, nil, &auths)
	for _, a := range auths.Authorizations {
		if a.FleetID != e.Fleet.ID {
			t.Errorf("scoped authorization list holds %s of fleet %s", a.ID, a.FleetID)
		}
	}
	var aps approvalsResponse
	e.ok(200, "GET", "/v1/approvals?status=all", scoped, nil, &aps)
	if len(aps.Approvals) == 0 {
		t.Error("scoped approval list is empty")
	}
	for _, a := range aps.Approvals {
		if a.ID == heldB {
			t.Error("scoped approval list holds fleet B's approval")
		}
	}
	// The unscoped admin still sees both fleets.
	e.ok(200, "GET", "/v1/fleets", e.admin, nil, &fleets)
	if len(fleets.Fleets) != 2 {
		t.Errorf("unscoped fleets: %+v", fleets.Fleets)
	}
	e.ok(200, "GET", "/v1/approvals/"+heldB, e.admin, nil, nil)
}
