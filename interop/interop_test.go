package interop

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// price is what every flow charges, in the token's atomic units (0.01 TestUSD).
const price = 10000

// maxTimeout is the routes' maxTimeoutSeconds, as in the x402.md §2.5 trace.
const maxTimeout = 120

// resourceBody is what the paid handlers answer.
const resourceBody = `{"report":"sunny","temperature":21}`

// TestInterop runs the four interoperability flows of issue #3. Run one alone with
// `go test ./interop/ -run TestInterop/flow3 -v`.
func TestInterop(t *testing.T) {
	requireNode(t)
	t.Run("flow3", flow3)
	t.Run("flow1", flow1)
	t.Run("flow2", flow2)
	t.Run("flow4", flow4)
}

// flow3: our Go client (exact.LocalKeyPayer) pays our Go middleware, which verifies and
// settles through x402.FacilitatorClient with the REFERENCE facilitator (@x402/core +
// @x402/evm in facilitator.mjs) on our devnet. Rejection: the reference facilitator refuses
// the replayed payment header, through our middleware and directly.
func flow3(t *testing.T) {
	c := devnetFor(t, 1337)
	facProc, fac := startServer(t, "facilitator.mjs", map[string]string{
		"RPC_URL":         c.dn.RPCURL(),
		"CHAIN_ID":        "1337",
		"FACILITATOR_KEY": c.account(accTSFacilitator).PrivateKeyHex,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	fc, err := x402.NewFacilitatorClient(fac.URL)
	if err != nil {
		t.Fatal(err)
	}
	payee := newPayee(t)
	mw := newGoServer(t, fc, x402.V2, c.dn.Network(), c, payee)
	// Our client of the reference /supported: the reference lists v2 eip155:1337.
	if err := mw.CheckSupported(ctx); err != nil {
		t.Fatalf("CheckSupported against the reference facilitator: %v", err)
	}
	srv := httptest.NewServer(mw.Wrap(resourceHandler()))
	defer srv.Close()

	payer := goPayer(t, c)
	from := payer.Address()
	payerBefore, payeeBefore := c.balance(t, from), c.balance(t, payee)

	resp, body := goGet(t, x402.NewClient(payer), srv.URL+"/weather")
	if resp.StatusCode != http.StatusOK || body != resourceBody {
		t.Fatalf("paid request: %d %q", resp.StatusCode, body)
	}
	res := x402.ResultFromResponse(resp)
	if res == nil || res.Err != nil || res.Payment == nil || res.Settlement == nil {
		t.Fatalf("client result %+v", res)
	}
	st := res.Settlement
	if !st.Success || st.Network != "eip155:1337" || !strings.EqualFold(st.Payer, from.Hex()) {
		t.Fatalf("PAYMENT-RESPONSE %+v", st)
	}
	if resp.Header.Get("Cache-Control") != "private" {
		t.Errorf("Cache-Control %q on the paid response, want private", resp.Header.Get("Cache-Control"))
	}
	c.checkSettlementTx(t, st.Transaction, from, payee, big.NewInt(price))
	checkMoved(t, c, from, payee, payerBefore, payeeBefore, price)
	sent := decodePayloadV2(t, res.Payment.Value)
	if !c.usedNonce(t, from, sent.auth.Nonce) {
		t.Errorf("authorizationState(%s, %s) is false after settlement", from.Hex(), sent.auth.Nonce)
	}

	// The wire as the reference facilitator saw it.
	var verify struct {
		Status  int `json:"status"`
		Request struct {
			X402Version         int             `json:"x402Version"`
			PaymentPayload      json.RawMessage `json:"paymentPayload"`
			PaymentRequirements json.RawMessage `json:"paymentRequirements"`
		} `json:"request"`
		Response x402.VerifyResponse `json:"response"`
	}
	if err := json.Unmarshal(waitEvents(t, facProc, "verify", 1)[0], &verify); err != nil {
		t.Fatal(err)
	}
	if verify.Status != 200 || !verify.Response.IsValid || !strings.EqualFold(verify.Response.Payer, from.Hex()) {
		t.Errorf("reference /verify answered %d %+v", verify.Status, verify.Response)
	}
	if verify.Request.X402Version != 2 {
		t.Errorf("/verify request x402Version %d", verify.Request.X402Version)
	}
	var pp struct {
		Accepted json.RawMessage `json:"accepted"`
	}
	if err := json.Unmarshal(verify.Request.PaymentPayload, &pp); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, pp.Accepted, verify.Request.PaymentRequirements) {
		t.Errorf("accepted %s differs from the requirement %s", pp.Accepted, verify.Request.PaymentRequirements)
	}
	var settle struct {
		Status   int                 `json:"status"`
		Response x402.SettleResponse `json:"response"`
	}
	if err := json.Unmarshal(waitEvents(t, facProc, "settle", 1)[0], &settle); err != nil {
		t.Fatal(err)
	}
	if settle.Status != 200 || !settle.Response.Success || settle.Response.Transaction != st.Transaction {
		t.Errorf("reference /settle answered %d %+v, client got transaction %s", settle.Status, settle.Response, st.Transaction)
	}

	// Rejection 1: the same PAYMENT-SIGNATURE again, through our middleware. The reference
	// simulates transferWithAuthorization, which reverts, and its Multicall3 diagnosis (the
	// devnet has Multicall3 at the canonical address) names the used nonce.
	settles := len(facProc.events("settle"))
	replay := replayV2(t, srv.URL+"/weather", res.Payment.Value)
	if replay.Error != "invalid_exact_evm_nonce_already_used" {
		t.Errorf("replayed payment: 402 error %q, want invalid_exact_evm_nonce_already_used", replay.Error)
	}
	// The replay's /verify event is printed before its answer, and a /settle event would follow it.
	waitEvents(t, facProc, "verify", 2)
	if n := len(facProc.events("settle")); n != settles {
		t.Errorf("the replay reached /settle (%d settle calls, want %d)", n, settles)
	}
	// Rejection 2: /settle of the settled payload, straight to the reference facilitator.
	again, err := fc.Settle(ctx, &x402.SettleRequest{X402Version: 2, PaymentPayload: verify.Request.PaymentPayload, PaymentRequirements: verify.Request.PaymentRequirements})
	if err != nil {
		t.Fatalf("settle again: %v", err)
	}
	if again.Success || again.ErrorReason != "invalid_exact_evm_nonce_already_used" || again.Transaction != "" {
		t.Errorf("settling the same payment twice: %+v, want success false, invalid_exact_evm_nonce_already_used", again)
	}
	checkMoved(t, c, from, payee, payerBefore, payeeBefore, price)
}

// newGoServer returns our middleware protecting GET /weather with one exact option on the
// devnet token, paying payee.
func newGoServer(t testing.TB, fac x402.Facilitator, version int, network string, c *chainEnv, payee common.Address) *x402.Middleware {
	t.Helper()
	tk := c.dn.Token()
	mw, err := x402.NewMiddleware(x402.MiddlewareConfig{
		Facilitator: fac,
		Routes: []x402.Route{{
			Pattern:     "GET /weather",
			Version:     version,
			Description: "Weather data",
			MimeType:    "application/json",
			Accepts: []x402.Accept{{
				Network:           network,
				Amount:            big.NewInt(price).String(),
				Asset:             tk.Address.Hex(),
				PayTo:             payee.Hex(),
				MaxTimeoutSeconds: maxTimeout,
				EIP712Name:        tk.Name,
				EIP712Version:     tk.Version,
			}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

func resourceHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, resourceBody)
	})
}

// goPayer is our test payer with the Go payer dev account's key (a public test key).
func goPayer(t testing.TB, c *chainEnv) *exact.LocalKeyPayer {
	t.Helper()
	key, err := c.account(accGoPayer).PrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	p := exact.NewLocalKeyPayer(key)
	t.Cleanup(p.Destroy)
	return p
}

func goGet(t testing.TB, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// replayV2 sends a v2 payment header as is and returns the decoded PAYMENT-REQUIRED of the
// 402 that must answer it.
func replayV2(t *testing.T, url, header string) *x402.PaymentRequiredV2 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(x402.HeaderPaymentSignature, header)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("replayed payment answered %d, want 402", resp.StatusCode)
	}
	if resp.Header.Get(x402.HeaderPaymentResponse) != "" && resp.Header.Get(x402.HeaderPaymentRequired) == "" {
		t.Fatalf("replayed payment reached settlement: PAYMENT-RESPONSE %s", resp.Header.Get(x402.HeaderPaymentResponse))
	}
	pr, err := x402.DecodePaymentRequired(resp.Header.Get(x402.HeaderPaymentRequired))
	if err != nil {
		t.Fatalf("PAYMENT-REQUIRED of the replay: %v", err)
	}
	return pr
}

type sentPayment struct {
	auth x402.Authorization
}

func decodePayloadV2(t *testing.T, header string) sentPayment {
	t.Helper()
	p, _, err := x402.DecodePaymentPayloadV2(header)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := x402.DecodeExactEVMPayload(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return sentPayment{auth: ep.Authorization}
}

// checkMoved checks that exactly one payment of amount went from payer to payee since the
// balances were before.
func checkMoved(t *testing.T, c *chainEnv, payer, payee common.Address, payerBefore, payeeBefore *big.Int, amount int64) {
	t.Helper()
	a := big.NewInt(amount)
	if got, want := c.balance(t, payer), new(big.Int).Sub(payerBefore, a); got.Cmp(want) != 0 {
		t.Errorf("payer balance %s, want %s", got, want)
	}
	if got, want := c.balance(t, payee), new(big.Int).Add(payeeBefore, a); got.Cmp(want) != 0 {
		t.Errorf("payee balance %s, want %s", got, want)
	}
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// TestScriptsRefuseNonLoopback checks that every script refuses a URL that is not on a
// loopback address before it touches the network, so that a test can never pay or settle
// through a public facilitator or chain (the reference's default facilitator is public).
func TestScriptsRefuseNonLoopback(t *testing.T) {
	requireNode(t)
	const key = "0x6cbed15c793ce57650b9877cf6fa156fbef513c4e6134f022a85b1ffdd59b2a1" // public test key
	tests := []struct {
		script string
		env    map[string]string
	}{
		{"facilitator.mjs", map[string]string{"RPC_URL": "https://sepolia.base.org", "CHAIN_ID": "84532", "FACILITATOR_KEY": key}},
		{"express-server.mjs", map[string]string{"FACILITATOR_URL": "https://x402.org/facilitator", "NETWORK": "eip155:84532"}},
		{"fetch-client.mjs", map[string]string{"URL": "http://192.0.2.1/weather"}},
		{"fetch-v1-client.mjs", map[string]string{"URL": "http://127.0.0.1:9/weather", "RPC_URL": "http://localhost.example/"}},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			p := startNode(t, tc.script, tc.env)
			select {
			case <-p.done:
			case <-time.After(runTimeout):
				t.Fatalf("%s still running", tc.script)
			}
			if p.err == nil {
				t.Fatalf("%s exited 0 with a non-loopback URL", tc.script)
			}
			if out := p.output(); !strings.Contains(out, "not an http URL on a loopback address") {
				t.Errorf("%s failed for another reason: %s", tc.script, out)
			}
		})
	}
}
