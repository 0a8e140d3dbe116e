package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// A token in the fka_ text form; random, never issued.
const testToken = "fko_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"

// seen is one request the contract server received.
type seen struct {
	method, path, query, auth, contentType, body string
}

// contractServer answers each "METHOD /path" with a fixed status and JSON body taken from the
// HTTP contract, and records every request.
type contractServer struct {
	t       *testing.T
	mu      sync.Mutex
	answers map[string]func(r *http.Request) (int, string)
	reqs    []seen
	srv     *httptest.Server
}

func newContractServer(t *testing.T) *contractServer {
	cs := &contractServer{t: t, answers: map[string]func(*http.Request) (int, string){}}
	cs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		cs.mu.Lock()
		cs.reqs = append(cs.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
		f := cs.answers[r.Method+" "+r.URL.EscapedPath()]
		cs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if f == nil {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"not_found","message":"no such route"}}`)
			return
		}
		status, body := f(r)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(cs.srv.Close)
	return cs
}

func (cs *contractServer) on(route string, status int, body string) {
	cs.answers[route] = func(*http.Request) (int, string) { return status, body }
}

func (cs *contractServer) last() seen {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.reqs) == 0 {
		cs.t.Fatal("no request")
	}
	return cs.reqs[len(cs.reqs)-1]
}

func (cs *contractServer) client(opts ...sdk.Option) *sdk.Client {
	c, err := sdk.NewClient(cs.srv.URL+"/", testToken, opts...)
	if err != nil {
		cs.t.Fatal(err)
	}
	return c
}

const (
	agentJSON = `{"id":"ag_1","fleet_id":"fl_1","group_id":"gr_1","external_id":"x-1","name":"crawler-1","index":4,"status":"active","labels":{"team":"r"},"address":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","created_at":"2026-03-04T09:00:00Z","updated_at":"2026-03-04T09:00:01Z"}`
	credJSON  = `{"id":"cr_1","kind":"operator","role":"approver","name":"alice","created_at":"2026-03-04T09:00:00Z","expires_at":"2026-04-03T09:00:00Z"}`
	authJSON  = `{"id":"au_1","agent_id":"ag_1","key_id":"k_1","fleet_id":"fl_1","network":"eip155:84532","asset":"0x036cbd53842c5426634e7929541ec2318f3dcf7e","pay_to":"0x209693bc6afc0c5328ba36faf03c514ef312287c","from":"0x1111111111111111111111111111111111111111","resource_url":"https://api.example.com/x","amount":"30000","amount_micro":30000,"nonce":"0xab","valid_after":"2026-03-04T09:00:00Z","valid_before":"2026-03-04T09:02:00Z","status":"reserved","policy_hash":"sha256:00","created_at":"2026-03-04T09:00:00Z"}`
	apprJSON  = `{"id":"ap_1","authorization_id":"au_1","rule":"agent:approval","quorum":1,"approvers":["alice"],"votes":[{"approver":"alice","decision":"approve","at":"2026-03-04T09:01:00Z"}],"status":"approved","created_at":"2026-03-04T09:00:00Z","expires_at":"2026-03-04T09:10:00Z","decided_at":"2026-03-04T09:01:00Z","payment":` + authJSON + `}`
	polJSON   = `{"id":"po_1","level":"group","scope_id":"gr_1","name":"p","hash":"sha256:aa","source":"version: 1\nname: p\n","version":2,"active":true,"created_at":"2026-03-04T09:00:00Z"}`
)

// TestOperatorRoutes: every operator method sends the contract's method, path, query and body
// with the bearer token, and decodes the contract's answer.
func TestOperatorRoutes(t *testing.T) {
	cs := newContractServer(t)
	c := cs.client()
	ctx := context.Background()
	exp := time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC)

	type tc struct {
		name                string
		route               string
		status              int
		answer              string
		call                func() (any, error)
		wantQuery, wantBody string
		check               func(v any) bool
	}
	cases := []tc{
		{"operator", "GET /v1/operator", 200, `{"credential_id":"cr_1","name":"root","role":"admin"}`,
			func() (any, error) { return c.OperatorIdentity(ctx) }, "", "",
			func(v any) bool { o := v.(*sdk.OperatorIdentity); return o.Role == sdk.RoleAdmin && o.Name == "root" }},
		{"create credential", "POST /v1/credentials", 201, `{"credential":` + credJSON + `,"token":"fko_secretsecret"}`,
			func() (any, error) {
				return c.CreateCredential(ctx, sdk.NewCredential{Name: "alice", Role: sdk.RoleApprover, ExpiresAt: &exp})
			}, "", `{"name":"alice","role":"approver","expires_at":"2026-04-03T09:00:00Z"}`,
			func(v any) bool {
				ic := v.(*sdk.IssuedCredential)
				return ic.Token.Reveal() == "fko_secretsecret" && ic.Credential.ExpiresAt.Equal(exp) && ic.Credential.Role == "approver"
			}},
		{"credentials", "GET /v1/credentials", 200, `{"credentials":[` + credJSON + `]}`,
			func() (any, error) { return c.Credentials(ctx) }, "", "",
			func(v any) bool { return len(v.([]sdk.Credential)) == 1 }},
		{"revoke", "POST /v1/credentials/cr_1/revoke", 200, `{"credential":` + credJSON + `}`,
			func() (any, error) { return c.RevokeCredential(ctx, "cr_1") }, "", "",
			func(v any) bool { return v.(*sdk.Credential).ID == "cr_1" }},
		{"fleets", "GET /v1/fleets", 200, `{"fleets":[{"id":"fl_1","name":"research","index":7,"created_at":"2026-03-04T09:00:00Z"}]}`,
			func() (any, error) { return c.Fleets(ctx) }, "", "",
			func(v any) bool { f := v.([]sdk.Fleet); return len(f) == 1 && f[0].Index == 7 }},
		{"create fleet", "POST /v1/fleets", 201, `{"fleet":{"id":"fl_2","name":"ops","index":8,"treasury":"0x01","created_at":"2026-03-04T09:00:00Z"}}`,
			func() (any, error) { return c.CreateFleet(ctx, "ops", "0x01") }, "", `{"name":"ops","treasury":"0x01"}`,
			func(v any) bool { return v.(*sdk.Fleet).ID == "fl_2" }},
		{"groups", "GET /v1/fleets/fl_1/groups", 200, `{"groups":[{"id":"gr_1","fleet_id":"fl_1","name":"crawlers","created_at":"2026-03-04T09:00:00Z"}]}`,
			func() (any, error) { return c.Groups(ctx, "fl_1") }, "", "",
			func(v any) bool { return v.([]sdk.Group)[0].Name == "crawlers" }},
		{"create group", "POST /v1/fleets/fl_1/groups", 201, `{"group":{"id":"gr_2","fleet_id":"fl_1","name":"b","created_at":"2026-03-04T09:00:00Z"}}`,
			func() (any, error) { return c.CreateGroup(ctx, "fl_1", "b") }, "", `{"name":"b"}`,
			func(v any) bool { return v.(*sdk.Group).ID == "gr_2" }},
		{"create agents", "POST /v1/agents", 200, `{"agents":[{"agent":` + agentJSON + `,"address":"0x2096","created":true,"credential_id":"cr_9","token":"fka_secret"}]}`,
			func() (any, error) {
				return c.CreateAgents(ctx, sdk.CreateAgentsRequest{FleetID: "fl_1", GroupID: "gr_1",
					Agents: []sdk.NewAgent{{ExternalID: "x-1", Name: "crawler-1", Labels: map[string]string{"team": "r"}}}})
			}, "", `{"fleet_id":"fl_1","group_id":"gr_1","agents":[{"external_id":"x-1","name":"crawler-1","labels":{"team":"r"}}]}`,
			func(v any) bool {
				p := v.([]sdk.ProvisionedAgent)
				return len(p) == 1 && p[0].Created && p[0].Token.Reveal() == "fka_secret" && p[0].Agent.Labels["team"] == "r"
			}},
		{"agents", "GET /v1/agents", 200, `{"agents":[` + agentJSON + `],"next":"ag_1"}`,
			func() (any, error) {
				return c.Agents(ctx, sdk.AgentFilter{FleetID: "fl_1", GroupID: "gr_1", Status: "frozen", After: "ag_0", Limit: 50})
			}, "after=ag_0&fleet_id=fl_1&group_id=gr_1&limit=50&status=frozen", "",
			func(v any) bool { p := v.(*sdk.AgentPage); return p.Next == "ag_1" && p.Agents[0].Index == 4 }},
		{"agent", "GET /v1/agents/ag_1", 200, `{"agent":` + agentJSON + `,"keys":[{"id":"k_1","generation":0,"path":"m/44'/60'/7'/4'/0'","address":"0x2096","status":"active","created_at":"2026-03-04T09:00:00Z","sign_count":3}],"credentials":[]}`,
			func() (any, error) { return c.Agent(ctx, "ag_1") }, "", "",
			func(v any) bool {
				d := v.(*sdk.AgentDetail)
				return d.Keys[0].SignCount == 3 && d.Agent.Name == "crawler-1"
			}},
		{"freeze", "POST /v1/agents/ag_1/freeze", 200, `{"agent":` + strings.Replace(agentJSON, `"active"`, `"frozen"`, 1) + `}`,
			func() (any, error) { return c.FreezeAgent(ctx, "ag_1") }, "", "",
			func(v any) bool { return v.(*sdk.Agent).Status == sdk.AgentFrozen }},
		{"unfreeze", "POST /v1/agents/ag_1/unfreeze", 200, `{"agent":` + agentJSON + `}`,
			func() (any, error) { return c.UnfreezeAgent(ctx, "ag_1") }, "", "",
			func(v any) bool { return v.(*sdk.Agent).Status == sdk.AgentActive }},
		{"agent credential", "POST /v1/agents/ag_1/credentials", 201, `{"credential":{"id":"cr_3","kind":"agent","agent_id":"ag_1","name":"x","created_at":"2026-03-04T09:00:00Z"},"token":"fka_t"}`,
			func() (any, error) { return c.IssueAgentCredential(ctx, "ag_1", nil) }, "", `{}`,
			func(v any) bool { return v.(*sdk.IssuedCredential).Credential.AgentID == "ag_1" }},
		{"apply policy", "PUT /v1/policies/group/gr_1", 200, `{"policy":` + polJSON + `,"changed":true}`,
			func() (any, error) { return c.ApplyPolicy(ctx, sdk.LevelGroup, "gr_1", "p", "version: 1\nname: p\n") }, "",
			`{"name":"p","source":"version: 1\nname: p\n"}`,
			func(v any) bool { a := v.(*sdk.AppliedPolicy); return a.Changed && a.Policy.Version == 2 }},
		{"policies", "GET /v1/policies/group/gr_1", 200, `{"active":null,"versions":[` + polJSON + `]}`,
			func() (any, error) { return c.Policies(ctx, sdk.LevelGroup, "gr_1") }, "", "",
			func(v any) bool { p := v.(*sdk.PolicyVersions); return p.Active == nil && len(p.Versions) == 1 }},
		{"approvals", "GET /v1/approvals", 200, `{"approvals":[` + apprJSON + `]}`,
			func() (any, error) {
				return c.Approvals(ctx, sdk.ApprovalFilter{Status: "pending", Approver: "alice", Limit: 5})
			}, "approver=alice&limit=5&status=pending", "",
			func(v any) bool {
				a := v.([]sdk.Approval)
				return a[0].Payment.AmountMicro == 30000 && a[0].Votes[0].Approver == "alice"
			}},
		{"approval", "GET /v1/approvals/ap_1", 200, `{"approval":` + apprJSON + `}`,
			func() (any, error) { return c.Approval(ctx, "ap_1") }, "", "",
			func(v any) bool { return v.(*sdk.Approval).DecidedAt != nil }},
		{"approve", "POST /v1/approvals/ap_1/approve", 200, `{"approval":` + apprJSON + `}`,
			func() (any, error) { return c.Approve(ctx, "ap_1") }, "", "",
			func(v any) bool { return v.(*sdk.Approval).Status == sdk.ApprovalApproved }},
		{"deny", "POST /v1/approvals/ap_1/deny", 200, `{"approval":` + strings.Replace(apprJSON, `"approved"`, `"denied"`, 1) + `}`,
			func() (any, error) { return c.Deny(ctx, "ap_1") }, "", "",
			func(v any) bool { return v.(*sdk.Approval).Status == sdk.ApprovalDenied }},
		{"authorizations", "GET /v1/authorizations", 200, `{"authorizations":[` + authJSON + `]}`,
			func() (any, error) {
				return c.Authorizations(ctx, sdk.AuthorizationFilter{AgentID: "ag_1", FleetID: "fl_1", Status: "signed,settled"})
			},
			"agent_id=ag_1&fleet_id=fl_1&status=signed%2Csettled", "",
			func(v any) bool {
				p := v.(*sdk.AuthorizationPage)
				return p.Next == "" && p.Authorizations[0].Amount == "30000"
			}},
		{"audit records", "GET /v1/audit/records", 200, `{"records":[{"type":"record","seq":1,"time":"2026-03-04T09:00:00.123456789Z","actor":"system","action":"agent.created","subject":"ag_1","data":{"a":1},"prev_hash":"00","hash":"11"}]}`,
			func() (any, error) { return c.AuditRecords(ctx, 0, 1000) }, "after=0&limit=1000", "",
			func(v any) bool {
				r := v.([]sdk.AuditRecord)
				return r[0].Time == "2026-03-04T09:00:00.123456789Z" && string(r[0].Data) == `{"a":1}`
			}},
		{"audit checkpoints", "GET /v1/audit/checkpoints", 200, `{"checkpoints":[{"type":"checkpoint","seq":1,"hash":"11","time":"2026-03-04T09:00:00Z","signer":"0xab","signature":"0x00"}]}`,
			func() (any, error) { return c.AuditCheckpoints(ctx) }, "", "",
			func(v any) bool { return v.([]sdk.AuditCheckpoint)[0].Signer == "0xab" }},
		{"audit key", "GET /v1/audit/key", 200, `{"address":"0xab"}`,
			func() (any, error) { return c.AuditKey(ctx) }, "", "",
			func(v any) bool { return v.(string) == "0xab" }},
		{"agent identity", "GET /v1/agent", 200, `{"agent_id":"ag_1","fleet_id":"fl_1"}`,
			func() (any, error) { return c.AgentIdentity(ctx) }, "", "",
			func(v any) bool { return v.(*sdk.AgentIdentity).AgentID == "ag_1" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs.on(tc.route, tc.status, tc.answer)
			v, err := tc.call()
			if err != nil {
				t.Fatal(err)
			}
			r := cs.last()
			if got := r.method + " " + r.path; got != tc.route {
				t.Errorf("sent %s, want %s", got, tc.route)
			}
			if r.auth != "Bearer "+testToken {
				t.Errorf("Authorization %q", r.auth)
			}
			if r.query != tc.wantQuery {
				t.Errorf("query %q, want %q", r.query, tc.wantQuery)
			}
			if r.body != tc.wantBody {
				t.Errorf("body %s, want %s", r.body, tc.wantBody)
			}
			if tc.wantBody != "" && r.contentType != "application/json" {
				t.Errorf("content type %q", r.contentType)
			}
			if !tc.check(v) {
				t.Errorf("decoded %+v", v)
			}
		})
	}
}

// TestEmptyIDsRefused: an empty id would name another route; it is refused before sending.
func TestEmptyIDsRefused(t *testing.T) {
	cs := newContractServer(t)
	c := cs.client()
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"agent":   func() error { _, err := c.Agent(ctx, ""); return err },
		"freeze":  func() error { _, err := c.FreezeAgent(ctx, ""); return err },
		"revoke":  func() error { _, err := c.RevokeCredential(ctx, ""); return err },
		"groups":  func() error { _, err := c.Groups(ctx, ""); return err },
		"policy":  func() error { _, err := c.ApplyPolicy(ctx, "group", "", "p", "x"); return err },
		"approve": func() error { _, err := c.Approve(ctx, ""); return err },
		"payment": func() error { _, err := c.Payment(ctx, "", 0); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(cs.reqs) != 0 {
		t.Errorf("%d requests sent", len(cs.reqs))
	}
}

// TestPathEscaping: an id cannot step into another route.
func TestPathEscaping(t *testing.T) {
	cs := newContractServer(t)
	c := cs.client()
	c.Agent(context.Background(), "../credentials")
	if p := cs.last().path; p != "/v1/agents/..%2Fcredentials" {
		t.Errorf("path %s", p)
	}
}

// TestAPIErrors: error answers become *APIError with the answer's fields, matched by code
// and status against the sentinels, and never with the token in the text.
func TestAPIErrors(t *testing.T) {
	all := []error{sdk.ErrBadRequest, sdk.ErrUnauthenticated, sdk.ErrForbidden, sdk.ErrDenied, sdk.ErrNotFound,
		sdk.ErrConflict, sdk.ErrIdempotencyKeyReused, sdk.ErrServer}
	cases := []struct {
		status int
		body   string
		want   []error
		msg    string
	}{
		{400, `{"error":{"code":"bad_request","message":"unknown field \"x\""}}`, []error{sdk.ErrBadRequest}, `unknown field "x"`},
		{413, `{"error":{"code":"body_too_large","message":"too large"}}`, []error{sdk.ErrBadRequest}, "too large"},
		{401, `{"error":{"code":"unauthenticated","message":"a valid token is required"}}`, []error{sdk.ErrUnauthenticated}, "valid token"},
		{403, `{"error":{"code":"forbidden","message":"role auditor may not"}}`, []error{sdk.ErrForbidden}, "auditor"},
		{403, `{"error":{"code":"payment_denied","message":"payment denied: amount_above_per_payment_limit (rule agent:limits.per_payment)","reason":"amount_above_per_payment_limit","rule":"agent:limits.per_payment","policy_hash":"sha256:ab"}}`,
			[]error{sdk.ErrDenied}, "agent:limits.per_payment"},
		{404, `{"error":{"code":"not_found","message":"no such agent"}}`, []error{sdk.ErrNotFound}, "no such agent"},
		{409, `{"error":{"code":"state_conflict","message":"agent is revoked"}}`, []error{sdk.ErrConflict}, "revoked"},
		{409, `{"error":{"code":"idempotency_key_reused","message":"used"}}`, []error{sdk.ErrConflict, sdk.ErrIdempotencyKeyReused}, "used"},
		{409, `{"error":{"code":"conflict","message":"name taken"}}`, []error{sdk.ErrConflict}, "name taken"},
		{500, `{"error":{"code":"internal_error","message":"internal error"}}`, []error{sdk.ErrServer}, "internal error"},
		{502, "<html>\n<body>Bad\x00 gateway</body></html>", []error{sdk.ErrServer}, "<html> <body>Bad gateway</body></html>"},
	}
	for _, tc := range cases {
		cs := newContractServer(t)
		cs.on("GET /v1/agents/ag_1", tc.status, tc.body)
		_, err := cs.client().Agent(context.Background(), "ag_1")
		var ae *sdk.APIError
		if !errors.As(err, &ae) || ae.Status != tc.status || ae.Method != "GET" || ae.Path != "/v1/agents/ag_1" {
			t.Errorf("%d: %v", tc.status, err)
			continue
		}
		for _, s := range all {
			want := false
			for _, w := range tc.want {
				want = want || w == s
			}
			if errors.Is(err, s) != want {
				t.Errorf("%d %s: errors.Is(%v) = %v", tc.status, ae.Code, s, !want)
			}
		}
		if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), testToken[4:]) {
			t.Errorf("%d: message %q", tc.status, err)
		}
	}
}

// TestTokenRedacted: neither the client's token nor an issued one shows in any fmt verb, in
// slog, in JSON or in a transport error.
func TestTokenRedacted(t *testing.T) {
	secret := testToken[4:]
	c, err := sdk.NewClient("http://127.0.0.1:1", testToken)
	if err != nil {
		t.Fatal(err)
	}
	p := sdk.PayerFromClient(c)
	issued := sdk.IssuedCredential{Token: sdk.Token(testToken)}
	var out bytes.Buffer
	for _, v := range []any{c, *c, p, *p, issued, &issued, issued.Token} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
	}
	log := slog.New(slog.NewJSONHandler(&out, nil))
	log.Info("x", "client", c, "payer", p, "token", issued.Token, "issued", issued)
	log = slog.New(slog.NewTextHandler(&out, nil))
	log.Info("x", "client", c, "payer", p, "token", issued.Token)
	j, _ := json.Marshal(issued)
	out.Write(j)
	_, err = c.Fleets(context.Background()) // nothing listens on port 1
	if err == nil {
		t.Fatal("request to a closed port succeeded")
	}
	fmt.Fprintln(&out, err)
	if strings.Contains(out.String(), secret) {
		t.Fatalf("token leaked:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "fko_[REDACTED]") {
		t.Errorf("no redaction marker:\n%s", out.String())
	}
	if issued.Token.Reveal() != testToken {
		t.Error("Reveal")
	}
}

func TestNewClientRefuses(t *testing.T) {
	for _, tc := range []struct{ url, token, want string }{
		{"127.0.0.1:8402", testToken, "http"},
		{"ftp://h", testToken, "http"},
		{"http://", testToken, "host"},
		{"http://u:p@h", testToken, "user info"},
		{"http://h?x=1", testToken, "query"},
		{"http://h", "  \n", "empty token"},
		{"http://h", "fko_a b", "white space"},
		{"http://h", "fko_a\x01", "non-printable"},
	} {
		_, err := sdk.NewClient(tc.url, tc.token)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: %v", tc.url, tc.token, err)
		}
	}
	if _, err := sdk.NewClient("http://h", testToken, sdk.WithHTTPClient(nil)); err == nil {
		t.Error("nil http client accepted")
	}
	if _, err := sdk.NewClient("http://h", testToken, sdk.WithUserAgent("a\r\nb")); err == nil {
		t.Error("multi-line user agent accepted")
	}
	if _, err := sdk.NewPayer("http://h", testToken, sdk.WithMaxApprovalWait(-time.Second)); err == nil {
		t.Error("negative wait accepted")
	}
}

func TestBasePathAndUserAgent(t *testing.T) {
	cs := newContractServer(t)
	var ua string
	cs.answers["GET /prefix/healthz"] = func(r *http.Request) (int, string) { ua = r.UserAgent(); return 200, `{"status":"ok"}` }
	c, err := sdk.NewClient(cs.srv.URL+"/prefix/", testToken, sdk.WithUserAgent("agent-7/1.0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ua != "agent-7/1.0" {
		t.Errorf("user agent %q", ua)
	}
}

// approvalServer is a contract server for one payment that needs approval: POST answers
// 202, then each GET /v1/payments/au_1 takes the next of answers.
func approvalServer(t *testing.T, answers ...string) (*contractServer, *int) {
	cs := newContractServer(t)
	cs.on("POST /v1/payments", http.StatusAccepted, `{"authorization_id":"au_1","approval_ids":["ap_1"],"expires_at":"2026-03-04T09:10:00Z","replayed":false}`)
	gets := 0
	cs.answers["GET /v1/payments/au_1"] = func(r *http.Request) (int, string) {
		w := r.URL.Query().Get("wait")
		d, err := time.ParseDuration(w)
		if err != nil || d <= 0 || d > sdk.MaxWait {
			t.Errorf("wait %q", w)
		}
		a := answers[min(gets, len(answers)-1)]
		gets++
		return http.StatusOK, a
	}
	return cs, &gets
}

const (
	pendingAnswer = `{"authorization_id":"au_1","status":"reserved","approval_ids":["ap_1"],"expires_at":"2026-03-04T09:10:00Z","replayed":false}`
	signedAnswer  = `{"authorization_id":"au_1","status":"signed","header":{"name":"PAYMENT-SIGNATURE","value":"c2lnbmVk"},"amount":"30000","asset":"0xa","pay_to":"0xb","network":"eip155:84532","valid_before":"2026-03-04T09:02:00Z","policy_hash":"sha256:00","replayed":false}`
)

var demandReq = &x402.PaymentRequest{URL: "https://api.example.com/x", Method: "get", Version: 2, Raw: []byte("eyJ4NDAy")}

// TestPayerWaitsForApproval: a 202 is followed by long-polls until the payment is signed.
func TestPayerWaitsForApproval(t *testing.T) {
	cs, gets := approvalServer(t, pendingAnswer, signedAnswer)
	p := sdk.PayerFromClient(cs.client())
	pay, err := p.Pay(context.Background(), demandReq)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Header != "PAYMENT-SIGNATURE" || pay.Value != "c2lnbmVk" || pay.AuthorizationID != "au_1" || *gets != 2 {
		t.Errorf("payment %+v after %d polls", pay, *gets)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(cs.reqs[0].body), &body); err != nil {
		t.Fatal(err)
	}
	if body["x402_version"] != 2.0 || body["payment_required"] != "eyJ4NDAy" || body["method"] != "GET" ||
		body["resource_url"] != demandReq.URL || len(body["idempotency_key"].(string)) < 32 {
		t.Errorf("pay body %v", body)
	}
}

// TestPayerNotApproved: a payment the approvers denied is an ErrNotApproved naming its status.
func TestPayerNotApproved(t *testing.T) {
	cs, _ := approvalServer(t, strings.Replace(pendingAnswer, `"reserved"`, `"cancelled"`, 1))
	_, err := sdk.PayerFromClient(cs.client()).Pay(context.Background(), demandReq)
	if !errors.Is(err, sdk.ErrNotApproved) || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("err %v", err)
	}
}

// TestPayerApprovalV1Demand: a v1 demand is sent as the JSON object it is.
func TestPayerV1Demand(t *testing.T) {
	cs := newContractServer(t)
	cs.on("POST /v1/payments", 200, strings.Replace(signedAnswer, "PAYMENT-SIGNATURE", "X-PAYMENT", 1))
	v1 := &x402.PaymentRequest{URL: "https://a/x", Method: "GET", Version: 1, Raw: []byte(`{"x402Version":1,"accepts":[]}`)}
	pay, err := sdk.PayerFromClient(cs.client()).Pay(context.Background(), v1)
	if err != nil || pay.Header != "X-PAYMENT" {
		t.Fatalf("%+v %v", pay, err)
	}
	if !strings.Contains(cs.last().body, `"payment_required":{"x402Version":1,"accepts":[]}`) {
		t.Errorf("body %s", cs.last().body)
	}
	bad := &x402.PaymentRequest{URL: "https://a/x", Method: "GET", Version: 1, Raw: []byte(`not json`)}
	if _, err := sdk.PayerFromClient(cs.client()).Pay(context.Background(), bad); err == nil {
		t.Error("a v1 demand that is not JSON was sent")
	}
}

// TestPayerRetriesUnderOneKey: a payment request whose answer is lost (connection closed) or
// that a proxy answers 503 is sent again under the same idempotency key; a refusal by
// fleetkey itself is not.
func TestPayerRetriesUnderOneKey(t *testing.T) {
	cs := newContractServer(t)
	posts := 0
	cs.answers["POST /v1/payments"] = func(r *http.Request) (int, string) {
		posts++
		switch posts {
		case 1:
			panic(http.ErrAbortHandler) // the connection closes without an answer
		case 2:
			return http.StatusServiceUnavailable, "<html>overloaded</html>"
		}
		return http.StatusOK, signedAnswer
	}
	pay, err := sdk.PayerFromClient(cs.client()).Pay(context.Background(), demandReq)
	if err != nil {
		t.Fatal(err)
	}
	if posts != 3 || pay.Value != "c2lnbmVk" {
		t.Fatalf("%d requests, payment %+v", posts, pay)
	}
	keys := map[string]bool{}
	for _, r := range cs.reqs {
		var b struct {
			Key string `json:"idempotency_key"`
		}
		json.Unmarshal([]byte(r.body), &b)
		keys[b.Key] = true
	}
	if len(keys) != 1 || keys[""] {
		t.Errorf("idempotency keys %v", keys)
	}

	cs = newContractServer(t)
	cs.on("POST /v1/payments", http.StatusBadRequest, `{"error":{"code":"bad_request","message":"no"}}`)
	if _, err := sdk.PayerFromClient(cs.client()).Pay(context.Background(), demandReq); !errors.Is(err, sdk.ErrBadRequest) || len(cs.reqs) != 1 {
		t.Errorf("400: %v after %d requests", err, len(cs.reqs))
	}
}
