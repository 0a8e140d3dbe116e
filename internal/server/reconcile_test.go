package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestServeReconcilesWithTheChain runs the daemon against a devnet: an agent pays over HTTP, the
// header settles through a facilitator, and the daemon's own reconciler (started because rpc_url
// is set) marks the authorization settled with the settlement's transaction hash.
func TestServeReconcilesWithTheChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startChain(t, ctx)

	cfg := testConfig(t)
	cfg.RPCURL = c.d.RPCURL()
	cfg.Reconcile.Interval = 100 * time.Millisecond
	cfg.Assets = []AssetConfig{c.asset()}
	r := start(t, cfg)
	fleet, group := fleetAndGroup(t, r.Server)
	putPolicy(t, r.Server, store.LevelGroup, group.ID, groupPolicy)
	agents, err := r.Service().ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, GroupID: group.ID,
		Agents: []payments.NewAgent{{ExternalID: "chain", Name: "chain"}}})
	if err != nil {
		t.Fatal(err)
	}
	agentAddr := common.HexToAddress(agents[0].Key.Address)

	// Fund the agent's address from a dev account.
	c.fund(t, ctx, agentAddr, "1000000")

	// The agent pays 0.01 over HTTP; the facilitator settles it.
	payReq, raw := c.demand(t, common.HexToAddress("0x00000000000000000000000000000000000a11ce"), "10000")
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
	txHash := c.settle(t, ctx, signed.Header.Value, payReq)

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
