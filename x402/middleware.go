package x402

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
)

// Middleware defaults.
const (
	DefaultMaxTimeoutSecondsV2 = 300
	DefaultMaxTimeoutSecondsV1 = 60
	// DefaultMaxResponseBody bounds the buffered response of a paid handler.
	DefaultMaxResponseBody = 16 << 20
)

// Error texts a reference client or server would show.
const (
	errTextPaymentRequired   = "Payment required"
	errTextNoMatch           = "No matching payment requirements"
	errTextXPaymentRequired  = "X-PAYMENT header is required"
	errTextV1Malformed       = "Invalid or malformed payment header"
	errTextV1NoMatch         = "Unable to find matching payment requirements"
	errTextFacilitatorFailed = "facilitator unreachable or answered malformed JSON"
)

// Route is a paid route.
type Route struct {
	// Pattern selects requests with net/http.ServeMux syntax:
	// "GET /weather", "POST /items/{id}", "/files/{path...}".
	Pattern string
	// Version is the protocol the route speaks, V2 (the default) or V1.
	Version int
	// Accepts lists the payment options, at least one.
	Accepts     []Accept
	Description string
	MimeType    string
	// Resource fixes the resource URL; by default it is the request's
	// scheme, Host and request URI.
	Resource string
	// OutputSchema is sent in v1 requirements (v1 only).
	OutputSchema json.RawMessage
}

// Accept is one way to pay for a route.
type Accept struct {
	// Scheme defaults to "exact".
	Scheme string
	// Network is CAIP-2 for v2 routes ("eip155:84532"), a v1 name for v1
	// routes ("base-sepolia").
	Network string
	// Amount is the price in the asset's atomic units, a decimal string.
	Amount string
	// Asset is the token contract; PayTo the receiving account. Both are
	// sent exactly as written here, and clients must echo them exactly.
	Asset string
	PayTo string
	// MaxTimeoutSeconds defaults to 300 (v2) or 60 (v1).
	MaxTimeoutSeconds int64
	// EIP712Name and EIP712Version are the token's EIP-712 domain, sent as
	// extra.name and extra.version.
	EIP712Name    string
	EIP712Version string
}

// MiddlewareConfig configures NewMiddleware.
type MiddlewareConfig struct {
	Facilitator Facilitator
	Routes      []Route
	// MaxResponseBody overrides DefaultMaxResponseBody when positive. A
	// handler that writes more gets a write error and the payment is not
	// settled.
	MaxResponseBody int64
}

// Middleware protects routes of a net/http handler with x402 payments, as the
// reference @x402/express (v2) and x402-express (v1) do: a request without a
// valid payment gets 402 with the demand; a payment is matched against the
// advertised requirements, verified by the facilitator, the handler runs with
// its response buffered, and the payment is settled only if the handler
// answered below 400. Facilitator failures give 502.
type Middleware struct {
	fac     Facilitator
	mux     *http.ServeMux
	routes  []*route
	maxBody int64
}

type route struct {
	Route
	v2 []PaymentRequirementsV2
}

func (r *route) ServeHTTP(http.ResponseWriter, *http.Request) {
	// Only used as a marker in the routing mux.
}

// NewMiddleware validates the configuration and returns the middleware.
func NewMiddleware(cfg MiddlewareConfig) (*Middleware, error) {
	if cfg.Facilitator == nil {
		return nil, errors.New("x402: middleware: no facilitator")
	}
	m := &Middleware{fac: cfg.Facilitator, mux: http.NewServeMux(), maxBody: cfg.MaxResponseBody}
	if m.maxBody <= 0 {
		m.maxBody = DefaultMaxResponseBody
	}
	for i, rc := range cfg.Routes {
		r, err := newRoute(rc)
		if err != nil {
			return nil, fmt.Errorf("x402: middleware: route %d (%q): %w", i, rc.Pattern, err)
		}
		if err := registerPattern(m.mux, r); err != nil {
			return nil, fmt.Errorf("x402: middleware: route %d: %w", i, err)
		}
		m.routes = append(m.routes, r)
	}
	return m, nil
}

func registerPattern(mux *http.ServeMux, r *route) (err error) {
	// ServeMux panics on an invalid or conflicting pattern.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pattern %q: %v", r.Pattern, p)
		}
	}()
	mux.Handle(r.Pattern, r)
	return nil
}

func newRoute(rc Route) (*route, error) {
	if rc.Version == 0 {
		rc.Version = V2
	}
	if rc.Version != V1 && rc.Version != V2 {
		return nil, fmt.Errorf("unsupported version %d", rc.Version)
	}
	if len(rc.Accepts) == 0 {
		return nil, errors.New("no accepts")
	}
	rc.Accepts = append([]Accept(nil), rc.Accepts...)
	r := &route{}
	for i := range rc.Accepts {
		a := &rc.Accepts[i]
		if a.Scheme == "" {
			a.Scheme = SchemeExact
		}
		if a.MaxTimeoutSeconds == 0 {
			a.MaxTimeoutSeconds = DefaultMaxTimeoutSecondsV2
			if rc.Version == V1 {
				a.MaxTimeoutSeconds = DefaultMaxTimeoutSecondsV1
			}
		}
		if err := a.validate(rc.Version); err != nil {
			return nil, fmt.Errorf("accept %d: %w", i, err)
		}
		if rc.Version == V2 {
			r.v2 = append(r.v2, PaymentRequirementsV2{
				Scheme: a.Scheme, Network: a.Network, Amount: a.Amount, Asset: a.Asset, PayTo: a.PayTo,
				MaxTimeoutSeconds: a.MaxTimeoutSeconds, Extra: a.extra(),
			})
		}
	}
	r.Route = rc
	return r, nil
}

func (a *Accept) validate(version int) error {
	if version == V2 {
		if _, err := ParseCAIP2(a.Network); err != nil {
			return err
		}
	} else if _, ok := V1ChainID(a.Network); !ok {
		return fmt.Errorf("unknown v1 network %q", a.Network)
	}
	if a.Amount == "" || (len(a.Amount) > 1 && a.Amount[0] == '0') || !allBytes(a.Amount, func(c byte) bool { return c >= '0' && c <= '9' }) {
		return fmt.Errorf("amount %q is not a decimal in atomic units", a.Amount)
	}
	for name, addr := range map[string]string{"asset": a.Asset, "payTo": a.PayTo} {
		if len(addr) != 42 || addr[:2] != "0x" || !allBytes(addr[2:], isHexDigit) {
			return fmt.Errorf("%s %q is not a 0x address", name, addr)
		}
	}
	if a.MaxTimeoutSeconds < 0 {
		return errors.New("negative maxTimeoutSeconds")
	}
	if a.Scheme == SchemeExact && (a.EIP712Name == "" || a.EIP712Version == "") {
		return errors.New("exact scheme needs the asset's EIP-712 name and version")
	}
	return nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (a *Accept) extra() json.RawMessage {
	if a.EIP712Name == "" && a.EIP712Version == "" {
		return nil
	}
	b, _ := json.Marshal(struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}{a.EIP712Name, a.EIP712Version})
	return b
}

func (r *route) requirementsV1(resource string) []PaymentRequirementsV1 {
	out := make([]PaymentRequirementsV1, len(r.Accepts))
	for i, a := range r.Accepts {
		out[i] = PaymentRequirementsV1{
			Scheme: a.Scheme, Network: a.Network, MaxAmountRequired: a.Amount, Resource: resource,
			Description: r.Description, MimeType: r.MimeType, OutputSchema: r.OutputSchema,
			PayTo: a.PayTo, MaxTimeoutSeconds: a.MaxTimeoutSeconds, Asset: a.Asset, Extra: a.extra(),
		}
	}
	return out
}

// CheckSupported asks the facilitator which kinds it handles and reports the
// first route option it does not advertise (the reference refuses to start
// in that case).
func (m *Middleware) CheckSupported(ctx context.Context) error {
	s, err := m.fac.Supported(ctx)
	if err != nil {
		return err
	}
	if s == nil {
		return errNilAnswer
	}
	for _, r := range m.routes {
		for _, a := range r.Accepts {
			if !s.Supports(r.Version, a.Scheme, a.Network) {
				return fmt.Errorf("x402: middleware: facilitator does not support v%d %s on %s (route %q)", r.Version, a.Scheme, a.Network, r.Pattern)
			}
		}
	}
	return nil
}

// Wrap returns next protected by the middleware. Requests that match no
// route pass through unchanged.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h, pattern := m.mux.Handler(req)
		r, ok := h.(*route)
		switch {
		case ok:
			if r.Version == V1 {
				m.serveV1(w, req, r, next)
			} else {
				m.serveV2(w, req, r, next)
			}
		case pattern != "":
			// A non-canonical path of a paid route: redirect to the canonical
			// one rather than hand it to next unpaid.
			h.ServeHTTP(w, req)
		default:
			next.ServeHTTP(w, req)
		}
	})
}

func resourceURL(req *http.Request, r *route) string {
	if r.Resource != "" {
		return r.Resource
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + req.Host + req.URL.RequestURI()
}

// MatchAccepted returns the index of the advertised requirement that a v2
// payload's accepted equals, as the reference server decides it: scheme,
// network, amount, asset, payTo and maxTimeoutSeconds equal (strings compared
// exactly, so an address in another case does not match), and every key of
// the advertised extra present in accepted.extra with an equal JSON value.
func MatchAccepted(advertised []PaymentRequirementsV2, accepted *PaymentRequirementsV2) (int, bool) {
	for i := range advertised {
		a := &advertised[i]
		if a.Scheme == accepted.Scheme && a.Network == accepted.Network && a.Amount == accepted.Amount &&
			a.Asset == accepted.Asset && a.PayTo == accepted.PayTo && a.MaxTimeoutSeconds == accepted.MaxTimeoutSeconds &&
			extraSubset(a.Extra, accepted.Extra) {
			return i, true
		}
	}
	return 0, false
}

func extraSubset(adv, acc json.RawMessage) bool {
	if len(adv) == 0 || string(adv) == "null" {
		return true
	}
	var am, cm map[string]any
	if json.Unmarshal(adv, &am) != nil || json.Unmarshal(acc, &cm) != nil {
		return false
	}
	for k, v := range am {
		w, ok := cm[k]
		if !ok || !reflect.DeepEqual(v, w) {
			return false
		}
	}
	return true
}

func (m *Middleware) serveV2(w http.ResponseWriter, req *http.Request, r *route, next http.Handler) {
	pr := &PaymentRequiredV2{X402Version: V2, Resource: ResourceInfo{URL: resourceURL(req, r), Description: r.Description, MimeType: r.MimeType}, Accepts: r.v2}
	h := req.Header.Get(HeaderPaymentSignature)
	if h == "" {
		writePaymentRequiredV2(w, pr, errTextPaymentRequired)
		return
	}
	payload, raw, err := DecodePaymentPayloadV2(h)
	if err != nil {
		// The reference treats an undecodable payment as no payment.
		writePaymentRequiredV2(w, pr, errTextPaymentRequired)
		return
	}
	i, ok := MatchAccepted(r.v2, &payload.Accepted)
	if !ok {
		writePaymentRequiredV2(w, pr, errTextNoMatch)
		return
	}
	vreq, err := NewVerifyRequest(raw, r.v2[i])
	if err != nil {
		writePaymentRequiredV2(w, pr, errTextPaymentRequired)
		return
	}
	vres, ok := m.verify(w, req, vreq)
	if !ok {
		return
	}
	if !vres.IsValid {
		writePaymentRequiredV2(w, pr, reasonOr(vres.InvalidReason, "invalid_payment"))
		return
	}
	buf, ok := m.runBuffered(w, req, next)
	if !ok {
		return
	}
	sres, ok := m.settle(w, req, vreq)
	if !ok {
		return
	}
	if sres.Network == "" {
		sres.Network = r.v2[i].Network
	}
	enc, err := EncodeHeader(sres)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "cannot encode settlement")
		return
	}
	if !sres.Success {
		w.Header().Set(HeaderPaymentResponse, enc)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusPaymentRequired)
		w.Write([]byte("{}"))
		return
	}
	buf.release(w, func(h http.Header) {
		h.Set(HeaderPaymentResponse, enc)
		h.Set("Cache-Control", "private")
	})
}

func (m *Middleware) serveV1(w http.ResponseWriter, req *http.Request, r *route, next http.Handler) {
	reqs := r.requirementsV1(resourceURL(req, r))
	h := req.Header.Get(HeaderXPayment)
	if h == "" {
		writePaymentRequiredV1(w, &PaymentRequiredV1{X402Version: V1, Error: errTextXPaymentRequired, Accepts: reqs})
		return
	}
	payload, raw, err := DecodePaymentPayloadV1(h)
	if err != nil {
		writePaymentRequiredV1(w, &PaymentRequiredV1{X402Version: V1, Error: errTextV1Malformed, Accepts: reqs})
		return
	}
	// x402-express 1.2.0 selects by scheme and network; the facilitator
	// checks amount, recipient and the rest against the requirement.
	i := -1
	for j := range reqs {
		if reqs[j].Scheme == payload.Scheme && reqs[j].Network == payload.Network {
			i = j
			break
		}
	}
	if i < 0 {
		writePaymentRequiredV1(w, &PaymentRequiredV1{X402Version: V1, Error: errTextV1NoMatch, Accepts: reqs})
		return
	}
	vreq, err := NewVerifyRequest(raw, reqs[i])
	if err != nil {
		writePaymentRequiredV1(w, &PaymentRequiredV1{X402Version: V1, Error: errTextV1Malformed, Accepts: reqs})
		return
	}
	vres, ok := m.verify(w, req, vreq)
	if !ok {
		return
	}
	if !vres.IsValid {
		writePaymentRequiredV1(w, &PaymentRequiredV1{X402Version: V1, Error: reasonOr(vres.InvalidReason, "invalid_payment"), Accepts: reqs, Payer: vres.Payer})
		return
	}
	buf, ok := m.runBuffered(w, req, next)
	if !ok {
		return
	}
	sres, ok := m.settle(w, req, vreq)
	if !ok {
		return
	}
	if !sres.Success {
		writePaymentRequiredV1(w, &PaymentRequiredV1{X402Version: V1, Error: reasonOr(sres.ErrorReason, "settlement_failed"), Accepts: reqs, Payer: sres.Payer})
		return
	}
	if sres.Network == "" {
		sres.Network = reqs[i].Network
	}
	enc, err := EncodeHeader(sres)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "cannot encode settlement")
		return
	}
	buf.release(w, func(h http.Header) {
		h.Set(HeaderXPaymentResponse, enc)
		h.Set("Cache-Control", "private")
		h.Set("Access-Control-Expose-Headers", HeaderXPaymentResponse)
	})
}

// runBuffered runs the handler into a buffer. It reports false when the
// response has already been written (handler status >= 400 released as is,
// or an oversized body), in which case nothing is to be settled.
func (m *Middleware) runBuffered(w http.ResponseWriter, req *http.Request, next http.Handler) (*bufferedResponse, bool) {
	buf := &bufferedResponse{header: http.Header{}, max: m.maxBody}
	next.ServeHTTP(buf, req)
	if buf.overflow {
		writeJSONError(w, http.StatusInternalServerError, "response too large to buffer; payment not settled")
		return nil, false
	}
	if buf.status() >= 400 {
		buf.release(w, nil)
		return nil, false
	}
	return buf, true
}

func reasonOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func writePaymentRequiredV2(w http.ResponseWriter, pr *PaymentRequiredV2, errText string) {
	p := *pr
	p.Error = errText
	enc, err := EncodeHeader(&p)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "cannot encode payment requirements")
		return
	}
	w.Header().Set(HeaderPaymentRequired, enc)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusPaymentRequired)
	w.Write([]byte("{}"))
}

func writePaymentRequiredV1(w http.ResponseWriter, pr *PaymentRequiredV1) {
	writeJSON(w, http.StatusPaymentRequired, pr)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString(`{"error":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// bufferedResponse holds a handler's response until the payment is settled.
// It deliberately does not implement http.Flusher or Hijacker: nothing may
// reach the client before settlement.
type bufferedResponse struct {
	header   http.Header
	code     int
	body     bytes.Buffer
	max      int64
	overflow bool
}

var errResponseTooLarge = errors.New("x402: response exceeds the middleware's buffer limit")

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 && code >= 200 {
		b.code = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	if int64(b.body.Len())+int64(len(p)) > b.max {
		b.overflow = true
		return 0, errResponseTooLarge
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) status() int {
	if b.code == 0 {
		return http.StatusOK
	}
	return b.code
}

func (b *bufferedResponse) release(w http.ResponseWriter, extra func(http.Header)) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	if extra != nil {
		extra(h)
	}
	w.WriteHeader(b.status())
	w.Write(b.body.Bytes())
}

// verify asks the facilitator to verify vreq. A transport failure or an empty answer has been
// answered with 502 when ok is false.
func (m *Middleware) verify(w http.ResponseWriter, req *http.Request, vreq *VerifyRequest) (*VerifyResponse, bool) {
	vres, err := m.fac.Verify(req.Context(), vreq)
	if err != nil || vres == nil {
		writeJSONError(w, http.StatusBadGateway, errTextFacilitatorFailed)
		return nil, false
	}
	return vres, true
}

// settle asks the facilitator to settle vreq, answering 502 like verify.
func (m *Middleware) settle(w http.ResponseWriter, req *http.Request, vreq *VerifyRequest) (*SettleResponse, bool) {
	sres, err := m.fac.Settle(req.Context(), vreq)
	if err != nil || sres == nil {
		writeJSONError(w, http.StatusBadGateway, errTextFacilitatorFailed)
		return nil, false
	}
	return sres, true
}
