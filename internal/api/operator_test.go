package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
		{Route{"PUT", "/v1/policies/{level}/{scope_id}"}, str("/v1/policies/group/" + e.Group.ID), str(`{"source":"version: 1\nname: g\n"}`), "AO", 200},
		{Route{"GET", "/v1/policies/{level}/{scope_id}"}, str("/v1/policies/agent/" + a.Agent.ID), nil, "AOU", 200},
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
				code := map[int]string{401: CodeUnauthenticated, 403: CodeForbidden, 404: CodeNotFound}[want]
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
