package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/credential"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// checkJSONHeaders holds for every answer but the OpenAPI document.
func checkJSONHeaders(t *testing.T, a answer) {
	t.Helper()
	if ct, cc := a.header.Get("Content-Type"), a.header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Errorf("Content-Type %q Cache-Control %q", ct, cc)
	}
}

// payer decodes a v2 PAYMENT-SIGNATURE value as a facilitator would, checks that
// accepted is the demand's requirement byte for byte and that the signature under
// the registry's domain recovers to the authorization's from, and returns it.
func payer(t *testing.T, res signedResponse, demand string) *exact.Authorization {
	t.Helper()
	if res.Header.Name != x402.HeaderPaymentSignature {
		t.Fatalf("header %q", res.Header.Name)
	}
	a := paymentstest.CheckPaymentV2(t, demand, res.Header.Value)
	if a.To != common.HexToAddress(payee) || a.Value.String() != res.Amount {
		t.Errorf("pays %s %s, answer says %s %s", a.To, a.Value, res.PayTo, res.Amount)
	}
	return a
}

func TestPaySignedAndReplayed(t *testing.T) {
	e := newEnv(t)
	a := e.agents[0]
	body := payBody(t, "k1", "10000")
	start := time.Now()
	first := e.pay(a, body)
	if first.status != http.StatusOK {
		t.Fatalf("status %d: %s", first.status, first.body)
	}
	checkJSONHeaders(t, first)
	var res signedResponse
	first.decode(t, &res)
	var req paymentRequest
	json.Unmarshal([]byte(body), &req)
	var demand string
	json.Unmarshal(req.PaymentRequired, &demand)
	auth := payer(t, res, demand)
	if auth.From != common.HexToAddress(a.Key.Address) {
		t.Errorf("paid from %s, agent's address %s", auth.From, a.Key.Address)
	}
	vb, err := time.Parse(time.RFC3339, res.ValidBefore)
	if err != nil || vb.Unix() != auth.ValidBefore.Int64() || vb.After(start.Add(2*time.Minute+time.Second)) {
		t.Errorf("valid_before %s (%v), signed %s", res.ValidBefore, err, auth.ValidBefore)
	}
	if res.AuthorizationID == "" || res.Amount != "10000" || res.Asset != strings.ToLower(testAsset.Address.Hex()) ||
		res.PayTo != strings.ToLower(payee) || res.Network != "eip155:84532" || res.PolicyHash == "" || res.Replayed {
		t.Errorf("answer %+v", res)
	}

	// The same key again, this time in the header: the same answer, replayed.
	var noKey map[string]any
	json.Unmarshal([]byte(body), &noKey)
	delete(noKey, "idempotency_key")
	b, _ := json.Marshal(noKey)
	again := e.pay(a, string(b), "Idempotency-Key", "k1")
	if again.status != http.StatusOK {
		t.Fatalf("replay status %d: %s", again.status, again.body)
	}
	want := bytes.Replace(first.body, []byte(`"replayed":false`), []byte(`"replayed":true`), 1)
	if !bytes.Equal(again.body, want) {
		t.Errorf("replay\n%s\nwant\n%s", again.body, want)
	}
	if as := e.authorizations(a.Agent.ID); len(as) != 1 {
		t.Errorf("%d authorizations after a replay, want 1", len(as))
	}

	// The same key for another amount.
	clash := e.pay(a, payBody(t, "k1", "20000"))
	if clash.status != http.StatusConflict || clash.errorBody(t).Code != CodeIdempotencyMismatch {
		t.Errorf("mismatch: %d %s", clash.status, clash.body)
	}
	checkJSONHeaders(t, clash)

	// The log names the authorization and the agent, never the token or the header.
	logs := e.logs.String()
	for _, secret := range []string{a.Token.Reveal(), res.Header.Value, res.Header.Value[:40]} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds a secret: %s", logs)
		}
	}
	for _, want := range []string{`"authorization_id":"` + res.AuthorizationID + `"`, `"agent_id":"` + a.Agent.ID + `"`,
		`"outcome":"signed"`, `"outcome":"replayed"`, `"duration_ms":`, `"code":"idempotency_key_reused"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestPayDeniedAndNeedsApproval(t *testing.T) {
	e := newEnv(t)
	a, b := e.agents[0], e.agents[1]
	hash := e.putPolicy(a.Agent.ID, agentPolicy)

	denied := e.pay(a, payBody(t, "big", "50001"))
	if denied.status != http.StatusForbidden {
		t.Fatalf("status %d: %s", denied.status, denied.body)
	}
	checkJSONHeaders(t, denied)
	d := denied.errorBody(t)
	if d.Code != CodePaymentDenied || d.Reason != string(policy.ReasonAbovePerPayment) || d.Rule != "agent:limits.per_payment" ||
		d.PolicyHash != hash || !strings.Contains(d.Message, d.Reason) {
		t.Errorf("denial %+v", d)
	}
	if as := e.authorizations(a.Agent.ID); len(as) != 0 {
		t.Errorf("denied payment left %d authorizations", len(as))
	}

	e.putPolicy(b.Agent.ID, `version: 1
name: approve-big
approval:
  above: "0.02"
  quorum: 1
  approvers: [alice]
  expires_after: 10m
`)
	held := e.pay(b, payBody(t, "held", "30000"))
	if held.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", held.status, held.body)
	}
	var ap approvalResponse
	held.decode(t, &ap)
	exp, err := time.Parse(time.RFC3339, ap.ExpiresAt)
	if ap.AuthorizationID == "" || len(ap.ApprovalIDs) != 1 || err != nil || exp.Before(time.Now().Add(9*time.Minute)) || ap.Replayed {
		t.Errorf("pending %+v (%v)", ap, err)
	}
	if !strings.Contains(e.logs.String(), `"outcome":"needs_approval"`) {
		t.Errorf("log lacks the outcome")
	}
}

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t)
	a, b := e.agents[0], e.agents[1]
	operator, err := credential.New(credential.Operator)
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := credential.New(credential.Agent)
	err = e.Store.Tx(e.Ctx, func(tx store.Tx) error {
		if _, err := tx.CreateCredential(e.Ctx, store.Credential{Kind: store.CredentialOperator, Role: store.RoleAdmin,
			Name: "op", Hash: operator.Hash(), CreatedAt: time.Now()}); err != nil {
			return err
		}
		_, err := tx.RevokeCredential(e.Ctx, b.CredentialID, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, auth string }{
		{"missing", ""},
		{"basic scheme", "Basic " + a.Token.Reveal()},
		{"no scheme", a.Token.Reveal()},
		{"bearer without token", "Bearer "},
		{"two spaces", "Bearer  " + a.Token.Reveal()},
		{"malformed token", "Bearer fka_not-a-token"},
		{"unknown token", "Bearer " + stranger.Reveal()},
		{"operator token", "Bearer " + operator.Reveal()},
		{"revoked token", bearer(b)},
	} {
		for _, rt := range []struct{ method, path string }{{http.MethodGet, "/v1/agent"}, {http.MethodPost, "/v1/payments"}, {http.MethodGet, "/v1/payments/auth_x"}} {
			t.Run(tc.name+" "+rt.path, func(t *testing.T) {
				ans := e.do(rt.method, rt.path, tc.auth, strings.NewReader(payBody(t, "k", "10")))
				if ans.status != http.StatusUnauthorized || ans.header.Get("WWW-Authenticate") != "Bearer" {
					t.Fatalf("status %d, WWW-Authenticate %q", ans.status, ans.header.Get("WWW-Authenticate"))
				}
				checkJSONHeaders(t, ans)
				if eb := ans.errorBody(t); eb.Code != CodeUnauthenticated || eb.Message != errUnauthenticated.Message {
					t.Errorf("error %+v", eb)
				}
			})
		}
	}
	if n := len(e.authorizations(a.Agent.ID)) + len(e.authorizations(b.Agent.ID)); n != 0 {
		t.Errorf("%d authorizations without a valid token", n)
	}
	if strings.Contains(e.logs.String(), a.Token.Reveal()) || strings.Contains(e.logs.String(), operator.Reveal()) {
		t.Errorf("log holds a token")
	}
	// The scheme is case-insensitive.
	if ans := e.do(http.MethodGet, "/v1/agent", "bearer "+a.Token.Reveal(), nil); ans.status != http.StatusOK {
		t.Errorf("lower-case scheme: %d %s", ans.status, ans.body)
	}
}

// TestAccessMatrix: each token acts only for its own agent, whatever the request says.
func TestAccessMatrix(t *testing.T) {
	e := newEnv(t)
	for i, self := range e.agents {
		other := e.agents[1-i]
		t.Run(self.Agent.ExternalID, func(t *testing.T) {
			who := e.do(http.MethodGet, "/v1/agent", bearer(self), nil)
			if who.status != http.StatusOK {
				t.Fatalf("status %d: %s", who.status, who.body)
			}
			checkJSONHeaders(t, who)
			var id agentResponse
			who.decode(t, &id)
			if id != (agentResponse{AgentID: self.Agent.ID, FleetID: e.Fleet.ID, GroupID: e.Group.ID}) {
				t.Errorf("identity %+v, want agent %s", id, self.Agent.ID)
			}
			// A body naming the other agent is refused, not obeyed.
			for _, field := range []string{"agent_id", "agent", "from"} {
				var m map[string]any
				json.Unmarshal([]byte(payBody(t, "x-"+field, "10")), &m)
				m[field] = other.Agent.ID
				bb, _ := json.Marshal(m)
				if ans := e.pay(self, string(bb)); ans.status != http.StatusBadRequest {
					t.Errorf("body with %s: %d %s", field, ans.status, ans.body)
				}
			}
			// Both agents use the same idempotency key: keys are per agent.
			body := payBody(t, "shared-key", "10000")
			ans := e.pay(self, body)
			if ans.status != http.StatusOK {
				t.Fatalf("status %d: %s", ans.status, ans.body)
			}
			var res signedResponse
			ans.decode(t, &res)
			var req paymentRequest
			json.Unmarshal([]byte(body), &req)
			var demand string
			json.Unmarshal(req.PaymentRequired, &demand)
			auth := payer(t, res, demand)
			if auth.From != common.HexToAddress(self.Key.Address) || auth.From == common.HexToAddress(other.Key.Address) {
				t.Errorf("paid from %s, own address %s, other's %s", auth.From, self.Key.Address, other.Key.Address)
			}
			as := e.authorizations(self.Agent.ID)
			if len(as) != 1 || as[0].ID != res.AuthorizationID {
				t.Errorf("own authorizations %+v", as)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	a := e.agents[0]
	demand := demandV2(t, requirement("10"))
	good := func() map[string]any {
		return map[string]any{"x402_version": 2, "payment_required": demand, "resource_url": resourceURL, "idempotency_key": "k"}
	}
	with := func(k string, v any) string {
		m := good()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name, body string
		hdr        []string
		msg        string // a part of the message
	}{
		{"unknown field", with("amount", "1"), nil, `unknown field "amount"`},
		{"bad JSON", `{"x402_version": 2,`, nil, "truncated JSON"},
		{"not JSON", `x402`, nil, "not valid JSON"},
		{"empty body", ``, nil, "empty"},
		{"array", `[]`, nil, "JSON object"},
		{"two objects", with("method", "GET") + `{}`, nil, "nothing after it"},
		{"missing idempotency key", with("idempotency_key", nil), nil, "idempotency_key is required"},
		{"keys differ", with("method", "GET"), []string{"Idempotency-Key", "other"}, "differ"},
		{"x402_version 3", with("x402_version", 3), nil, "x402_version must be 1 or 2"},
		{"x402_version missing", with("x402_version", nil), nil, "x402_version must be 1 or 2"},
		{"x402_version string", with("x402_version", "2"), nil, `"x402_version" must be a JSON integer`},
		{"v2 demand as object", with("payment_required", map[string]any{"x402Version": 2}), nil, "as a string"},
		{"v1 demand as string", with("x402_version", 1), nil, "as a JSON object"},
		{"missing resource url", with("resource_url", nil), nil, "resource_url is required"},
		{"relative resource url", with("resource_url", "/data"), nil, "absolute http(s) URL"},
		{"lower-case method", with("method", "get"), nil, "HTTP method"},
		{"negative preferred", with("preferred", -1), nil, "preferred"},
		{"garbage demand", with("payment_required", "bm90IGpzb24"), nil, "bad payment request"},
		{"bad idempotency key", with("idempotency_key", "a b"), nil, "printable ASCII"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.auditHead(t).Seq
			ans := e.pay(a, tc.body, tc.hdr...)
			if ans.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", ans.status, ans.body)
			}
			checkJSONHeaders(t, ans)
			eb := ans.errorBody(t)
			if eb.Code != CodeBadRequest || !strings.Contains(eb.Message, tc.msg) {
				t.Errorf("error %+v, want a message with %q", eb, tc.msg)
			}
			e.checkFailureRecorded(t, before, a.Agent.ID, eb.Message)
		})
	}
	if as := e.authorizations(a.Agent.ID); len(as) != 0 {
		t.Errorf("bad requests left %d authorizations", len(as))
	}
}

// auditHead is the last audit record (seq 0 when there is none).
func (e *env) auditHead(t *testing.T) store.AuditRecord {
	t.Helper()
	var h store.AuditRecord
	if err := e.Store.ReadTx(context.Background(), func(rt store.ReadTx) (err error) {
		h, err = rt.AuditHead(context.Background())
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

// checkFailureRecorded: exactly one audit record was appended after seq before,
// a payment.failed of agentID naming msg (the "Bad input": a request that
// fails at any step leaves one audit record of the failure).
func (e *env) checkFailureRecorded(t *testing.T, before uint64, agentID, msg string) {
	t.Helper()
	h := e.auditHead(t)
	if h.Seq != before+1 || h.Action != audit.ActionPaymentFailed || h.Actor != audit.AgentActor(agentID) || h.Subject != agentID {
		t.Fatalf("after seq %d: head %d %s by %s on %s, want one payment.failed by the agent", before, h.Seq, h.Action, h.Actor, h.Subject)
	}
	var data struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(h.Data, &data); err != nil || !strings.Contains(data.Error, msg) {
		t.Errorf("record data %s, want an error naming %q", h.Data, msg)
	}
}

func TestRoutingAndLimits(t *testing.T) {
	e := newEnv(t)
	a := e.agents[0]
	big := `{"x402_version":2,"payment_required":"` + strings.Repeat("A", DefaultMaxBodyBytes) + `","resource_url":"` + resourceURL + `","idempotency_key":"k"}`
	for _, tc := range []struct {
		name, method, path, auth, body string
		status                         int
		code                           string
		allow                          string
	}{
		{"oversize body", http.MethodPost, "/v1/payments", bearer(a), big, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, ""},
		{"GET payments", http.MethodGet, "/v1/payments", bearer(a), "", http.StatusMethodNotAllowed, CodeMethodNotAllowed, "POST"},
		{"DELETE agent", http.MethodDelete, "/v1/agent", bearer(a), "", http.StatusMethodNotAllowed, CodeMethodNotAllowed, "GET, HEAD"},
		{"POST healthz", http.MethodPost, "/healthz", "", "", http.StatusMethodNotAllowed, CodeMethodNotAllowed, "GET, HEAD"},
		{"unknown path", http.MethodGet, "/v1/agentz", bearer(a), "", http.StatusNotFound, CodeNotFound, ""},
		{"operator path", http.MethodGet, "/v1/operator/agents", bearer(a), "", http.StatusNotFound, CodeNotFound, ""},
		{"unclean path", http.MethodGet, "/v1//agent", bearer(a), "", http.StatusNotFound, CodeNotFound, ""},
		{"dot path", http.MethodGet, "/v1/./agent", bearer(a), "", http.StatusNotFound, CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.auditHead(t).Seq
			ans := e.do(tc.method, tc.path, tc.auth, strings.NewReader(tc.body))
			if ans.status != tc.status {
				t.Fatalf("status %d, want %d: %s", ans.status, tc.status, ans.body)
			}
			checkJSONHeaders(t, ans)
			eb := ans.errorBody(t)
			if eb.Code != tc.code || ans.header.Get("Allow") != tc.allow {
				t.Errorf("error %+v, Allow %q", eb, ans.header.Get("Allow"))
			}
			if tc.code == CodeBodyTooLarge {
				e.checkFailureRecorded(t, before, a.Agent.ID, eb.Message)
			}
		})
	}
	health := e.do(http.MethodGet, "/healthz", "", nil)
	checkJSONHeaders(t, health)
	if health.status != http.StatusOK || string(health.body) != "{\"status\":\"ok\"}\n" {
		t.Errorf("healthz %d %s", health.status, health.body)
	}
	doc := e.do(http.MethodGet, "/openapi.yaml", "", nil)
	if doc.status != http.StatusOK || !bytes.Equal(doc.body, OpenAPI) || doc.header.Get("Content-Type") != "application/yaml" {
		t.Errorf("openapi %d %q", doc.status, doc.header.Get("Content-Type"))
	}
}

// A failure the service does not explain is a 500 with a generic message; the
// cause reaches the log only.
func TestInternalErrorHidesCause(t *testing.T) {
	logs := &syncBuffer{}
	h := NewHandler(Config{Payments: failingService{}, Operators: failingOperators{}, Audit: failingAudit{},
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	for _, tc := range []struct{ method, path, token string }{
		{http.MethodGet, "/v1/agent", "fka_failing"},                     // Authenticate fails
		{http.MethodPost, "/v1/payments", "fka_failing"},                 // Authenticate fails
		{http.MethodPost, "/v1/payments", "fka_whatever"},                // Pay fails
		{http.MethodGet, "/v1/payments/auth_1", "fka_whatever"},          // Payment fails
		{http.MethodGet, "/v1/fleets", "fko_failing"},                    // AuthenticateOperator fails
		{http.MethodGet, "/v1/fleets", "fko_whatever"},                   // Fleets fails
		{http.MethodGet, "/v1/audit/records", "fko_whatever"},            // the audit store fails
		{http.MethodPost, "/v1/approvals/apr_1/approve", "fko_whatever"}, // Vote fails
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(payBody(t, "k", "10")))
		req.Header.Set("Authorization", "Bearer "+tc.token)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "disk on fire") ||
			!strings.Contains(rec.Body.String(), `"code":"internal_error"`) || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: %d %s", tc.path, tc.token, rec.Code, rec.Body)
		}
	}
	if !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("log lacks the cause: %s", logs)
	}
}

type failingService struct{}

func (failingService) Authenticate(ctx context.Context, token string) (payments.AgentIdentity, error) {
	if strings.HasSuffix(token, "whatever") {
		return payments.AgentIdentity{AgentID: "agent-1", FleetID: "fleet-1"}, nil
	}
	return payments.AgentIdentity{}, errors.New("store: disk on fire")
}

func (failingService) Pay(context.Context, string, payments.PayRequest) (*payments.PayResult, error) {
	return nil, errors.New("store: disk on fire")
}

func (failingService) Payment(context.Context, string, string) (*payments.PayResult, error) {
	return nil, errors.New("store: disk on fire")
}

func (failingService) WaitPayment(context.Context, string, string, time.Duration) (*payments.PayResult, error) {
	return nil, errors.New("store: disk on fire")
}

// failingOperators authenticates "…whatever" as an admin and fails every other
// call it implements; the embedded nil interface panics on the rest, which the
// tests that use it never call.
type failingOperators struct{ OperatorService }

func (failingOperators) AuthenticateOperator(_ context.Context, token string) (payments.OperatorIdentity, error) {
	if strings.HasSuffix(token, "whatever") {
		return payments.OperatorIdentity{CredentialID: "cred_1", Name: "root", Role: store.RoleAdmin}, nil
	}
	return payments.OperatorIdentity{}, errors.New("store: disk on fire")
}

func (failingOperators) Fleets(context.Context) ([]store.Fleet, error) {
	return nil, errors.New("store: disk on fire")
}

func (failingOperators) Vote(context.Context, payments.OperatorIdentity, string, store.VoteDecision) (payments.ApprovalView, error) {
	return payments.ApprovalView{}, errors.New("store: disk on fire")
}

type failingAudit struct{}

func (failingAudit) ReadTx(context.Context, func(store.ReadTx) error) error {
	return errors.New("store: disk on fire")
}

func TestPayV1(t *testing.T) {
	e := newEnv(t)
	a := e.agents[0]
	v1 := x402.PaymentRequiredV1{X402Version: 1, Error: "X-PAYMENT header is required", Accepts: []x402.PaymentRequirementsV1{{
		Scheme: "exact", Network: "base-sepolia", MaxAmountRequired: "20000", Resource: resourceURL, MimeType: "application/json",
		Asset: testAsset.Address.Hex(), PayTo: payee, MaxTimeoutSeconds: 60, Extra: json.RawMessage(`{"name":"USDC","version":"2"}`),
	}}}
	body, err := json.Marshal(map[string]any{"x402_version": 1, "payment_required": v1, "resource_url": resourceURL, "method": "POST", "preferred": 0})
	if err != nil {
		t.Fatal(err)
	}
	// The key in both places, equal, is accepted.
	var m map[string]any
	json.Unmarshal(body, &m)
	m["idempotency_key"] = "v1"
	both, _ := json.Marshal(m)
	for i, b := range [][]byte{body, both} {
		ans := e.pay(a, string(b), "Idempotency-Key", "v1")
		if ans.status != http.StatusOK {
			t.Fatalf("status %d: %s", ans.status, ans.body)
		}
		var res signedResponse
		ans.decode(t, &res)
		if res.Header.Name != x402.HeaderXPayment || res.Amount != "20000" || res.Replayed != (i == 1) {
			t.Fatalf("answer %+v", res)
		}
		p, _, err := x402.DecodePaymentPayloadV1(res.Header.Value)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := x402.DecodeExactEVMPayload(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if common.HexToAddress(ev.Authorization.From) != common.HexToAddress(a.Key.Address) {
			t.Errorf("paid from %s, agent's address %s", ev.Authorization.From, a.Key.Address)
		}
	}
}

// Concurrent retries with one idempotency key reserve and sign once, and every
// answer is that one authorization.
func TestConcurrentRetriesSignOnce(t *testing.T) {
	e := newEnv(t)
	a := e.agents[0]
	body := payBody(t, "retry", "10000")
	const n = 16
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/payments", strings.NewReader(body))
			req.Header.Set("Authorization", bearer(a))
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var sr signedResponse
			if err := json.NewDecoder(res.Body).Decode(&sr); err != nil || res.StatusCode != http.StatusOK {
				t.Errorf("status %d, %v", res.StatusCode, err)
				return
			}
			ids <- sr.AuthorizationID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]int{}
	for id := range ids {
		seen[id]++
	}
	if as := e.authorizations(a.Agent.ID); len(seen) != 1 || len(as) != 1 {
		t.Errorf("answers name %v, %d authorizations stored; want one", seen, len(as))
	}
}

// waitingService's WaitPayment waits for the request's context, as the real one does while a
// payment waits for approval.
type waitingService struct{ failingService }

func (waitingService) WaitPayment(ctx context.Context, _, _ string, _ time.Duration) (*payments.PayResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A long poll the client gives up is logged as the client's doing, not as a server error.
func TestClientGoneIsNotAServerError(t *testing.T) {
	logs := &syncBuffer{}
	h := NewHandler(Config{Payments: waitingService{}, Operators: failingOperators{}, Audit: failingAudit{},
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, "/v1/payments/auth_1?wait=30s", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer fka_whatever")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if l := logs.String(); !strings.Contains(l, `"status":499`) || !strings.Contains(l, `"level":"INFO"`) || strings.Contains(l, "ERROR") {
		t.Errorf("log: %s", l)
	}
}
