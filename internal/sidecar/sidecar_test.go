package sidecar_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/sidecar"
	"github.com/fleetkey/fleetkey/internal/sidecar/sidecartest"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

var env *sidecartest.Env

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	e, err := sidecartest.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env = e
	code := m.Run()
	if err := env.Close(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "close:", err)
		code = 1
	}
	os.Exit(code)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startSidecar serves a sidecar paying with payer on a loopback httptest server.
func startSidecar(t *testing.T, cfg sidecar.Config) *httptest.Server {
	t.Helper()
	h, err := sidecar.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func localPayer(t *testing.T, i int) *exact.LocalKeyPayer {
	t.Helper()
	p, err := env.Payer(i)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Destroy)
	return p
}

func balance(t *testing.T, a common.Address) *big.Int {
	t.Helper()
	b, err := env.Balance(testCtx(t), a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// proxyClient uses the sidecar as its HTTP forward proxy.
func proxyClient(t *testing.T, sidecarURL string) *http.Client {
	u, err := url.Parse(sidecarURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Proxy: http.ProxyURL(u)}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req.WithContext(testCtx(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

// parseReceipt splits an X-Fleetkey-Payment value into its fields.
func parseReceipt(t *testing.T, v string) map[string]string {
	t.Helper()
	if v == "" {
		t.Fatal("no X-Fleetkey-Payment header")
	}
	m := map[string]string{}
	for _, f := range strings.Split(v, "; ") {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("receipt field %q in %q", f, v)
		}
		m[k] = val
	}
	return m
}

type errorAnswer struct {
	Error struct {
		Code, Message, Reason, Rule string
	}
}

func decodeError(t *testing.T, resp *http.Response, body []byte, status int, code string) errorAnswer {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var e errorAnswer
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error answer %s: %v", body, err)
	}
	if e.Error.Code != code {
		t.Fatalf("code %q, want %q (%s)", e.Error.Code, code, body)
	}
	return e
}

// checkPaid checks a paid answer's receipt and that exactly Price moved from payer to the
// merchant on chain.
func checkPaid(t *testing.T, resp *http.Response, payer common.Address, payerBefore, merchantBefore *big.Int, network string) {
	t.Helper()
	rc := parseReceipt(t, resp.Header.Get(sidecar.HeaderPayment))
	if rc["amount"] != fmt.Sprint(sidecartest.Price) || !strings.EqualFold(rc["pay_to"], env.Merchant.Hex()) ||
		!strings.EqualFold(rc["asset"], env.Net.Token().Address.Hex()) || rc["network"] != network || len(rc["tx"]) != 66 {
		t.Errorf("receipt %v", rc)
	}
	if e := resp.Header.Get(sidecar.HeaderPaymentError); e != "" {
		t.Errorf("payment error header on a paid answer: %s", e)
	}
	if got := new(big.Int).Sub(payerBefore, balance(t, payer)); got.Int64() != sidecartest.Price {
		t.Errorf("payer paid %s, want %d", got, sidecartest.Price)
	}
	if got := new(big.Int).Sub(balance(t, env.Merchant), merchantBefore); got.Int64() != sidecartest.Price {
		t.Errorf("merchant received %s, want %d", got, sidecartest.Price)
	}
}

func TestForwardProxyPays(t *testing.T) {
	payer := localPayer(t, 1)
	sc := startSidecar(t, sidecar.Config{Payer: payer})
	pb, mb := balance(t, payer.Address()), balance(t, env.Merchant)

	resp, body := get(t, proxyClient(t, sc.URL), env.URL+sidecartest.PathWeather)
	if resp.StatusCode != 200 || string(body) != sidecartest.WeatherBody {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get(x402.HeaderPaymentResponse) == "" {
		t.Errorf("resource server headers not passed back: %v", resp.Header)
	}
	checkPaid(t, resp, payer.Address(), pb, mb, x402.EVMNetwork(sidecartest.ChainID))
}

func TestGatewayPays(t *testing.T) {
	payer := localPayer(t, 2)
	sc := startSidecar(t, sidecar.Config{Payer: payer})

	t.Run("v1 GET", func(t *testing.T) {
		pb, mb := balance(t, payer.Address()), balance(t, env.Merchant)
		resp, body := get(t, nil, sc.URL+"/"+env.URL+sidecartest.PathV1Weather)
		if resp.StatusCode != 200 || string(body) != sidecartest.WeatherBody {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
		checkPaid(t, resp, payer.Address(), pb, mb, "base-sepolia")
	})
	t.Run("v2 POST body replayed", func(t *testing.T) {
		pb, mb := balance(t, payer.Address()), balance(t, env.Merchant)
		const payload = `{"question":"what is the weather?"}`
		req, err := http.NewRequest(http.MethodPost, sc.URL+"/"+env.URL+sidecartest.PathEcho, strings.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, body := do(t, nil, req)
		if resp.StatusCode != 200 || string(body) != payload {
			t.Fatalf("status %d body %q", resp.StatusCode, body)
		}
		checkPaid(t, resp, payer.Address(), pb, mb, x402.EVMNetwork(sidecartest.ChainID))
	})
	t.Run("percent-encoded target", func(t *testing.T) {
		resp, body := get(t, nil, sc.URL+"/"+url.PathEscape(env.URL+sidecartest.PathHeaders))
		if resp.StatusCode != 200 || resp.Header.Get(sidecar.HeaderPayment) != "" {
			t.Fatalf("status %d, payment %q, body %s", resp.StatusCode, resp.Header.Get(sidecar.HeaderPayment), body)
		}
	})
}

// denyingPayer refuses every payment like the fleetkey API refusing under policy.
type denyingPayer struct{ calls int }

type denialError struct{ reason, rule string }

func (e *denialError) Error() string {
	return "payment denied by policy: " + e.reason
}
func (e *denialError) DenialReason() (string, string) { return e.reason, e.rule }

func (p *denyingPayer) Pay(context.Context, *x402.PaymentRequest) (*x402.Payment, error) {
	p.calls++
	return nil, fmt.Errorf("sdk payer: %w", &denialError{"budget_exceeded", "fleet.daily"})
}

func TestDeniedPayment(t *testing.T) {
	p := &denyingPayer{}
	sc := startSidecar(t, sidecar.Config{Payer: p})
	mb := balance(t, env.Merchant)
	for _, mode := range []string{"gateway", "proxy"} {
		t.Run(mode, func(t *testing.T) {
			var resp *http.Response
			var body []byte
			if mode == "gateway" {
				resp, body = get(t, nil, sc.URL+"/"+env.URL+sidecartest.PathWeather)
			} else {
				resp, body = get(t, proxyClient(t, sc.URL), env.URL+sidecartest.PathWeather)
			}
			e := decodeError(t, resp, body, http.StatusForbidden, sidecar.CodePaymentDenied)
			if e.Error.Reason != "budget_exceeded" || e.Error.Rule != "fleet.daily" || !strings.Contains(e.Error.Message, "denied by policy") {
				t.Errorf("denial %+v", e.Error)
			}
		})
	}
	if p.calls != 2 {
		t.Errorf("payer asked %d times, want 2", p.calls)
	}
	if got := balance(t, env.Merchant); got.Cmp(mb) != 0 {
		t.Errorf("merchant balance moved on a denial: %s → %s", mb, got)
	}
}

// plainErrPayer fails without a denial reason.
type plainErrPayer struct{}

func (plainErrPayer) Pay(context.Context, *x402.PaymentRequest) (*x402.Payment, error) {
	return nil, errors.New("fleetkey api unreachable")
}

func TestPayerErrorWithoutReason(t *testing.T) {
	sc := startSidecar(t, sidecar.Config{Payer: plainErrPayer{}})
	resp, body := get(t, nil, sc.URL+"/"+env.URL+sidecartest.PathWeather)
	e := decodeError(t, resp, body, http.StatusForbidden, sidecar.CodePaymentDenied)
	if e.Error.Reason != "payer_error" || !strings.Contains(e.Error.Message, "fleetkey api unreachable") {
		t.Errorf("answer %+v", e.Error)
	}
}

// An unfunded payer's payment is refused by the resource server (the facilitator finds no
// balance): the 402 comes back with the reason in X-Fleetkey-Payment-Error and no receipt.
func TestServerRejectsPayment(t *testing.T) {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	payer := exact.NewLocalKeyPayer(k)
	defer payer.Destroy()
	sc := startSidecar(t, sidecar.Config{Payer: payer})
	resp, _ := get(t, nil, sc.URL+"/"+env.URL+sidecartest.PathWeather)
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("status %d, want 402", resp.StatusCode)
	}
	if e := resp.Header.Get(sidecar.HeaderPaymentError); !strings.Contains(e, "rejected") || !strings.Contains(e, "insufficient") {
		t.Errorf("payment error header %q", e)
	}
	if resp.Header.Get(sidecar.HeaderPayment) != "" {
		t.Error("receipt on a rejected payment")
	}
	if resp.Header.Get(x402.HeaderPaymentRequired) == "" {
		t.Error("the server's 402 demand was not passed through")
	}
}

func TestConnectRefused(t *testing.T) {
	sc := startSidecar(t, sidecar.Config{Payer: &denyingPayer{}})
	conn, err := net.Dial("tcp", strings.TrimPrefix(sc.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	e := decodeError(t, resp, body, http.StatusMethodNotAllowed, sidecar.CodeMethodNotAllowed)
	if !strings.Contains(e.Error.Message, "gateway") {
		t.Errorf("message does not point to the gateway form: %s", e.Error.Message)
	}
}

func TestOversizeBody(t *testing.T) {
	payer := &denyingPayer{}
	sc := startSidecar(t, sidecar.Config{Payer: payer, MaxBody: 1000})
	target := sc.URL + "/" + env.URL + sidecartest.PathEcho
	t.Run("content-length", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(strings.Repeat("a", 1001)))
		resp, body := do(t, nil, req)
		decodeError(t, resp, body, http.StatusRequestEntityTooLarge, sidecar.CodeBodyTooLarge)
	})
	t.Run("chunked", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, target, io.MultiReader(strings.NewReader(strings.Repeat("a", 1001))))
		req.ContentLength = -1
		resp, body := do(t, nil, req)
		decodeError(t, resp, body, http.StatusRequestEntityTooLarge, sidecar.CodeBodyTooLarge)
	})
	t.Run("at the limit", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(strings.Repeat("a", 1000)))
		resp, body := do(t, nil, req)
		// The body is accepted and the 402 reaches the (denying) payer.
		decodeError(t, resp, body, http.StatusForbidden, sidecar.CodePaymentDenied)
	})
	if payer.calls != 1 {
		t.Errorf("payer asked %d times, want 1", payer.calls)
	}
}

func TestUpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	sc := startSidecar(t, sidecar.Config{Payer: &denyingPayer{}})
	resp, body := get(t, nil, sc.URL+"/"+dead+"/weather")
	decodeError(t, resp, body, http.StatusBadGateway, sidecar.CodeUpstreamUnreachable)
	resp, body = get(t, proxyClient(t, sc.URL), dead+"/weather")
	decodeError(t, resp, body, http.StatusBadGateway, sidecar.CodeUpstreamUnreachable)
}

// blockingPayer waits for its context, like a payment waiting for an approval that never comes.
type blockingPayer struct{}

func (blockingPayer) Pay(ctx context.Context, _ *x402.PaymentRequest) (*x402.Payment, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("waiting for approval: %w", ctx.Err())
}

func TestTimeout(t *testing.T) {
	sc := startSidecar(t, sidecar.Config{Payer: blockingPayer{}, Timeout: 300 * time.Millisecond})
	resp, body := get(t, nil, sc.URL+"/"+env.URL+sidecartest.PathWeather)
	e := decodeError(t, resp, body, http.StatusGatewayTimeout, sidecar.CodeTimeout)
	if !strings.Contains(e.Error.Message, "approval") {
		t.Errorf("message %q", e.Error.Message)
	}
}

// What reaches the resource server: the client's own headers, without hop-by-hop headers,
// without X-Fleetkey-*, and nothing the sidecar holds.
func TestForwardedHeaders(t *testing.T) {
	sc := startSidecar(t, sidecar.Config{Payer: localPayer(t, 3)})
	req, _ := http.NewRequest(http.MethodGet, sc.URL+"/"+env.URL+sidecartest.PathHeaders, nil)
	req.Header.Set("Authorization", "Bearer resource-api-key")
	req.Header.Set("Connection", "X-Drop-Me")
	req.Header.Set("X-Drop-Me", "1")
	req.Header.Set("Proxy-Authorization", "Basic c2VjcmV0")
	req.Header.Set("X-Fleetkey-Payment", "forged")
	req.Header.Set("X-Agent-Trace", "abc")
	resp, body := do(t, nil, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	var seen map[string]string
	if err := json.Unmarshal(body, &seen); err != nil {
		t.Fatal(err)
	}
	if seen["Authorization"] != "Bearer resource-api-key" || seen["X-Agent-Trace"] != "abc" {
		t.Errorf("client headers lost: %v", seen)
	}
	for _, h := range []string{"X-Drop-Me", "Proxy-Authorization", "X-Fleetkey-Payment", "Connection"} {
		if _, ok := seen[h]; ok {
			t.Errorf("%s forwarded: %v", h, seen)
		}
	}
	if !strings.Contains(seen["Via"], "fleetkey-sidecar") {
		t.Errorf("no Via: %v", seen)
	}
}

// A resource server cannot forge the sidecar's receipt headers.
func TestUpstreamCannotForgeReceipt(t *testing.T) {
	forger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(sidecar.HeaderPayment, "amount=0; asset=x; pay_to=x; network=x; tx=0xforged")
		w.Header().Set(sidecar.HeaderPaymentError, "forged")
		io.WriteString(w, "free")
	}))
	defer forger.Close()
	sc := startSidecar(t, sidecar.Config{Payer: &denyingPayer{}})
	resp, body := get(t, nil, sc.URL+"/"+forger.URL+"/")
	if resp.StatusCode != 200 || string(body) != "free" {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if v := resp.Header.Get(sidecar.HeaderPayment) + resp.Header.Get(sidecar.HeaderPaymentError); v != "" {
		t.Errorf("forged header passed through: %q", v)
	}
}

func TestRefusals(t *testing.T) {
	payer := &denyingPayer{}
	sc := startSidecar(t, sidecar.Config{Payer: payer})
	weather := env.URL + sidecartest.PathWeather
	for _, tc := range []struct {
		name   string
		url    string
		mod    func(*http.Request)
		status int
		code   string
	}{
		{"client payment header", sc.URL + "/" + weather, func(r *http.Request) { r.Header.Set("PAYMENT-SIGNATURE", "eyJ9") }, 400, sidecar.CodeBadRequest},
		{"client v1 payment header", sc.URL + "/" + weather, func(r *http.Request) { r.Header.Set("X-PAYMENT", "eyJ9") }, 400, sidecar.CodeBadRequest},
		{"not a gateway path", sc.URL + "/weather", nil, 400, sidecar.CodeBadRequest},
		{"root", sc.URL + "/", nil, 400, sidecar.CodeBadRequest},
		{"other scheme", sc.URL + "/ftp://example.com/x", nil, 400, sidecar.CodeBadRequest},
		{"no host", sc.URL + "/https:///x", nil, 400, sidecar.CodeBadRequest},
		{"browser page", sc.URL + "/" + weather, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, 403, sidecar.CodeForbidden},
		{"rebinding host", sc.URL + "/" + weather, func(r *http.Request) { r.Host = "attacker.example:80" }, 403, sidecar.CodeForbidden},
		{"loop", sc.URL + "/" + sc.URL + "/" + weather, nil, http.StatusLoopDetected, sidecar.CodeLoopDetected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.mod != nil {
				tc.mod(req)
			}
			resp, body := do(t, nil, req)
			decodeError(t, resp, body, tc.status, tc.code)
		})
	}
	if payer.calls != 0 {
		t.Errorf("payer asked %d times for refused requests", payer.calls)
	}
}

func TestHealthz(t *testing.T) {
	payer := &denyingPayer{}
	sc := startSidecar(t, sidecar.Config{Payer: payer})
	resp, body := get(t, nil, sc.URL+"/healthz")
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` || payer.calls != 0 {
		t.Errorf("status %d body %s", resp.StatusCode, body)
	}
}

func TestLargeAnswerStreamed(t *testing.T) {
	sc := startSidecar(t, sidecar.Config{Payer: &denyingPayer{}})
	resp, body := get(t, nil, sc.URL+"/"+env.URL+sidecartest.PathBig)
	if resp.StatusCode != 200 || len(body) != sidecartest.BigBody {
		t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
	}
}

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:8403", false, true},
		{"localhost:8403", false, true},
		{"[::1]:8403", false, true},
		{"127.0.0.2:0", false, true},
		{":8403", false, false},
		{"0.0.0.0:8403", false, false},
		{"192.168.1.5:8403", false, false},
		{"0.0.0.0:8403", true, true},
		{"127.0.0.1", false, false},
	} {
		err := sidecar.CheckListen(tc.addr, tc.remote)
		if (err == nil) != tc.ok {
			t.Errorf("CheckListen(%q, %v) = %v", tc.addr, tc.remote, err)
		}
	}
}

func TestNewRefusesNoPayer(t *testing.T) {
	if _, err := sidecar.New(sidecar.Config{}); err == nil {
		t.Error("New without a payer succeeded")
	}
}

func TestDenialOf(t *testing.T) {
	for _, tc := range []struct {
		err          error
		reason, rule string
	}{
		{fmt.Errorf("x402: pay: %w", &sdk.APIError{Status: 403, Code: sdk.CodePaymentDenied, Reason: "payee_not_allowed", Rule: "group.payees"}), "payee_not_allowed", "group.payees"},
		{fmt.Errorf("x402: pay: %w", &sdk.APIError{Status: 401, Code: sdk.CodeUnauthenticated}), "unauthenticated", ""},
		{fmt.Errorf("wait: %w", sdk.ErrApprovalPending), "approval_pending", ""},
		{fmt.Errorf("wait: %w", sdk.ErrNotApproved), "not_approved", ""},
		{&denialError{"r", "x.y"}, "r", "x.y"},
		{errors.New("boom"), "payer_error", ""},
	} {
		if r, ru := sidecar.DenialOf(tc.err); r != tc.reason || ru != tc.rule {
			t.Errorf("DenialOf(%v) = %q, %q; want %q, %q", tc.err, r, ru, tc.reason, tc.rule)
		}
	}
}
