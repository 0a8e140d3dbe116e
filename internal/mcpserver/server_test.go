package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/fleetkey/fleetkey/internal/mcpserver"
	"github.com/fleetkey/fleetkey/internal/sidecar/sidecartest"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

var env *sidecartest.Env

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	e, err := sidecartest.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env = e
	code := m.Run()
	if err := env.Close(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "close:", err)
		code = 1
	}
	os.Exit(code)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// countingPayer counts the demands it is given.
type countingPayer struct {
	p     x402.Payer
	calls atomic.Int32
	last  atomic.Pointer[x402.PaymentRequest]
}

func (c *countingPayer) Pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	c.calls.Add(1)
	c.last.Store(req)
	return c.p.Pay(ctx, req)
}

func localPayer(t *testing.T, i int) (*countingPayer, common.Address) {
	t.Helper()
	p, err := env.Payer(i)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Destroy)
	return &countingPayer{p: p}, p.Address()
}

func balance(t *testing.T, a common.Address) *big.Int {
	t.Helper()
	b, err := env.Balance(testCtx(t), a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type agentBudget struct{}

func (agentBudget) BudgetStatus(context.Context) (*mcpserver.BudgetStatus, error) {
	return &mcpserver.BudgetStatus{AgentID: "agt_1", FleetID: "flt_1", GroupID: "grp_1",
		Note: "policy windows and spend are not offered to agents by the API"}, nil
}

// connect serves srv over the in-memory transport and connects a client of the same SDK.
func connect(t *testing.T, cfg mcpserver.Config) *mcp.ClientSession {
	t.Helper()
	srv, err := mcpserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ct, st := mcp.NewInMemoryTransports()
	ctx := testCtx(t)
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// connectHTTP serves srv over streamable HTTP on loopback and connects a client to it.
func connectHTTP(t *testing.T, cfg mcpserver.Config) *mcp.ClientSession {
	t.Helper()
	srv, err := mcpserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(mcpserver.NewHTTPHandler(srv))
	t.Cleanup(hs.Close)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil).
		Connect(testCtx(t), &mcp.StreamableClientTransport{Endpoint: hs.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (*mcp.CallToolResult, string) {
	t.Helper()
	res, err := cs.CallTool(testCtx(t), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool %s: %v", name, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	return res, text.String()
}

func fetchOutput(t *testing.T, res *mcp.CallToolResult) mcpserver.FetchOutput {
	t.Helper()
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var out mcpserver.FetchOutput
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("structured content %s: %v", b, err)
	}
	return out
}

// checkPaidFetch calls x402_fetch on a paid route and checks the result, the receipt and the
// balances on chain.
func checkPaidFetch(t *testing.T, cs *mcp.ClientSession, payer common.Address, path string, args map[string]any, network string) mcpserver.FetchOutput {
	t.Helper()
	pb, mb := balance(t, payer), balance(t, env.Merchant)
	if args == nil {
		args = map[string]any{}
	}
	args["url"] = env.URL + path
	res, text := call(t, cs, mcpserver.ToolFetch, args)
	if res.IsError {
		t.Fatalf("tool error: %s", text)
	}
	out := fetchOutput(t, res)
	if out.Status != 200 || out.Body != sidecartest.WeatherBody || out.ContentType != "application/json" || out.Truncated {
		t.Errorf("output %+v", out)
	}
	p := out.Payment
	if p == nil || p.Amount != fmt.Sprint(sidecartest.Price) || !strings.EqualFold(p.PayTo, env.Merchant.Hex()) ||
		!strings.EqualFold(p.Asset, env.Net.Token().Address.Hex()) || p.Network != network || len(p.Transaction) != 66 || !p.Settled {
		t.Fatalf("receipt %+v", p)
	}
	if !strings.Contains(text, "HTTP 200") || !strings.Contains(text, p.Transaction) || !strings.Contains(text, sidecartest.WeatherBody) {
		t.Errorf("text result lacks the status, receipt or body:\n%s", text)
	}
	if got := new(big.Int).Sub(pb, balance(t, payer)); got.Int64() != sidecartest.Price {
		t.Errorf("payer paid %s, want %d", got, sidecartest.Price)
	}
	if got := new(big.Int).Sub(balance(t, env.Merchant), mb); got.Int64() != sidecartest.Price {
		t.Errorf("merchant received %s, want %d", got, sidecartest.Price)
	}
	return out
}

func TestListsExactlyTwoTools(t *testing.T) {
	p, _ := localPayer(t, 4)
	for name, cs := range map[string]*mcp.ClientSession{
		"in-memory": connect(t, mcpserver.Config{Payer: p}),
		"http":      connectHTTP(t, mcpserver.Config{Payer: p}),
	} {
		t.Run(name, func(t *testing.T) {
			lt, err := cs.ListTools(testCtx(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range lt.Tools {
				names = append(names, tool.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{mcpserver.ToolBudget, mcpserver.ToolFetch}) {
				t.Errorf("tools %v", names)
			}
			caps := cs.InitializeResult().Capabilities
			if caps.Resources != nil || caps.Prompts != nil || caps.Completions != nil || caps.Logging != nil {
				t.Errorf("capabilities beyond tools: %+v", caps)
			}
			if lr, err := cs.ListResources(testCtx(t), nil); err == nil && len(lr.Resources) != 0 {
				t.Errorf("resources offered: %v", lr.Resources)
			}
		})
	}
}

func TestFetchPaysInMemory(t *testing.T) {
	p, addr := localPayer(t, 5)
	cs := connect(t, mcpserver.Config{Payer: p})
	t.Run("v2", func(t *testing.T) {
		checkPaidFetch(t, cs, addr, sidecartest.PathWeather, nil, x402.EVMNetwork(sidecartest.ChainID))
	})
	t.Run("v1 within max_amount", func(t *testing.T) {
		checkPaidFetch(t, cs, addr, sidecartest.PathV1Weather, map[string]any{"max_amount": fmt.Sprint(sidecartest.Price)}, "base-sepolia")
	})
	t.Run("POST with body and headers", func(t *testing.T) {
		res, text := call(t, cs, mcpserver.ToolFetch, map[string]any{
			"url": env.URL + sidecartest.PathEcho, "method": "post", "body": "hello",
			"headers": map[string]any{"Content-Type": "text/plain"},
		})
		out := fetchOutput(t, res)
		if res.IsError || out.Status != 200 || out.Body != "hello" || out.Payment == nil {
			t.Fatalf("result %+v: %s", out, text)
		}
	})
}

func TestFetchPaysOverStreamableHTTP(t *testing.T) {
	p, addr := localPayer(t, 6)
	cs := connectHTTP(t, mcpserver.Config{Payer: p, Budget: agentBudget{}})
	checkPaidFetch(t, cs, addr, sidecartest.PathWeather, nil, x402.EVMNetwork(sidecartest.ChainID))

	res, text := call(t, cs, mcpserver.ToolBudget, nil)
	if res.IsError || !strings.Contains(text, `"agent_id": "agt_1"`) {
		t.Errorf("budget_status over HTTP: %s", text)
	}
}

type denyingPayer struct{}

type denialError struct{}

func (denialError) Error() string                  { return "over the fleet's daily budget" }
func (denialError) DenialReason() (string, string) { return "budget_exceeded", "fleet.daily" }

func (denyingPayer) Pay(context.Context, *x402.PaymentRequest) (*x402.Payment, error) {
	return nil, fmt.Errorf("sdk: %w", denialError{})
}

func TestFetchDenied(t *testing.T) {
	mb := balance(t, env.Merchant)
	for name, cs := range map[string]*mcp.ClientSession{
		"in-memory": connect(t, mcpserver.Config{Payer: denyingPayer{}}),
		"http":      connectHTTP(t, mcpserver.Config{Payer: denyingPayer{}}),
	} {
		t.Run(name, func(t *testing.T) {
			res, text := call(t, cs, mcpserver.ToolFetch, map[string]any{"url": env.URL + sidecartest.PathWeather})
			if !res.IsError {
				t.Fatalf("denied fetch is not a tool error: %s", text)
			}
			for _, want := range []string{"payment denied", "budget_exceeded", "fleet.daily", "daily budget"} {
				if !strings.Contains(text, want) {
					t.Errorf("error %q lacks %q", text, want)
				}
			}
		})
	}
	if got := balance(t, env.Merchant); got.Cmp(mb) != 0 {
		t.Errorf("merchant balance moved on a denial: %s → %s", mb, got)
	}
}

func TestMaxAmountRefusesBeforePaying(t *testing.T) {
	p, addr := localPayer(t, 7)
	cs := connect(t, mcpserver.Config{Payer: p})
	pb := balance(t, addr)
	res, text := call(t, cs, mcpserver.ToolFetch, map[string]any{
		"url": env.URL + sidecartest.PathWeather, "max_amount": fmt.Sprint(sidecartest.Price - 1),
	})
	if !res.IsError || !strings.Contains(text, "max_amount_exceeded") || !strings.Contains(text, fmt.Sprint(sidecartest.Price)) {
		t.Fatalf("result (error %v): %s", res.IsError, text)
	}
	if n := p.calls.Load(); n != 0 {
		t.Errorf("payer asked %d times; max_amount must refuse before paying", n)
	}
	if got := balance(t, addr); got.Cmp(pb) != 0 {
		t.Errorf("payer balance moved: %s → %s", pb, got)
	}
}

func TestBadArguments(t *testing.T) {
	p, _ := localPayer(t, 8)
	cs := connect(t, mcpserver.Config{Payer: p})
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		{"no url", map[string]any{}, "url"},
		{"ftp", map[string]any{"url": "ftp://example.com/x"}, "http"},
		{"decimal max", map[string]any{"url": env.URL + sidecartest.PathWeather, "max_amount": "0.01"}, "atomic units"},
		{"own payment header", map[string]any{"url": env.URL + sidecartest.PathWeather, "headers": map[string]any{"payment-signature": "x"}}, "not allowed"},
		{"connect", map[string]any{"url": env.URL, "method": "CONNECT"}, "CONNECT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, text := call(t, cs, mcpserver.ToolFetch, tc.args)
			if !res.IsError || !strings.Contains(text, tc.want) {
				t.Errorf("result (error %v): %s", res.IsError, text)
			}
		})
	}
	if n := p.calls.Load(); n != 0 {
		t.Errorf("payer asked %d times for refused arguments", n)
	}
}

func TestTruncatedBody(t *testing.T) {
	p, _ := localPayer(t, 8)
	cs := connect(t, mcpserver.Config{Payer: p, MaxResponseBody: 1000})
	res, text := call(t, cs, mcpserver.ToolFetch, map[string]any{"url": env.URL + sidecartest.PathBig})
	out := fetchOutput(t, res)
	if res.IsError || !out.Truncated || out.BodyBytes != 1000 || len(out.Body) != 1000 || out.Payment != nil {
		t.Fatalf("output: truncated %v, %d bytes, payment %v", out.Truncated, out.BodyBytes, out.Payment)
	}
	if !strings.Contains(text, "truncated") {
		t.Errorf("text does not say the body was truncated:\n%.200s", text)
	}
}

func TestBudgetStatus(t *testing.T) {
	p, _ := localPayer(t, 8)
	cs := connect(t, mcpserver.Config{Payer: p, Budget: agentBudget{}})
	res, text := call(t, cs, mcpserver.ToolBudget, nil)
	if res.IsError {
		t.Fatal(text)
	}
	b, _ := json.Marshal(res.StructuredContent)
	var st mcpserver.BudgetStatus
	if err := json.Unmarshal(b, &st); err != nil || st.AgentID != "agt_1" || st.FleetID != "flt_1" || st.GroupID != "grp_1" {
		t.Errorf("status %+v (%v) from %s", st, err, b)
	}

	none := connect(t, mcpserver.Config{Payer: p})
	if res, text := call(t, none, mcpserver.ToolBudget, nil); !res.IsError || !strings.Contains(text, "not available") {
		t.Errorf("without a source: %v %s", res.IsError, text)
	}
}

// An unfunded payer's payment is refused by the resource server: a tool error that shows the
// 402 and the reason.
func TestServerRejectsPayment(t *testing.T) {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	payer := exact.NewLocalKeyPayer(k)
	defer payer.Destroy()
	cs := connect(t, mcpserver.Config{Payer: payer})
	res, text := call(t, cs, mcpserver.ToolFetch, map[string]any{"url": env.URL + sidecartest.PathWeather})
	out := fetchOutput(t, res)
	if !res.IsError || out.Status != 402 || !strings.Contains(out.PaymentError, "insufficient") {
		t.Errorf("result (error %v) %+v: %s", res.IsError, out, text)
	}
}
