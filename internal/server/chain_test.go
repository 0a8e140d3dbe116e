package server

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// testChain is a devnet with its TestUSD token and an in-process facilitator that
// relays from dev account 9, for the tests that settle payments on chain.
type testChain struct {
	d   *devnet.Devnet
	fac *facilitator.Facilitator
}

func startChain(t *testing.T, ctx context.Context) testChain {
	t.Helper()
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0", Accounts: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	relayer, err := facilitator.NewRelayerKey([]byte(d.Accounts()[9].PrivateKeyHex))
	if err != nil {
		t.Fatal(err)
	}
	fac, err := facilitator.New(ctx, facilitator.Config{Chains: []facilitator.Chain{{ChainID: d.ChainID(), Backend: d.Client()}}, Relayer: relayer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fac.Close() })
	return testChain{d: d, fac: fac}
}

// asset is the devnet token as the daemon's trusted registry lists it.
func (c testChain) asset() AssetConfig {
	tok := c.d.Token()
	return AssetConfig{Network: c.d.Network(), Address: tok.Address.Hex(), Symbol: tok.Symbol, Decimals: tok.Decimals,
		EIP712Name: tok.Name, EIP712Version: tok.Version}
}

// demand is a v2 "exact" demand for amount (atomic units) of the token to payTo, and
// its PAYMENT-REQUIRED header value.
func (c testChain) demand(t *testing.T, payTo common.Address, amount string) (x402.PaymentRequirementsV2, string) {
	t.Helper()
	tok := c.d.Token()
	req := x402.PaymentRequirementsV2{Scheme: "exact", Network: c.d.Network(), Amount: amount, Asset: tok.Address.Hex(),
		PayTo: payTo.Hex(), MaxTimeoutSeconds: 300, Extra: json.RawMessage(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`)}
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: "https://api.example.com/v2/data"},
		Accepts: []x402.PaymentRequirementsV2{req}})
	if err != nil {
		t.Fatal(err)
	}
	return req, h
}

// settle has the facilitator settle a signed payment header value for req and
// returns the transaction hash.
func (c testChain) settle(t *testing.T, ctx context.Context, value string, req x402.PaymentRequirementsV2) string {
	t.Helper()
	payload, err := x402.DecodeHeaderJSON(value)
	if err != nil {
		t.Fatal(err)
	}
	vr, err := x402.NewVerifyRequest(payload, req)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.fac.Settle(ctx, vr)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Success {
		t.Fatalf("settlement refused: %s %s", s.ErrorReason, s.ErrorMessage)
	}
	return s.Transaction
}

// fund moves amount of the token from dev account 1 to `to`, by an EIP-3009
// authorization of its own that the facilitator settles like any other.
func (c testChain) fund(t *testing.T, ctx context.Context, to common.Address, amount string) {
	t.Helper()
	key, err := c.d.Accounts()[1].PrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	funder := exact.NewLocalKeyPayer(key)
	defer funder.Destroy()
	req, raw := c.demand(t, to, amount)
	pr, err := x402.DecodePaymentRequired(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := funder.Pay(ctx, &x402.PaymentRequest{URL: "https://api.example.com/v2/data", Method: "GET", Version: 2, V2: pr, Raw: []byte(raw)})
	if err != nil {
		t.Fatal(err)
	}
	c.settle(t, ctx, p.Value, req)
}
