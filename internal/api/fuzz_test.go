package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/fleetkey/fleetkey/x402"
)

// FuzzPaymentRequest: whatever the body and Idempotency-Key header, the decoder
// never panics and answers either a request the service can take (version 1 or
// 2, a demand, a key) or a 400/413 *Error, never anything a client would see as
// the server's fault.
func FuzzPaymentRequest(f *testing.F) {
	demand, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: resourceURL},
		Accepts: []x402.PaymentRequirementsV2{requirement("10")}})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(map[string]any{"x402_version": 2, "payment_required": demand, "resource_url": resourceURL, "idempotency_key": "k"})
	f.Add(good, "")
	f.Add(good, "k")
	f.Add(good, "other")
	f.Add([]byte(`{"x402_version":1,"payment_required":{"x402Version":1,"accepts":[]},"resource_url":"https://a.example/x","method":"POST","preferred":0}`), "key-1")
	f.Add([]byte(`{"x402_version":2,"payment_required":"","resource_url":"x","idempotency_key":"k"}`), "")
	f.Add([]byte(`{"x402_version":2.5}`), "")
	f.Add([]byte(`{"x402_version":2,"unknown":1}`), "")
	f.Add([]byte(`{"preferred":-1}`), "")
	f.Add([]byte(`{}{}`), "")
	f.Add([]byte(`[1,2]`), "")
	f.Add([]byte(`null`), "")
	f.Add([]byte(`"str"`), "")
	f.Add([]byte(``), "")
	f.Add([]byte(`{"x402_version":2,"payment_required":"\u00e9","resource_url":"https://x","idempotency_key":"\ud800"}`), "")
	f.Add(bytes.Repeat([]byte(`[`), 5000), "")
	f.Fuzz(func(t *testing.T, body []byte, headerKey string) {
		const limit = 4 << 10
		req, e := decodePaymentRequest(http.MaxBytesReader(nil, readCloser{bytes.NewReader(body)}, limit), headerKey)
		if e != nil {
			if e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d for %q: %v", e.Status, body, e)
			}
			if e.Status == http.StatusRequestEntityTooLarge && len(body) <= limit {
				t.Fatalf("413 for %d bytes", len(body))
			}
			if e.Message == "" || e.Code == "" {
				t.Fatalf("error without a public message: %+v", e)
			}
			return
		}
		if req.Version != 1 && req.Version != 2 || len(req.Raw) == 0 || req.IdempotencyKey == "" || req.ResourceURL == "" || !isMethodToken(req.Method) || req.Method == "" {
			t.Fatalf("accepted an incomplete request %+v from %q", req, body)
		}
		if headerKey != "" && req.IdempotencyKey != headerKey {
			t.Fatalf("key %q, header %q", req.IdempotencyKey, headerKey)
		}
		if req.Preferred != nil && *req.Preferred < 0 {
			t.Fatalf("negative preferred")
		}
		if len(body) > limit {
			t.Fatalf("accepted %d bytes over a %d limit", len(body), limit)
		}
		if req.Version == 1 && req.Raw[0] != '{' {
			t.Fatalf("v1 demand %q is not an object", req.Raw)
		}
	})
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
