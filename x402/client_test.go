package x402_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// Ganache deterministic account 1: a public test key.
const testKeyHex = "6cbed15c793ce57650b9877cf6fa156fbef513c4e6134f022a85b1ffdd59b2a1"

func testPayer(t *testing.T) *exact.LocalKeyPayer {
	t.Helper()
	key, err := crypto.HexToECDSA(testKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	return exact.NewLocalKeyPayer(key)
}

// countingPayer records every Pay call.
type countingPayer struct {
	inner x402.Payer
	calls atomic.Int32
	last  *x402.PaymentRequest
	err   error
	edit  func(*x402.Payment)
}

func (c *countingPayer) Pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	c.calls.Add(1)
	c.last = req
	if c.err != nil {
		return nil, c.err
	}
	p, err := c.inner.Pay(ctx, req)
	if err == nil && c.edit != nil {
		c.edit(p)
	}
	return p, err
}

const v2Demand = `{"x402Version":2,"error":"Payment required","resource":{"url":"http://x/r","description":"d","mimeType":"application/json"},"accepts":[{"scheme":"exact","network":"eip155:1337","amount":"10000","asset":"0xe78a0f7e598cc8b0bb87894b0f60dd2a88d6a8ab","payTo":"0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b","maxTimeoutSeconds":120,"extra":{"name":"TestUSD","version":"2"}}]}`

const v1Demand = `{"x402Version":1,"error":"X-PAYMENT header is required","accepts":[{"scheme":"exact","network":"base-sepolia","maxAmountRequired":"10000","resource":"http://x/r","description":"","mimeType":"","payTo":"0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b","maxTimeoutSeconds":60,"asset":"0xe78a0f7e598cc8b0bb87894b0f60dd2a88d6a8ab","extra":{"name":"TestUSD","version":"2"}}]}`

// scriptedServer answers 402 until a payment header arrives, then runs
// onPaid; it records every request body it saw.
type scriptedServer struct {
	version  int
	requests atomic.Int32
	bodies   []string
	onPaid   func(w http.ResponseWriter, r *http.Request, header string)
}

func (s *scriptedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	b, _ := io.ReadAll(r.Body)
	s.bodies = append(s.bodies, string(b))
	h := r.Header.Get(x402.HeaderPaymentSignature)
	if s.version == 1 {
		h = r.Header.Get(x402.HeaderXPayment)
	}
	if h != "" {
		s.onPaid(w, r, h)
		return
	}
	if s.version == 1 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(402)
		io.WriteString(w, v1Demand)
		return
	}
	enc, _ := x402.EncodeHeader(json.RawMessage(v2Demand))
	w.Header().Set(x402.HeaderPaymentRequired, enc)
	w.WriteHeader(402)
	io.WriteString(w, "{}")
}

func settleOK(network string) func(w http.ResponseWriter, r *http.Request, header string) {
	return func(w http.ResponseWriter, r *http.Request, header string) {
		s, _ := x402.EncodeHeader(x402.SettleResponse{Success: true, Transaction: "0xabc", Network: network, Payer: "0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0"})
		name := x402.HeaderPaymentResponse
		if network == "base-sepolia" {
			name = x402.HeaderXPaymentResponse
		}
		w.Header().Set(name, s)
		io.WriteString(w, "paid content")
	}
}

func TestClientPaysV2(t *testing.T) {
	var sent *x402.PaymentPayloadV2
	srv := &scriptedServer{version: 2}
	srv.onPaid = func(w http.ResponseWriter, r *http.Request, h string) {
		p, _, err := x402.DecodePaymentPayloadV2(h)
		if err != nil {
			t.Errorf("server could not decode payment: %v", err)
		}
		sent = p
		settleOK("eip155:1337")(w, r, h)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	payer := &countingPayer{inner: testPayer(t)}
	client := x402.NewClient(payer)

	resp, err := client.Post(ts.URL+"/r", "text/plain", strings.NewReader("hello body"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "paid content" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if payer.calls.Load() != 1 || srv.requests.Load() != 2 {
		t.Fatalf("pay calls %d, server requests %d", payer.calls.Load(), srv.requests.Load())
	}
	if srv.bodies[0] != "hello body" || srv.bodies[1] != "hello body" {
		t.Fatalf("bodies %q", srv.bodies)
	}
	// The payer saw the raw header verbatim and the parsed demand.
	enc, _ := x402.EncodeHeader(json.RawMessage(v2Demand))
	if payer.last.Version != 2 || string(payer.last.Raw) != enc || payer.last.V2 == nil || payer.last.Method != "POST" || payer.last.URL != ts.URL+"/r" {
		t.Fatalf("payment request %+v", payer.last)
	}
	// accepted is the advertised requirement, byte for byte (lower-case asset kept).
	var src struct{ Accepts []json.RawMessage }
	json.Unmarshal([]byte(v2Demand), &src)
	if got, _ := json.Marshal(sent.Accepted); !bytes.Equal(got, src.Accepts[0]) {
		t.Fatalf("accepted = %s\nwant %s", got, src.Accepts[0])
	}
	ex, _ := x402.DecodeExactEVMPayload(sent.Payload)
	if ex.Authorization.ValidAfter != "0" || ex.Authorization.To != "0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b" || len(ex.Signature) != 132 {
		t.Fatalf("authorization %+v", ex)
	}
	res := x402.ResultFromResponse(resp)
	if res == nil || res.Err != nil || res.Payment == nil || res.Settlement == nil || res.Settlement.Transaction != "0xabc" {
		t.Fatalf("result %+v", res)
	}
	if s, err := x402.SettlementFromResponse(resp); err != nil || !s.Success {
		t.Fatalf("SettlementFromResponse = %+v, %v", s, err)
	}
}

func TestClientPaysV1(t *testing.T) {
	srv := &scriptedServer{version: 1, onPaid: settleOK("base-sepolia")}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	payer := &countingPayer{inner: testPayer(t)}
	// A body reader without GetBody forces buffering.
	req, _ := http.NewRequest("PUT", ts.URL+"/r", io.NopCloser(strings.NewReader("v1 body")))
	resp, err := x402.NewClient(payer).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || payer.calls.Load() != 1 {
		t.Fatalf("status %d, pay calls %d", resp.StatusCode, payer.calls.Load())
	}
	if string(payer.last.Raw) != v1Demand || payer.last.Version != 1 {
		t.Fatalf("v1 raw body not passed verbatim: %q", payer.last.Raw)
	}
	if srv.bodies[1] != "v1 body" {
		t.Fatalf("retry body %q", srv.bodies[1])
	}
	res := x402.ResultFromResponse(resp)
	if res.Settlement == nil || res.Settlement.Network != "base-sepolia" || res.Payment.Header != x402.HeaderXPayment {
		t.Fatalf("result %+v", res)
	}
}

func TestClientDoesNotPayTwice(t *testing.T) {
	srv := &scriptedServer{version: 2}
	srv.onPaid = func(w http.ResponseWriter, r *http.Request, h string) {
		enc, _ := x402.EncodeHeader(json.RawMessage(strings.Replace(v2Demand, "Payment required", "invalid_exact_evm_signature", 1)))
		w.Header().Set(x402.HeaderPaymentRequired, enc)
		w.WriteHeader(402)
		io.WriteString(w, "{}")
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	payer := &countingPayer{inner: testPayer(t)}
	resp, err := x402.NewClient(payer).Get(ts.URL + "/r")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 402 || payer.calls.Load() != 1 || srv.requests.Load() != 2 {
		t.Fatalf("status %d, pay calls %d, requests %d", resp.StatusCode, payer.calls.Load(), srv.requests.Load())
	}
	res := x402.ResultFromResponse(resp)
	if !errors.Is(res.Err, x402.ErrPaymentRejected) || !strings.Contains(res.Err.Error(), "invalid_exact_evm_signature") {
		t.Fatalf("result error %v", res.Err)
	}
}

func TestClientAlreadyPaidHeaderPassesThrough(t *testing.T) {
	srv := &scriptedServer{version: 2, onPaid: func(w http.ResponseWriter, r *http.Request, h string) { w.WriteHeader(402) }}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	payer := &countingPayer{inner: testPayer(t)}
	for _, h := range []string{x402.HeaderPaymentSignature, x402.HeaderXPayment} {
		req, _ := http.NewRequest("GET", ts.URL+"/r", nil)
		req.Header.Set(h, "eyJ9")
		resp, err := x402.NewClient(payer).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 402 || x402.ResultFromResponse(resp) != nil {
			t.Fatalf("%s: status %d", h, resp.StatusCode)
		}
	}
	if payer.calls.Load() != 0 {
		t.Fatalf("paid %d times for requests that carried a payment", payer.calls.Load())
	}
}

func TestClientRedirectAfterPaymentNotPaidAgain(t *testing.T) {
	mux := http.NewServeMux()
	srv := &scriptedServer{version: 2, onPaid: func(w http.ResponseWriter, r *http.Request, h string) {
		http.Redirect(w, r, "/other", http.StatusFound)
	}}
	other := &scriptedServer{version: 2, onPaid: settleOK("eip155:1337")}
	mux.Handle("/r", srv)
	mux.Handle("/other", other)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	payer := &countingPayer{inner: testPayer(t)}
	resp, err := x402.NewClient(payer).Get(ts.URL + "/r")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 402 || payer.calls.Load() != 1 {
		t.Fatalf("status %d, pay calls %d", resp.StatusCode, payer.calls.Load())
	}
	if res := x402.ResultFromResponse(resp); res == nil || !errors.Is(res.Err, x402.ErrAlreadyPaid) {
		t.Fatalf("result %+v", res)
	}
}

func TestClientPayerFailures(t *testing.T) {
	srv := &scriptedServer{version: 2, onPaid: settleOK("eip155:1337")}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	denied := errors.New("denied by policy")
	cases := map[string]*countingPayer{
		"payer error":  {inner: testPayer(t), err: denied},
		"wrong header": {inner: testPayer(t), edit: func(p *x402.Payment) { p.Header = x402.HeaderXPayment }},
		"empty value":  {inner: testPayer(t), edit: func(p *x402.Payment) { p.Value = "" }},
		"crlf value":   {inner: testPayer(t), edit: func(p *x402.Payment) { p.Value = "a\r\nX-Evil: 1" }},
	}
	for name, payer := range cases {
		t.Run(name, func(t *testing.T) {
			before := srv.requests.Load()
			_, err := x402.NewClient(payer).Get(ts.URL + "/r")
			if err == nil {
				t.Fatal("no error")
			}
			if payer.err != nil && !errors.Is(err, denied) {
				t.Fatalf("payer error not wrapped: %v", err)
			}
			if srv.requests.Load() != before+1 {
				t.Fatal("request resent without a valid payment")
			}
		})
	}
}

func TestClientBodyTooLargeToReplay(t *testing.T) {
	srv := &scriptedServer{version: 2, onPaid: settleOK("eip155:1337")}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	payer := &countingPayer{inner: testPayer(t)}
	client := x402.NewClient(payer, x402.WithMaxReplayBody(4))
	req, _ := http.NewRequest("POST", ts.URL+"/r", io.NopCloser(strings.NewReader("more than four bytes")))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 402 || payer.calls.Load() != 0 || srv.bodies[0] != "more than four bytes" {
		t.Fatalf("status %d, pay calls %d, body %q", resp.StatusCode, payer.calls.Load(), srv.bodies[0])
	}
	if res := x402.ResultFromResponse(resp); res == nil || !errors.Is(res.Err, x402.ErrBodyNotReplayable) {
		t.Fatalf("result %+v", res)
	}
	// With GetBody (strings.Reader via NewRequest) the limit does not apply.
	req, _ = http.NewRequest("POST", ts.URL+"/r", strings.NewReader("more than four bytes"))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || payer.calls.Load() != 1 {
		t.Fatalf("GetBody request: status %d, pay calls %d", resp.StatusCode, payer.calls.Load())
	}
}

func TestClientMalformedDemands(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"bad base64 header": func(w http.ResponseWriter) { w.Header().Set(x402.HeaderPaymentRequired, "%%%"); w.WriteHeader(402) },
		"bad json header": func(w http.ResponseWriter) {
			w.Header().Set(x402.HeaderPaymentRequired, "aGVsbG8=")
			w.WriteHeader(402)
		},
		"empty accepts header": func(w http.ResponseWriter) {
			w.Header().Set(x402.HeaderPaymentRequired, "eyJ4NDAyVmVyc2lvbiI6MiwiYWNjZXB0cyI6W119")
			w.WriteHeader(402)
		},
		"plain 402":    func(w http.ResponseWriter) { w.WriteHeader(402); io.WriteString(w, "pay me") },
		"v2 body only": func(w http.ResponseWriter) { w.WriteHeader(402); io.WriteString(w, v2Demand) },
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w) }))
			defer ts.Close()
			payer := &countingPayer{inner: testPayer(t)}
			resp, err := x402.NewClient(payer).Get(ts.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 402 || payer.calls.Load() != 0 {
				t.Fatalf("status %d, pay calls %d", resp.StatusCode, payer.calls.Load())
			}
			if res := x402.ResultFromResponse(resp); res == nil || res.Err == nil {
				t.Fatalf("no error recorded: %+v", res)
			}
			if name == "plain 402" && string(body) != "pay me" {
				t.Fatalf("body not restored: %q", body)
			}
		})
	}
}

func TestLocalKeyPayerRedacts(t *testing.T) {
	p := testPayer(t)
	for _, s := range []string{p.String(), p.GoString()} {
		if strings.Contains(strings.ToLower(s), testKeyHex[:16]) {
			t.Fatalf("key leaked: %s", s)
		}
	}
	var buf bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		buf.Reset()
		io.WriteString(&buf, strings.ToLower(fmt.Sprintf(verb, p)))
		if strings.Contains(buf.String(), testKeyHex[:16]) || !strings.Contains(buf.String(), "localkeypayer") {
			t.Fatalf("%s printed %q", verb, buf.String())
		}
	}
	p.Destroy()
	srv := &scriptedServer{version: 2, onPaid: settleOK("eip155:1337")}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	if _, err := x402.NewClient(p).Get(ts.URL); err == nil {
		t.Fatal("destroyed payer paid")
	}
}

func TestClientMalformedSettlementHeader(t *testing.T) {
	for _, bad := range []string{"%%%", "eyJ9", "bnVsbA==", "e30="} {
		srv := &scriptedServer{version: 2, onPaid: func(w http.ResponseWriter, r *http.Request, h string) {
			w.Header().Set(x402.HeaderPaymentResponse, bad)
			io.WriteString(w, "content")
		}}
		ts := httptest.NewServer(srv)
		resp, err := x402.NewClient(testPayer(t)).Get(ts.URL)
		ts.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		res := x402.ResultFromResponse(resp)
		if resp.StatusCode != 200 || res == nil || res.Settlement != nil || !errors.Is(res.Err, x402.ErrMalformedHeader) {
			t.Fatalf("%q: status %d result %+v", bad, resp.StatusCode, res)
		}
		if _, err := x402.SettlementFromResponse(resp); !errors.Is(err, x402.ErrMalformedHeader) {
			t.Fatalf("%q: SettlementFromResponse err %v", bad, err)
		}
	}
	resp := &http.Response{Header: http.Header{}}
	if _, err := x402.SettlementFromResponse(resp); !errors.Is(err, x402.ErrNoSettlement) {
		t.Fatalf("no header: %v", err)
	}
}
