package x402_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/x402"
)

func TestFacilitatorClient(t *testing.T) {
	type answer struct {
		status int
		body   string
	}
	var verify, settle answer
	var gotBody atomic.Value
	var gotAuth atomic.Value
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody.Store(string(b))
		gotAuth.Store(r.Header.Get("Authorization"))
		a := verify
		if r.URL.Path == "/base/settle" {
			a = settle
		}
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" {
			a = answer{405, ""}
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	defer ts.Close()
	fc, err := x402.NewFacilitatorClient(ts.URL+"/base/", x402.WithFacilitatorHeaders(func(_ context.Context, ep string) (http.Header, error) {
		return http.Header{"Authorization": {"Bearer " + ep}}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := x402.NewVerifyRequest(json.RawMessage(`{"x402Version":2,"payload":{}}`), map[string]string{"scheme": "exact"})

	cases := []struct {
		name    string
		a       answer
		wantErr bool
		valid   bool
		reason  string
	}{
		{"valid", answer{200, `{"isValid":true,"payer":"0x1"}`}, false, true, ""},
		{"invalid is an answer", answer{200, `{"isValid":false,"invalidReason":"invalid_exact_evm_signature","invalidMessage":"m","extra":{}}`}, false, false, "invalid_exact_evm_signature"},
		{"non-2xx with isValid is an answer", answer{400, `{"isValid":false,"invalidReason":"invalid_payload"}`}, false, false, "invalid_payload"},
		{"500 error", answer{500, `{"error":"No facilitator registered for scheme: exact and network: eip155:999"}`}, true, false, ""},
		{"2xx without isValid", answer{200, `{"ok":true}`}, true, false, ""},
		{"2xx not json", answer{200, `<html>`}, true, false, ""},
		{"isValid not bool", answer{200, `{"isValid":"yes"}`}, true, false, ""},
		{"too large", answer{200, `{"isValid":true,"pad":"` + strings.Repeat("x", x402.DefaultFacilitatorResponseSize) + `"}`}, true, false, ""},
	}
	for _, c := range cases {
		t.Run("verify "+c.name, func(t *testing.T) {
			verify = c.a
			r, err := fc.Verify(context.Background(), req)
			if c.wantErr {
				if err == nil {
					t.Fatalf("no error, answer %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.IsValid != c.valid || r.InvalidReason != c.reason {
				t.Fatalf("answer %+v", r)
			}
		})
	}
	var sent x402.VerifyRequest
	json.Unmarshal([]byte(gotBody.Load().(string)), &sent)
	if sent.X402Version != 2 || string(sent.PaymentPayload) != `{"x402Version":2,"payload":{}}` || string(sent.PaymentRequirements) != `{"scheme":"exact"}` {
		t.Fatalf("sent %s", gotBody.Load())
	}
	if gotAuth.Load() != "Bearer verify" {
		t.Fatalf("auth header %v", gotAuth.Load())
	}

	settle = answer{200, `{"success":false,"errorReason":"invalid_exact_evm_nonce_already_used","transaction":"","network":"eip155:1337"}`}
	s, err := fc.Settle(context.Background(), req)
	if err != nil || s.Success || s.ErrorReason != "invalid_exact_evm_nonce_already_used" {
		t.Fatalf("settle %+v, %v", s, err)
	}
	settle = answer{502, `bad gateway`}
	if _, err := fc.Settle(context.Background(), req); err == nil {
		t.Fatal("502 without success accepted")
	}
}

func TestFacilitatorClientSupportedAndTimeouts(t *testing.T) {
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/supported":
			if n.Add(1) < 3 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(429)
				return
			}
			io.WriteString(w, `{"kinds":[{"x402Version":2,"scheme":"exact","network":"eip155:1337"}],"extensions":[],"signers":{"eip155:*":["0x1"]}}`)
		case "/verify":
			time.Sleep(300 * time.Millisecond)
			io.WriteString(w, `{"isValid":true}`)
		}
	}))
	defer ts.Close()
	fc, _ := x402.NewFacilitatorClient(ts.URL, x402.WithFacilitatorTimeout(100*time.Millisecond))
	s, err := fc.Supported(context.Background())
	if err != nil || !s.Supports(2, "exact", "eip155:1337") || n.Load() != 3 {
		t.Fatalf("supported %+v, %v after %d calls", s, err, n.Load())
	}
	req, _ := x402.NewVerifyRequest(json.RawMessage(`{"x402Version":2}`), struct{}{})
	if _, err := fc.Verify(context.Background(), req); err == nil {
		t.Fatal("slow facilitator did not time out")
	}
	ts.Close()
	if _, err := fc.Supported(context.Background()); err == nil {
		t.Fatal("closed facilitator answered")
	}
	for _, u := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := x402.NewFacilitatorClient(u); err == nil {
			t.Errorf("NewFacilitatorClient(%q) accepted", u)
		}
	}
}

// The HTTP client and the middleware together: an unreachable facilitator
// is a 502, not a 402 or a 500.
func TestMiddlewareWithUnreachableFacilitator(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	fc, _ := x402.NewFacilitatorClient(url, x402.WithFacilitatorTimeout(time.Second))
	ts, _ := newApp(t, fc)
	resp, err := x402.NewClient(testPayer(t)).Get(ts.URL + "/weather")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
