package mcpserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/fleetkey/fleetkey/internal/sidecar"
	"github.com/fleetkey/fleetkey/x402"
)

// Tool names.
const (
	ToolFetch  = "x402_fetch"
	ToolBudget = "budget_status"
)

// Defaults of Config.
const (
	// DefaultTimeout bounds one x402_fetch: request, payment (including a wait for
	// approval), paid retry and reading the answer.
	DefaultTimeout = 2 * time.Minute
	// DefaultMaxResponseBody is how much of an answer's body a tool result shows.
	DefaultMaxResponseBody = 64 << 10
	// DefaultMaxRequestBody bounds the body an MCP client may send with x402_fetch.
	DefaultMaxRequestBody = 1 << 20
)

// BudgetSource tells what the agent's credential can see about itself. The fleetkey API
// offers the agent's identity (GET /v1/agent); BudgetStatus has room for the policy windows
// and spend once the API offers them to agents.
type BudgetSource interface {
	BudgetStatus(ctx context.Context) (*BudgetStatus, error)
}

// BudgetSourceFunc adapts a function to BudgetSource.
type BudgetSourceFunc func(ctx context.Context) (*BudgetStatus, error)

// BudgetStatus implements BudgetSource.
func (f BudgetSourceFunc) BudgetStatus(ctx context.Context) (*BudgetStatus, error) { return f(ctx) }

// BudgetStatus is the result of budget_status.
type BudgetStatus struct {
	AgentID string `json:"agent_id" jsonschema:"the agent this credential acts for"`
	FleetID string `json:"fleet_id" jsonschema:"the agent's fleet"`
	GroupID string `json:"group_id,omitempty" jsonschema:"the agent's group, if any"`
	Name    string `json:"name,omitempty" jsonschema:"the agent's name, when the API reports it"`
	Status  string `json:"status,omitempty" jsonschema:"active, frozen or retired, when the API reports it"`
	// Windows are the agent's spending windows, when the API reports them.
	Windows []BudgetWindow `json:"windows,omitempty" jsonschema:"spending windows that apply to the agent, when the API reports them"`
	// Note says what is not shown.
	Note string `json:"note,omitempty"`
}

// BudgetWindow is one rolling spending limit and what has been spent in it.
type BudgetWindow struct {
	Level  string `json:"level" jsonschema:"fleet, group or agent"`
	Window string `json:"window" jsonschema:"window length, e.g. 1h or 24h"`
	Limit  string `json:"limit" jsonschema:"limit in the asset's atomic units"`
	Spent  string `json:"spent" jsonschema:"spent and reserved in the window, atomic units"`
	Asset  string `json:"asset,omitempty"`
}

// Config configures New.
type Config struct {
	// Payer pays 402 answers; required.
	Payer x402.Payer
	// Budget answers budget_status; nil makes the tool report that nothing is available.
	Budget BudgetSource
	// Transport sends fetches; nil means a clone of http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds one fetch; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBody bounds the body shown in a result; 0 means DefaultMaxResponseBody.
	MaxResponseBody int
	// MaxRequestBody bounds the body an MCP client may send; 0 means DefaultMaxRequestBody.
	MaxRequestBody int
	// Version is reported to clients as the server's version.
	Version string
}

// FetchInput is x402_fetch's arguments.
type FetchInput struct {
	URL       string            `json:"url" jsonschema:"absolute http:// or https:// URL to fetch"`
	Method    string            `json:"method,omitempty" jsonschema:"HTTP method; default GET"`
	Headers   map[string]string `json:"headers,omitempty" jsonschema:"request headers (a payment header of your own is refused: fleetkey pays)"`
	Body      string            `json:"body,omitempty" jsonschema:"request body, as text"`
	MaxAmount string            `json:"max_amount,omitempty" jsonschema:"refuse to pay more than this, in the asset's atomic units as an integer (10000 is 0.01 of a 6-decimal token such as USDC)"`
}

// FetchOutput is x402_fetch's structured result.
type FetchOutput struct {
	Status      int    `json:"status" jsonschema:"HTTP status of the final answer"`
	ContentType string `json:"content_type,omitempty"`
	// Body is text, or base64 when the answer is not UTF-8 (BodyEncoding).
	Body         string `json:"body"`
	BodyEncoding string `json:"body_encoding" jsonschema:"text or base64"`
	// BodyBytes is how many bytes are in Body (before base64).
	BodyBytes int `json:"body_bytes"`
	// Truncated reports that the answer had more than BodyBytes bytes.
	Truncated bool `json:"truncated"`
	// Payment is the receipt when a payment was sent.
	Payment *sidecar.Receipt `json:"payment,omitempty"`
	// PaymentError says why a 402 was not paid, or why the server refused the payment.
	PaymentError string `json:"payment_error,omitempty"`
}

type server struct {
	payer       x402.Payer
	budget      BudgetSource
	base        http.RoundTripper
	timeout     time.Duration
	maxResponse int
	maxRequest  int
}

// New returns the MCP server with its two tools. Serve it with Run(ctx, &mcp.StdioTransport{})
// or over HTTP with NewHTTPHandler.
func New(cfg Config) (*mcp.Server, error) {
	if cfg.Payer == nil {
		return nil, errors.New("mcpserver: no payer")
	}
	if cfg.Timeout < 0 || cfg.MaxResponseBody < 0 || cfg.MaxRequestBody < 0 {
		return nil, errors.New("mcpserver: negative timeout or size limit")
	}
	s := &server{payer: cfg.Payer, budget: cfg.Budget, base: cfg.Transport, timeout: cfg.Timeout,
		maxResponse: cfg.MaxResponseBody, maxRequest: cfg.MaxRequestBody}
	if s.base == nil {
		s.base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.maxResponse == 0 {
		s.maxResponse = DefaultMaxResponseBody
	}
	if s.maxRequest == 0 {
		s.maxRequest = DefaultMaxRequestBody
	}
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "fleetkey", Title: "fleetkey x402 payments", Version: version},
		&mcp.ServerOptions{
			Instructions: instructions,
			// Tools only, and a fixed set of them: no resources, prompts, logging or
			// completions.
			Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
		})
	no, yes := false, true
	mcp.AddTool(srv, &mcp.Tool{
		Name:  ToolFetch,
		Title: "Fetch a URL, paying for it with x402 if asked",
		Description: "Fetch an http(s) URL. If the server answers 402 Payment Required (x402), fleetkey pays once " +
			"under the agent's spending policy and the request is resent with the payment. Returns the status, " +
			"content type, body (cut at " + fmt.Sprint(s.maxResponse) + " bytes) and the payment receipt. Set " +
			"max_amount (atomic units of the asset, an integer) to refuse anything dearer. A refused payment is " +
			"an error naming the policy reason and rule.",
		Annotations: &mcp.ToolAnnotations{Title: "x402 fetch", OpenWorldHint: &yes, DestructiveHint: &no},
	}, s.fetch)
	mcp.AddTool(srv, &mcp.Tool{
		Name:        ToolBudget,
		Title:       "What this agent's fleetkey credential can see about itself",
		Description: "Report the agent, fleet and group that this server pays for, and its budget windows and spend when fleetkey offers them. Changes nothing.",
		Annotations: &mcp.ToolAnnotations{Title: "budget status", ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &no},
	}, s.budgetStatus)
	return srv, nil
}

const instructions = `This server lets you fetch web resources that ask for payment with the x402 protocol.
Use x402_fetch for any URL; payment happens automatically within the spending policy set by the
agent's operators, who alone can change it. Use max_amount to cap what one fetch may cost.
budget_status tells which agent you pay as.`

// NewHTTPHandler serves srv over MCP's streamable HTTP transport, with the SDK's DNS
// rebinding protection (a loopback connection must name a loopback Host) and Go's
// cross-origin protection (browser requests from other origins are refused).
func NewHTTPHandler(srv *mcp.Server) http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	return http.NewCrossOriginProtection().Handler(h)
}

func (s *server) fetch(ctx context.Context, _ *mcp.CallToolRequest, in FetchInput) (*mcp.CallToolResult, *FetchOutput, error) {
	req, payer, err := s.request(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	client := &http.Client{Transport: &x402.Transport{Base: s.base, Payer: payer, MaxReplayBody: int64(s.maxRequest)}}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		if perr := payer.failure(); perr != nil {
			reason, rule := sidecar.DenialOf(perr)
			return nil, nil, fmt.Errorf("payment denied (reason %s%s): %v", reason, ruleText(rule), perr)
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, nil, fmt.Errorf("no answer within %s", s.timeout)
		}
		return nil, nil, fmt.Errorf("fetch %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	out := &FetchOutput{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	if res := x402.ResultFromResponse(resp); res != nil {
		if res.Payment != nil {
			if rc, err := sidecar.ReceiptFromResult(res); err == nil {
				out.Payment = rc
			}
		}
		if res.Err != nil {
			out.PaymentError = res.Err.Error()
		}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, int64(s.maxResponse)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read the answer of %s: %w", req.URL.Redacted(), err)
	}
	if len(raw) > s.maxResponse {
		raw, out.Truncated = raw[:s.maxResponse], true
	}
	out.BodyBytes = len(raw)
	if utf8.Valid(raw) || out.Truncated && utf8.Valid(trimPartialRune(raw)) {
		out.Body, out.BodyEncoding = string(trimPartialRune(raw)), "text"
	} else {
		out.Body, out.BodyEncoding = base64.StdEncoding.EncodeToString(raw), "base64"
	}
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: out.text()}}}
	// A paid request that the server still refused cost nothing but did not get the
	// resource: that is the tool failing.
	res.IsError = out.Status == http.StatusPaymentRequired
	return res, out, nil
}

func ruleText(rule string) string {
	if rule == "" {
		return ""
	}
	return ", rule " + rule
}

// trimPartialRune drops an incomplete UTF-8 sequence that truncation left at the end.
func trimPartialRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && i < len(b); i++ {
		if r, size := utf8.DecodeLastRune(b[:len(b)-i]); r != utf8.RuneError || size > 1 {
			return b[:len(b)-i]
		}
	}
	return b
}

// text is the result as an LLM reads it.
func (o *FetchOutput) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d %s\n", o.Status, http.StatusText(o.Status))
	if o.ContentType != "" {
		fmt.Fprintf(&b, "content-type: %s\n", o.ContentType)
	}
	if p := o.Payment; p != nil {
		fmt.Fprintf(&b, "paid: %s atomic units of asset %s to %s on %s", p.Amount, p.Asset, p.PayTo, p.Network)
		if p.Transaction != "" {
			fmt.Fprintf(&b, ", settled in transaction %s", p.Transaction)
		}
		b.WriteString("\n")
	}
	if o.PaymentError != "" {
		fmt.Fprintf(&b, "payment problem: %s\n", o.PaymentError)
	}
	switch {
	case o.Truncated:
		fmt.Fprintf(&b, "body (truncated: only the first %d bytes are shown, %s):\n", o.BodyBytes, o.BodyEncoding)
	default:
		fmt.Fprintf(&b, "body (%d bytes, %s):\n", o.BodyBytes, o.BodyEncoding)
	}
	b.WriteString(o.Body)
	return b.String()
}

// request checks the arguments and builds the request and the payer for one fetch.
func (s *server) request(ctx context.Context, in FetchInput) (*http.Request, *callPayer, error) {
	u := strings.TrimSpace(in.URL)
	if l := strings.ToLower(u); !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
		return nil, nil, errors.New("url must be an absolute http:// or https:// URL")
	}
	method := strings.ToUpper(strings.TrimSpace(in.Method))
	if method == "" {
		method = http.MethodGet
	}
	if method == http.MethodConnect {
		return nil, nil, errors.New("method CONNECT is not supported")
	}
	if len(in.Body) > s.maxRequest {
		return nil, nil, fmt.Errorf("body exceeds %d bytes", s.maxRequest)
	}
	var body io.Reader
	if in.Body != "" {
		body = bytes.NewReader([]byte(in.Body))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, fmt.Errorf("bad request: %w", err)
	}
	if req.URL.Host == "" {
		return nil, nil, errors.New("url has no host")
	}
	for k, v := range in.Headers {
		if strings.EqualFold(k, x402.HeaderPaymentSignature) || strings.EqualFold(k, x402.HeaderXPayment) {
			return nil, nil, fmt.Errorf("header %s is not allowed: fleetkey makes the payment", k)
		}
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	payer := &callPayer{p: s.payer}
	if in.MaxAmount != "" {
		max, err := parseAtomic(in.MaxAmount)
		if err != nil {
			return nil, nil, fmt.Errorf("max_amount: %w", err)
		}
		payer.max = max
	}
	return req, payer, nil
}

// jsonText renders v for a text content block.
func jsonText(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func (s *server) budgetStatus(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, *BudgetStatus, error) {
	if s.budget == nil {
		return nil, nil, errors.New("budget status is not available from this server")
	}
	st, err := s.budget.BudgetStatus(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("budget status: %w", err)
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: jsonText(st)}}}, st, nil
}
