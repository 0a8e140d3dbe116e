package signer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/x402"
)

func TestParseDemandV2(t *testing.T) {
	t.Run("x402 encoder", func(t *testing.T) {
		r0, r1 := goodV2(), goodV2()
		r1.Network, r1.Asset = "eip155:8453", baseUSDC.Address.Hex()
		d := demandV2(t, r0, r1)
		if d.Version != 2 || d.V1 != nil || d.V2 == nil || d.Len() != 2 {
			t.Fatalf("demand = %+v", d)
		}
		if d.V2.Resource.URL != "https://api.example/v2/data" || d.V2.Accepts[1].Network != "eip155:8453" {
			t.Fatalf("fields lost: %+v", d.V2)
		}
	})
	t.Run("x402.md 2.5 trace", func(t *testing.T) {
		d, err := ParseDemand(2, traceHeader(t))
		if err != nil {
			t.Fatal(err)
		}
		if d.Len() != 1 || d.V2.Error != "Payment required" || d.V2.Resource.URL != "http://127.0.0.1:4021/weather" {
			t.Fatalf("demand = %+v", d.V2)
		}
		var src struct{ Accepts []json.RawMessage }
		if err := json.Unmarshal(readTestdata(t, "payment-required-v2-trace.json"), &src); err != nil {
			t.Fatal(err)
		}
		if got := d.V2.Accepts[0].Raw(); !bytes.Equal(got, src.Accepts[0]) {
			t.Fatalf("requirement raw = %s, want %s", got, src.Accepts[0])
		}
	})
}

func TestParseDemandV1(t *testing.T) {
	t.Run("x402 types", func(t *testing.T) {
		d := demandV1(t, goodV1())
		if d.Version != 1 || d.V2 != nil || d.Len() != 1 || d.V1.Accepts[0].Resource != "https://api.example/v1/data" {
			t.Fatalf("demand = %+v", d)
		}
	})
	t.Run("x402.md 2.2 body", func(t *testing.T) {
		d, err := ParseDemand(1, readTestdata(t, "payment-required-v1-body.json"))
		if err != nil {
			t.Fatal(err)
		}
		r := d.V1.Accepts[0]
		if r.Network != "base-sepolia" || r.MaxAmountRequired != "10000" || r.MaxTimeoutSeconds != 60 || len(r.OutputSchema) == 0 {
			t.Fatalf("requirement = %+v", r)
		}
	})
}

func TestParseDemandErrors(t *testing.T) {
	b64 := func(s string) []byte { return []byte(base64.StdEncoding.EncodeToString([]byte(s))) }
	trace := string(readTestdata(t, "payment-required-v2-trace.json"))
	v1body := string(readTestdata(t, "payment-required-v1-body.json"))
	many := func(version int) []byte {
		if version == 2 {
			r, _ := json.Marshal(goodV2())
			reqs := strings.Repeat(string(r)+",", MaxRequirements) + string(r)
			return b64(`{"x402Version":2,"resource":{"url":"u"},"accepts":[` + reqs + `]}`)
		}
		r, _ := json.Marshal(goodV1())
		reqs := strings.Repeat(string(r)+",", MaxRequirements) + string(r)
		return []byte(`{"x402Version":1,"accepts":[` + reqs + `]}`)
	}
	tests := []struct {
		name    string
		version int
		raw     []byte
		want    string
	}{
		{"empty", 2, nil, "empty"},
		{"too large", 2, bytes.Repeat([]byte("A"), MaxDemandSize+4), "exceeds the limit"},
		{"too large v1", 1, append([]byte(v1body), bytes.Repeat([]byte(" "), MaxDemandSize)...), "exceeds the limit"},
		{"version 0", 0, b64(trace), "unsupported x402 version 0"},
		{"version 3", 3, b64(trace), "unsupported x402 version 3"},
		{"v2 given the JSON, not base64", 2, []byte(trace), "not standard base64"},
		{"v2 url-safe base64", 2, []byte(base64.URLEncoding.EncodeToString([]byte(trace + "\xff\xfe"))), "not standard base64"},
		{"v2 base64 of garbage", 2, b64("{not json"), "invalid character"},
		{"v2 header says version 1", 2, b64(strings.Replace(trace, `"x402Version":2`, `"x402Version":1`, 1)), "want 2"},
		{"v2 empty accepts", 2, b64(`{"x402Version":2,"resource":{"url":"u"},"accepts":[]}`), "empty accepts"},
		{"v2 no accepts", 2, b64(`{"x402Version":2,"resource":{"url":"u"}}`), "empty accepts"},
		{"v2 missing resource url", 2, b64(`{"x402Version":2,"accepts":[{"scheme":"exact"}]}`), "resource.url"},
		{"v2 wrong field type", 2, b64(`{"x402Version":2,"resource":{"url":"u"},"accepts":[{"maxTimeoutSeconds":"60"}]}`), "cannot unmarshal"},
		{"v2 too many requirements", 2, many(2), "requirements exceed"},
		{"v1 given base64", 1, b64(v1body), "invalid character"},
		{"v1 body says version 2", 1, []byte(strings.Replace(v1body, `"x402Version": 1`, `"x402Version": 2`, 1)), "want 1"},
		{"v1 empty accepts", 1, []byte(`{"x402Version":1,"accepts":[]}`), "empty accepts"},
		{"v1 trailing data", 1, []byte(v1body + "{}"), "invalid character"},
		{"v1 not an object", 1, []byte(`[1,2]`), "cannot unmarshal"},
		{"v1 fractional timeout", 1, []byte(`{"x402Version":1,"accepts":[{"maxTimeoutSeconds":1.5}]}`), "cannot unmarshal"},
		{"v1 too many requirements", 1, many(1), "requirements exceed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDemand(tt.version, tt.raw)
			if err == nil {
				t.Fatalf("ParseDemand succeeded: %+v", d)
			}
			if !errors.Is(err, ErrMalformedDemand) {
				t.Fatalf("error %v does not wrap ErrMalformedDemand", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
			if d != nil {
				t.Fatal("a demand was returned with the error")
			}
		})
	}
}

func TestParseDemandAtSizeLimit(t *testing.T) {
	// A valid v1 body padded with JSON whitespace to exactly the limit parses.
	body := readTestdata(t, "payment-required-v1-body.json")
	padded := append(bytes.Clone(body), bytes.Repeat([]byte(" "), MaxDemandSize-len(body))...)
	if _, err := ParseDemand(1, padded); err != nil {
		t.Fatalf("%d bytes: %v", len(padded), err)
	}
	if _, err := ParseDemand(1, append(padded, ' ')); !errors.Is(err, ErrMalformedDemand) {
		t.Fatalf("%d bytes: error %v", len(padded)+1, err)
	}
}

func ExampleParseDemand() {
	header := base64.StdEncoding.EncodeToString([]byte(`{"x402Version":2,"resource":{"url":"https://api.example/data"},` +
		`"accepts":[{"scheme":"exact","network":"eip155:8453","amount":"2500","asset":"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",` +
		`"payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,"extra":{"name":"USD Coin","version":"2"}}]}`))
	d, err := ParseDemand(x402.V2, []byte(header))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Len(), d.V2.Accepts[0].Network, d.V2.Accepts[0].Amount)
	// Output: 1 eip155:8453 2500
}
