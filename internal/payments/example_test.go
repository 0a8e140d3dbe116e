package payments_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
	"github.com/fleetkey/fleetkey/x402"
)

// The whole service without HTTP: provision an agent, attach a policy,
// authenticate the agent's token and pay a 402 with it.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "fleetkey-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "fleetkey.db"), sqlite.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	// A published test mnemonic, for the example only: fleetkey init generates the
	// seed and seals it.
	m, _ := custody.NewMnemonic([]byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"))
	vault, err := custody.VaultFromMnemonic(m, custody.Passphrase{})
	if err != nil {
		panic(err)
	}
	defer vault.Close()
	usdc := signer.Asset{Network: "eip155:84532", Address: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
		Symbol: "USDC", Decimals: 6, EIP712Name: "USDC", EIP712Version: "2"}
	reg, _ := signer.NewRegistry([]signer.Asset{usdc})
	log, _ := audit.New(audit.Options{})
	svc, err := payments.New(payments.Config{Store: st, Keys: vault, Registry: reg, Audit: log})
	if err != nil {
		panic(err)
	}

	var fleet store.Fleet
	const src = "version: 1\nname: small-payments\nlimits:\n  per_payment: \"0.10\"\n"
	p, _ := policy.Parse([]byte(src))
	err = st.Tx(ctx, func(tx store.Tx) error {
		if fleet, err = tx.CreateFleet(ctx, store.Fleet{Name: "demo", Index: 1}); err != nil {
			return err
		}
		_, err := tx.PutPolicy(ctx, store.PutPolicyRequest{Level: store.LevelFleet, ScopeID: fleet.ID, Name: p.Name(), Hash: p.Hash(), Source: src})
		return err
	})
	if err != nil {
		panic(err)
	}
	agents, err := svc.ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, Agents: []payments.NewAgent{{ExternalID: "crawler-1", Name: "crawler"}}})
	if err != nil {
		panic(err)
	}
	token := agents[0].Token.Reveal() // handed to the agent once

	id, err := svc.Authenticate(ctx, token)
	if err != nil {
		panic(err)
	}
	demand, _ := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: "https://api.example.com/data"},
		Accepts: []x402.PaymentRequirementsV2{{Scheme: "exact", Network: usdc.Network, Amount: "50000", Asset: usdc.Address.Hex(),
			PayTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", MaxTimeoutSeconds: 60, Extra: json.RawMessage(`{"name":"USDC","version":"2"}`)}}})
	res, err := svc.Pay(ctx, id.AgentID, payments.PayRequest{Version: 2, Raw: []byte(demand),
		ResourceURL: "https://api.example.com/data", Method: "GET", IdempotencyKey: "req-1"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Header, res.Amount, res.PolicyHash == p.Hash())
	// Output: PAYMENT-SIGNATURE 50000 true
}
