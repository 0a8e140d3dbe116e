package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/credential"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// approvalPolicy holds payments above 0.02 for one vote of root or alice.
const approvalPolicy = `version: 1
name: needs-approval
limits:
  per_payment: "1"
approval:
  above: "0.02"
  quorum: 1
  approvers: [root, alice]
  expires_after: 10m
`

// opEnv is env with operators: the first admin "root" made as fleetkey init
// makes it, the others issued by root over HTTP, one of them revoked, and one
// expired credential written straight to the store (the API refuses a past
// expiry).
type opEnv struct {
	*env
	admin, operator, approver, auditor, revoked, expired string // Authorization header values
	seq                                                  atomic.Int64
}

func newOpEnv(t *testing.T) *opEnv {
	t.Helper()
	e := &opEnv{env: newEnv(t)}
	root, err := payments.BootstrapAdmin(e.Ctx, e.Store, e.Audit, "root", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.admin = "Bearer " + root.Token.Reveal()
	issue := func(name string, role store.Role) (string, string) {
		ans := e.do(http.MethodPost, "/v1/credentials", e.admin, jsonBody(t, map[string]any{"name": name, "role": role}))
		if ans.status != http.StatusCreated {
			t.Fatalf("issue %s: %d %s", name, ans.status, ans.body)
		}
		var ic issuedResponse
		ans.decode(t, &ic)
		return "Bearer " + ic.Token, ic.Credential.ID
	}
	e.operator, _ = issue("olga", store.RoleOperator)
	e.approver, _ = issue("alice", store.RoleApprover)
	e.auditor, _ = issue("udo", store.RoleAuditor)
	var revokedID string
	e.revoked, revokedID = issue("rex", store.RoleAdmin)
	if ans := e.do(http.MethodPost, "/v1/credentials/"+revokedID+"/revoke", e.admin, nil); ans.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", ans.status, ans.body)
	}
	expired, err := credential.New(credential.Operator)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Store.Tx(e.Ctx, func(tx store.Tx) error {
		_, err := tx.CreateCredential(e.Ctx, store.Credential{Kind: store.CredentialOperator, Role: store.RoleAdmin, Name: "exp",
			Hash: expired.Hash(), CreatedAt: time.Now().Add(-2 * time.Hour), ExpiresAt: time.Now().Add(-time.Hour)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.expired = "Bearer " + expired.Reveal()
	return e
}

// jsonBody encodes v as a request body.
func jsonBody(t testing.TB, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// ok sends a request that must answer want, and decodes the answer into v.
func (e *opEnv) ok(want int, method, path, auth string, body io.Reader, v any) answer {
	e.t.Helper()
	ans := e.do(method, path, auth, body)
	if ans.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, ans.status, want, ans.body)
	}
	checkJSONHeaders(e.t, ans)
	if v != nil {
		ans.decode(e.t, v)
	}
	return ans
}

// unique is a fresh suffix for names and idempotency keys.
func (e *opEnv) unique() string { return fmt.Sprint(e.seq.Add(1)) }

// newAgent provisions a fresh agent in the env's group through the service.
func (e *opEnv) newAgent() payments.Provisioned {
	e.t.Helper()
	ps, err := e.svc.ProvisionAgents(e.Ctx, payments.ProvisionRequest{FleetID: e.Fleet.ID, GroupID: e.Group.ID,
		Agents: []payments.NewAgent{{ExternalID: "x-" + e.unique(), Name: "x"}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return ps[0]
}

// heldPayment makes a payment of agent p that waits for approval, and returns
// its authorization and approval ids. p's policy must be approvalPolicy.
func (e *opEnv) heldPayment(p payments.Provisioned) (string, string) {
	e.t.Helper()
	ans := e.pay(p, payBody(e.t, "held-"+e.unique(), "30000"))
	if ans.status != http.StatusAccepted {
		e.t.Fatalf("held payment: %d %s", ans.status, ans.body)
	}
	var ap approvalResponse
	ans.decode(e.t, &ap)
	if len(ap.ApprovalIDs) != 1 {
		e.t.Fatalf("approvals %v", ap.ApprovalIDs)
	}
	return ap.AuthorizationID, ap.ApprovalIDs[0]
}

// TestAccessMatrix: every route, asked by no token, a malformed token, two agents, an operator of
// each role, a revoked and an expired operator, gives exactly the status the contract names.
// Agent B asks for agent A's payment and gets 404; no agent token opens an operator route and no
// operator token an agent route; a role not listed is 403.
func TestOperatorAccessMatrix(t *testing.T) {
	e := newOpEnv(t)
	a, b := e.agents[0], e.agents[1]
	paid := e.pay(a, payBody(t, "matrix", "10000"))
	if paid.status != http.StatusOK {
		t.Fatalf("A's payment: %d %s", paid.status, paid.body)
	}
	var aPayment signedResponse
	paid.decode(t, &aPayment)

	voter := e.newAgent()
	e.putPolicy(voter.Agent.ID, approvalPolicy)
	// A credential to revoke, a frozen agent to unfreeze, an approval to vote on:
	// fresh for every call that may change them.
	spareCredential := func() string {
		ic, err := e.svc.IssueAgentCredential(e.Ctx, payments.OperatorIdentity{CredentialID: "test"}, e.agents[0].Agent.ID, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ic.Token.Wipe()
		return ic.Credential.ID
	}
	frozenAgent := func() string {
		p := e.newAgent()
		if _, err := e.svc.SetAgentStatus(e.Ctx, payments.OperatorIdentity{CredentialID: "test"}, p.Agent.ID, store.AgentFrozen); err != nil {
			t.Fatal(err)
		}
		return p.Agent.ID
	}
	pendingApproval := func() string {
		_, id := e.heldPayment(voter)
		return id
	}
	_, heldApproval := e.heldPayment(voter)
	unique := e.unique
	str := func(s string) func() string { return func() string { return s } }

	const agentOnly = "agent"
	rows := []struct {
		route Route
		url   func() string
		body  func() string
		who   string // "" anyone; "agent"; else the roles (A, O, P, U) admitted
		ok    int
	}{
		{Route{"GET", "/healthz"}, str("/healthz"), nil, "", 200},
		{Route{"GET", "/openapi.yaml"}, str("/openapi.yaml"), nil, "", 200},
		{Route{"GET", "/v1/agent"}, str("/v1/agent"), nil, agentOnly, 200},
		{Route{"POST", "/v1/payments"}, str("/v1/payments"), func() string { return payBody(t, "m-"+unique(), "10000") }, agentOnly, 200},
		{Route{"GET", "/v1/payments/{id}"}, str("/v1/payments/" + aPayment.AuthorizationID), nil, agentOnly, 200},
		{Route{"GET", "/v1/operator"}, str("/v1/operator"), nil, "AOPU", 200},
		{Route{"POST", "/v1/credentials"}, str("/v1/credentials"), func() string { return `{"name":"c` + unique() + `","role":"auditor"}` }, "A", 201},
		{Route{"GET", "/v1/credentials"}, str("/v1/credentials"), nil, "A", 200},
		{Route{"POST", "/v1/credentials/{id}/revoke"}, func() string { return "/v1/credentials/" + spareCredential() + "/revoke" }, nil, "A", 200},
		{Route{"GET", "/v1/fleets"}, str("/v1/fleets"), nil, "AOU", 200},
		{Route{"POST", "/v1/fleets"}, str("/v1/fleets"), func() string { return `{"name":"f` + unique() + `"}` }, "AO", 201},
		{Route{"GET", "/v1/fleets/{id}/groups"}, str("/v1/fleets/" + e.Fleet.ID + "/groups"), nil, "AOU", 200},
		{Route{"POST", "/v1/fleets/{id}/groups"}, str("/v1/fleets/" + e.Fleet.ID + "/groups"), func() string { return `{"name":"g` + unique() + `"}` }, "AO", 201},
		{Route{"POST", "/v1/agents"}, str("/v1/agents"), func() string {
			return `{"fleet_id":"` + e.Fleet.ID + `","agents":[{"external_id":"m` + unique() + `"}]}`
		}, "AO", 200},
		{Route{"GET", "/v1/agents"}, str("/v1/agents"), nil, "AOU", 200},
		{Route{"GET", "/v1/agents/{id}"}, str("/v1/agents/" + a.Agent.ID), nil, "AOU", 200},
		{Route{"POST", "/v1/agents/{id}/freeze"}, func() string { return "/v1/agents/" + e.newAgent().Agent.ID + "/freeze" }, nil, "AO", 200},
		{Route{"POST", "/v1/agents/{id}/unfreeze"}, func() string { return "/v1/agents/" + frozenAgent() + "/unfreeze" }, nil, "AO", 200},
		{Route{"POST", "/v1/agents/{id}/credentials"}, str("/v1/agents/" + a.Agent.ID + "/credentials"), str(`{}`), "AO", 201},
		// This environment has no key lifecycle: the routes answer 503 lifecycle_unavailable
		// after the role check (their own tests are in lifecycle_test.go).
		{Route{"GET", "/v1/agents/{id}/deps"}, str("/v1/agents/" + a.Agent.ID + "/deps"), nil, "AOU", 503},
		{Route{"GET", "/v1/agents/{id}/jobs"}, str("/v1/agents/" + a.Agent.ID + "/jobs"), nil, "AOU", 503},
		{Route{"POST", "/v1/agents/{id}/revoke"}, str("/v1/agents/" + a.Agent.ID + "/revoke"), nil, "AO", 503},
		{Route{"POST", "/v1/agents/{id}/rotate"}, str("/v1/agents/" + a.Agent.ID + "/rotate"), nil, "AO", 503},
		{Route{"PUT", "/v1/policies/{level}/{scope_id}"}, str("/v1/policies/group/" + e.Group.ID), str(`{"source":"version: 1\nname: g\n"}`), "AO", 200},
		{Route{"GET", "/v1/policies/{level}/{scope_id}"}, str("/v1/policies/agent/" + a.Agent.ID), nil, "AOU", 200},
		// This environment has no anomaly detector: 503 anomaly_unavailable after the
		// role check (the routes' own test is in alerts_test.go).
		{Route{"GET", "/v1/alerts"}, str("/v1/alerts"), nil, "AOU", 503},
		{Route{"POST", "/v1/alerts/{id}/ack"}, str("/v1/alerts/alr_x/ack"), nil, "AO", 503},
		{Route{"GET", "/v1/approvals"}, str("/v1/approvals?status=pending"), nil, "AOPU", 200},
		{Route{"GET", "/v1/approvals/{id}"}, str("/v1/approvals/" + heldApproval), nil, "AOPU", 200},
		{Route{"POST", "/v1/approvals/{id}/approve"}, func() string { return "/v1/approvals/" + pendingApproval() + "/approve" }, nil, "AP", 200},
		{Route{"POST", "/v1/approvals/{id}/deny"}, func() string { return "/v1/approvals/" + pendingApproval() + "/deny" }, nil, "AP", 200},
		{Route{"GET", "/v1/authorizations"}, str("/v1/authorizations"), nil, "AOU", 200},
		{Route{"GET", "/v1/audit/records"}, str("/v1/audit/records"), nil, "AU", 200},
		{Route{"GET", "/v1/audit/checkpoints"}, str("/v1/audit/checkpoints"), nil, "AU", 200},
		{Route{"GET", "/v1/audit/key"}, str("/v1/audit/key"), nil, "AU", 200},
	}
	var covered []Route
	for _, row := range rows {
		covered = append(covered, row.route)
	}
	if nd, ns := diffRoutes(Routes, covered); len(nd)+len(ns) != 0 {
		t.Fatalf("the matrix lacks %v and has unknown %v", nd, ns)
	}

	callers := []struct {
		name, auth string
		role       string // the role letter of a usable operator
		agent      string // "A" or "B"
	}{
		{name: "no token"},
		{name: "malformed token", auth: "Bearer fko_garbage"},
		{name: "agent A", auth: bearer(a), agent: "A"},
		{name: "agent B", auth: bearer(b), agent: "B"},
		{name: "admin", auth: e.admin, role: "A"},
		{name: "operator", auth: e.operator, role: "O"},
		{name: "approver", auth: e.approver, role: "P"},
		{name: "auditor", auth: e.auditor, role: "U"},
		{name: "revoked admin", auth: e.revoked},
		{name: "expired admin", auth: e.expired},
	}
	for _, row := range rows {
		for _, c := range callers {
			want := http.StatusUnauthorized
			switch {
			case row.who == "":
				want = row.ok
			case row.who == agentOnly && c.agent != "":
				want = row.ok
				if c.agent == "B" && row.route.Path == "/v1/payments/{id}" {
					want = http.StatusNotFound // A's payment does not exist for B
				}
			case row.who != agentOnly && c.role != "":
				want = http.StatusForbidden
				if strings.Contains(row.who, c.role) {
					want = row.ok
				}
			}
			url := row.url()
			var body io.Reader
			if row.body != nil {
				body = strings.NewReader(row.body())
			}
			ans := e.do(row.route.Method, url, c.auth, body)
			if ans.status != want {
				t.Errorf("%s %s as %s: %d, want %d: %s", row.route.Method, url, c.name, ans.status, want, ans.body)
				continue
			}
			if want >= 400 {
				code := map[int]string{401: CodeUnauthenticated, 403: CodeForbidden, 404: CodeNotFound, 503: CodeLifecycleUnavailable}[want]
				if want == 503 && strings.HasPrefix(row.route.Path, "/v1/alerts") {
					code = CodeAnomalyUnavailable
				}
				if eb := ans.errorBody(t); eb.Code != code {
					t.Errorf("%s %s as %s: code %q, want %q", row.route.Method, url, c.name, eb.Code, code)
				}
			}
		}
	}
	// B's poll revealed nothing of A's payment, and nobody but A holds its header.
	if logs := e.logs.String(); strings.Contains(logs, aPayment.Header.Value) {
		t.Error("the log holds a signed header")
	}
}

// TestOperatorEndToEnd: an admin builds a fleet over HTTP, provisions an agent (its token shown
// once), applies a policy, the agent pays, a payment over the approval threshold waits (202), a
// name the approval does not list is refused, the approver approves, and the agent's poll returns
// the signed header, which a facilitator would accept; a denied payment is cancelled; the audit
// records name the operators; freeze, a new credential and revocation take effect at once.
func TestOperatorEndToEnd(t *testing.T) {
	e := newOpEnv(t)

	var who operatorResponse
	e.ok(200, "GET", "/v1/operator", e.admin, nil, &who)
	if who.Name != "root" || who.Role != "admin" || who.CredentialID == "" {
		t.Errorf("admin is %+v", who)
	}

	var fleet fleetResponse
	e.ok(201, "POST", "/v1/fleets", e.operator, strings.NewReader(`{"name":"payroll","treasury":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}`), &fleet)
	if fleet.Fleet.ID == "" || fleet.Fleet.Name != "payroll" || fleet.Fleet.Index == e.Fleet.Index ||
		fleet.Fleet.Treasury != strings.ToLower("0x209693Bc6afc0C5328bA36FaF03C514EF312287C") {
		t.Errorf("fleet %+v", fleet.Fleet)
	}
	var fleets fleetsResponse
	e.ok(200, "GET", "/v1/fleets", e.auditor, nil, &fleets)
	if len(fleets.Fleets) != 2 {
		t.Errorf("fleets %+v", fleets.Fleets)
	}
	var group groupResponse
	e.ok(201, "POST", "/v1/fleets/"+fleet.Fleet.ID+"/groups", e.operator, strings.NewReader(`{"name":"night-shift"}`), &group)
	if group.Group.FleetID != fleet.Fleet.ID || group.Group.Name != "night-shift" {
		t.Errorf("group %+v", group.Group)
	}
	var groups groupsResponse
	e.ok(200, "GET", "/v1/fleets/"+fleet.Fleet.ID+"/groups", e.admin, nil, &groups)
	if len(groups.Groups) != 1 || groups.Groups[0].ID != group.Group.ID {
		t.Errorf("groups %+v", groups.Groups)
	}

	provision := `{"fleet_id":"` + fleet.Fleet.ID + `","group_id":"` + group.Group.ID + `","agents":[{"external_id":"bot-1","name":"Bot one","labels":{"team":"ops"}}]}`
	var prov provisionResponse
	e.ok(200, "POST", "/v1/agents", e.operator, strings.NewReader(provision), &prov)
	if len(prov.Agents) != 1 || !prov.Agents[0].Created || !strings.HasPrefix(prov.Agents[0].Token, "fka_") ||
		prov.Agents[0].CredentialID == "" || prov.Agents[0].Address == "" || prov.Agents[0].Agent.Address != prov.Agents[0].Address ||
		prov.Agents[0].Agent.Labels["team"] != "ops" || prov.Agents[0].Agent.GroupID != group.Group.ID {
		t.Fatalf("provisioned %+v", prov.Agents)
	}
	bot := prov.Agents[0]
	botAuth := "Bearer " + bot.Token
	// The same batch again: the same agent, no new token.
	var again provisionResponse
	e.ok(200, "POST", "/v1/agents", e.admin, strings.NewReader(provision), &again)
	if len(again.Agents) != 1 || again.Agents[0].Created || again.Agents[0].Token != "" || again.Agents[0].Agent.ID != bot.Agent.ID {
		t.Errorf("second provisioning %+v", again.Agents)
	}
	var list agentsResponse
	e.ok(200, "GET", "/v1/agents?fleet_id="+fleet.Fleet.ID+"&status=active", e.auditor, nil, &list)
	if len(list.Agents) != 1 || list.Agents[0].ID != bot.Agent.ID || list.Next != "" {
		t.Errorf("agents %+v next %q", list.Agents, list.Next)
	}
	var detail agentDetailResponse
	ans := e.ok(200, "GET", "/v1/agents/"+bot.Agent.ID, e.operator, nil, &detail)
	if detail.Agent.Address != bot.Address || len(detail.Keys) != 1 || detail.Keys[0].Address != bot.Address ||
		len(detail.Credentials) != 1 || detail.Credentials[0].ID != bot.CredentialID || detail.Credentials[0].Kind != "agent" {
		t.Errorf("detail %+v", detail)
	}
	if bytes.Contains(ans.body, []byte("hash")) {
		t.Errorf("agent detail names a hash: %s", ans.body)
	}

	var applied applyPolicyResponse
	e.ok(200, "PUT", "/v1/policies/agent/"+bot.Agent.ID, e.operator, jsonBody(t, map[string]string{"source": approvalPolicy}), &applied)
	if !applied.Changed || applied.Policy.Version != 1 || !applied.Policy.Active || applied.Policy.Name != "needs-approval" ||
		applied.Policy.Source != approvalPolicy || applied.Policy.Hash == "" {
		t.Errorf("applied %+v", applied)
	}
	e.ok(200, "PUT", "/v1/policies/agent/"+bot.Agent.ID, e.admin, jsonBody(t, map[string]string{"name": "needs-approval", "source": approvalPolicy}), &applied)
	if applied.Changed || applied.Policy.Version != 1 {
		t.Errorf("re-applied %+v", applied)
	}
	var versions policiesResponse
	e.ok(200, "GET", "/v1/policies/agent/"+bot.Agent.ID, e.auditor, nil, &versions)
	if versions.Active == nil || versions.Active.Hash != applied.Policy.Hash || len(versions.Versions) != 1 {
		t.Errorf("versions %+v", versions)
	}
	var none policiesResponse
	if a := e.ok(200, "GET", "/v1/policies/group/"+group.Group.ID, e.auditor, nil, &none); none.Active != nil || !bytes.Contains(a.body, []byte(`"active":null`)) {
		t.Errorf("no policy: %s", a.body)
	}

	// A small payment is signed at once.
	small := e.do("POST", "/v1/payments", botAuth, strings.NewReader(payBody(t, "small", "10000")))
	if small.status != 200 {
		t.Fatalf("small payment: %d %s", small.status, small.body)
	}
	// A large one waits for approval.
	bigBody := payBody(t, "big", "30000")
	held := e.do("POST", "/v1/payments", botAuth, strings.NewReader(bigBody))
	if held.status != 202 {
		t.Fatalf("big payment: %d %s", held.status, held.body)
	}
	var pending approvalResponse
	held.decode(t, &pending)
	var poll pendingStatus
	e.ok(202, "GET", "/v1/payments/"+pending.AuthorizationID, botAuth, nil, &poll)
	if poll.Status != "reserved" || poll.AuthorizationID != pending.AuthorizationID || !slices.Equal(poll.ApprovalIDs, pending.ApprovalIDs) {
		t.Errorf("poll %+v", poll)
	}
	var queue approvalsResponse
	e.ok(200, "GET", "/v1/approvals?status=pending&approver=alice", e.approver, nil, &queue)
	if len(queue.Approvals) != 1 || queue.Approvals[0].ID != pending.ApprovalIDs[0] || queue.Approvals[0].Payment.ID != pending.AuthorizationID ||
		queue.Approvals[0].Payment.Amount != "30000" || queue.Approvals[0].Payment.Status != "reserved" ||
		!slices.Equal(slices.Sorted(slices.Values(queue.Approvals[0].Approvers)), []string{"alice", "root"}) {
		t.Fatalf("queue %+v", queue.Approvals)
	}
	// The operator role may read but not vote; an approver the request does not name is refused.
	if ans := e.do("POST", "/v1/approvals/"+pending.ApprovalIDs[0]+"/approve", e.operator, nil); ans.status != 403 {
		t.Errorf("operator voted: %d %s", ans.status, ans.body)
	}
	bob := e.issue(store.RoleApprover, "bob")
	if ans := e.do("POST", "/v1/approvals/"+pending.ApprovalIDs[0]+"/approve", bob, nil); ans.status != 403 || ans.errorBody(t).Code != CodeForbidden {
		t.Errorf("bob voted: %d %s", ans.status, ans.body)
	}
	// The agent waits while alice approves.
	polled := make(chan answer, 1)
	go func() {
		polled <- e.do("GET", "/v1/payments/"+pending.AuthorizationID+"?wait=30s", botAuth, nil)
	}()
	var voted approvalResponseOp
	e.ok(200, "POST", "/v1/approvals/"+pending.ApprovalIDs[0]+"/approve", e.approver, nil, &voted)
	if voted.Approval.Status != "approved" || len(voted.Approval.Votes) != 1 || voted.Approval.Votes[0].Approver != "alice" ||
		voted.Approval.Votes[0].Decision != "approve" || voted.Approval.DecidedAt == "" {
		t.Errorf("vote %+v", voted.Approval)
	}
	got := <-polled
	if got.status != 200 {
		t.Fatalf("poll after approval: %d %s", got.status, got.body)
	}
	var signed signedStatus
	got.decode(t, &signed)
	if signed.Status != "signed" || signed.AuthorizationID != pending.AuthorizationID || signed.Amount != "30000" {
		t.Errorf("signed %+v", signed)
	}
	var req paymentRequest
	json.Unmarshal([]byte(bigBody), &req)
	var demand string
	json.Unmarshal(req.PaymentRequired, &demand)
	if auth := payer(t, signed.signedResponse, demand); !strings.EqualFold(auth.From.Hex(), bot.Address) {
		t.Errorf("signed from %s, the agent's address is %s", auth.From.Hex(), bot.Address)
	}

	// A denied payment is cancelled and never signed.
	denyHeld := e.do("POST", "/v1/payments", botAuth, strings.NewReader(payBody(t, "deny-me", "40000")))
	var toDeny approvalResponse
	denyHeld.decode(t, &toDeny)
	// One of two approvers denying leaves quorum 1 reachable; the second decides.
	var firstNo, secondNo approvalResponseOp
	e.ok(200, "POST", "/v1/approvals/"+toDeny.ApprovalIDs[0]+"/deny", e.admin, nil, &firstNo)
	if firstNo.Approval.Status != "pending" || firstNo.Approval.DecidedAt != "" {
		t.Errorf("after one denial %+v", firstNo.Approval)
	}
	e.ok(200, "POST", "/v1/approvals/"+toDeny.ApprovalIDs[0]+"/deny", e.approver, nil, &secondNo)
	if secondNo.Approval.Status != "denied" || secondNo.Approval.Payment.Status != "cancelled" || secondNo.Approval.Payment.SignedAt != "" {
		t.Errorf("denied %+v", secondNo.Approval)
	}
	// A vote on a decided request is a conflict.
	if ans := e.do("POST", "/v1/approvals/"+toDeny.ApprovalIDs[0]+"/approve", e.approver, nil); ans.status != 409 || ans.errorBody(t).Code != CodeStateConflict {
		t.Errorf("vote after the decision: %d %s", ans.status, ans.body)
	}
	var closed closedStatus
	e.ok(200, "GET", "/v1/payments/"+toDeny.AuthorizationID+"?wait=1", botAuth, nil, &closed)
	if closed.Status != "cancelled" {
		t.Errorf("denied payment %+v", closed)
	}

	// The queue is the pending requests unless asked for all.
	var queueNow, every approvalsResponse
	e.ok(200, "GET", "/v1/approvals", e.approver, nil, &queueNow)
	e.ok(200, "GET", "/v1/approvals?status=all", e.approver, nil, &every)
	if len(queueNow.Approvals) != 0 || len(every.Approvals) != 2 {
		t.Errorf("%d pending, %d in all", len(queueNow.Approvals), len(every.Approvals))
	}

	// Operators see the payments, never their headers.
	var auths authorizationsResponse
	ans = e.ok(200, "GET", "/v1/authorizations?agent_id="+bot.Agent.ID, e.auditor, nil, &auths)
	if len(auths.Authorizations) != 3 {
		t.Fatalf("authorizations %+v", auths.Authorizations)
	}
	if bytes.Contains(ans.body, []byte(signed.Header.Value[:32])) || bytes.Contains(ans.body, []byte("PAYMENT-SIGNATURE")) {
		t.Errorf("authorizations carry a signed header: %s", ans.body)
	}
	var signedOnly authorizationsResponse
	e.ok(200, "GET", "/v1/authorizations?agent_id="+bot.Agent.ID+"&status=signed,settled", e.auditor, nil, &signedOnly)
	if len(signedOnly.Authorizations) != 2 {
		t.Errorf("signed authorizations %+v", signedOnly.Authorizations)
	}
	var page1, page2 authorizationsResponse
	e.ok(200, "GET", "/v1/authorizations?agent_id="+bot.Agent.ID+"&limit=2", e.auditor, nil, &page1)
	e.ok(200, "GET", "/v1/authorizations?agent_id="+bot.Agent.ID+"&limit=2&after="+page1.Next, e.auditor, nil, &page2)
	if len(page1.Authorizations) != 2 || page1.Next == "" || len(page2.Authorizations) != 1 || page2.Next != "" ||
		page2.Authorizations[0].ID != auths.Authorizations[2].ID {
		t.Errorf("pages %+v / %+v", page1, page2)
	}
	var one approvalResponseOp
	ans = e.ok(200, "GET", "/v1/approvals/"+pending.ApprovalIDs[0], e.auditor, nil, &one)
	if one.Approval.Payment.Status != "signed" || bytes.Contains(ans.body, []byte(signed.Header.Value[:32])) {
		t.Errorf("approval %s", ans.body)
	}

	// Freeze stops the agent's token at once; unfreeze restores it.
	var frozen agentResponseOp
	e.ok(200, "POST", "/v1/agents/"+bot.Agent.ID+"/freeze", e.operator, nil, &frozen)
	if frozen.Agent.Status != "frozen" {
		t.Errorf("frozen %+v", frozen.Agent)
	}
	if ans := e.do("GET", "/v1/agent", botAuth, nil); ans.status != 401 {
		t.Errorf("frozen agent: %d", ans.status)
	}
	e.ok(200, "POST", "/v1/agents/"+bot.Agent.ID+"/unfreeze", e.operator, nil, &frozen)
	e.ok(200, "GET", "/v1/agent", botAuth, nil, nil)

	// A second credential works; revoking the first stops only it.
	var second issuedResponse
	e.ok(201, "POST", "/v1/agents/"+bot.Agent.ID+"/credentials", e.operator, strings.NewReader(`{"expires_at":"`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"}`), &second)
	if !strings.HasPrefix(second.Token, "fka_") || second.Credential.AgentID != bot.Agent.ID || second.Credential.ExpiresAt == "" {
		t.Errorf("second credential %+v", second.Credential)
	}
	var revoked credentialResponse
	e.ok(200, "POST", "/v1/credentials/"+bot.CredentialID+"/revoke", e.admin, nil, &revoked)
	if revoked.Credential.RevokedAt == "" {
		t.Errorf("revoked %+v", revoked.Credential)
	}
	if ans := e.do("GET", "/v1/agent", botAuth, nil); ans.status != 401 {
		t.Errorf("revoked token: %d", ans.status)
	}
	e.ok(200, "GET", "/v1/agent", "Bearer "+second.Token, nil, nil)

	// Operator credentials are listed without hashes.
	var creds credentialsResponse
	ans = e.ok(200, "GET", "/v1/credentials", e.admin, nil, &creds)
	names := map[string]credentialView{}
	for _, c := range creds.Credentials {
		names[c.Name] = c
	}
	if names["root"].Role != "admin" || names["rex"].RevokedAt == "" || names["exp"].ExpiresAt == "" || names["alice"].Role != "approver" ||
		bytes.Contains(ans.body, []byte("hash")) {
		t.Errorf("credentials %s", ans.body)
	}

	// The audit chain, paged, names who did what.
	var all auditRecordsResponse
	e.ok(200, "GET", "/v1/audit/records?limit=1000", e.auditor, nil, &all)
	var paged []audit.ExportedRecord
	for after := uint64(0); ; {
		var page auditRecordsResponse
		e.ok(200, "GET", fmt.Sprintf("/v1/audit/records?after=%d&limit=7", after), e.admin, nil, &page)
		paged = append(paged, page.Records...)
		if len(page.Records) < 7 {
			break
		}
		after = page.Records[len(page.Records)-1].Seq
	}
	if len(all.Records) == 0 || len(paged) != len(all.Records) {
		t.Fatalf("%d records, %d paged", len(all.Records), len(paged))
	}
	actions := map[string]string{}
	for i, r := range all.Records {
		if r.Seq != uint64(i+1) || paged[i].Hash != r.Hash || r.Type != "record" {
			t.Errorf("record %d: %+v / %+v", i, r, paged[i])
		}
		actions[r.Action+" "+r.Subject] = r.Actor
	}
	for subject, actor := range map[string]string{
		"fleet.created " + fleet.Fleet.ID:            "operator:" + credIDOf(t, e, e.operator),
		"group.created " + group.Group.ID:            "operator:" + credIDOf(t, e, e.operator),
		"policy.applied " + applied.Policy.ID:        "operator:" + credIDOf(t, e, e.operator),
		"credential.revoked " + bot.CredentialID:     "operator:" + who.CredentialID,
		"credential.created " + second.Credential.ID: "operator:" + credIDOf(t, e, e.operator),
	} {
		if actions[subject] != actor {
			t.Errorf("audit %s by %q, want %q", subject, actions[subject], actor)
		}
	}
	var key auditKeyResponse
	e.ok(200, "GET", "/v1/audit/key", e.auditor, nil, &key)
	if key.Address != strings.ToLower(testAuditKey.Hex()) {
		t.Errorf("audit key %q", key.Address)
	}

	// No token reached the log.
	logs := e.logs.String()
	for _, secret := range []string{bot.Token, second.Token, strings.TrimPrefix(e.admin, "Bearer "), strings.TrimPrefix(e.approver, "Bearer "), signed.Header.Value[:32]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a secret")
		}
	}
	if !strings.Contains(logs, `"credential_id":"`+who.CredentialID+`"`) || !strings.Contains(logs, `"role":"admin"`) {
		t.Errorf("the log does not name the operator")
	}
}

// issue makes an operator credential over HTTP as the admin and returns its Authorization value.
func (e *opEnv) issue(role store.Role, name string) string {
	e.t.Helper()
	var ic issuedResponse
	e.ok(201, "POST", "/v1/credentials", e.admin, jsonBody(e.t, map[string]any{"name": name, "role": role}), &ic)
	return "Bearer " + ic.Token
}

// credIDOf is the credential id of an operator's Authorization value.
func credIDOf(t *testing.T, e *opEnv, auth string) string {
	t.Helper()
	var who operatorResponse
	e.ok(200, "GET", "/v1/operator", auth, nil, &who)
	return who.CredentialID
}

// TestOperatorBadInput: malformed bodies, ids, levels and query parameters get a 400 (or 404,
// 409, 413) with a code and a message naming the problem, and change nothing.
func TestOperatorBadInput(t *testing.T) {
	e := newOpEnv(t)
	a := e.agents[0]
	root := payments.OperatorIdentity{CredentialID: "test", Name: "root", Role: store.RoleAdmin}
	otherFleet, err := e.svc.CreateFleet(e.Ctx, root, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	otherGroup, err := e.svc.CreateGroup(e.Ctx, root, otherFleet.ID, "theirs")
	if err != nil {
		t.Fatal(err)
	}
	var fleets fleetsResponse
	e.ok(200, "GET", "/v1/fleets", e.admin, nil, &fleets)
	var records auditRecordsResponse
	e.ok(200, "GET", "/v1/audit/records?limit=1000", e.admin, nil, &records)
	big := `{"name":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, msg                string
	}{
		{"unknown field", "POST", "/v1/fleets", `{"name":"f","color":"red"}`, 400, CodeBadRequest, `unknown field "color"`},
		{"nested unknown field", "POST", "/v1/agents", `{"fleet_id":"` + e.Fleet.ID + `","agents":[{"external_id":"z","owner":"me"}]}`, 400, CodeBadRequest, `unknown field "owner"`},
		{"oversized body", "POST", "/v1/fleets", big, 413, CodeBodyTooLarge, "larger than"},
		{"empty body", "POST", "/v1/fleets", ``, 400, CodeBadRequest, "empty"},
		{"two objects", "POST", "/v1/fleets", `{"name":"f"}{}`, 400, CodeBadRequest, "nothing after it"},
		{"array body", "POST", "/v1/fleets", `[]`, 400, CodeBadRequest, "JSON object"},
		{"wrong type", "POST", "/v1/fleets", `{"name":5}`, 400, CodeBadRequest, `"name" must be a JSON string`},
		{"wrong nested type", "POST", "/v1/agents", `{"fleet_id":"f","agents":{}}`, 400, CodeBadRequest, `"agents" must be a JSON array`},
		{"missing name", "POST", "/v1/fleets", `{}`, 400, CodeBadRequest, "name is required"},
		{"bad treasury", "POST", "/v1/fleets", `{"name":"f","treasury":"0x12"}`, 400, CodeBadRequest, "treasury"},
		{"duplicate fleet", "POST", "/v1/fleets", `{"name":"` + e.Fleet.Name + `"}`, 409, CodeConflict, "fleet_name"},
		{"group of no fleet", "POST", "/v1/fleets/flt_missing/groups", `{"name":"g"}`, 404, CodeNotFound, "not found"},
		{"groups of bad id", "GET", "/v1/fleets/bad%20id/groups", ``, 400, CodeBadRequest, "fleet id"},
		{"bad role", "POST", "/v1/credentials", `{"name":"n","role":"god"}`, 400, CodeBadRequest, "role must be"},
		{"bad expiry", "POST", "/v1/credentials", `{"name":"n","role":"auditor","expires_at":"tomorrow"}`, 400, CodeBadRequest, "RFC 3339"},
		{"past expiry", "POST", "/v1/credentials", `{"name":"n","role":"auditor","expires_at":"2001-01-01T00:00:00Z"}`, 400, CodeBadRequest, "in the past"},
		{"revoke nothing", "POST", "/v1/credentials/cred_missing/revoke", ``, 404, CodeNotFound, "not found"},
		{"no agents", "POST", "/v1/agents", `{"fleet_id":"` + e.Fleet.ID + `","agents":[]}`, 400, CodeBadRequest, "1 to 1000 agents"},
		{"no fleet id", "POST", "/v1/agents", `{"agents":[{"external_id":"z"}]}`, 400, CodeBadRequest, "fleet_id is required"},
		{"no external id", "POST", "/v1/agents", `{"fleet_id":"` + e.Fleet.ID + `","agents":[{"name":"z"}]}`, 400, CodeBadRequest, "agents[0].external_id is required"},
		{"spaced external id", "POST", "/v1/agents", `{"fleet_id":"` + e.Fleet.ID + `","agents":[{"external_id":" z"}]}`, 400, CodeBadRequest, "surrounding spaces"},
		{"empty label key", "POST", "/v1/agents", `{"fleet_id":"` + e.Fleet.ID + `","agents":[{"external_id":"z","labels":{"":"v"}}]}`, 400, CodeBadRequest, "labels: a key"},
		{"twice in a batch", "POST", "/v1/agents", `{"fleet_id":"` + e.Fleet.ID + `","agents":[{"external_id":"z"},{"external_id":"z"}]}`, 400, CodeBadRequest, "appears twice"},
		{"group of another fleet", "POST", "/v1/agents", `{"fleet_id":"` + e.Fleet.ID + `","group_id":"` + otherGroup.ID + `","agents":[{"external_id":"z"}]}`, 400, CodeBadRequest, "not a group of fleet"},
		{"unknown group", "POST", "/v1/agents", `{"fleet_id":"` + e.Fleet.ID + `","group_id":"grp_missing","agents":[{"external_id":"z"}]}`, 400, CodeBadRequest, "not a group of fleet"},
		{"unknown fleet", "POST", "/v1/agents", `{"fleet_id":"flt_missing","agents":[{"external_id":"z"}]}`, 404, CodeNotFound, "not found"},
		{"unknown agent", "GET", "/v1/agents/agt_missing", ``, 404, CodeNotFound, "not found"},
		{"bad agent id", "GET", "/v1/agents/" + strings.Repeat("a", 65), ``, 400, CodeBadRequest, "agent id"},
		{"freeze nobody", "POST", "/v1/agents/agt_missing/freeze", ``, 404, CodeNotFound, "not found"},
		{"credential body", "POST", "/v1/agents/" + a.Agent.ID + "/credentials", `{"expires":"x"}`, 400, CodeBadRequest, `unknown field "expires"`},
		{"bad level", "PUT", "/v1/policies/planet/" + a.Agent.ID, `{"source":"version: 1\nname: p\n"}`, 400, CodeBadRequest, `level "planet"`},
		{"bad level read", "GET", "/v1/policies/planet/" + a.Agent.ID, ``, 400, CodeBadRequest, `level "planet"`},
		{"no scope", "PUT", "/v1/policies/agent/agt_missing", `{"source":"version: 1\nname: p\n"}`, 404, CodeNotFound, "not found"},
		{"no source", "PUT", "/v1/policies/agent/" + a.Agent.ID, `{"name":"p"}`, 400, CodeBadRequest, "source is required"},
		{"bad policy", "PUT", "/v1/policies/agent/" + a.Agent.ID, `{"source":"version: 1\nname: p\nlimits:\n  per_payment: lots\n"}`, 400, CodeBadRequest, "line"},
		{"name differs", "PUT", "/v1/policies/agent/" + a.Agent.ID, `{"name":"q","source":"version: 1\nname: p\n"}`, 400, CodeBadRequest, `"q"`},
		{"limit zero", "GET", "/v1/agents?limit=0", ``, 400, CodeBadRequest, "limit must be"},
		{"limit too big", "GET", "/v1/authorizations?limit=1001", ``, 400, CodeBadRequest, "limit must be"},
		{"bad status", "GET", "/v1/agents?status=zombie", ``, 400, CodeBadRequest, "status must be"},
		{"bad payment status", "GET", "/v1/authorizations?status=signed,paid", ``, 400, CodeBadRequest, "status must be"},
		{"bad approval status", "GET", "/v1/approvals?status=maybe", ``, 400, CodeBadRequest, "status must be"},
		{"misspelt filter", "GET", "/v1/agents?fleet=" + e.Fleet.ID, ``, 400, CodeBadRequest, `unknown query parameter "fleet"`},
		{"repeated filter", "GET", "/v1/agents?status=active&status=frozen", ``, 400, CodeBadRequest, "given 2 times"},
		{"query on a bare route", "GET", "/v1/fleets?all=1", ``, 400, CodeBadRequest, "takes none"},
		{"bad seq", "GET", "/v1/audit/records?after=-1", ``, 400, CodeBadRequest, "sequence number"},
		{"unknown approval", "POST", "/v1/approvals/apr_missing/approve", ``, 404, CodeNotFound, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans := e.do(tc.method, tc.path, e.admin, strings.NewReader(tc.body))
			if ans.status != tc.status {
				t.Fatalf("status %d, want %d: %s", ans.status, tc.status, ans.body)
			}
			checkJSONHeaders(t, ans)
			if eb := ans.errorBody(t); eb.Code != tc.code || !strings.Contains(eb.Message, tc.msg) {
				t.Errorf("error %+v, want code %s and a message with %q", eb, tc.code, tc.msg)
			}
		})
	}
	// The agent's poll refuses a bad wait and another's or no payment alike.
	for _, tc := range []struct {
		path   string
		status int
		msg    string
	}{
		{"/v1/payments/auth_x?wait=2m", 400, "between 0 and 60s"},
		{"/v1/payments/auth_x?wait=soon", 400, "wait must be"},
		{"/v1/payments/auth_x?wait=-1s", 400, "between 0 and 60s"},
		{"/v1/payments/auth_x?since=1", 400, "unknown query parameter"},
		{"/v1/payments/auth_missing", 404, "no such payment"},
		{"/v1/payments/" + strings.Repeat("a", 65), 400, "payment id"},
	} {
		ans := e.do("GET", tc.path, bearer(a), nil)
		if ans.status != tc.status || !strings.Contains(ans.errorBody(t).Message, tc.msg) {
			t.Errorf("%s: %d %s", tc.path, ans.status, ans.body)
		}
	}
	// Nothing changed: no fleet, no audit record.
	var after fleetsResponse
	e.ok(200, "GET", "/v1/fleets", e.admin, nil, &after)
	var recordsAfter auditRecordsResponse
	e.ok(200, "GET", "/v1/audit/records?limit=1000", e.admin, nil, &recordsAfter)
	if len(after.Fleets) != len(fleets.Fleets) || len(recordsAfter.Records) != len(records.Records) {
		t.Errorf("bad requests changed something: %d→%d fleets, %d→%d audit records",
			len(fleets.Fleets), len(after.Fleets), len(records.Records), len(recordsAfter.Records))
	}
}
