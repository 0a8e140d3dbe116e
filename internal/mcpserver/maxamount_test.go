package mcpserver

import (
	"encoding/json"
	"errors"
	"math/big"
	"testing"

	"github.com/fleetkey/fleetkey/x402"
)

func TestCapDemand(t *testing.T) {
	cheap := `{"scheme":"exact","network":"eip155:84532","amount":"500","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":60,"extra":{"name":"T","version":"2"}}`
	dear := `{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":60}`
	var pr x402.PaymentRequiredV2
	if err := json.Unmarshal([]byte(`{"x402Version":2,"resource":{"url":"http://x/y","serviceName":"s"},"accepts":[`+dear+`,`+cheap+`]}`), &pr); err != nil {
		t.Fatal(err)
	}
	raw, err := x402.EncodeHeader(pr)
	if err != nil {
		t.Fatal(err)
	}
	req := &x402.PaymentRequest{URL: "http://x/y", Method: "GET", Version: x402.V2, V2: &pr, Raw: []byte(raw)}

	t.Run("keeps the options within", func(t *testing.T) {
		got, err := capDemand(req, big.NewInt(1000))
		if err != nil {
			t.Fatal(err)
		}
		back, err := x402.DecodePaymentRequired(string(got.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Accepts) != 1 || string(back.Accepts[0].Raw()) != cheap || len(got.V2.Accepts) != 1 {
			t.Errorf("capped demand %s", got.Raw)
		}
		if b, _ := json.Marshal(back.Resource); string(b) != `{"url":"http://x/y","serviceName":"s"}` {
			t.Errorf("resource changed: %s", b)
		}
		if len(req.V2.Accepts) != 2 {
			t.Error("the original demand was changed")
		}
	})
	t.Run("all within: unchanged", func(t *testing.T) {
		got, err := capDemand(req, big.NewInt(10000))
		if err != nil || got != req {
			t.Errorf("got %v, %v", got, err)
		}
	})
	t.Run("none within", func(t *testing.T) {
		_, err := capDemand(req, big.NewInt(499))
		var om *overMaxError
		if !errors.As(err, &om) || om.asked != "500" {
			t.Errorf("err %v", err)
		}
	})
	t.Run("v1", func(t *testing.T) {
		v1 := &x402.PaymentRequiredV1{X402Version: 1, Accepts: []x402.PaymentRequirementsV1{
			{Scheme: "exact", Network: "base-sepolia", MaxAmountRequired: "700", PayTo: "0xB", Asset: "0xA"},
			{Scheme: "exact", Network: "base-sepolia", MaxAmountRequired: "not a number", PayTo: "0xB", Asset: "0xA"},
		}}
		raw, _ := json.Marshal(v1)
		got, err := capDemand(&x402.PaymentRequest{Version: x402.V1, V1: v1, Raw: raw}, big.NewInt(1000))
		if err != nil {
			t.Fatal(err)
		}
		var back x402.PaymentRequiredV1
		if err := json.Unmarshal(got.Raw, &back); err != nil || len(back.Accepts) != 1 || back.Accepts[0].MaxAmountRequired != "700" {
			t.Errorf("capped v1 demand %s (%v)", got.Raw, err)
		}
	})
}

func TestParseAtomic(t *testing.T) {
	for _, s := range []string{"", "0.01", "-1", "1e6", "0x10", " ", "١٢"} {
		if _, err := parseAtomic(s); err == nil {
			t.Errorf("parseAtomic(%q) accepted", s)
		}
	}
	for s, want := range map[string]int64{"0": 0, "10000": 10000, " 42 ": 42} {
		if v, err := parseAtomic(s); err != nil || v.Int64() != want {
			t.Errorf("parseAtomic(%q) = %v, %v", s, v, err)
		}
	}
}
