package signer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/x402"
)

// BenchmarkChooseAndBuild measures the signer's work per payment before
// custody signs: parse a 3-requirement v2 PAYMENT-REQUIRED value, choose (the
// first requirement is for an unregistered asset, the second for a foreign
// domain, the third is paid), and build the authorization and its digest.
func BenchmarkChooseAndBuild(b *testing.B) {
	reg := testRegistry(b)
	unknown, foreign, good := goodV2(), goodV2(), goodV2()
	unknown.Asset = "0x4242424242424242424242424242424242424242"
	foreign.Network, foreign.Asset = "eip155:8453", baseUSDC.Address.Hex()
	foreign.Extra = json.RawMessage(`{"name":"USDC","version":"2"}`)
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Error: "Payment required",
		Resource: x402.ResourceInfo{URL: "https://api.example/v2/data", Description: "data", MimeType: "application/json"},
		Accepts:  []x402.PaymentRequirementsV2{unknown, foreign, good}})
	if err != nil {
		b.Fatal(err)
	}
	raw := []byte(h)
	from := common.HexToAddress("0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		d, err := ParseDemand(2, raw)
		if err != nil {
			b.Fatal(err)
		}
		c, err := Choose(d, reg, ChooseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if c.Index != 2 {
			b.Fatalf("chose %d", c.Index)
		}
		if _, err := BuildAuthorization(c, from, now, 5*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
