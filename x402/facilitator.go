package x402

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Facilitator verifies and settles payments for a resource server. A payment
// problem is an answer (IsValid or Success false, with a reason code); an
// error means the facilitator could not be asked or answered nonsense, which
// the middleware reports as 502. FacilitatorClient implements it over HTTP;
// x402/facilitator implements it in process.
type Facilitator interface {
	Verify(ctx context.Context, req *VerifyRequest) (*VerifyResponse, error)
	Settle(ctx context.Context, req *SettleRequest) (*SettleResponse, error)
	Supported(ctx context.Context) (*SupportedResponse, error)
}

// Defaults of FacilitatorClient.
const (
	DefaultFacilitatorTimeout      = 90 * time.Second
	DefaultFacilitatorResponseSize = 1 << 20
)

// FacilitatorClient talks to a remote facilitator's POST /verify, POST
// /settle and GET /supported with the reference's JSON and status
// conventions: 200 with isValid/success false is an answer; a non-2xx status
// whose JSON carries isValid/success is still an answer; any other non-2xx,
// or a body that is not the expected JSON, is an error.
type FacilitatorClient struct {
	base     *url.URL
	hc       *http.Client
	maxBody  int64
	headers  func(ctx context.Context, endpoint string) (http.Header, error)
	maxRetry int
}

// FacilitatorOption configures NewFacilitatorClient.
type FacilitatorOption func(*FacilitatorClient)

// WithFacilitatorHTTPClient sets the HTTP client (its Timeout then applies
// instead of DefaultFacilitatorTimeout).
func WithFacilitatorHTTPClient(hc *http.Client) FacilitatorOption {
	return func(c *FacilitatorClient) { c.hc = hc }
}

// WithFacilitatorTimeout bounds each call.
func WithFacilitatorTimeout(d time.Duration) FacilitatorOption {
	return func(c *FacilitatorClient) { c.hc = &http.Client{Timeout: d} }
}

// WithFacilitatorResponseLimit bounds the size of an answer.
func WithFacilitatorResponseLimit(n int64) FacilitatorOption {
	return func(c *FacilitatorClient) { c.maxBody = n }
}

// WithFacilitatorHeaders adds headers (for example authentication) per
// endpoint ("verify", "settle", "supported").
func WithFacilitatorHeaders(f func(ctx context.Context, endpoint string) (http.Header, error)) FacilitatorOption {
	return func(c *FacilitatorClient) { c.headers = f }
}

// NewFacilitatorClient returns a client for the facilitator at baseURL
// (endpoints are baseURL + "/verify" etc.).
func NewFacilitatorClient(baseURL string, opts ...FacilitatorOption) (*FacilitatorClient, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("x402: facilitator url %q is not an http(s) url", baseURL)
	}
	c := &FacilitatorClient{base: u, hc: &http.Client{Timeout: DefaultFacilitatorTimeout}, maxBody: DefaultFacilitatorResponseSize, maxRetry: 3}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Verify implements Facilitator.
func (c *FacilitatorClient) Verify(ctx context.Context, req *VerifyRequest) (*VerifyResponse, error) {
	var out struct {
		VerifyResponse
		IsValid *bool `json:"isValid"`
	}
	if err := c.post(ctx, "verify", req, &out, func() bool { return out.IsValid != nil }); err != nil {
		return nil, err
	}
	r := out.VerifyResponse
	r.IsValid = *out.IsValid
	return &r, nil
}

// Settle implements Facilitator.
func (c *FacilitatorClient) Settle(ctx context.Context, req *SettleRequest) (*SettleResponse, error) {
	var out struct {
		SettleResponse
		Success *bool `json:"success"`
	}
	if err := c.post(ctx, "settle", req, &out, func() bool { return out.Success != nil }); err != nil {
		return nil, err
	}
	r := out.SettleResponse
	r.Success = *out.Success
	return &r, nil
}

// Supported implements Facilitator. A 429 is retried up to three times,
// honouring Retry-After (capped at ten seconds).
func (c *FacilitatorClient) Supported(ctx context.Context) (*SupportedResponse, error) {
	for attempt := 0; ; attempt++ {
		var out struct {
			SupportedResponse
			Kinds *[]SupportedKind `json:"kinds"`
		}
		status, body, header, err := c.do(ctx, http.MethodGet, "supported", nil)
		if err != nil {
			return nil, err
		}
		if status == http.StatusTooManyRequests && attempt < c.maxRetry {
			if err := sleepCtx(ctx, retryAfter(header.Get("Retry-After"))); err != nil {
				return nil, err
			}
			continue
		}
		if status/100 != 2 {
			return nil, statusError("supported", status, body)
		}
		if err := json.Unmarshal(body, &out); err != nil || out.Kinds == nil {
			return nil, fmt.Errorf("x402: facilitator /supported: malformed answer")
		}
		r := out.SupportedResponse
		r.Kinds = *out.Kinds
		return &r, nil
	}
}

func (c *FacilitatorClient) post(ctx context.Context, endpoint string, in any, out any, present func() bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(in); err != nil {
		return fmt.Errorf("x402: facilitator /%s: encode request: %w", endpoint, err)
	}
	status, body, _, err := c.do(ctx, http.MethodPost, endpoint, buf.Bytes())
	if err != nil {
		return err
	}
	decodeErr := json.Unmarshal(body, out)
	if decodeErr == nil && present() {
		return nil
	}
	if status/100 != 2 {
		return statusError(endpoint, status, body)
	}
	return fmt.Errorf("x402: facilitator /%s: malformed answer", endpoint)
}

func (c *FacilitatorClient) do(ctx context.Context, method, endpoint string, body []byte) (int, []byte, http.Header, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + endpoint
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("x402: facilitator /%s: %w", endpoint, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.headers != nil {
		h, err := c.headers(ctx, endpoint)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("x402: facilitator /%s: headers: %w", endpoint, err)
		}
		for k, vs := range h {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("x402: facilitator /%s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("x402: facilitator /%s: read answer: %w", endpoint, err)
	}
	if int64(len(b)) > c.maxBody {
		return 0, nil, nil, fmt.Errorf("x402: facilitator /%s: answer exceeds %d bytes", endpoint, c.maxBody)
	}
	return resp.StatusCode, b, resp.Header, nil
}

func statusError(endpoint string, status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return fmt.Errorf("x402: facilitator /%s: status %d: %s", endpoint, status, truncate(e.Error, 200))
	}
	return fmt.Errorf("x402: facilitator /%s: status %d", endpoint, status)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func retryAfter(v string) time.Duration {
	d := time.Second
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	}
	return min(d, 10*time.Second)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var _ Facilitator = (*FacilitatorClient)(nil)

// errNilAnswer guards against a Facilitator implementation returning nil, nil.
var errNilAnswer = errors.New("x402: facilitator returned no answer")
