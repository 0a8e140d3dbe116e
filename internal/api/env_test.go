package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
	"github.com/fleetkey/fleetkey/x402"
)

// Base Sepolia USDC (x402.md §3.1.1): a real asset with a real EIP-712 domain.
var testAsset = signer.Asset{
	Network: "eip155:84532", Address: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
	Symbol: "USDC", Decimals: 6, EIP712Name: "USDC", EIP712Version: "2",
}

const (
	payee       = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
	resourceURL = "https://api.example.com/v2/data"
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

// env is a real payments.Service on SQLite with a custody vault from a fresh random
// mnemonic, served by the agent handler over httptest.
type env struct {
	t      *testing.T
	ctx    context.Context
	st     *sqlite.Store
	svc    *payments.Service
	srv    *httptest.Server
	logs   *syncBuffer
	fleet  store.Fleet
	group  store.Group
	agents []payments.Provisioned // "a" and "b", in the group
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "fleetkey.db"), sqlite.Options{SynchronousNormal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	entropy := make([]byte, 32)
	if _, err := rand.Read(entropy); err != nil {
		t.Fatal(err)
	}
	words, err := hd.EntropyToMnemonic(entropy)
	clear(entropy)
	if err != nil {
		t.Fatal(err)
	}
	m, err := custody.NewMnemonic([]byte(words))
	if err != nil {
		t.Fatal(err)
	}
	vault, err := custody.VaultFromMnemonic(m, custody.Passphrase{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vault.Close() })
	reg, err := signer.NewRegistry([]signer.Asset{testAsset})
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.New(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := payments.New(payments.Config{Store: st, Keys: vault, Registry: reg, Audit: alog})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, st: st, svc: svc, logs: &syncBuffer{}}
	err = st.Tx(ctx, func(tx store.Tx) error {
		var err error
		if e.fleet, err = tx.CreateFleet(ctx, store.Fleet{Name: "research", Index: 3}); err != nil {
			return err
		}
		e.group, err = tx.CreateGroup(ctx, store.Group{FleetID: e.fleet.ID, Name: "crawlers"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.agents, err = svc.ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: e.fleet.ID, GroupID: e.group.ID,
		Agents: []payments.NewAgent{{ExternalID: "a", Name: "a"}, {ExternalID: "b", Name: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range e.agents {
		e.putPolicy(a.Agent.ID, agentPolicy)
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.srv = httptest.NewServer(NewAgentHandler(AgentConfig{Payments: svc, Logger: logger}))
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() {
		rep, err := audit.Verify(ctx, st, common.Address{})
		if err != nil || rep.Problem != nil {
			t.Errorf("audit chain: %v %v", err, rep.Problem)
		}
	})
	return e
}

func (e *env) putPolicy(agentID, src string) string {
	e.t.Helper()
	p, err := policy.Parse([]byte(src))
	if err != nil {
		e.t.Fatal(err)
	}
	err = e.st.Tx(e.ctx, func(tx store.Tx) error {
		_, err := tx.PutPolicy(e.ctx, store.PutPolicyRequest{Level: store.LevelAgent, ScopeID: agentID, Name: p.Name(), Hash: p.Hash(), Source: src, Now: time.Now()})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Hash()
}

func (e *env) authorizations(agentID string) []store.Authorization {
	e.t.Helper()
	var as []store.Authorization
	err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		as, err = rt.Authorizations(e.ctx, store.AuthorizationFilter{AgentID: agentID})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return as
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

// requirement is a v2 requirement for the registry's asset.
func requirement(amount string) x402.PaymentRequirementsV2 {
	return x402.PaymentRequirementsV2{
		Scheme: "exact", Network: testAsset.Network, Amount: amount,
		Asset: testAsset.Address.Hex(), PayTo: payee, MaxTimeoutSeconds: 300,
		Extra: json.RawMessage(`{"name":"USDC","version":"2"}`),
	}
}

// demandV2 is a PAYMENT-REQUIRED header value, from the x402 package's encoder.
func demandV2(t testing.TB, reqs ...x402.PaymentRequirementsV2) string {
	t.Helper()
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{
		X402Version: 2, Error: "Payment required",
		Resource: x402.ResourceInfo{URL: resourceURL, Description: "data"},
		Accepts:  reqs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

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
