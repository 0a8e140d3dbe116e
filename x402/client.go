package x402

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxReplayBody is how much of a request body the Transport buffers so
// that it can resend the body with the payment. Larger bodies are still
// sent, but a 402 for them cannot be paid unless the request has GetBody
// (http.NewRequest sets it for bytes, strings and bytes.Reader bodies).
const DefaultMaxReplayBody = 1 << 20

// maxDemandBody bounds how much of a 402 body is read to find a v1 demand.
const maxDemandBody = 1 << 20

var (
	// ErrPaymentRejected means the server answered 402 again to the paid
	// retry; the Result's Err wraps it with the server's reason.
	ErrPaymentRejected = errors.New("x402: payment rejected by the server")
	// ErrAlreadyPaid means a 402 arrived on a redirect of a request that was
	// already paid for; it is not paid again.
	ErrAlreadyPaid = errors.New("x402: request already paid for")
	// ErrBodyNotReplayable means the request body was too large to buffer and
	// the request has no GetBody, so the request could not be resent.
	ErrBodyNotReplayable = errors.New("x402: request body cannot be replayed")
	// ErrNoSettlement means a response carries no settlement header.
	ErrNoSettlement = errors.New("x402: no settlement header in the response")
)

// Transport is an http.RoundTripper that pays for 402 answers. On a 402 it
// parses the demand (v2 PAYMENT-REQUIRED header, else a v1 JSON body), asks
// the Payer for a payment and resends the request once with
// PAYMENT-SIGNATURE (v2) or X-PAYMENT (v1). It never pays twice for one
// request: a request that already carries a payment header is sent as is, a
// second 402 after paying is returned to the caller (see ResultFromResponse),
// and a 402 on a redirect of a paid request is not paid again.
//
// When the Payer fails, RoundTrip returns its error (wrapped) and no response.
// Every other outcome is a response; ResultFromResponse tells what happened.
type Transport struct {
	// Base sends the requests; http.DefaultTransport if nil.
	Base http.RoundTripper
	// Payer pays; with a nil Payer 402 answers are returned unpaid.
	Payer Payer
	// MaxReplayBody overrides DefaultMaxReplayBody when positive.
	MaxReplayBody int64
}

// ClientOption configures NewClient.
type ClientOption func(*Transport)

// WithBaseTransport sets the transport that sends the requests.
func WithBaseTransport(rt http.RoundTripper) ClientOption { return func(t *Transport) { t.Base = rt } }

// WithMaxReplayBody sets how many request-body bytes are buffered for the
// paid retry.
func WithMaxReplayBody(n int64) ClientOption { return func(t *Transport) { t.MaxReplayBody = n } }

// NewClient returns an http.Client whose Transport pays through payer.
func NewClient(payer Payer, opts ...ClientOption) *http.Client {
	t := &Transport{Payer: payer}
	for _, o := range opts {
		o(t)
	}
	return &http.Client{Transport: t}
}

// Result describes what the Transport did for a response.
type Result struct {
	// Request is the demand the Payer was given (nil if none was parsed).
	Request *PaymentRequest
	// Payment is what was sent; nil if the request was not paid.
	Payment *Payment
	// Settlement is the decoded PAYMENT-RESPONSE / X-PAYMENT-RESPONSE of the
	// paid response, if any.
	Settlement *SettleResponse
	// Err is why a 402 was not paid, why the paid retry was refused
	// (wrapping ErrPaymentRejected), or a malformed settlement header.
	Err error
}

type resultKey struct{}

// ResultFromResponse returns what the Transport did for resp, or nil when it
// did nothing (no 402, or a request that already carried a payment).
func ResultFromResponse(resp *http.Response) *Result {
	if resp == nil || resp.Request == nil {
		return nil
	}
	r, _ := resp.Request.Context().Value(resultKey{}).(*Result)
	return r
}

// SettlementFromResponse decodes the settlement header of any response
// (PAYMENT-RESPONSE, else X-PAYMENT-RESPONSE); ErrNoSettlement if neither
// is present.
func SettlementFromResponse(resp *http.Response) (*SettleResponse, error) {
	v := resp.Header.Get(HeaderPaymentResponse)
	if v == "" {
		v = resp.Header.Get(HeaderXPaymentResponse)
	}
	if v == "" {
		return nil, ErrNoSettlement
	}
	return DecodeSettleResponse(v)
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get(HeaderPaymentSignature) != "" || req.Header.Get(HeaderXPayment) != "" {
		return t.base().RoundTrip(req)
	}
	first, replay, err := t.replayable(req)
	if err != nil {
		return nil, err
	}
	resp, err := t.base().RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusPaymentRequired || t.Payer == nil {
		return resp, err
	}
	res := &Result{}
	if paidEarlierInRedirects(req) {
		res.Err = ErrAlreadyPaid
		return attach(resp, req, res), nil
	}
	preq, err := readDemand(req, resp)
	if err != nil {
		res.Err = err
		return attach(resp, req, res), nil
	}
	res.Request = preq
	if replay == nil {
		res.Err = ErrBodyNotReplayable
		return attach(resp, req, res), nil
	}
	payment, err := t.Payer.Pay(req.Context(), preq)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("x402: pay for %s %s: %w", req.Method, preq.URL, err)
	}
	if err := checkPayment(preq.Version, payment); err != nil {
		resp.Body.Close()
		return nil, err
	}
	res.Payment = payment
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDemandBody))
	resp.Body.Close()

	retry := req.Clone(context.WithValue(req.Context(), resultKey{}, res))
	if retry.Body, err = replay(); err != nil {
		return nil, fmt.Errorf("x402: replay request body: %w", err)
	}
	retry.Header.Set(payment.Header, payment.Value)
	resp2, err := t.base().RoundTrip(retry)
	if err != nil {
		return nil, fmt.Errorf("x402: send paid request (a payment was attached): %w", err)
	}
	resp2.Request = retry
	if s, err := SettlementFromResponse(resp2); err == nil {
		res.Settlement = s
	} else if !errors.Is(err, ErrNoSettlement) {
		res.Err = err
	}
	if resp2.StatusCode == http.StatusPaymentRequired {
		res.Err = fmt.Errorf("%w: %s", ErrPaymentRejected, rejectionReason(resp2, res.Settlement))
	}
	return resp2, nil
}

// replayable returns the request to send first and a function that yields
// the body again for the paid retry (nil if the body cannot be replayed).
func (t *Transport) replayable(req *http.Request) (*http.Request, func() (io.ReadCloser, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, func() (io.ReadCloser, error) { return http.NoBody, nil }, nil
	}
	if req.GetBody != nil {
		return req, req.GetBody, nil
	}
	limit := t.MaxReplayBody
	if limit <= 0 {
		limit = DefaultMaxReplayBody
	}
	buf, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		req.Body.Close()
		return nil, nil, fmt.Errorf("x402: read request body: %w", err)
	}
	first := req.Clone(req.Context())
	if int64(len(buf)) > limit {
		first.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), req.Body), req.Body}
		return first, nil, nil
	}
	req.Body.Close()
	replay := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	first.Body, _ = replay()
	first.GetBody = replay
	return first, replay, nil
}

// paidEarlierInRedirects reports whether a request earlier in this redirect
// chain was sent with a payment by this Transport.
func paidEarlierInRedirects(req *http.Request) bool {
	for r := req.Response; r != nil && r.Request != nil; r = r.Request.Response {
		if res, ok := r.Request.Context().Value(resultKey{}).(*Result); ok && res.Payment != nil {
			return true
		}
	}
	return false
}

func attach(resp *http.Response, req *http.Request, res *Result) *http.Response {
	resp.Request = req.WithContext(context.WithValue(req.Context(), resultKey{}, res))
	return resp
}

// readDemand parses a 402 into a PaymentRequest. The body it reads is put
// back so the caller still sees the response whole.
func readDemand(req *http.Request, resp *http.Response) (*PaymentRequest, error) {
	preq := &PaymentRequest{URL: req.URL.String(), Method: req.Method}
	if h := resp.Header.Get(HeaderPaymentRequired); h != "" {
		pr, err := DecodePaymentRequired(h)
		if err != nil {
			return nil, fmt.Errorf("x402: %s header: %w", HeaderPaymentRequired, err)
		}
		preq.Version, preq.V2, preq.Raw = V2, pr, []byte(h)
		return preq, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDemandBody+1))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	if err != nil {
		return nil, fmt.Errorf("x402: read 402 body: %w", err)
	}
	if len(body) > maxDemandBody {
		return nil, fmt.Errorf("x402: 402 body exceeds %d bytes", maxDemandBody)
	}
	var pr PaymentRequiredV1
	if err := json.Unmarshal(body, &pr); err != nil {
		return nil, fmt.Errorf("x402: 402 without %s header and without a v1 JSON body: %w", HeaderPaymentRequired, err)
	}
	if err := pr.Validate(); err != nil {
		return nil, err
	}
	preq.Version, preq.V1, preq.Raw = V1, &pr, body
	return preq, nil
}

func checkPayment(version int, p *Payment) error {
	want := HeaderPaymentSignature
	if version == V1 {
		want = HeaderXPayment
	}
	if p == nil || !strings.EqualFold(p.Header, want) {
		return fmt.Errorf("x402: payer answered a v%d demand without a %s header", version, want)
	}
	if p.Value == "" || strings.ContainsAny(p.Value, "\r\n\x00") {
		return errors.New("x402: payer returned an empty or invalid header value")
	}
	return nil
}

// rejectionReason extracts the server's reason from a 402 to a paid request.
func rejectionReason(resp *http.Response, s *SettleResponse) string {
	if s != nil && !s.Success {
		return "settlement failed: " + s.ErrorReason
	}
	if h := resp.Header.Get(HeaderPaymentRequired); h != "" {
		if pr, err := DecodePaymentRequired(h); err == nil && pr.Error != "" {
			return pr.Error
		}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxDemandBody))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	var v1 struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &v1) == nil && v1.Error != "" {
		return v1.Error
	}
	return "no reason given"
}
