package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
)

var testAsset = paymentstest.Asset

const (
	payee       = paymentstest.PayTo
	resourceURL = paymentstest.ResourceURL
	// agentPolicy signs up to 0.05 per payment and caps validity at two minutes.
	agentPolicy = `version: 1
name: api-test
limits:
  per_payment: "0.05"
max_validity: 2m
`
)

// syncBuffer collects the handler's log lines across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testAuditKey is the checkpoint key address the handler serves; the chain of
// a paymentstest environment has no checkpoints.
var testAuditKey = common.HexToAddress("0x00000000000000000000000000000000000a0d17")

// env is a real payments.Service on the shared payments test environment (SQLite, a vault
// from a fresh random mnemonic), served by the agent handler over httptest.
type env struct {
	*paymentstest.Env
	t      *testing.T
	svc    *payments.Service
	srv    *httptest.Server
	logs   *syncBuffer
	agents []payments.Provisioned // "a" and "b", in the group
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pe := paymentstest.New(t, paymentstest.Options{FleetIndex: 3})
	svc, err := payments.New(payments.Config{Store: pe.Store, Keys: pe.Vault, Registry: pe.Registry, Audit: pe.Audit})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{Env: pe, t: t, svc: svc, logs: &syncBuffer{}}
	e.agents, err = svc.ProvisionAgents(pe.Ctx, payments.ProvisionRequest{FleetID: pe.Fleet.ID, GroupID: pe.Group.ID,
		Agents: []payments.NewAgent{{ExternalID: "a", Name: "a"}, {ExternalID: "b", Name: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range e.agents {
		e.putPolicy(a.Agent.ID, agentPolicy)
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.srv = httptest.NewServer(NewHandler(Config{Payments: svc, Operators: svc, Audit: pe.Store, AuditKey: testAuditKey, Logger: logger}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) putPolicy(agentID, src string) string {
	e.t.Helper()
	return e.PutPolicy(store.LevelAgent, agentID, src)
}

func (e *env) authorizations(agentID string) []store.Authorization {
	e.t.Helper()
	return e.Authorizations(agentID)
}

// answer is one HTTP answer, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

func (a answer) errorBody(t *testing.T) errorDetail {
	t.Helper()
	var eb errorBody
	a.decode(t, &eb)
	return eb.Error
}

// do sends a request; auth is the whole Authorization header (none when empty).
func (e *env) do(method, path, auth string, body io.Reader, hdr ...string) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: b}
}

func bearer(p payments.Provisioned) string { return "Bearer " + p.Token.Reveal() }

var (
	requirement = paymentstest.Requirement
	demandV2    = paymentstest.DemandV2
)

// payBody is a v2 payment request body.
func payBody(t testing.TB, key, amount string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"x402_version": 2, "payment_required": demandV2(t, requirement(amount)),
		"resource_url": resourceURL, "method": "GET", "idempotency_key": key,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e *env) pay(p payments.Provisioned, body string, hdr ...string) answer {
	e.t.Helper()
	return e.do(http.MethodPost, "/v1/payments", bearer(p), strings.NewReader(body), hdr...)
}
