package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
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

// FuzzOperatorBody: whatever the body, the strict decoder of every operator request type never
// panics and either refuses with a 400/413 that has a code and a message, or accepts exactly one
// JSON object whose fields are all known: encoding what it decoded and decoding that again gives
// the same value.
func FuzzOperatorBody(f *testing.F) {
	for _, s := range []string{
		`{"name":"ops","role":"auditor","expires_at":"2030-01-01T00:00:00Z"}`,
		`{"name":"f","treasury":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}`,
		`{"fleet_id":"flt_1","group_id":"grp_1","agents":[{"external_id":"a","name":"A","labels":{"k":"v"}}]}`,
		`{"name":"p","source":"version: 1\nname: p\n"}`,
		`{"expires_at":""}`,
		`{}`, `{}{}`, `[]`, `null`, `""`, ``, `{"name":1}`, `{"agents":[{"x":1}]}`, `{"name":"\ud800"}`,
		`{"name":"a","name":"b"}`, `{"labels":{"a":1}}`,
	} {
		for kind := range uint8(6) {
			f.Add(kind, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		var v any
		switch kind % 6 {
		case 0:
			v = &createCredentialRequest{}
		case 1:
			v = &createFleetRequest{}
		case 2:
			v = &createGroupRequest{}
		case 3:
			v = &provisionRequest{}
		case 4:
			v = &applyPolicyRequest{}
		default:
			v = &issueAgentCredentialRequest{}
		}
		const limit = 4 << 10
		e := decodeStrict(http.MaxBytesReader(nil, readCloser{bytes.NewReader(body)}, limit), v, kind%6 == 5)
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
		if len(body) > limit {
			t.Fatalf("accepted %d bytes over a %d limit", len(body), limit)
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		w := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if e := decodeStrict(bytes.NewReader(again), w, false); e != nil {
			t.Fatalf("re-decoding %s: %v", again, e)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("round trip of %q: %+v then %+v", body, v, w)
		}
	})
}
