package payments

import (
	"context"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// TestPayAndSettleOnDevnet: a provisioned agent, funded with TestUSD from a dev
// account, pays through the service; the header settles through the facilitator
// in process and the tokens move from the agent's custody address to the payee.
func TestPayAndSettleOnDevnet(t *testing.T) {
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
	usd, err := bindings.NewTestUSDCaller(tok.Address, d.Client())
	if err != nil {
		t.Fatal(err)
	}
	balance := func(a common.Address) *big.Int {
		t.Helper()
		b, err := usd.BalanceOf(&bind.CallOpts{Context: ctx}, a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	e := newEnv(t)
	reg, err := signer.NewRegistry([]signer.Asset{{Network: d.Network(), Address: tok.Address, Symbol: tok.Symbol,
		Decimals: tok.Decimals, EIP712Name: tok.Name, EIP712Version: tok.Version}})
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{Store: e.st, Keys: e.vault, Registry: reg, Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(ctx, ProvisionRequest{FleetID: e.fleet.ID, Agents: []NewAgent{{ExternalID: "chain", Name: "chain agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	ag := ps[0]
	agentAddr := common.HexToAddress(ag.Key.Address)
	e.putPolicy(store.LevelAgent, ag.Agent.ID, agentPolicy)

	demand := func(payTo common.Address, amount string) (x402.PaymentRequirementsV2, []byte) {
		r := x402.PaymentRequirementsV2{Scheme: "exact", Network: d.Network(), Amount: amount, Asset: tok.Address.Hex(),
			PayTo: payTo.Hex(), MaxTimeoutSeconds: 300, Extra: json.RawMessage(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`)}
		h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: resourceURL}, Accepts: []x402.PaymentRequirementsV2{r}})
		if err != nil {
			t.Fatal(err)
		}
		return r, []byte(h)
	}
	settle := func(value string, req x402.PaymentRequirementsV2) *x402.SettleResponse {
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
		return s
	}

	// Fund the agent's custody address with 1 TestUSD from dev account 1, through an
	// EIP-3009 authorization the dev account signs itself.
	devKey, err := d.Accounts()[1].PrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	funder := exact.NewLocalKeyPayer(devKey)
	defer funder.Destroy()
	fundReq, fundRaw := demand(agentAddr, "1000000")
	pr, err := x402.DecodePaymentRequired(string(fundRaw))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := funder.Pay(ctx, &x402.PaymentRequest{URL: resourceURL, Method: "GET", Version: 2, V2: pr, Raw: fundRaw})
	if err != nil {
		t.Fatal(err)
	}
	settle(fp.Value, fundReq)
	if b := balance(agentAddr); b.Int64() != 1_000_000 {
		t.Fatalf("agent funded with %s, want 1000000", b)
	}

	merchant := common.HexToAddress("0x00000000000000000000000000000000000a11ce")
	payReqV2, raw := demand(merchant, "10000")
	res, err := svc.Pay(ctx, ag.Agent.ID, PayRequest{Version: 2, Raw: raw, ResourceURL: resourceURL, Method: "GET", IdempotencyKey: "chain-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := settle(res.Value, payReqV2)
	if s.Payer != agentAddr.Hex() {
		t.Errorf("settled payer %s, want %s", s.Payer, agentAddr.Hex())
	}
	if b := balance(merchant); b.Int64() != 10000 {
		t.Errorf("merchant received %s, want 10000", b)
	}
	if b := balance(agentAddr); b.Int64() != 990_000 {
		t.Errorf("agent holds %s, want 990000", b)
	}
	// A replay of the service's answer is the same header, which the chain now refuses.
	again, err := svc.Pay(ctx, ag.Agent.ID, PayRequest{Version: 2, Raw: raw, ResourceURL: resourceURL, Method: "GET", IdempotencyKey: "chain-1"})
	if err != nil || again.Value != res.Value {
		t.Fatalf("replay: %v", err)
	}
	payload, _ := x402.DecodeHeaderJSON(again.Value)
	vr, _ := x402.NewVerifyRequest(payload, payReqV2)
	if s2, err := fac.Settle(ctx, vr); err != nil || s2.Success {
		t.Fatalf("second settlement of one authorization: %+v, %v", s2, err)
	}
	if b := balance(merchant); b.Int64() != 10000 {
		t.Errorf("merchant holds %s after the refused replay, want 10000", b)
	}

	// A payment above the approval threshold waits; the approver's vote signs it
	// with the reserved nonce, and that header settles.
	e.putPolicy(store.LevelAgent, ag.Agent.ID, `version: 1
name: chain-approval
limits:
  per_payment: "0.05"
approval:
  above: "0.02"
  quorum: 1
  approvers: [alice]
max_validity: 2m
`)
	big, bigRaw := demand(merchant, "30000")
	held, err := svc.Pay(ctx, ag.Agent.ID, PayRequest{Version: 2, Raw: bigRaw, ResourceURL: resourceURL, Method: "GET", IdempotencyKey: "chain-2"})
	if err != nil || !held.NeedsApproval || held.Value != "" {
		t.Fatalf("held payment %+v, %v", held, err)
	}
	alice := OperatorIdentity{CredentialID: "cred_alice", Name: "alice", Role: store.RoleApprover}
	if _, err := svc.Vote(ctx, alice, held.ApprovalIDs[0], store.VoteApprove); err != nil {
		t.Fatal(err)
	}
	signed, err := svc.Payment(ctx, ag.Agent.ID, held.AuthorizationID)
	if err != nil || signed.Status != store.AuthSigned || signed.Value == "" {
		t.Fatalf("approved payment %+v, %v", signed, err)
	}
	settle(signed.Value, big)
	if b := balance(merchant); b.Int64() != 40000 {
		t.Errorf("merchant holds %s after the approved payment, want 40000", b)
	}
}
