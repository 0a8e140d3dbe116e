package sdk_test

import (
	"context"
	"errors"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/lifecycle"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/sdk"
)

// TestLifecycleAgainstRealAPI: the SDK reads a dependency map, revokes an agent (its funds
// reach the treasury on the devnet), lists its jobs, is refused a second revocation, and
// rotates another agent.
func TestLifecycleAgainstRealAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tok := d.Token()
	reg, err := signer.NewRegistry([]signer.Asset{{Network: d.Network(), Address: tok.Address, Symbol: tok.Symbol, Decimals: tok.Decimals,
		EIP712Name: tok.Name, EIP712Version: tok.Version}})
	if err != nil {
		t.Fatal(err)
	}
	env := paymentstest.New(t, paymentstest.Options{FleetIndex: 6})
	svc, err := payments.New(payments.Config{Store: env.Store, Keys: env.Vault, Registry: reg, Audit: env.Audit})
	if err != nil {
		t.Fatal(err)
	}
	treasury := common.HexToAddress("0x00000000000000000000000000000000007ea5e1")
	if err := env.Store.Tx(ctx, func(tx store.Tx) error { _, err := tx.SetFleetTreasury(ctx, env.Fleet.ID, treasury.Hex()); return err }); err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: env.Fleet.ID,
		Agents: []payments.NewAgent{{ExternalID: "gone", Name: "gone"}, {ExternalID: "rotated", Name: "rotated"}}})
	if err != nil {
		t.Fatal(err)
	}
	sender := func(i int) *chain.Sender {
		k, _ := d.Accounts()[i].PrivateKey()
		id := new(big.Int).SetUint64(d.ChainID())
		s := types.LatestSignerForChainID(id)
		return chain.NewSender(d.Client(), crypto.PubkeyToAddress(k.PublicKey), func(_ common.Address, tx *types.Transaction) (*types.Transaction, error) {
			return types.SignTx(tx, s, k)
		}, id)
	}
	m, err := lifecycle.New(lifecycle.Config{Store: env.Store, Keys: env.Vault, Registry: reg, Audit: env.Audit, Backend: d.Client(),
		ChainID: d.ChainID(), Relayer: sender(9), GasSponsor: sender(8)})
	if err != nil {
		t.Fatal(err)
	}
	root, err := payments.BootstrapAdmin(ctx, env.Store, env.Audit, "root", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(api.Config{Payments: svc, Operators: svc, Audit: env.Store, Lifecycle: m}))
	defer srv.Close()
	admin := mustClient(t, srv.URL, root.Token.Reveal())

	k1, _ := d.Accounts()[1].PrivateKey()
	opts, _ := bind.NewKeyedTransactorWithChainID(k1, new(big.Int).SetUint64(d.ChainID()))
	usd, err := bindings.NewTestUSD(tok.Address, d.Client())
	if err != nil {
		t.Fatal(err)
	}
	ftx, err := usd.Transfer(opts, common.HexToAddress(ps[0].Key.Address), big.NewInt(999))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(ctx, d.Client(), ftx.Hash()); err != nil {
		t.Fatal(err)
	}

	deps, err := admin.AgentDeps(ctx, ps[0].Agent.ID)
	if err != nil || !deps.Chain || len(deps.Keys) != 1 || len(deps.Keys[0].Balances) != 1 || deps.Keys[0].Balances[0].Amount != "999" {
		t.Fatalf("deps %+v, %v", deps, err)
	}
	rep, err := admin.RevokeAgent(ctx, ps[0].Agent.ID)
	if err != nil || rep.Status != "done" || rep.Kind != "revoke" || len(rep.Steps) != 5 {
		t.Fatalf("revoke %+v, %v", rep, err)
	}
	if b, _ := usd.BalanceOf(&bind.CallOpts{Context: ctx}, treasury); b.Int64() != 999 {
		t.Errorf("treasury holds %v", b)
	}
	jobs, err := admin.AgentJobs(ctx, ps[0].Agent.ID)
	if err != nil || len(jobs) != 1 || jobs[0].JobID != rep.JobID {
		t.Errorf("jobs %+v, %v", jobs, err)
	}
	if _, err := admin.RevokeAgent(ctx, ps[0].Agent.ID); !errors.Is(err, sdk.ErrConflict) {
		t.Errorf("second revoke: %v", err)
	}
	rep, err = admin.RotateAgent(ctx, ps[1].Agent.ID, "")
	if err != nil || rep.Kind != "rotate" || rep.Status != "done" {
		t.Fatalf("rotate %+v, %v", rep, err)
	}
	if deps, err = admin.AgentDeps(ctx, ps[1].Agent.ID); err != nil || len(deps.Keys) != 2 || deps.Keys[1].Generation != 1 {
		t.Errorf("after rotation %+v, %v", deps, err)
	}
}
