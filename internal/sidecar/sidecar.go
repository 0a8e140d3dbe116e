package sidecar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// Defaults of Config.
const (
	// DefaultTimeout bounds one exchange: sending, paying (including a wait for approval),
	// resending and streaming the answer back.
	DefaultTimeout = 2 * time.Minute
	// DefaultMaxBody bounds a request body; bodies are buffered so the paid retry can
	// resend them.
	DefaultMaxBody = 1 << 20
)

// Header names the sidecar adds to answers.
const (
	// HeaderPayment carries the receipt of a payment the sidecar made (Receipt.HeaderValue).
	HeaderPayment = "X-Fleetkey-Payment"
	// HeaderPaymentError says why a 402 was not paid or why the paid request was refused.
	HeaderPaymentError = "X-Fleetkey-Payment-Error"
)

// Error codes of the sidecar's own JSON error answers, {"error":{"code",…}}.
const (
	CodePaymentDenied        = "payment_denied"         // 403: the payer refused (policy, approval, budget)
	CodeBadRequest           = "bad_request"            // 400: not a proxy or gateway request, bad URL, a client payment header
	CodeMethodNotAllowed     = "method_not_allowed"     // 405: CONNECT
	CodeBodyTooLarge         = "body_too_large"         // 413
	CodeForbidden            = "forbidden"              // 403: a browser request, or a gateway Host that is not loopback
	CodeLoopDetected         = "loop_detected"          // 508: the request already went through a fleetkey sidecar
	CodeUpstreamUnreachable  = "upstream_unreachable"   // 502: no answer from the resource server
	CodeUpstreamAfterPayment = "upstream_after_payment" // 502: a payment was made but the paid request failed
	CodeTimeout              = "timeout"                // 504: Config.Timeout elapsed
)

// viaToken marks requests this sidecar forwarded (RFC 9110 §7.6.3), so that a request that
// comes back to a sidecar (a gateway URL naming the sidecar itself) is refused, not looped.
const viaToken = "1.1 fleetkey-sidecar"

// Denial is implemented by payer errors that carry a policy decision; the sidecar reports its
// reason and rule in a 403 answer (see DenialOf, which also reads the SDK's *sdk.APIError).
type Denial interface {
	DenialReason() (reason, rule string)
}

// DenialOf returns the reason and rule of a payer error: those of a Denial or of a refusal by
// the fleetkey API (*sdk.APIError), "approval_pending" or "not_approved" for a payment that
// waited for approval in vain, else "payer_error" and no rule.
func DenialOf(err error) (reason, rule string) {
	var d Denial
	var ae *sdk.APIError
	switch {
	case errors.As(err, &d):
		return d.DenialReason()
	case errors.As(err, &ae) && ae.Reason != "":
		return ae.Reason, ae.Rule
	case errors.Is(err, sdk.ErrApprovalPending):
		return "approval_pending", ""
	case errors.Is(err, sdk.ErrNotApproved):
		return "not_approved", ""
	case errors.As(err, &ae):
		return ae.Code, ""
	}
	return "payer_error", ""
}

// Config configures New.
type Config struct {
	// Payer pays 402 answers; required.
	Payer x402.Payer
	// Transport sends requests to resource servers; nil means a clone of
	// http.DefaultTransport (which honours HTTPS_PROXY and friends).
	Transport http.RoundTripper
	// Timeout bounds one exchange; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxBody bounds request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// AllowRemote accepts gateway requests whose Host header is not a loopback name or
	// address. Leave it off when the sidecar listens on loopback: the Host check defeats DNS
	// rebinding from web pages.
	AllowRemote bool
}

// Handler is the sidecar's http.Handler.
type Handler struct {
	transport   *x402.Transport
	timeout     time.Duration
	maxBody     int64
	allowRemote bool
}

// New returns the sidecar handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Payer == nil {
		return nil, errors.New("sidecar: no payer")
	}
	if cfg.Timeout < 0 || cfg.MaxBody < 0 {
		return nil, errors.New("sidecar: negative timeout or body limit")
	}
	h := &Handler{timeout: cfg.Timeout, maxBody: cfg.MaxBody, allowRemote: cfg.AllowRemote}
	if h.timeout == 0 {
		h.timeout = DefaultTimeout
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBody
	}
	base := cfg.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	// The body is buffered below, so every request is replayable; the Transport's own
	// buffering never applies.
	h.transport = &x402.Transport{Base: base, Payer: trackingPayer{cfg.Payer}, MaxReplayBody: h.maxBody}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"CONNECT is not supported: a tunnel would hide the 402 from the sidecar; send https URLs through the gateway form http://SIDECAR/https://host/path", nil)
		return
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "none" {
		writeError(w, http.StatusForbidden, CodeForbidden, "requests from web pages are refused (Sec-Fetch-Site: "+s+")", nil)
		return
	}
	for _, v := range r.Header.Values("Via") {
		if strings.Contains(strings.ToLower(v), "fleetkey-sidecar") {
			writeError(w, http.StatusLoopDetected, CodeLoopDetected, "the request already went through a fleetkey sidecar", nil)
			return
		}
	}
	if !r.URL.IsAbs() && r.RequestURI == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, `{"status":"ok"}`+"\n")
		return
	}
	target, status, msg := h.target(r)
	if target == nil {
		code := CodeBadRequest
		if status == http.StatusForbidden {
			code = CodeForbidden
		}
		writeError(w, status, code, msg, nil)
		return
	}
	if r.Header.Get(x402.HeaderPaymentSignature) != "" || r.Header.Get(x402.HeaderXPayment) != "" {
		writeError(w, http.StatusBadRequest, CodeBadRequest,
			"the request carries its own PAYMENT-SIGNATURE or X-PAYMENT header; the sidecar pays for you, send the request without it", nil)
		return
	}
	if r.ContentLength > h.maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("request body exceeds %d bytes", h.maxBody), nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "read request body: "+err.Error(), nil)
		return
	}
	if int64(len(body)) > h.maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("request body exceeds %d bytes", h.maxBody), nil)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	st := &attempt{}
	ctx = context.WithValue(ctx, attemptKey{}, st)
	var rd io.Reader
	if len(body) > 0 || r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
		rd = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, target.String(), rd)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "bad target: "+err.Error(), nil)
		return
	}
	out.Header = forwardHeaders(r.Header)
	out.Header.Add("Via", viaToken)

	resp, err := h.transport.RoundTrip(out)
	if err != nil {
		h.roundTripError(w, r, ctx, st, err)
		return
	}
	defer resp.Body.Close()

	hdr := w.Header()
	for k, vs := range resp.Header {
		if isHopByHop(k, resp.Header) || isFleetkeyHeader(k) {
			continue
		}
		hdr[k] = append([]string(nil), vs...)
	}
	if res := x402.ResultFromResponse(resp); res != nil {
		if res.Payment != nil && resp.StatusCode != http.StatusPaymentRequired {
			if rc, err := ReceiptFromResult(res); err == nil {
				hdr.Set(HeaderPayment, rc.HeaderValue())
			}
		}
		if res.Err != nil {
			hdr.Set(HeaderPaymentError, headerText(res.Err.Error()))
		}
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	if err := copyFlushing(w, resp.Body); err != nil {
		// The status line is sent: abort the connection so the client sees a truncated
		// answer, not a complete one.
		panic(http.ErrAbortHandler)
	}
}

// target returns the absolute URL a request names, or the status and message to refuse it
// with.
func (h *Handler) target(r *http.Request) (*url.URL, int, string) {
	if r.URL.IsAbs() {
		u := *r.URL
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, http.StatusBadRequest, "only http and https URLs can be fetched"
		}
		if u.Host == "" {
			return nil, http.StatusBadRequest, "the URL has no host"
		}
		return &u, 0, ""
	}
	raw, ok := strings.CutPrefix(r.RequestURI, "/")
	if !ok {
		return nil, http.StatusBadRequest, "not a proxy or gateway request: send http://SIDECAR/https://host/path or use the sidecar as an HTTP proxy"
	}
	isAbs := func(s string) bool {
		s = strings.ToLower(s)
		return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
	}
	if !isAbs(raw) {
		// A client may have percent-encoded the target ("https%3A%2F%2Fhost%2Fpath").
		if un, err := url.PathUnescape(raw); err == nil && isAbs(un) {
			raw = un
		}
	}
	if !isAbs(raw) {
		return nil, http.StatusBadRequest, "not a proxy or gateway request: the path must be an absolute http:// or https:// URL, as in http://SIDECAR/https://host/path"
	}
	if !h.allowRemote && !loopbackHost(r.Host) {
		return nil, http.StatusForbidden, "gateway requests must name the sidecar by a loopback Host (localhost, 127.0.0.1, [::1])"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, http.StatusBadRequest, "bad target URL: " + err.Error()
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Host == "" {
		return nil, http.StatusBadRequest, "the target URL has no host"
	}
	return u, 0, ""
}

// roundTripError answers a failed exchange: a refused payment, a timeout, or an unreachable
// resource server (before or after a payment was made).
func (h *Handler) roundTripError(w http.ResponseWriter, r *http.Request, ctx context.Context, st *attempt, err error) {
	if r.Context().Err() != nil {
		return // the client went away; nobody reads the answer
	}
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	switch {
	case st.payErr != nil && timedOut:
		writeError(w, http.StatusGatewayTimeout, CodeTimeout,
			fmt.Sprintf("no payment within %s (waiting for approval?): %v", h.timeout, st.payErr), nil)
	case st.payErr != nil:
		reason, rule := DenialOf(st.payErr)
		writeError(w, http.StatusForbidden, CodePaymentDenied, st.payErr.Error(), &denial{reason, rule})
	case st.paid:
		writeError(w, http.StatusBadGateway, CodeUpstreamAfterPayment,
			"a payment was authorized but the paid request failed (it may still settle if the server received it): "+err.Error(), nil)
	case timedOut:
		writeError(w, http.StatusGatewayTimeout, CodeTimeout, fmt.Sprintf("no answer within %s", h.timeout), nil)
	default:
		writeError(w, http.StatusBadGateway, CodeUpstreamUnreachable, err.Error(), nil)
	}
}

// attempt records what the payer did for one exchange.
type attempt struct {
	paid   bool
	payErr error
}

type attemptKey struct{}

// trackingPayer records the payer's outcome in the exchange's attempt, so that a RoundTrip
// error can be told apart: refused payment, or a failure of the resource server.
type trackingPayer struct{ p x402.Payer }

func (t trackingPayer) Pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	pay, err := t.p.Pay(ctx, req)
	if st, ok := ctx.Value(attemptKey{}).(*attempt); ok {
		st.paid, st.payErr = err == nil, err
		if err == nil && pay == nil {
			st.paid, st.payErr = false, errors.New("sidecar: payer returned no payment")
		}
	}
	if err == nil && pay == nil {
		return nil, errors.New("sidecar: payer returned no payment")
	}
	return pay, err
}

// hopByHop are the headers of one connection (RFC 9110 §7.6.1), never forwarded.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func isHopByHop(name string, h http.Header) bool {
	name = http.CanonicalHeaderKey(name)
	for _, k := range hopByHop {
		if k == name {
			return true
		}
	}
	for _, v := range h.Values("Connection") {
		for _, f := range strings.Split(v, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(f)) == name {
				return true
			}
		}
	}
	return false
}

func isFleetkeyHeader(name string) bool {
	return strings.HasPrefix(http.CanonicalHeaderKey(name), "X-Fleetkey-")
}

// forwardHeaders is what goes to the resource server: the client's headers without the
// hop-by-hop ones and without any X-Fleetkey-* header.
func forwardHeaders(in http.Header) http.Header {
	out := make(http.Header, len(in))
	for k, vs := range in {
		if isHopByHop(k, in) || isFleetkeyHeader(k) {
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// loopbackHost reports whether a Host header names this machine's loopback interface.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// copyFlushing streams src to w, flushing after every read so that streamed answers (server-
// sent events, long downloads) reach the client as they arrive.
func copyFlushing(w http.ResponseWriter, src io.Reader) error {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if ferr := rc.Flush(); ferr != nil && !errors.Is(ferr, http.ErrNotSupported) {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

type denial struct{ reason, rule string }

// writeError sends the sidecar's JSON error answer, in the shape of the fleetkey API's.
func writeError(w http.ResponseWriter, status int, code, message string, d *denial) {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Reason  string `json:"reason,omitempty"`
		Rule    string `json:"rule,omitempty"`
	}
	body := struct {
		Error detail `json:"error"`
	}{detail{Code: code, Message: message}}
	if d != nil {
		body.Error.Reason, body.Error.Rule = d.reason, d.rule
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// CheckListen refuses a listen address that is not on loopback unless allowRemote is set:
// anyone who can reach the sidecar can spend the agent's budget.
func CheckListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("sidecar: listen address %q: %w", addr, err)
	}
	if allowRemote || loopbackHost(host) {
		return nil
	}
	if host == "" {
		return fmt.Errorf("sidecar: listen address %q listens on every interface; anyone who reaches it can spend the agent's budget (use 127.0.0.1:PORT, or allow it explicitly)", addr)
	}
	return fmt.Errorf("sidecar: listen address %q is not loopback; anyone who reaches it can spend the agent's budget (use 127.0.0.1:PORT, or allow it explicitly)", addr)
}
