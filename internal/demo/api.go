package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/x402"
)

// Kind classifies a demo endpoint. The values are those of the dev manifest's
// demo_endpoints[].kind.
type Kind string

// The endpoint kinds: one honest kind and four hostile ones.
const (
	// KindNormal is an honest endpoint: the 402 asks the advertised price,
	// payable to the merchant, under the token's own EIP-712 domain.
	KindNormal Kind = "normal"
	// KindOvercharge advertises a small price in the catalog, and its 402
	// asks OverchargeFactor times as much.
	KindOvercharge Kind = "overcharge"
	// KindForeignPayTo asks to be paid to an address that is not the
	// merchant (Config.Foreign), so no allowlist admits it.
	KindForeignPayTo Kind = "foreign_payto"
	// KindWrongDomain names the trusted token's address with another token's
	// EIP-712 domain (WrongDomainName, WrongDomainVersion).
	KindWrongDomain Kind = "wrong_domain"
	// KindRepeat402 answers 402 again to a valid payment, without settling
	// it, hoping to be paid a second time.
	KindRepeat402 Kind = "repeat_402"
)

// Kinds returns every kind, the honest one first.
func Kinds() []Kind {
	return []Kind{KindNormal, KindOvercharge, KindForeignPayTo, KindWrongDomain, KindRepeat402}
}

// Hostile reports whether k is one of the hostile kinds, whose endpoints a
// careful signer or client refuses.
func (k Kind) Hostile() bool {
	switch k {
	case KindOvercharge, KindForeignPayTo, KindWrongDomain, KindRepeat402:
		return true
	}
	return false
}

const (
	// OverchargeFactor is how many times the advertised price the overcharge
	// endpoint's 402 asks for.
	OverchargeFactor = 1000
	// WrongDomainName and WrongDomainVersion are the EIP-712 domain the
	// wrong_domain endpoint claims for the trusted token's address: USDC's.
	WrongDomainName    = "USD Coin"
	WrongDomainVersion = "2"
)

// ForeignPayee is the default payee of the foreign_payto endpoint: an address
// nobody holds a key for (the last 20 bytes of a Keccak-256 of a fixed text),
// so a payment that slipped through would be lost, which is the point.
var ForeignPayee = common.BytesToAddress(crypto.Keccak256([]byte("fleetkey demo: foreign payee"))[12:])

// maxDecimals bounds the token's decimals, as internal/signer does.
const maxDecimals = 36

// Config configures the demo API.
type Config struct {
	// ChainID is the EVM chain the API is paid on. v2 endpoints name it as
	// "eip155:<ChainID>"; the v1 endpoint exists only when the chain has a v1
	// network name (84532 is "base-sepolia"; the devnet's default 1337 has
	// none).
	ChainID uint64
	// Token is the asset every endpoint is priced in (the devnet's TestUSD).
	Token devnet.TokenInfo
	// Merchant receives the honest endpoints' payments; it is the address the
	// demo fleet's pay_to allowlist admits.
	Merchant common.Address
	// Foreign is the foreign_payto endpoint's payee; zero means ForeignPayee.
	Foreign common.Address
	// Facilitator verifies and settles payments. When nil, FacilitatorURL
	// names a remote one (x402.NewFacilitatorClient). Exactly one is set.
	Facilitator    x402.Facilitator
	FacilitatorURL string
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	if c.ChainID == 0 {
		errs = append(errs, errors.New("demo: chain id is 0"))
	}
	if c.Token.Address == (common.Address{}) {
		errs = append(errs, errors.New("demo: token address is zero"))
	}
	if c.Token.Name == "" || c.Token.Version == "" {
		errs = append(errs, errors.New("demo: token EIP-712 name or version is empty"))
	}
	if c.Token.Decimals > maxDecimals {
		errs = append(errs, fmt.Errorf("demo: token decimals %d above %d", c.Token.Decimals, maxDecimals))
	}
	if c.Merchant == (common.Address{}) {
		errs = append(errs, errors.New("demo: merchant address is zero"))
	}
	if c.foreign() == c.Merchant {
		errs = append(errs, errors.New("demo: the foreign payee is the merchant"))
	}
	switch {
	case c.Facilitator == nil && c.FacilitatorURL == "":
		errs = append(errs, errors.New("demo: no facilitator (set Facilitator or FacilitatorURL)"))
	case c.Facilitator != nil && c.FacilitatorURL != "":
		errs = append(errs, errors.New("demo: both Facilitator and FacilitatorURL are set"))
	}
	return errors.Join(errs...)
}

func (c *Config) foreign() common.Address {
	if c.Foreign == (common.Address{}) {
		return ForeignPayee
	}
	return c.Foreign
}

// Network is the CAIP-2 id the v2 endpoints are paid on.
func (c *Config) Network() string { return x402.EVMNetwork(c.ChainID) }

// Endpoint is one paid endpoint of the demo API, as GET /catalog lists it.
type Endpoint struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Price is the advertised price in whole tokens ("0.001"); Amount the
	// same in atomic units. The 402 of an overcharge endpoint asks more.
	Price  string `json:"price"`
	Amount string `json:"amount"`
	Kind   Kind   `json:"kind"`
	// Version is the x402 protocol version the endpoint speaks.
	Version     int    `json:"x402_version"`
	Description string `json:"description"`
	// Weight is how often simulated traffic picks the endpoint, relative to
	// the others.
	Weight int `json:"-"`
}

// endpointSpec is one row of the demo API's price list.
type endpointSpec struct {
	path, price string
	kind        Kind
	version     int
	weight      int
	desc        string
	body        any
}

// ApprovalPath is the honest endpoint priced above the research group's
// approval threshold: traffic to it waits for an approver.
const ApprovalPath = "/research"

// catalog is the price list. Prices are realistic for machine-paid APIs:
// a tenth of a cent for a lookup, a cent for an article, a quarter for a
// research report.
var catalog = []endpointSpec{
	{path: "/weather", price: "0.001", kind: KindNormal, version: x402.V2, weight: 40,
		desc: "current weather for a city", body: map[string]any{"city": "Berlin", "forecast": "light rain", "temperature_c": 7}},
	{path: "/news", price: "0.01", kind: KindNormal, version: x402.V2, weight: 25,
		desc: "today's headlines", body: map[string]any{"headlines": []string{"Agents learn to pay their own way", "Budgets hold in the hourly window"}}},
	{path: "/quotes", price: "0.005", kind: KindNormal, version: x402.V1, weight: 15,
		desc: "a market quote (x402 v1)", body: map[string]any{"symbol": "TUSD", "price": "1.00"}},
	{path: ApprovalPath, price: "0.25", kind: KindNormal, version: x402.V2, weight: 4,
		desc: "a research report (above the research group's approval threshold)", body: map[string]any{"title": "The economics of agent payments", "pages": 12}},
	{path: "/hostile/overcharge", price: "0.002", kind: KindOvercharge, version: x402.V2, weight: 3,
		desc: "advertises 0.002, its 402 asks 1000 times as much", body: map[string]any{"data": "you should not see this"}},
	{path: "/hostile/foreign-payto", price: "0.001", kind: KindForeignPayTo, version: x402.V2, weight: 3,
		desc: "asks to be paid to an address outside the allowlist", body: map[string]any{"data": "you should not see this"}},
	{path: "/hostile/wrong-domain", price: "0.001", kind: KindWrongDomain, version: x402.V2, weight: 3,
		desc: "names the token's address with USDC's EIP-712 domain", body: map[string]any{"data": "you should not see this"}},
	{path: "/hostile/repeat-402", price: "0.001", kind: KindRepeat402, version: x402.V2, weight: 3,
		desc: "answers 402 again after a valid payment", body: map[string]any{"data": "you should not see this"}},
}

// PaidAPI is the demo paid API, an http.Handler: the endpoints of Endpoints
// behind x402 payments, and GET /catalog listing them.
type PaidAPI struct {
	cfg       Config
	fac       x402.Facilitator
	mw        *x402.Middleware
	endpoints []Endpoint
	mux       *http.ServeMux
	// repeat is the one requirement of the repeat_402 endpoint.
	repeat   x402.PaymentRequirementsV2
	repeatEP Endpoint
}

// NewPaidAPI validates the configuration and builds the API. It does not
// contact the facilitator; call CheckSupported for that.
func NewPaidAPI(cfg Config) (*PaidAPI, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &PaidAPI{cfg: cfg, fac: cfg.Facilitator, mux: http.NewServeMux()}
	if a.fac == nil {
		fc, err := x402.NewFacilitatorClient(cfg.FacilitatorURL)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		a.fac = fc
	}
	v1Network, hasV1 := x402.V1NetworkName(cfg.ChainID)
	content := http.NewServeMux()
	var routes []x402.Route
	for _, s := range catalog {
		if s.version == x402.V1 && !hasV1 {
			continue
		}
		amount, err := atomicAmount(s.price, cfg.Token.Decimals)
		if err != nil {
			return nil, fmt.Errorf("demo: price of %s: %w", s.path, err)
		}
		ep := Endpoint{Method: http.MethodGet, Path: s.path, Price: s.price, Amount: amount.String(),
			Kind: s.kind, Version: s.version, Description: s.desc, Weight: s.weight}
		a.endpoints = append(a.endpoints, ep)
		acc := x402.Accept{Network: cfg.Network(), Amount: ep.Amount, Asset: cfg.Token.Address.Hex(),
			PayTo: cfg.Merchant.Hex(), EIP712Name: cfg.Token.Name, EIP712Version: cfg.Token.Version}
		if s.version == x402.V1 {
			acc.Network = v1Network
		}
		switch s.kind {
		case KindOvercharge:
			acc.Amount = new(big.Int).Mul(amount, big.NewInt(OverchargeFactor)).String()
		case KindForeignPayTo:
			acc.PayTo = cfg.foreign().Hex()
		case KindWrongDomain:
			acc.EIP712Name, acc.EIP712Version = WrongDomainName, WrongDomainVersion
		case KindRepeat402:
			// The middleware always settles a verified payment; this endpoint
			// must not, so it has its own handler.
			a.repeat = x402.PaymentRequirementsV2{Scheme: x402.SchemeExact, Network: acc.Network, Amount: acc.Amount,
				Asset: acc.Asset, PayTo: acc.PayTo, MaxTimeoutSeconds: x402.DefaultMaxTimeoutSecondsV2,
				Extra: domainExtra(acc.EIP712Name, acc.EIP712Version)}
			a.repeatEP = ep
			a.mux.HandleFunc("GET "+s.path, a.serveRepeat402)
			continue
		}
		routes = append(routes, x402.Route{Pattern: "GET " + s.path, Version: s.version, Accepts: []x402.Accept{acc},
			Description: s.desc, MimeType: "application/json"})
		content.Handle("GET "+s.path, jsonBody(s.body))
	}
	mw, err := x402.NewMiddleware(x402.MiddlewareConfig{Facilitator: a.fac, Routes: routes})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	a.mw = mw
	a.mux.HandleFunc("GET /catalog", a.serveCatalog)
	a.mux.Handle("/", mw.Wrap(content))
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *PaidAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Endpoints returns the paid endpoints in catalog order.
func (a *PaidAPI) Endpoints() []Endpoint { return append([]Endpoint(nil), a.endpoints...) }

// CheckSupported asks the facilitator whether it handles every endpoint's
// network and protocol version.
func (a *PaidAPI) CheckSupported(ctx context.Context) error {
	if err := a.mw.CheckSupported(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	s, err := a.fac.Supported(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if s == nil || !s.Supports(x402.V2, a.repeat.Scheme, a.repeat.Network) {
		return fmt.Errorf("demo: facilitator does not support v2 exact on %s", a.repeat.Network)
	}
	return nil
}

// Catalog is the body of GET /catalog.
type Catalog struct {
	// Network is the CAIP-2 id of the chain; Asset the token every price is in.
	Network   string     `json:"network"`
	Asset     string     `json:"asset"`
	Symbol    string     `json:"symbol"`
	Endpoints []Endpoint `json:"endpoints"`
}

func (a *PaidAPI) serveCatalog(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, Catalog{Network: a.cfg.Network(), Asset: a.cfg.Token.Address.Hex(),
		Symbol: a.cfg.Token.Symbol, Endpoints: a.endpoints})
}

// serveRepeat402 is the repeat_402 endpoint: it demands payment like any v2
// endpoint, checks a payment with the facilitator as an honest server would,
// and then answers 402 again instead of settling and serving. The verified
// authorization is never settled here.
func (a *PaidAPI) serveRepeat402(w http.ResponseWriter, r *http.Request) {
	accepts := []x402.PaymentRequirementsV2{a.repeat}
	pr := &x402.PaymentRequiredV2{X402Version: x402.V2, Accepts: accepts,
		Resource: x402.ResourceInfo{URL: resourceURL(r), Description: a.repeatEP.Description, MimeType: "application/json"}}
	h := r.Header.Get(x402.HeaderPaymentSignature)
	if h == "" {
		writePaymentRequired(w, pr, "Payment required")
		return
	}
	payload, raw, err := x402.DecodePaymentPayloadV2(h)
	if err != nil {
		writePaymentRequired(w, pr, "Payment required")
		return
	}
	i, ok := x402.MatchAccepted(accepts, &payload.Accepted)
	if !ok {
		writePaymentRequired(w, pr, "No matching payment requirements")
		return
	}
	vreq, err := x402.NewVerifyRequest(raw, accepts[i])
	if err != nil {
		writePaymentRequired(w, pr, "Payment required")
		return
	}
	vres, err := a.fac.Verify(r.Context(), vreq)
	if err != nil || vres == nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "facilitator unreachable or answered malformed JSON"})
		return
	}
	if !vres.IsValid {
		writePaymentRequired(w, pr, reasonOr(vres.InvalidReason, "invalid_payment"))
		return
	}
	// A valid payment: pretend it never arrived.
	writePaymentRequired(w, pr, "Payment required")
}

func resourceURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func reasonOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func writePaymentRequired(w http.ResponseWriter, pr *x402.PaymentRequiredV2, errText string) {
	p := *pr
	p.Error = errText
	enc, err := x402.EncodeHeader(&p)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot encode payment requirements"})
		return
	}
	w.Header().Set(x402.HeaderPaymentRequired, enc)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusPaymentRequired, struct{}{})
}

// jsonBody serves a fixed JSON document.
func jsonBody(v any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, v) })
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"encoding failed"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func domainExtra(name, version string) json.RawMessage {
	b, _ := json.Marshal(struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}{name, version})
	return b
}
