package server

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestServeRevokesOverHTTP: a daemon configured with rpc_url and the lifecycle's relayer and
// gas-sponsor key files revokes an agent through POST /v1/agents/{id}/revoke, and its funds
// reach the treasury; without the key files the route answers 503 and changes nothing.
func TestServeRevokesOverHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	tok := d.Token()
	keyFile := func(i int) string {
		p := filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(p, []byte(d.Accounts()[i].PrivateKeyHex), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	usd, err := bindings.NewTestUSD(tok.Address, d.Client())
	if err != nil {
		t.Fatal(err)
	}
	treasury := common.HexToAddress("0x00000000000000000000000000000000007ea5e1")

	for _, withKeys := range []bool{false, true} {
		cfg := testConfig(t)
		cfg.RPCURL = d.RPCURL()
		cfg.Assets = []AssetConfig{{Network: d.Network(), Address: tok.Address.Hex(), Symbol: tok.Symbol, Decimals: tok.Decimals,
			EIP712Name: tok.Name, EIP712Version: tok.Version}}
		if withKeys {
			cfg.Lifecycle = LifecycleConfig{RelayerKeyFile: keyFile(9), GasSponsorKeyFile: keyFile(8)}
		}
		r := start(t, cfg)
		fleet, _ := fleetAndGroup(t, r.Server)
		if err := r.Store().Tx(ctx, func(tx store.Tx) error { _, err := tx.SetFleetTreasury(ctx, fleet.ID, treasury.Hex()); return err }); err != nil {
			t.Fatal(err)
		}
		ps, err := r.Service().ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, Agents: []payments.NewAgent{{ExternalID: "x", Name: "x"}}})
		if err != nil {
			t.Fatal(err)
		}
		admin, err := payments.BootstrapAdmin(ctx, r.Store(), r.Audit(), "root", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		k1, _ := d.Accounts()[1].PrivateKey()
		opts, _ := bind.NewKeyedTransactorWithChainID(k1, new(big.Int).SetUint64(d.ChainID()))
		ftx, err := usd.Transfer(opts, common.HexToAddress(ps[0].Key.Address), big.NewInt(777))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chain.WaitSuccess(ctx, d.Client(), ftx.Hash()); err != nil {
			t.Fatal(err)
		}
		before, _ := usd.BalanceOf(&bind.CallOpts{Context: ctx}, treasury)

		req, _ := http.NewRequest(http.MethodPost, r.URL()+"/v1/agents/"+ps[0].Agent.ID+"/revoke", nil)
		req.Header.Set("Authorization", "Bearer "+admin.Token.Reveal())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		after, _ := usd.BalanceOf(&bind.CallOpts{Context: ctx}, treasury)
		moved := new(big.Int).Sub(after, before).Int64()
		if !withKeys {
			if res.StatusCode != http.StatusServiceUnavailable || moved != 0 {
				t.Errorf("without lifecycle keys: %d %s, moved %d", res.StatusCode, body, moved)
			}
			continue
		}
		var ans struct {
			Report struct {
				Status string `json:"status"`
			} `json:"report"`
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &ans) != nil || ans.Report.Status != "done" || moved != 777 {
			t.Errorf("revoke: %d %s, moved %d", res.StatusCode, body, moved)
		}
	}
}
