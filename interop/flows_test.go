package interop

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// flow1: the reference @x402/fetch 2.27 client (spendControls.allowedAssets listing the devnet
// token) pays our Go middleware, which verifies and settles with our facilitator in process.
// Rejection: our side refuses the reference client's settled PAYMENT-SIGNATURE when it is
// replayed, with the reference's reason code.
func flow1(t *testing.T) {
	c := devnetFor(t, 1337)
	fac := ourFacilitator(t, c)
	payee := newPayee(t)
	mw := newGoServer(t, fac, x402.V2, c.dn.Network(), c, payee)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := mw.CheckSupported(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw.Wrap(resourceHandler()))
	defer srv.Close()
	url := srv.URL + "/weather"
	advertised := demandV2(t, url)

	from := c.account(accTSPayer).Address
	payerBefore, payeeBefore := c.balance(t, from), c.balance(t, payee)

	// The reference client's own spend controls: a cap below our price makes it refuse, after
	// the unpaid request and before anything is signed.
	var refused struct {
		Refused  bool              `json:"refused"`
		Error    string            `json:"error"`
		Requests []json.RawMessage `json:"requests"`
	}
	runScript(t, "fetch-client.mjs", map[string]string{
		"URL":          url,
		"PRIVATE_KEY":  c.account(accTSPayer).PrivateKeyHex,
		"NETWORK":      c.dn.Network(),
		"TOKEN":        c.dn.Token().Address.Hex(),
		"MAX_AMOUNT":   strconv.Itoa(price - 1),
		"EXPECT_ERROR": "spendControls",
	}, &refused)
	if !refused.Refused || len(refused.Requests) != 1 {
		t.Errorf("reference client with a cap below the price: %+v", refused)
	}
	t.Logf("reference client refused: %s", refused.Error)
	if v, s := fac.counts(); v != 0 || s != 0 {
		t.Errorf("refused payment reached our facilitator (%d verify, %d settle)", v, s)
	}

	var out struct {
		Status          int                 `json:"status"`
		Body            string              `json:"body"`
		PaymentResponse x402.SettleResponse `json:"paymentResponse"`
		CacheControl    string              `json:"cacheControl"`
		PaymentSig      string              `json:"paymentSignature"`
		Requests        []struct {
			Headers map[string]string `json:"headers"`
		} `json:"requests"`
	}
	runScript(t, "fetch-client.mjs", map[string]string{
		"URL":         url,
		"PRIVATE_KEY": c.account(accTSPayer).PrivateKeyHex,
		"NETWORK":     c.dn.Network(),
		"TOKEN":       c.dn.Token().Address.Hex(),
		"MAX_AMOUNT":  "50000",
	}, &out)
	if out.Status != http.StatusOK || out.Body != resourceBody {
		t.Fatalf("reference client got %d %q", out.Status, out.Body)
	}
	st := out.PaymentResponse
	if !st.Success || st.Network != "eip155:1337" || !strings.EqualFold(st.Payer, from.Hex()) {
		t.Fatalf("PAYMENT-RESPONSE as the reference decoded it: %+v", st)
	}
	if out.CacheControl != "private" {
		t.Errorf("Cache-Control %q, want private", out.CacheControl)
	}
	if len(out.Requests) != 2 || out.Requests[0].Headers["payment-signature"] != "" || out.PaymentSig == "" {
		t.Fatalf("reference client sent %d requests (want an unpaid one, then one with PAYMENT-SIGNATURE): %+v", len(out.Requests), out.Requests)
	}
	// What the reference client signed, read with our decoders.
	p, _, err := x402.DecodePaymentPayloadV2(out.PaymentSig)
	if err != nil {
		t.Fatalf("reference PAYMENT-SIGNATURE: %v", err)
	}
	if p.X402Version != 2 || p.Resource == nil || p.Resource.URL != url {
		t.Errorf("payload version %d resource %+v", p.X402Version, p.Resource)
	}
	if got, want := mustJSON(t, p.Accepted), mustJSON(t, advertised.Accepts[0]); got != want {
		t.Errorf("reference client echoed accepted %s, we advertised %s", got, want)
	}
	ep, err := x402.DecodeExactEVMPayload(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	a := ep.Authorization
	// @x402/evm 2.27 signs validAfter "0" and validBefore = now + maxTimeoutSeconds.
	if a.To != payee.Hex() || a.Value != strconv.Itoa(price) || a.ValidAfter != "0" || !near(t, a.ValidBefore, time.Now().Unix()+maxTimeout) {
		t.Errorf("reference authorization %+v", a)
	}
	c.checkSettlementTx(t, st.Transaction, from, payee, big.NewInt(price))
	checkMoved(t, c, from, payee, payerBefore, payeeBefore, price)
	if !c.usedNonce(t, from, a.Nonce) {
		t.Errorf("nonce %s unused after settlement", a.Nonce)
	}
	if v, s := fac.counts(); v != 1 || s != 1 {
		t.Errorf("our facilitator got %d verify and %d settle calls, want 1 and 1", v, s)
	}

	// Rejection on our side: the reference client's header, replayed.
	replay := replayV2(t, url, out.PaymentSig)
	if replay.Error != "invalid_exact_evm_nonce_already_used" {
		t.Errorf("replayed reference payment: 402 error %q, want invalid_exact_evm_nonce_already_used", replay.Error)
	}
	if _, s := fac.counts(); s != 1 {
		t.Errorf("the replay reached settlement (%d settle calls)", s)
	}
	checkMoved(t, c, from, payee, payerBefore, payeeBefore, price)
}

// flow2: our Go client (exact.LocalKeyPayer through x402.Transport) pays a reference
// @x402/express 2.27 server, which verifies and settles with our facilitator over HTTP.
// Rejection: the reference server, asking our facilitator, refuses the replayed payment with
// the reference's reason code.
func flow2(t *testing.T) {
	c := devnetFor(t, 1337)
	fac := ourFacilitator(t, c)
	facSrv := httptest.NewServer(fac.handler())
	defer facSrv.Close()
	payee := newPayee(t)
	tk := c.dn.Token()
	expressProc, express := startServer(t, "express-server.mjs", map[string]string{
		"FACILITATOR_URL": facSrv.URL,
		"NETWORK":         c.dn.Network(),
		"TOKEN":           tk.Address.Hex(),
		"TOKEN_NAME":      tk.Name,
		"TOKEN_VERSION":   tk.Version,
		"PAY_TO":          payee.Hex(),
		"AMOUNT":          strconv.Itoa(price),
		"MAX_TIMEOUT":     strconv.Itoa(maxTimeout),
	})
	if fac.supported.Load() == 0 {
		t.Errorf("the reference server announced readiness without asking our /supported")
	}
	url := express.URL + "/weather"

	payer := goPayer(t, c)
	from := payer.Address()
	payerBefore, payeeBefore := c.balance(t, from), c.balance(t, payee)
	resp, body := goGet(t, x402.NewClient(payer), url)
	if resp.StatusCode != http.StatusOK || body != resourceBody {
		t.Fatalf("paid request to the reference server: %d %q", resp.StatusCode, body)
	}
	res := x402.ResultFromResponse(resp)
	if res == nil || res.Err != nil || res.Payment == nil || res.Settlement == nil || res.Request == nil || res.Request.V2 == nil {
		t.Fatalf("client result %+v", res)
	}
	st := res.Settlement
	if !st.Success || st.Network != "eip155:1337" || !strings.EqualFold(st.Payer, from.Hex()) {
		t.Fatalf("reference PAYMENT-RESPONSE %+v", st)
	}
	demand := res.Request.V2
	if len(demand.Accepts) != 1 || demand.Accepts[0].Asset != tk.Address.Hex() || demand.Accepts[0].Amount != strconv.Itoa(price) || demand.Accepts[0].MaxTimeoutSeconds != maxTimeout {
		t.Errorf("reference demand %s", mustJSON(t, demand))
	}
	p, _, err := x402.DecodePaymentPayloadV2(res.Payment.Value)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Accepted.Raw()) != string(demand.Accepts[0].Raw()) {
		t.Errorf("accepted %s is not the reference's requirement %s byte for byte", p.Accepted.Raw(), demand.Accepts[0].Raw())
	}
	c.checkSettlementTx(t, st.Transaction, from, payee, big.NewInt(price))
	checkMoved(t, c, from, payee, payerBefore, payeeBefore, price)
	if v, s := fac.counts(); v != 1 || s != 1 {
		t.Errorf("our facilitator got %d verify and %d settle calls, want 1 and 1", v, s)
	}
	var last struct {
		Status          int                  `json:"status"`
		Paid            bool                 `json:"paid"`
		PaymentResponse *x402.SettleResponse `json:"paymentResponse"`
	}
	// Requests so far: the Transport's unpaid one, then the paid one.
	if err := json.Unmarshal(waitEvents(t, expressProc, "request", 2)[1], &last); err != nil {
		t.Fatal(err)
	}
	if last.Status != 200 || !last.Paid || last.PaymentResponse == nil || last.PaymentResponse.Transaction != st.Transaction {
		t.Errorf("reference server's view of the paid request: %+v", last)
	}

	// Rejection on the reference side: our header again.
	replay := replayV2(t, url, res.Payment.Value)
	if replay.Error != "invalid_exact_evm_nonce_already_used" {
		t.Errorf("reference server answered the replay with error %q, want invalid_exact_evm_nonce_already_used", replay.Error)
	}
	if v, s := fac.counts(); v != 2 || s != 1 {
		t.Errorf("after the replay our facilitator got %d verify and %d settle calls, want 2 and 1", v, s)
	}
	checkMoved(t, c, from, payee, payerBefore, payeeBefore, price)
}

// flow4: the legacy reference x402-fetch 1.2.0 client (x402 v1) pays our middleware in v1 mode
// on a devnet with chain id 84532, called base-sepolia, with our facilitator. Rejection: the
// replayed X-PAYMENT is refused by our side with the same reason the reference facilitator
// (@x402/evm, v1 scheme) gives for it.
func flow4(t *testing.T) {
	c := devnetFor(t, 84532)
	fac := ourFacilitator(t, c)
	payee := newPayee(t)
	mw := newGoServer(t, fac, x402.V1, "base-sepolia", c, payee)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := mw.CheckSupported(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw.Wrap(resourceHandler()))
	defer srv.Close()
	url := srv.URL + "/weather"

	from := c.account(accTSPayer).Address
	payerBefore, payeeBefore := c.balance(t, from), c.balance(t, payee)
	var out struct {
		Status          int                 `json:"status"`
		Body            string              `json:"body"`
		PaymentResponse x402.SettleResponse `json:"paymentResponse"`
		XPayment        string              `json:"xPayment"`
	}
	runScript(t, "fetch-v1-client.mjs", map[string]string{
		"URL":         url,
		"RPC_URL":     c.dn.RPCURL(),
		"PRIVATE_KEY": c.account(accTSPayer).PrivateKeyHex,
		"MAX_VALUE":   "100000",
	}, &out)
	if out.Status != http.StatusOK || out.Body != resourceBody {
		t.Fatalf("x402-fetch got %d %q", out.Status, out.Body)
	}
	st := out.PaymentResponse
	if !st.Success || st.Network != "base-sepolia" || !strings.EqualFold(st.Payer, from.Hex()) {
		t.Fatalf("X-PAYMENT-RESPONSE as x402-fetch decoded it: %+v", st)
	}
	p, _, err := x402.DecodePaymentPayloadV1(out.XPayment)
	if err != nil {
		t.Fatalf("x402-fetch X-PAYMENT: %v", err)
	}
	if p.X402Version != 1 || p.Scheme != "exact" || p.Network != "base-sepolia" {
		t.Errorf("v1 payload %+v", p)
	}
	ep, err := x402.DecodeExactEVMPayload(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	a := ep.Authorization
	// x402 1.2.0 signs validAfter = now - 600 and validBefore = now + maxTimeoutSeconds.
	now := time.Now().Unix()
	if !strings.EqualFold(a.To, payee.Hex()) || a.Value != strconv.Itoa(price) || !near(t, a.ValidAfter, now-600) || !near(t, a.ValidBefore, now+maxTimeout) {
		t.Errorf("x402-fetch authorization %+v", a)
	}
	c.checkSettlementTx(t, st.Transaction, from, payee, big.NewInt(price))
	checkMoved(t, c, from, payee, payerBefore, payeeBefore, price)

	// Rejection on our side: the settled X-PAYMENT again.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(x402.HeaderXPayment, out.XPayment)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var pr x402.PaymentRequiredV1
	err = json.NewDecoder(resp.Body).Decode(&pr)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusPaymentRequired || resp.Header.Get(x402.HeaderXPaymentResponse) != "" {
		t.Fatalf("replayed X-PAYMENT: %d, body error %v", resp.StatusCode, err)
	}
	if _, s := fac.counts(); s != 1 {
		t.Errorf("the replay reached settlement (%d settle calls)", s)
	}
	checkMoved(t, c, from, payee, payerBefore, payeeBefore, price)

	// The reference facilitator's reason for the same replay, asked directly (it serves v1
	// base-sepolia on this chain).
	_, ref := startServer(t, "facilitator.mjs", map[string]string{
		"RPC_URL":         c.dn.RPCURL(),
		"CHAIN_ID":        "84532",
		"FACILITATOR_KEY": c.account(accTSFacilitator).PrivateKeyHex,
	})
	refClient, err := x402.NewFacilitatorClient(ref.URL)
	if err != nil {
		t.Fatal(err)
	}
	vreq, err := x402.NewVerifyRequest(json.RawMessage(decodeJSON(t, out.XPayment)), pr.Accepts[0])
	if err != nil {
		t.Fatal(err)
	}
	refAnswer, err := refClient.Verify(ctx, vreq)
	if err != nil {
		t.Fatalf("reference facilitator /verify: %v", err)
	}
	if refAnswer.IsValid || pr.Error != refAnswer.InvalidReason {
		t.Errorf("replayed v1 payment: our 402 error %q, the reference facilitator says %+v", pr.Error, refAnswer)
	}
	if pr.Error != "invalid_exact_evm_nonce_already_used" {
		t.Errorf("replayed v1 payment: error %q, want invalid_exact_evm_nonce_already_used", pr.Error)
	}
}

// countingFacilitator is our facilitator with call counters, used in process (as an
// x402.Facilitator) or over HTTP (handler).
type countingFacilitator struct {
	*facilitator.Facilitator
	verifies, settles, supported atomic.Int32
}

// ourFacilitator returns our facilitator for the chain, settling from its dev account.
func ourFacilitator(t testing.TB, c *chainEnv) *countingFacilitator {
	t.Helper()
	acc := c.account(accOurFacilitator)
	key, err := facilitator.NewRelayerKey([]byte(acc.PrivateKeyHex))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := facilitator.New(ctx, facilitator.Config{
		Chains:  []facilitator.Chain{{ChainID: c.dn.ChainID(), Backend: c.dn.Client()}},
		Relayer: key,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &countingFacilitator{Facilitator: f}
}

func (f *countingFacilitator) Verify(ctx context.Context, req *x402.VerifyRequest) (*x402.VerifyResponse, error) {
	f.verifies.Add(1)
	return f.Facilitator.Verify(ctx, req)
}

func (f *countingFacilitator) Settle(ctx context.Context, req *x402.SettleRequest) (*x402.SettleResponse, error) {
	f.settles.Add(1)
	return f.Facilitator.Settle(ctx, req)
}

func (f *countingFacilitator) Supported(ctx context.Context) (*x402.SupportedResponse, error) {
	f.supported.Add(1)
	return f.Facilitator.Supported(ctx)
}

// handler is the facilitator's own HTTP API, counting the calls.
func (f *countingFacilitator) handler() http.Handler {
	h := f.Facilitator.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/verify":
			f.verifies.Add(1)
		case "/settle":
			f.settles.Add(1)
		case "/supported":
			f.supported.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

func (f *countingFacilitator) counts() (verify, settle int) {
	return int(f.verifies.Load()), int(f.settles.Load())
}

// demandV2 requests url without paying and returns the decoded PAYMENT-REQUIRED.
func demandV2(t testing.TB, url string) *x402.PaymentRequiredV2 {
	t.Helper()
	resp, _ := goGet(t, http.DefaultClient, url)
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("unpaid GET %s: %d, want 402", url, resp.StatusCode)
	}
	pr, err := x402.DecodePaymentRequired(resp.Header.Get(x402.HeaderPaymentRequired))
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeJSON returns the JSON carried by a header value.
func decodeJSON(t *testing.T, header string) []byte {
	t.Helper()
	b, err := x402.DecodeHeaderJSON(header)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// near reports whether the decimal string s is within 30 seconds of want (clock reads on
// both sides of a process boundary, on a busy machine).
func near(t *testing.T, s string, want int64) bool {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Errorf("%q is not a decimal timestamp", s)
		return false
	}
	return v >= want-30 && v <= want+30
}
