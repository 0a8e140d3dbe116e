package server

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/lifecycle"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
)

const rotationPolicy = `version: 1
name: rotating-fleet
limits:
  per_payment: "0.50"
max_validity: 5m
rotation:
  max_signatures: 2
`

// TestServeRotatesByPolicy: a daemon with the lifecycle configured rotates, on its own, an
// agent whose policy says max_signatures: 2 once the agent has signed two payments: the old key
// is draining, its outstanding authorizations are cancelled on chain and its balance moves to
// the new key, the job is audited as the system's with the reason, and the agent keeps paying
// with the same credential, now from the new key.
func TestServeRotatesByPolicy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	tok := d.Token()
	relayerFile := filepath.Join(t.TempDir(), "relayer")
	if err := os.WriteFile(relayerFile, []byte(d.Accounts()[9].PrivateKeyHex), 0o600); err != nil {
		t.Fatal(err)
	}
	usd, err := bindings.NewTestUSD(tok.Address, d.Client())
	if err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(t)
	cfg.RPCURL = d.RPCURL()
	cfg.Assets = []AssetConfig{{Network: d.Network(), Address: tok.Address.Hex(), Symbol: tok.Symbol, Decimals: tok.Decimals,
		EIP712Name: tok.Name, EIP712Version: tok.Version}}
	cfg.Lifecycle.RelayerKeyFile = relayerFile
	cfg.Lifecycle.RotationCheckInterval = time.Second
	r := start(t, cfg)
	fleet, _ := fleetAndGroup(t, r.Server)
	putPolicy(t, r.Server, store.LevelFleet, fleet.ID, rotationPolicy)
	ps, err := r.Service().ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, Agents: []payments.NewAgent{{ExternalID: "r", Name: "r"}}})
	if err != nil {
		t.Fatal(err)
	}
	ag := ps[0]
	oldAddr := common.HexToAddress(ag.Key.Address)
	k1, _ := d.Accounts()[1].PrivateKey()
	opts, _ := bind.NewKeyedTransactorWithChainID(k1, new(big.Int).SetUint64(d.ChainID()))
	ftx, err := usd.Transfer(opts, oldAddr, big.NewInt(123_456))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(ctx, d.Client(), ftx.Hash()); err != nil {
		t.Fatal(err)
	}

	body := func(key string) []byte {
		req := x402.PaymentRequirementsV2{Scheme: "exact", Network: d.Network(), Amount: "10000", Asset: tok.Address.Hex(),
			PayTo: paymentstest.PayTo, MaxTimeoutSeconds: 300, Extra: json.RawMessage(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`)}
		b, err := json.Marshal(map[string]any{"x402_version": 2, "payment_required": paymentstest.DemandV2(t, req),
			"resource_url": paymentstest.ResourceURL, "method": "GET", "idempotency_key": key})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	keys := func() []store.Key {
		var ks []store.Key
		if err := r.Store().ReadTx(ctx, func(rt store.ReadTx) (err error) { ks, err = rt.Keys(ctx, ag.Agent.ID); return err }); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	auth := func(key string) store.Authorization {
		var as []store.Authorization
		if err := r.Store().ReadTx(ctx, func(rt store.ReadTx) (err error) {
			as, err = rt.Authorizations(ctx, store.AuthorizationFilter{AgentID: ag.Agent.ID})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.IdempotencyKey == key {
				return a
			}
		}
		t.Fatalf("no authorization %q", key)
		return store.Authorization{}
	}

	if code, b := pay(t, r.URL(), ag, body("one")); code != http.StatusOK {
		t.Fatalf("first payment: %d %s", code, b)
	}
	// One signature is below the rule: a round rotates nothing.
	if n := r.rotateDue(ctx); n != 0 || len(keys()) != 1 {
		t.Fatalf("after one payment: %d rotations, %d keys", n, len(keys()))
	}
	if code, b := pay(t, r.URL(), ag, body("two")); code != http.StatusOK {
		t.Fatalf("second payment: %d %s", code, b)
	}

	// The loop (every second) rotates the agent; wait for its job to finish.
	var ks []store.Key
	for {
		ks = keys()
		if len(ks) == 2 && strings.Contains(r.logs.String(), `"msg":"scheduled rotation"`) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not rotated: keys %+v\n%s", ks, r.logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if ks[0].Status != store.KeyDraining || ks[1].Status != store.KeyActive || ks[1].Generation != 1 {
		t.Fatalf("keys after the scheduled rotation: %+v", ks)
	}
	newAddr := common.HexToAddress(ks[1].Address)
	if b, _ := usd.BalanceOf(&bind.CallOpts{Context: ctx}, newAddr); b.Int64() != 123_456 {
		t.Errorf("new key holds %v, want 123456", b)
	}
	for _, key := range []string{"one", "two"} {
		a := auth(key)
		used, err := usd.AuthorizationState(&bind.CallOpts{Context: ctx}, oldAddr, common.HexToHash(a.Nonce))
		if err != nil || a.Status != store.AuthCancelled || !used {
			t.Errorf("payment %s: %s, used on chain %v (%v)", key, a.Status, used, err)
		}
	}
	var started []store.AuditRecord
	if err := r.Store().ReadTx(ctx, func(rt store.ReadTx) error {
		recs, err := rt.AuditRecords(ctx, 0, 10_000)
		for _, rec := range recs {
			if rec.Action == lifecycle.ActionJobStarted && rec.Subject == ag.Agent.ID {
				started = append(started, rec)
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(started) != 1 || started[0].Actor != audit.System || !strings.Contains(string(started[0].Data), `"reason":"scheduled: key signed 2 payments (maximum 2) (policy)"`) {
		t.Errorf("job.started audit records: %+v", started)
	}

	// Same credential, new key; the new key has signed nothing yet, so a round rotates nothing.
	if code, b := pay(t, r.URL(), ag, body("three")); code != http.StatusOK {
		t.Fatalf("payment after the rotation: %d %s", code, b)
	}
	if a := auth("three"); a.KeyID != ks[1].ID || !strings.EqualFold(a.From, newAddr.Hex()) {
		t.Errorf("payment after the rotation from key %s (%s), want %s", a.KeyID, a.From, ks[1].ID)
	}
	if n := r.rotateDue(ctx); n != 0 {
		t.Errorf("a round after the rotation rotated %d agents", n)
	}
}
