package facilitator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/x402"
)

func newServer(t *testing.T, f *Facilitator) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// TestHandlerThroughFacilitatorClient round-trips the wire JSON through x402's HTTP client.
func TestHandlerThroughFacilitatorClient(t *testing.T) {
	f := newFac(t, nil)
	srv := newServer(t, f)
	c, err := x402.NewFacilitatorClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)

	s, err := c.Supported(ctx)
	if err != nil {
		t.Fatalf("Supported: %v", err)
	}
	if !s.Supports(2, "exact", "eip155:84532") || !s.Supports(1, "exact", "base-sepolia") || len(s.Kinds) != 2 {
		t.Errorf("Supported kinds = %+v", s.Kinds)
	}
	if got := s.Signers["eip155:*"]; len(got) != 1 || got[0] != f.Address().Hex() {
		t.Errorf("signers = %v", s.Signers)
	}

	fx := newFixture(t)
	req := fx.request(t)
	vr, err := c.Verify(ctx, req)
	if err != nil || !vr.IsValid || vr.Payer != fx.auth.From {
		t.Fatalf("Verify = %+v, %v", vr, err)
	}
	sr, err := c.Settle(ctx, req)
	if err != nil || !sr.Success || sr.Network != "eip155:84532" || sr.Transaction == "" {
		t.Fatalf("Settle = %+v, %v", sr, err)
	}
	// A replay is an answer, not an error.
	vr, err = c.Verify(ctx, req)
	if err != nil || vr.IsValid || vr.InvalidReason != ReasonNonceUsed || vr.Payer != fx.auth.From {
		t.Fatalf("replayed Verify = %+v, %v", vr, err)
	}
	sr, err = c.Settle(ctx, req)
	if err != nil || sr.Success || sr.ErrorReason != ReasonNonceUsed || sr.Transaction != "" {
		t.Fatalf("replayed Settle = %+v, %v", sr, err)
	}

	// An unserved network is the reference's 500.
	fx = newFixture(t)
	fx.network, fx.acceptedNetwork = "eip155:999", "eip155:999"
	_, err = c.Verify(ctx, fx.request(t))
	if err == nil || !strings.Contains(err.Error(), "status 500: No facilitator registered for scheme: exact and network: eip155:999") {
		t.Fatalf("Verify on eip155:999: %v", err)
	}
}

func TestHandlerStatusConventions(t *testing.T) {
	f := newFac(t, nil)
	srv := newServer(t, f)
	fx := newFixture(t)
	good, err := json.Marshal(fx.request(t))
	if err != nil {
		t.Fatal(err)
	}
	unserved := newFixture(t)
	unserved.network, unserved.acceptedNetwork = "eip155:999", "eip155:999"
	unservedBody, _ := json.Marshal(unserved.request(t))

	tests := []struct {
		name, method, path, body string
		status                   int
		errText                  string
	}{
		{"verify GET", "GET", "/verify", "", 405, "method not allowed"},
		{"settle PUT", "PUT", "/settle", string(good), 405, "method not allowed"},
		{"supported POST", "POST", "/supported", "{}", 405, "method not allowed"},
		{"unknown path", "GET", "/nope", "", 404, "not found"},
		{"not JSON", "POST", "/verify", "hello", 400, "not a JSON object"},
		{"JSON array", "POST", "/verify", "[1,2]", 400, "not a JSON object"},
		{"empty object", "POST", "/verify", "{}", 400, "Missing paymentPayload or paymentRequirements"},
		{"no requirements", "POST", "/settle", `{"x402Version":2,"paymentPayload":{"x402Version":2}}`, 400, "Missing paymentPayload or paymentRequirements"},
		{"null payload", "POST", "/verify", `{"paymentPayload":null,"paymentRequirements":{}}`, 400, "Missing paymentPayload or paymentRequirements"},
		{"payload without version", "POST", "/verify", `{"paymentPayload":{},"paymentRequirements":{}}`, 400, "missing x402Version"},
		{"payload wrong types", "POST", "/verify", `{"paymentPayload":{"x402Version":2,"accepted":"x"},"paymentRequirements":{}}`, 400, "bad request"},
		{"version 3", "POST", "/verify", `{"paymentPayload":{"x402Version":3},"paymentRequirements":{}}`, 500, "No facilitator registered for x402 version: 3"},
		{"unserved network", "POST", "/verify", string(unservedBody), 500, "No facilitator registered for scheme: exact and network: eip155:999"},
		{"unserved network settle", "POST", "/settle", string(unservedBody), 500, "No facilitator registered for scheme: exact and network: eip155:999"},
		{"too large", "POST", "/verify", `{"paymentPayload":"` + strings.Repeat("a", DefaultMaxRequestBody) + `"}`, 413, "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, tc.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(b, &e); err != nil || !strings.Contains(e.Error, tc.errText) {
				t.Errorf("body %s, want error containing %q", b, tc.errText)
			}
		})
	}

	// A payment problem is 200 with isValid false, and the body has exactly the reference's fields.
	bad := newFixture(t)
	bad.extra = map[string]any{}
	body, _ := json.Marshal(bad.request(t))
	resp, err := http.Post(srv.URL+"/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if m["isValid"] != false || m["invalidReason"] != ReasonMissingDomain || m["payer"] != bad.auth.From {
		t.Errorf("body %v", m)
	}
}
