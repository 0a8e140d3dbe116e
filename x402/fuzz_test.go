package x402_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/fleetkey/fleetkey/x402"
)

// roundTrip checks the decoders' round-trip property: whatever decodes
// re-encodes to a header that decodes to the same value, and encoding is a
// fixed point after one pass (the first pass may only compact whitespace).
func roundTrip[T any](t *testing.T, s string, decode func(string) (*T, error)) {
	v1, err := decode(s)
	if err != nil {
		return
	}
	s2, err := x402.EncodeHeader(v1)
	if err != nil {
		t.Fatalf("decoded value does not encode: %v", err)
	}
	v2, err := decode(s2)
	if err != nil {
		t.Fatalf("re-encoded header does not decode: %v\n%q", err, s2)
	}
	s3, err := x402.EncodeHeader(v2)
	if err != nil || s3 != s2 {
		t.Fatalf("encoding is not stable:\n%q\n%q", s2, s3)
	}
	v3, err := decode(s3)
	if err != nil || !reflect.DeepEqual(v2, v3) {
		t.Fatalf("decode(encode(v)) != v:\n%+v\n%+v", v2, v3)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func seedHeaders(f *testing.F) {
	for _, s := range []string{
		b64(paymentRequiredJSONSeed), b64(v2Demand), b64(v1Demand),
		b64(`{"x402Version":2,"resource":{"url":"u"},"accepted":{"scheme":"exact","network":"eip155:1","amount":"1","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":1,"extra":{"name":"n","version":"1"}},"payload":{"signature":"0x00","authorization":{"from":"0x1","to":"0x2","value":"1","validAfter":"0","validBefore":"9","nonce":"0x00"}},"extensions":{"e":{}}}`),
		b64(`{"x402Version":1,"scheme":"exact","network":"base-sepolia","payload":{"signature":"0x","authorization":{}}}`),
		b64(`{"success":true,"transaction":"0xab","network":"eip155:1337","payer":"0x1","amount":"5","extensions":{}}`),
		b64(`{"success":false,"errorReason":"x","transaction":"","network":"base"}`),
		"", "=", "eyJ9", "e30", "-_", "AAAA====",
	} {
		f.Add(s)
	}
}

const paymentRequiredJSONSeed = `{"x402Version":2,"error":"e","resource":{"url":"http://x","tags":["a"]},"accepts":[{"scheme":"exact","network":"eip155:1","amount":"1","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":60,"extra":{"name":"USDC","version":"2"},"z":1}],"extensions":{"k":{"info":{},"schema":{}}}}`

func FuzzDecodeHeaderJSON(f *testing.F) {
	seedHeaders(f)
	f.Fuzz(func(t *testing.T, s string) {
		js, err := x402.DecodeHeaderJSON(s)
		if err != nil {
			return
		}
		// Whatever decodes is standard alphabet and re-encodes to the same bytes.
		if back, err := x402.DecodeHeaderJSON(base64.StdEncoding.EncodeToString(js)); err != nil || string(back) != string(js) {
			t.Fatalf("re-encode of %q failed: %v", s, err)
		}
	})
}

func FuzzDecodePaymentRequired(f *testing.F) {
	seedHeaders(f)
	f.Fuzz(func(t *testing.T, s string) { roundTrip(t, s, x402.DecodePaymentRequired) })
}

func FuzzDecodePaymentPayloadV2(f *testing.F) {
	seedHeaders(f)
	f.Fuzz(func(t *testing.T, s string) {
		roundTrip(t, s, func(s string) (*x402.PaymentPayloadV2, error) {
			p, _, err := x402.DecodePaymentPayloadV2(s)
			return p, err
		})
	})
}

func FuzzDecodePaymentPayloadV1(f *testing.F) {
	seedHeaders(f)
	f.Fuzz(func(t *testing.T, s string) {
		roundTrip(t, s, func(s string) (*x402.PaymentPayloadV1, error) {
			p, _, err := x402.DecodePaymentPayloadV1(s)
			return p, err
		})
	})
}

func FuzzDecodeSettleResponse(f *testing.F) {
	seedHeaders(f)
	f.Fuzz(func(t *testing.T, s string) { roundTrip(t, s, x402.DecodeSettleResponse) })
}

// FuzzPaymentRequiredV1Body covers the v1 402 body a client parses.
func FuzzPaymentRequiredV1Body(f *testing.F) {
	f.Add(v1Demand)
	f.Add(`{"x402Version":1,"accepts":[{}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		decode := func(s string) (*x402.PaymentRequiredV1, error) {
			var p x402.PaymentRequiredV1
			if err := x402.DecodeHeader(s, &p); err != nil {
				return nil, err
			}
			return &p, p.Validate()
		}
		roundTrip(t, b64(body), decode)
	})
}

func FuzzEVMChainID(f *testing.F) {
	for _, s := range []string{"eip155:1337", "base-sepolia", "eip155:01", "solana:abc", "eip155:18446744073709551615"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := x402.EVMChainID(s)
		if err != nil {
			return
		}
		if name, ok := x402.V1NetworkName(id); ok && name == s {
			return
		}
		if x402.EVMNetwork(id) != s {
			t.Fatalf("EVMChainID(%q) = %d but EVMNetwork gives %q", s, id, x402.EVMNetwork(id))
		}
	})
}

// FuzzMiddlewarePaymentHeader sends arbitrary payment headers to both
// versions of a paid route: the answer is always a clean 402 and nothing is
// settled.
func FuzzMiddlewarePaymentHeader(f *testing.F) {
	seedHeaders(f)
	fac := newFakeFacilitator()
	mw, err := x402.NewMiddleware(x402.MiddlewareConfig{Facilitator: fac, Routes: paidRoutes()})
	if err != nil {
		f.Fatal(err)
	}
	h := mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("content")) }))
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []struct{ path, header string }{{"/weather", x402.HeaderPaymentSignature}, {"/v1/weather", x402.HeaderXPayment}} {
			req := httptest.NewRequest("GET", c.path, nil)
			req.Header.Set(c.header, s)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusPaymentRequired {
				t.Fatalf("%s with %q: status %d", c.path, s, rec.Code)
			}
		}
		if fac.settles.Load() != 0 {
			t.Fatal("settled a fuzzed payment")
		}
	})
}

// FuzzVerifyRequest covers the facilitator request body.
func FuzzVerifyRequest(f *testing.F) {
	f.Add(`{"x402Version":2,"paymentPayload":{"x402Version":2},"paymentRequirements":{"scheme":"exact"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		var r x402.VerifyRequest
		if json.Unmarshal([]byte(body), &r) != nil {
			return
		}
		r.PayloadVersion()
		r.PayloadV1()
		r.PayloadV2()
		r.RequirementsV1()
		r.RequirementsV2()
	})
}
