package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultUserAgent is the User-Agent of requests unless WithUserAgent replaces it.
const DefaultUserAgent = "fleetkey-sdk/1"

// DefaultMaxApprovalWait is how long a Payer waits for a payment that needs human approval
// unless WithMaxApprovalWait changes it.
const DefaultMaxApprovalWait = 2 * time.Minute

// MaxWait is the longest wait the API honours in one GET /v1/payments/{id}?wait= request;
// Client.Payment asks for at most this much.
const MaxWait = 60 * time.Second

// maxResponseBody bounds how much of an answer is read: far above any real answer (a page
// of audit records), low enough that a wrong URL cannot exhaust memory.
const maxResponseBody = 64 << 20

// Client calls one fleetkey API with one bearer token. It is safe for concurrent use. Which
// methods succeed depends on the token: agent methods need an agent token (fka_…), operator
// methods an operator token (fko_…) of a role the route admits.
type Client struct {
	base  *url.URL
	token *Token // a pointer, so that even fmt's field-by-field printing shows an address
	hc    *http.Client
	ua    string

	maxApprovalWait time.Duration
}

// Option configures NewClient and NewPayer.
type Option func(*options) error

type options struct {
	hc              *http.Client
	ua              string
	maxApprovalWait time.Duration
}

// WithHTTPClient sends requests through hc instead of a client with a 2-minute overall
// timeout. hc's own Timeout must leave room for the longest wait the caller asks for.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("sdk: WithHTTPClient: nil client")
		}
		o.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		if ua == "" || strings.ContainsAny(ua, "\r\n\x00") {
			return errors.New("sdk: WithUserAgent: empty or multi-line user agent")
		}
		o.ua = ua
		return nil
	}
}

// WithMaxApprovalWait sets how long a Payer waits for a payment that needs human approval
// (default DefaultMaxApprovalWait). Zero means do not wait: such a payment fails at once with
// an error wrapping ErrApprovalPending.
func WithMaxApprovalWait(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return errors.New("sdk: WithMaxApprovalWait: negative duration")
		}
		o.maxApprovalWait = d
		return nil
	}
}

// NewClient returns a client of the API at baseURL (scheme, host and an optional path prefix,
// e.g. "http://127.0.0.1:8402") that authenticates with token. Surrounding white space in the
// token (a token file's newline) is ignored.
func NewClient(baseURL, token string, opts ...Option) (*Client, error) {
	o := options{ua: DefaultUserAgent, maxApprovalWait: DefaultMaxApprovalWait}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sdk: API URL %q must be http:// or https:// with a host", baseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("sdk: API URL must not carry user info, a query or a fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	tok, err := parseToken(token)
	if err != nil {
		return nil, err
	}
	if o.hc == nil {
		o.hc = &http.Client{Timeout: 2 * MaxWait}
	}
	return &Client{base: u, token: &tok, hc: o.hc, ua: o.ua, maxApprovalWait: o.maxApprovalWait}, nil
}

// parseToken accepts any printable token; the server decides whether it is valid. The check
// only keeps a broken token file from becoming a broken header, and never quotes the token.
func parseToken(s string) (Token, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("sdk: empty token")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return "", errors.New("sdk: the token holds white space or a non-printable character (is this the right file?)")
		}
	}
	return Token(s), nil
}

// BaseURL returns the API URL the client calls.
func (c *Client) BaseURL() string { return c.base.String() }

// String describes the client without its token.
func (c *Client) String() string {
	if c == nil {
		return "sdk.Client(nil)"
	}
	return fmt.Sprintf("sdk.Client{api: %s, token: %v}", c.base, *c.token)
}

// GoString is String, so that %#v shows no token either.
func (c *Client) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the token.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("api", c.base.String()), slog.String("token", c.token.String()))
}

// endpoint joins the base URL and an API path (its segments already escaped) with its query.
func (c *Client) endpoint(path string, q url.Values) string {
	u := *c.base
	unescaped, err := url.PathUnescape(path)
	if err != nil { // cannot happen: every segment went through url.PathEscape
		unescaped = path
	}
	u.RawPath = c.base.EscapedPath() + path
	u.Path += unescaped
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// do sends one request: in (if not nil) as the JSON body, the answer's JSON decoded into out
// (if not nil). Any answer outside 2xx becomes an *APIError. It returns the status.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("sdk: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, q), body)
	if err != nil {
		return 0, fmt.Errorf("sdk: %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Authorization", "Bearer "+string(*c.token))
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error names the method and URL; the header with the token is never in it.
		return 0, transportError{fmt.Errorf("sdk: %w", err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return resp.StatusCode, transportError{fmt.Errorf("sdk: %s %s: read answer: %w", method, path, err)}
	}
	if len(raw) > maxResponseBody {
		return resp.StatusCode, fmt.Errorf("sdk: %s %s: answer larger than %d bytes", method, path, maxResponseBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, newAPIError(method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("sdk: %s %s: decode %d answer: %w", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode, nil
}

// transportError is a request that got no whole answer: the server may or may not have
// acted on it.
type transportError struct{ error }

func (e transportError) Unwrap() error { return e.error }

// Health calls GET /healthz, which needs no token: nil when the API answers.
func (c *Client) Health(ctx context.Context) error {
	var out struct {
		Status string `json:"status"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/healthz", nil, nil, &out); err != nil {
		return err
	}
	if out.Status != "ok" {
		return fmt.Errorf("sdk: /healthz answered status %q", out.Status)
	}
	return nil
}
