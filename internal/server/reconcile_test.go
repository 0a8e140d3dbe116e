package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// TestServeReconcilesWithTheChain runs the daemon against a devnet: an agent pays over HTTP, the
// header settles through a facilitator, and the daemon's own reconciler (started because rpc_url
// is set) marks the authorization settled with the settlement's transaction hash.
func TestServeReconcilesWithTheChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
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
	tok := d.Token()

	cfg := testConfig(t)
	cfg.RPCURL = d.RPCURL()
	cfg.Reconcile.Interval = 100 * time.Millisecond
	cfg.Assets = []AssetConfig{{Network: d.Network(), Address: tok.Address.Hex(), Symbol: tok.Symbol, Decimals: tok.Decimals,
		EIP712Name: tok.Name, EIP712Version: tok.Version}}
	r := start(t, cfg)
	fleet, group := fleetAndGroup(t, r.Server)
	putPolicy(t, r.Server, store.LevelGroup, group.ID, groupPolicy)
	agents, err := r.Service().ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, GroupID: group.ID,
		Agents: []payments.NewAgent{{ExternalID: "chain", Name: "chain"}}})
	if err != nil {
		t.Fatal(err)
	}
	agentAddr := common.HexToAddress(agents[0].Key.Address)

	demand := func(payTo common.Address, amount string) (x402.PaymentRequirementsV2, string) {
		req := x402.PaymentRequirementsV2{Scheme: "exact", Network: d.Network(), Amount: amount, Asset: tok.Address.Hex(),
			PayTo: payTo.Hex(), MaxTimeoutSeconds: 300, Extra: json.RawMessage(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`)}
		h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: "https://api.example.com/v2/data"},
			Accepts: []x402.PaymentRequirementsV2{req}})
		if err != nil {
			t.Fatal(err)
		}
		return req, h
	}
	settle := func(value string, req x402.PaymentRequirementsV2) string {
		t.Helper()
		payload, err := x402.DecodeHeaderJSON(value)
		if err != nil {
			t.Fatal(err)
		}
		vr, err := x402.NewVerifyRequest(payload, req)
		if err != nil {
			t.Fatal(err)
		}
		s, err := fac.Settle(ctx, vr)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Success {
			t.Fatalf("settlement refused: %s %s", s.ErrorReason, s.ErrorMessage)
		}
		return s.Transaction
	}

	// Fund the agent's address from a dev account (its own EIP-3009 authorization).
	devKey, err := d.Accounts()[1].PrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	funder := exact.NewLocalKeyPayer(devKey)
	defer funder.Destroy()
	fundReq, fundRaw := demand(agentAddr, "1000000")
	pr, err := x402.DecodePaymentRequired(fundRaw)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := funder.Pay(ctx, &x402.PaymentRequest{URL: "https://api.example.com/v2/data", Method: "GET", Version: 2, V2: pr, Raw: []byte(fundRaw)})
	if err != nil {
		t.Fatal(err)
	}
	settle(fp.Value, fundReq)

	// The agent pays 0.01 over HTTP; the facilitator settles it.
	payReq, raw := demand(common.HexToAddress("0x00000000000000000000000000000000000a11ce"), "10000")
	body, err := json.Marshal(map[string]any{"x402_version": 2, "payment_required": raw,
		"resource_url": "https://api.example.com/v2/data", "method": "GET", "idempotency_key": "chain-1"})
	if err != nil {
		t.Fatal(err)
	}
	status, answer := pay(t, r.URL(), agents[0], body)
	if status != http.StatusOK {
		t.Fatalf("pay: %d %s", status, answer)
	}
	var signed struct {
		AuthorizationID string `json:"authorization_id"`
		Header          struct{ Value string }
	}
	if err := json.Unmarshal(answer, &signed); err != nil {
		t.Fatal(err)
	}
	txHash := settle(signed.Header.Value, payReq)

	// The reconciler runs every 100ms; wait (bounded) until it has recorded the settlement.
	var a store.Authorization
	for {
		err := r.store.ReadTx(ctx, func(rt store.ReadTx) (err error) {
			a, err = rt.Authorization(ctx, signed.AuthorizationID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == store.AuthSettled {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("authorization still %s: the daemon did not reconcile it", a.Status)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !equalFoldHex(a.TxHash, txHash) {
		t.Fatalf("settled with tx %s, the facilitator sent %s", a.TxHash, txHash)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}

func equalFoldHex(a, b string) bool { return common.HexToHash(a) == common.HexToHash(b) }
