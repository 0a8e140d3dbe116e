package x402_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

const (
	tokenAddr = "0xe78A0F7E598Cc8b0Bb87894B0F60dD2a88d6a8Ab"
	merchant  = "0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b"
)

// fakeVerifyingFacilitator stands in for the real facilitator, which needs
// the devnet and is built separately. It really checks the payment: the
// EIP-712 signature by ECDSA recovery, recipient, amount, time window and
// nonce reuse; it moves no tokens.
type fakeVerifyingFacilitator struct {
	mu         sync.Mutex
	used       map[string]bool
	verifies   atomic.Int32
	settles    atomic.Int32
	down       bool
	settleDown bool
	settleFail bool
}

func newFakeFacilitator() *fakeVerifyingFacilitator {
	return &fakeVerifyingFacilitator{used: map[string]bool{}}
}

func (f *fakeVerifyingFacilitator) check(req *x402.VerifyRequest) (payer, reason string) {
	v, err := req.PayloadVersion()
	if err != nil {
		return "", "invalid_payload"
	}
	var terms *exact.Terms
	var inner json.RawMessage
	switch v {
	case 2:
		p, err := req.PayloadV2()
		if err != nil {
			return "", "invalid_payload"
		}
		r, err := req.RequirementsV2()
		if err != nil {
			return "", "invalid_payment_requirements"
		}
		if p.Accepted.Network != r.Network {
			return "", "invalid_exact_evm_network_mismatch"
		}
		if terms, err = exact.TermsV2(r); err != nil {
			return "", "invalid_exact_evm_missing_eip712_domain"
		}
		inner = p.Payload
	case 1:
		p, err := req.PayloadV1()
		if err != nil {
			return "", "invalid_payload"
		}
		r, err := req.RequirementsV1()
		if err != nil {
			return "", "invalid_payment_requirements"
		}
		if terms, err = exact.TermsV1(r); err != nil {
			return "", "invalid_exact_evm_missing_eip712_domain"
		}
		inner = p.Payload
	default:
		return "", "invalid_x402_version"
	}
	ex, err := x402.DecodeExactEVMPayload(inner)
	if err != nil {
		return "", "invalid_payload"
	}
	auth, err := exact.ParseAuthorization(ex.Authorization)
	if err != nil {
		return "", "invalid_payload"
	}
	sig, err := exact.DecodeSignature(ex.Signature)
	if err != nil {
		return "", "invalid_exact_evm_signature"
	}
	if exact.VerifySignature(context.Background(), nil, auth.From, exact.Hash(terms.Domain, auth).Digest, sig) != nil {
		return auth.From.Hex(), "invalid_exact_evm_signature"
	}
	if auth.To != terms.PayTo {
		return auth.From.Hex(), "invalid_exact_evm_recipient_mismatch"
	}
	now := big.NewInt(time.Now().Unix())
	if auth.ValidBefore.Cmp(new(big.Int).Add(now, big.NewInt(6))) < 0 {
		return auth.From.Hex(), "invalid_exact_evm_payload_authorization_valid_before"
	}
	if auth.ValidAfter.Cmp(now) > 0 {
		return auth.From.Hex(), "invalid_exact_evm_payload_authorization_valid_after"
	}
	if auth.Value.Cmp(terms.Amount) != 0 {
		return auth.From.Hex(), "invalid_exact_evm_payload_authorization_value_mismatch"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used[ex.Authorization.Nonce] {
		return auth.From.Hex(), "invalid_exact_evm_nonce_already_used"
	}
	return auth.From.Hex(), ""
}

func (f *fakeVerifyingFacilitator) Verify(_ context.Context, req *x402.VerifyRequest) (*x402.VerifyResponse, error) {
	f.verifies.Add(1)
	if f.down {
		return nil, errors.New("connection refused")
	}
	payer, reason := f.check(req)
	return &x402.VerifyResponse{IsValid: reason == "", InvalidReason: reason, Payer: payer}, nil
}

func (f *fakeVerifyingFacilitator) Settle(_ context.Context, req *x402.SettleRequest) (*x402.SettleResponse, error) {
	f.settles.Add(1)
	if f.settleDown {
		return nil, errors.New("connection refused")
	}
	payer, reason := f.check(req)
	if reason == "" && f.settleFail {
		reason = "invalid_exact_evm_transaction_failed"
	}
	if reason != "" {
		return &x402.SettleResponse{Success: false, ErrorReason: reason, Payer: payer}, nil
	}
	p, _ := req.PayloadV2()
	inner := p.Payload
	if v, _ := req.PayloadVersion(); v == 1 {
		p1, _ := req.PayloadV1()
		inner = p1.Payload
	}
	ex, _ := x402.DecodeExactEVMPayload(inner)
	f.mu.Lock()
	f.used[ex.Authorization.Nonce] = true
	f.mu.Unlock()
	return &x402.SettleResponse{Success: true, Transaction: "0x" + strings.Repeat("ab", 32), Payer: payer}, nil
}

func (f *fakeVerifyingFacilitator) Supported(context.Context) (*x402.SupportedResponse, error) {
	return &x402.SupportedResponse{Kinds: []x402.SupportedKind{
		{X402Version: 2, Scheme: "exact", Network: "eip155:1337"},
		{X402Version: 1, Scheme: "exact", Network: "base-sepolia"},
	}}, nil
}

func paidRoutes() []x402.Route {
	acc := x402.Accept{Network: "eip155:1337", Amount: "10000", Asset: tokenAddr, PayTo: merchant, EIP712Name: "TestUSD", EIP712Version: "2"}
	acc1 := acc
	acc1.Network = "base-sepolia"
	return []x402.Route{
		{Pattern: "/weather", Accepts: []x402.Accept{acc}, Description: "Weather data", MimeType: "application/json"},
		{Pattern: "GET /v1/weather", Version: 1, Accepts: []x402.Accept{acc1}, Description: "Weather data", MimeType: "application/json"},
	}
}

type appState struct {
	calls atomic.Int32
	body  atomic.Value
}

func newApp(t *testing.T, fac x402.Facilitator) (*httptest.Server, *appState) {
	t.Helper()
	mw, err := x402.NewMiddleware(x402.MiddlewareConfig{Facilitator: fac, Routes: paidRoutes()})
	if err != nil {
		t.Fatal(err)
	}
	st := &appState{}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		st.body.Store(string(b))
		switch {
		case strings.HasSuffix(r.URL.Path, "/free"):
			io.WriteString(w, "free")
		case r.URL.Query().Get("fail") != "":
			http.Error(w, "handler failed", http.StatusTeapot)
		default:
			w.Header().Set("Cache-Control", "public, max-age=60")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"weather":"sunny"}`)
		}
	})
	ts := httptest.NewServer(mw.Wrap(app))
	t.Cleanup(ts.Close)
	return ts, st
}

func TestMiddleware402ShapeV2(t *testing.T) {
	ts, st := newApp(t, newFakeFacilitator())
	resp, err := http.Get(ts.URL + "/weather?city=x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 402 || string(body) != "{}" || resp.Header.Get("Cache-Control") != "no-store" || st.calls.Load() != 0 {
		t.Fatalf("status %d body %q cache %q handler calls %d", resp.StatusCode, body, resp.Header.Get("Cache-Control"), st.calls.Load())
	}
	js, err := x402.DecodeHeaderJSON(resp.Header.Get(x402.HeaderPaymentRequired))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"x402Version":2,"error":"Payment required","resource":{"url":"` + ts.URL + `/weather?city=x","description":"Weather data","mimeType":"application/json"},"accepts":[{"scheme":"exact","network":"eip155:1337","amount":"10000","asset":"0xe78A0F7E598Cc8b0Bb87894B0F60dD2a88d6a8Ab","payTo":"0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b","maxTimeoutSeconds":300,"extra":{"name":"TestUSD","version":"2"}}]}`
	if string(js) != want {
		t.Fatalf("PAYMENT-REQUIRED =\n%s\nwant\n%s", js, want)
	}
}

func TestMiddleware402ShapeV1(t *testing.T) {
	ts, _ := newApp(t, newFakeFacilitator())
	resp, err := http.Get(ts.URL + "/v1/weather")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"x402Version":1,"error":"X-PAYMENT header is required","accepts":[{"scheme":"exact","network":"base-sepolia","maxAmountRequired":"10000","resource":"` + ts.URL + `/v1/weather","description":"Weather data","mimeType":"application/json","payTo":"0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b","maxTimeoutSeconds":60,"asset":"0xe78A0F7E598Cc8b0Bb87894B0F60dD2a88d6a8Ab","extra":{"name":"TestUSD","version":"2"}}]}` + "\n"
	if resp.StatusCode != 402 || string(body) != want || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d body\n%s\nwant\n%s", resp.StatusCode, body, want)
	}
	if resp.Header.Get(x402.HeaderPaymentRequired) != "" {
		t.Fatal("v1 route sent a v2 header")
	}
}

func TestMiddlewareEndToEndV2(t *testing.T) {
	fac := newFakeFacilitator()
	ts, st := newApp(t, fac)
	payer := &countingPayer{inner: testPayer(t)}
	client := x402.NewClient(payer)

	resp, err := client.Post(ts.URL+"/weather", "text/plain", strings.NewReader("request body"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"weather":"sunny"}` {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if payer.calls.Load() != 1 || fac.verifies.Load() != 1 || fac.settles.Load() != 1 || st.calls.Load() != 1 {
		t.Fatalf("pay %d verify %d settle %d handler %d", payer.calls.Load(), fac.verifies.Load(), fac.settles.Load(), st.calls.Load())
	}
	if st.body.Load() != "request body" || resp.Header.Get("Cache-Control") != "private" {
		t.Fatalf("handler body %q, cache %q", st.body.Load(), resp.Header.Get("Cache-Control"))
	}
	res := x402.ResultFromResponse(resp)
	if res == nil || res.Err != nil || res.Settlement == nil || !res.Settlement.Success || res.Settlement.Network != "eip155:1337" ||
		res.Settlement.Payer != testPayer(t).Address().Hex() {
		t.Fatalf("result %+v", res)
	}

	// Replaying the same payment header: the facilitator refuses the used
	// nonce, and a client given an already-paid request does not pay again.
	req, _ := http.NewRequest("GET", ts.URL+"/weather", nil)
	req.Header.Set(x402.HeaderPaymentSignature, res.Payment.Value)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pr, err := x402.DecodePaymentRequired(resp.Header.Get(x402.HeaderPaymentRequired))
	if resp.StatusCode != 402 || err != nil || pr.Error != "invalid_exact_evm_nonce_already_used" || payer.calls.Load() != 1 {
		t.Fatalf("replay: status %d, %+v, %v, pay calls %d", resp.StatusCode, pr, err, payer.calls.Load())
	}
}

func TestMiddlewareEndToEndV1(t *testing.T) {
	fac := newFakeFacilitator()
	ts, _ := newApp(t, fac)
	payer := &countingPayer{inner: testPayer(t)}
	resp, err := x402.NewClient(payer).Get(ts.URL + "/v1/weather")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	res := x402.ResultFromResponse(resp)
	if resp.StatusCode != 200 || res == nil || res.Settlement == nil || res.Settlement.Network != "base-sepolia" {
		t.Fatalf("status %d result %+v", resp.StatusCode, res)
	}
	if resp.Header.Get(x402.HeaderPaymentResponse) != "" || resp.Header.Get(x402.HeaderXPaymentResponse) == "" {
		t.Fatal("v1 route must answer with X-PAYMENT-RESPONSE only")
	}
	// The v1 authorization starts 600 s in the past, like x402 1.2.0.
	p, _, _ := x402.DecodePaymentPayloadV1(res.Payment.Value)
	ex, _ := x402.DecodeExactEVMPayload(p.Payload)
	if ex.Authorization.ValidAfter == "0" {
		t.Fatal("v1 validAfter is 0, want now-600")
	}
}

// rejectingPayer signs for a doctored copy of the demand.
func doctoredPayer(t *testing.T, doctor func(string) string) x402.Payer {
	inner := testPayer(t)
	return payerFunc(func(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
		js, _ := x402.DecodeHeaderJSON(string(req.Raw))
		pr, err := x402.DecodePaymentRequired(base64.StdEncoding.EncodeToString([]byte(doctor(string(js)))))
		if err != nil {
			return nil, err
		}
		r := *req
		r.V2 = pr
		return inner.Pay(ctx, &r)
	})
}

type payerFunc func(context.Context, *x402.PaymentRequest) (*x402.Payment, error)

func (f payerFunc) Pay(ctx context.Context, r *x402.PaymentRequest) (*x402.Payment, error) {
	return f(ctx, r)
}

func TestMiddlewareExactMatch(t *testing.T) {
	cases := map[string]func(string) string{
		"asset in lower case": func(s string) string { return strings.Replace(s, tokenAddr, strings.ToLower(tokenAddr), 1) },
		"amount changed":      func(s string) string { return strings.Replace(s, `"amount":"10000"`, `"amount":"1000"`, 1) },
		"payTo in lower case": func(s string) string { return strings.Replace(s, merchant, strings.ToLower(merchant), 1) },
		"timeout changed": func(s string) string {
			return strings.Replace(s, `"maxTimeoutSeconds":300`, `"maxTimeoutSeconds":301`, 1)
		},
		"extra name changed": func(s string) string { return strings.Replace(s, `"name":"TestUSD"`, `"name":"TestUSDX"`, 1) },
		"network changed":    func(s string) string { return strings.Replace(s, `eip155:1337`, `eip155:84532`, 1) },
	}
	for name, doctor := range cases {
		t.Run(name, func(t *testing.T) {
			fac := newFakeFacilitator()
			ts, st := newApp(t, fac)
			resp, err := x402.NewClient(doctoredPayer(t, doctor)).Get(ts.URL + "/weather")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			pr, _ := x402.DecodePaymentRequired(resp.Header.Get(x402.HeaderPaymentRequired))
			if resp.StatusCode != 402 || pr == nil || pr.Error != "No matching payment requirements" {
				t.Fatalf("status %d, %+v", resp.StatusCode, pr)
			}
			if fac.verifies.Load() != 0 || st.calls.Load() != 0 {
				t.Fatal("unmatched payment reached the facilitator or the handler")
			}
		})
	}
	// An extra key in accepted.extra is allowed (advertised extra ⊆ accepted.extra).
	fac := newFakeFacilitator()
	ts, _ := newApp(t, fac)
	resp, err := x402.NewClient(doctoredPayer(t, func(s string) string {
		return strings.Replace(s, `"version":"2"}`, `"version":"2","more":[1]}`, 1)
	})).Get(ts.URL + "/weather")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("superset extra: status %d", resp.StatusCode)
	}
}

func TestMatchAccepted(t *testing.T) {
	adv := []x402.PaymentRequirementsV2{{Scheme: "exact", Network: "eip155:1", Amount: "1", Asset: "0xA", PayTo: "0xB", MaxTimeoutSeconds: 60, Extra: json.RawMessage(`{"name":"N","version":"2","n":1}`)}}
	cases := []struct {
		accepted string
		ok       bool
	}{
		{`{"scheme":"exact","network":"eip155:1","amount":"1","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":60,"extra":{"n":1.0,"version":"2","name":"N"}}`, true},
		{`{"scheme":"exact","network":"eip155:1","amount":"1","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":60,"extra":{"name":"N","version":"2"}}`, false},
		{`{"scheme":"exact","network":"eip155:1","amount":"1","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":60}`, false},
		{`{"scheme":"exact","network":"eip155:1","amount":"1","asset":"0xa","payTo":"0xB","maxTimeoutSeconds":60,"extra":{"name":"N","version":"2","n":1}}`, false},
		{`{"scheme":"exact","network":"eip155:1","amount":"01","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":60,"extra":{"name":"N","version":"2","n":1}}`, false},
		{`{"scheme":"Exact","network":"eip155:1","amount":"1","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":60,"extra":{"name":"N","version":"2","n":1}}`, false},
	}
	for i, c := range cases {
		var acc x402.PaymentRequirementsV2
		if err := json.Unmarshal([]byte(c.accepted), &acc); err != nil {
			t.Fatal(err)
		}
		if _, ok := x402.MatchAccepted(adv, &acc); ok != c.ok {
			t.Errorf("case %d: match %v, want %v", i, ok, c.ok)
		}
	}
}

func TestMiddlewareHandlerFailureNotSettled(t *testing.T) {
	fac := newFakeFacilitator()
	ts, _ := newApp(t, fac)
	resp, err := x402.NewClient(testPayer(t)).Get(ts.URL + "/weather?fail=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || !strings.Contains(string(body), "handler failed") {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if fac.verifies.Load() != 1 || fac.settles.Load() != 0 || resp.Header.Get(x402.HeaderPaymentResponse) != "" {
		t.Fatalf("verify %d settle %d", fac.verifies.Load(), fac.settles.Load())
	}
}

func TestMiddlewareSettleFailure(t *testing.T) {
	for _, path := range []string{"/weather", "/v1/weather"} {
		t.Run(path, func(t *testing.T) {
			fac := newFakeFacilitator()
			fac.settleFail = true
			ts, st := newApp(t, fac)
			resp, err := x402.NewClient(testPayer(t)).Get(ts.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 402 || st.calls.Load() != 1 || strings.Contains(string(body), "sunny") {
				t.Fatalf("status %d body %q", resp.StatusCode, body)
			}
			res := x402.ResultFromResponse(resp)
			if !errors.Is(res.Err, x402.ErrPaymentRejected) || !strings.Contains(res.Err.Error(), "invalid_exact_evm_transaction_failed") {
				t.Fatalf("result error %v", res.Err)
			}
			if path == "/weather" {
				s, err := x402.SettlementFromResponse(resp)
				if err != nil || s.Success || s.Transaction != "" || s.Network != "eip155:1337" || string(body) != "{}" {
					t.Fatalf("settlement %+v, %v", s, err)
				}
			}
		})
	}
}

func TestMiddlewareFacilitatorDown(t *testing.T) {
	for _, stage := range []string{"verify", "settle"} {
		for _, path := range []string{"/weather", "/v1/weather"} {
			t.Run(stage+path, func(t *testing.T) {
				fac := newFakeFacilitator()
				fac.down = stage == "verify"
				fac.settleDown = stage == "settle"
				ts, _ := newApp(t, fac)
				payer := &countingPayer{inner: testPayer(t)}
				resp, err := x402.NewClient(payer).Get(ts.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var e struct{ Error string }
				if resp.StatusCode != http.StatusBadGateway || json.Unmarshal(body, &e) != nil || e.Error == "" || payer.calls.Load() != 1 {
					t.Fatalf("status %d body %q", resp.StatusCode, body)
				}
			})
		}
	}
}

func TestMiddlewareMalformedPaymentHeaders(t *testing.T) {
	fac := newFakeFacilitator()
	ts, st := newApp(t, fac)
	garbage := []string{
		"%%%", "eyJ9", "e30=", "bnVsbA==", "W10=", "eyJ4NDAyVmVyc2lvbiI6Mn0", "-_-_", "====", "a",
		base64.StdEncoding.EncodeToString([]byte(`{"x402Version":2,"accepted":{"maxTimeoutSeconds":"x"}}`)),
		base64.StdEncoding.EncodeToString([]byte(`{"x402Version":2,"accepted":null,"payload":null}`)),
		base64.StdEncoding.EncodeToString([]byte(`{"x402Version":1,"scheme":"exact","network":"base-sepolia","payload":"x"}`)),
		base64.StdEncoding.EncodeToString([]byte(`{"x402Version":2,"accepted":{"scheme":"exact","network":"eip155:1337","amount":"10000","asset":"` + tokenAddr + `","payTo":"` + merchant + `","maxTimeoutSeconds":300,"extra":{"name":"TestUSD","version":"2"}},"payload":{"signature":"0xzz","authorization":{}}}`)),
		strings.Repeat("A", x402.MaxHeaderSize+1),
	}
	for _, h := range garbage {
		for _, c := range []struct{ path, header string }{{"/weather", x402.HeaderPaymentSignature}, {"/v1/weather", x402.HeaderXPayment}} {
			req, _ := http.NewRequest("GET", ts.URL+c.path, nil)
			req.Header.Set(c.header, h)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 402 {
				t.Errorf("%s %.20q: status %d", c.path, h, resp.StatusCode)
			}
		}
	}
	if st.calls.Load() != 0 || fac.settles.Load() != 0 {
		t.Fatalf("garbage reached the handler (%d) or settlement (%d)", st.calls.Load(), fac.settles.Load())
	}
}

func TestMiddlewareRouting(t *testing.T) {
	fac := newFakeFacilitator()
	ts, st := newApp(t, fac)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]int{"/free": 200, "/weather": 402, "/v1/weather": 402, "/x/../weather": http.StatusTemporaryRedirect, "//weather": http.StatusTemporaryRedirect} {
		req, _ := http.NewRequest("GET", ts.URL, nil)
		req.URL.Path = path
		req.URL.RawPath = path
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	// POST /v1/weather is not a paid route (the pattern is GET only).
	resp, err := http.Post(ts.URL+"/v1/weather", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("unpaid method: status %d", resp.StatusCode)
	}
	if st.calls.Load() != 2 {
		t.Errorf("handler ran %d times, want 2 (free routes only)", st.calls.Load())
	}
}

func TestMiddlewareConfigValidation(t *testing.T) {
	good := x402.Accept{Network: "eip155:1337", Amount: "1", Asset: tokenAddr, PayTo: merchant, EIP712Name: "T", EIP712Version: "1"}
	bad := map[string]x402.MiddlewareConfig{
		"no facilitator": {Routes: []x402.Route{{Pattern: "/a", Accepts: []x402.Accept{good}}}},
		"no accepts":     {Facilitator: newFakeFacilitator(), Routes: []x402.Route{{Pattern: "/a"}}},
		"bad pattern":    {Facilitator: newFakeFacilitator(), Routes: []x402.Route{{Pattern: "GET", Accepts: []x402.Accept{good}}}},
		"dup pattern":    {Facilitator: newFakeFacilitator(), Routes: []x402.Route{{Pattern: "/a", Accepts: []x402.Accept{good}}, {Pattern: "/a", Accepts: []x402.Accept{good}}}},
		"v1 caip2":       {Facilitator: newFakeFacilitator(), Routes: []x402.Route{{Pattern: "/a", Version: 1, Accepts: []x402.Accept{good}}}},
		"version 3":      {Facilitator: newFakeFacilitator(), Routes: []x402.Route{{Pattern: "/a", Version: 3, Accepts: []x402.Accept{good}}}},
	}
	mut := map[string]func(*x402.Accept){
		"amount $":    func(a *x402.Accept) { a.Amount = "$0.01" },
		"amount 01":   func(a *x402.Accept) { a.Amount = "01" },
		"short asset": func(a *x402.Accept) { a.Asset = "0x12" },
		"no domain":   func(a *x402.Accept) { a.EIP712Name = "" },
		"v1 name":     func(a *x402.Accept) { a.Network = "base-sepolia" },
		"neg timeout": func(a *x402.Accept) { a.MaxTimeoutSeconds = -1 },
		"payTo no 0x": func(a *x402.Accept) { a.PayTo = "22" + a.PayTo[2:] },
	}
	for name, m := range mut {
		a := good
		m(&a)
		bad[name] = x402.MiddlewareConfig{Facilitator: newFakeFacilitator(), Routes: []x402.Route{{Pattern: "/a", Accepts: []x402.Accept{a}}}}
	}
	for name, cfg := range bad {
		if _, err := x402.NewMiddleware(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	mw, err := x402.NewMiddleware(x402.MiddlewareConfig{Facilitator: newFakeFacilitator(), Routes: paidRoutes()})
	if err != nil {
		t.Fatal(err)
	}
	if err := mw.CheckSupported(context.Background()); err != nil {
		t.Fatal(err)
	}
	mw, _ = x402.NewMiddleware(x402.MiddlewareConfig{Facilitator: newFakeFacilitator(), Routes: []x402.Route{{Pattern: "/a", Accepts: []x402.Accept{{Network: "eip155:1", Amount: "1", Asset: tokenAddr, PayTo: merchant, EIP712Name: "T", EIP712Version: "1"}}}}})
	if err := mw.CheckSupported(context.Background()); err == nil {
		t.Fatal("unsupported network passed CheckSupported")
	}
}

func TestMiddlewareResponseTooLarge(t *testing.T) {
	fac := newFakeFacilitator()
	mw, _ := x402.NewMiddleware(x402.MiddlewareConfig{Facilitator: fac, Routes: paidRoutes(), MaxResponseBody: 8})
	ts := httptest.NewServer(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.WriteString(w, "more than eight bytes"); err == nil {
			t.Error("oversized write succeeded")
		}
	})))
	defer ts.Close()
	resp, err := x402.NewClient(testPayer(t)).Get(ts.URL + "/weather")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || fac.settles.Load() != 0 {
		t.Fatalf("status %d, settles %d", resp.StatusCode, fac.settles.Load())
	}
}
