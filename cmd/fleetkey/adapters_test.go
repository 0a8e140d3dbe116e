package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/mcpserver"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
)

// adaptersAPI is the real payments service (SQLite, random-mnemonic vault) behind the real API
// handler, with one agent whose token is in a 0600 file: what `fleetkey sidecar` and
// `fleetkey mcp` talk to.
type adaptersAPI struct {
	env       *paymentstest.Env
	url       string
	agentID   string
	token     string
	tokenFile string
}

const adaptersPolicy = `version: 1
name: adapters-test
allow_http: true
limits:
  per_payment: "0.05"
approval:
  above: "0.02"
  quorum: 1
  approvers: [alice]
  expires_after: 10m
max_validity: 2m
`

func newAdaptersAPI(t *testing.T) *adaptersAPI {
	t.Helper()
	env := paymentstest.New(t, paymentstest.Options{FleetIndex: 9})
	svc, err := payments.New(payments.Config{Store: env.Store, Keys: env.Vault, Registry: env.Registry, Audit: env.Audit})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(env.Ctx, payments.ProvisionRequest{FleetID: env.Fleet.ID, GroupID: env.Group.ID,
		Agents: []payments.NewAgent{{ExternalID: "adapter-agent", Name: "adapter-agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	env.PutPolicy(store.LevelAgent, ps[0].Agent.ID, adaptersPolicy)
	srv := httptest.NewServer(api.NewHandler(api.Config{Payments: svc, Operators: svc, Audit: env.Store}))
	t.Cleanup(srv.Close)
	a := &adaptersAPI{env: env, url: srv.URL, agentID: ps[0].Agent.ID, token: ps[0].Token.Reveal(),
		tokenFile: filepath.Join(t.TempDir(), "agent.token")}
	if err := os.WriteFile(a.tokenFile, []byte(a.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return a
}

// adaptersResource answers 402 with a v2 demand for amount until a PAYMENT-SIGNATURE arrives,
// which it checks as a facilitator would. It records every request header value it sees.
type adaptersResource struct {
	url string
	mu  sync.Mutex
	// seen holds every header value of every request.
	seen []string
	paid int
}

func newAdaptersResource(t *testing.T, amount string) *adaptersResource {
	t.Helper()
	demand := paymentstest.DemandV2(t, paymentstest.Requirement(amount))
	r := &adaptersResource{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		for k, vs := range req.Header {
			r.seen = append(r.seen, k+": "+strings.Join(vs, ","))
		}
		r.mu.Unlock()
		if v := req.Header.Get(x402.HeaderPaymentSignature); v != "" {
			paymentstest.CheckPaymentV2(t, demand, v)
			r.mu.Lock()
			r.paid++
			r.mu.Unlock()
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "the paid content")
			return
		}
		w.Header().Set(x402.HeaderPaymentRequired, demand)
		w.WriteHeader(http.StatusPaymentRequired)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// checkNoToken fails if the agent token reached the resource server.
func (r *adaptersResource) checkNoToken(t *testing.T, token string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		t.Fatal("the resource server saw no request")
	}
	for _, h := range r.seen {
		if strings.Contains(h, token) || strings.Contains(h, token[4:20]) {
			t.Errorf("the agent token reached the resource server: %s", h)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the command's log writes and the test's reads.
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

// TestMCPCommandStdio runs `fleetkey mcp` in-process over stdin/stdout against the real API,
// and drives it with the Go MCP SDK's client: two tools, budget_status from GET /v1/agent, a
// paid fetch signed by fleetkey, a denial with the policy's reason and rule, max_amount
// refusing before fleetkey is asked, and a payment left waiting for approval. The token never reaches the resource server or the log.
func TestMCPCommandStdio(t *testing.T) {
	a := newAdaptersAPI(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(&cliEnv{stdin: inR, stdout: outW, stderr: stderr}, []string{"mcp", "--api", a.url, "--token-file", a.tokenFile, "--max-approval-wait", "0s"})
		outW.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-llm", Version: "1"}, nil).
		Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatalf("connect: %v; log:\n%s", err, stderr)
	}

	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lt.Tools) != 2 {
		t.Errorf("%d tools, want 2", len(lt.Tools))
	}

	callTool := func(name string, args map[string]any) (*mcp.CallToolResult, string) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var text strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				text.WriteString(tc.Text)
			}
		}
		return res, text.String()
	}

	res, text := callTool(mcpserver.ToolBudget, nil)
	if res.IsError || !strings.Contains(text, a.agentID) {
		t.Errorf("budget_status: %s", text)
	}

	paid := newAdaptersResource(t, "10000")
	res, text = callTool(mcpserver.ToolFetch, map[string]any{"url": paid.url + "/data", "max_amount": "10000"})
	if res.IsError {
		t.Fatalf("paid fetch: %s", text)
	}
	var out mcpserver.FetchOutput
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	as := a.env.Authorizations(a.agentID)
	if out.Status != 200 || out.Body != "the paid content" || out.Payment == nil || len(as) != 1 ||
		out.Payment.AuthorizationID != as[0].ID || out.Payment.Amount != "10000" || !strings.EqualFold(out.Payment.PayTo, paymentstest.PayTo) {
		t.Fatalf("output %s, ledger %+v", b, as)
	}
	paid.checkNoToken(t, a.token)

	dear := newAdaptersResource(t, "50001")
	res, text = callTool(mcpserver.ToolFetch, map[string]any{"url": dear.url})
	if !res.IsError || !strings.Contains(text, "amount_above_per_payment_limit") || !strings.Contains(text, "agent:limits.per_payment") {
		t.Errorf("denied fetch (error %v): %s", res.IsError, text)
	}
	res, text = callTool(mcpserver.ToolFetch, map[string]any{"url": paid.url, "max_amount": "9999"})
	if !res.IsError || !strings.Contains(text, "max_amount_exceeded") {
		t.Errorf("capped fetch (error %v): %s", res.IsError, text)
	}
	if n := len(a.env.Authorizations(a.agentID)); n != 1 {
		t.Errorf("%d authorizations after a denial and a capped fetch, want 1", n)
	}
	// Above the approval threshold, with no wait allowed: the payment stays reserved for the
	// approvers and the tool says so.
	big := newAdaptersResource(t, "30000")
	res, text = callTool(mcpserver.ToolFetch, map[string]any{"url": big.url})
	if !res.IsError || !strings.Contains(text, "approval_pending") {
		t.Errorf("fetch needing approval (error %v): %s", res.IsError, text)
	}
	if as := a.env.Authorizations(a.agentID); len(as) != 2 || as[1].Status != store.AuthReserved || big.paid != 0 {
		t.Errorf("ledger after the approval case: %+v, paid %d", as, big.paid)
	}
	if paid.paid != 1 || dear.paid != 0 {
		t.Errorf("paid requests: %d and %d", paid.paid, dear.paid)
	}

	cs.Close()
	inW.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d; log:\n%s", code, stderr)
		}
	case <-ctx.Done():
		t.Fatal("fleetkey mcp did not stop when stdin closed")
	}
	if log := stderr.String(); strings.Contains(log, a.token) || !strings.Contains(log, a.agentID) {
		t.Errorf("log holds the token or lacks the agent id:\n%s", log)
	}
}
