package api

import (
	"context"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/lifecycle"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
)

// TestLifecycleRoutesOnDevnet: over HTTP, an operator reads an agent's dependency map,
// revokes it (the chain shows its funds in the treasury), lists its jobs, is refused a
// second revocation, and rotates another agent; an auditor may read but not revoke.
func TestLifecycleRoutesOnDevnet(t *testing.T) {
	e := newOpEnv(t)
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
	sender := func(i int) *chain.Sender {
		k, _ := d.Accounts()[i].PrivateKey()
		id := new(big.Int).SetUint64(d.ChainID())
		s := types.LatestSignerForChainID(id)
		return chain.NewSender(d.Client(), crypto.PubkeyToAddress(k.PublicKey), func(_ common.Address, tx *types.Transaction) (*types.Transaction, error) {
			return types.SignTx(tx, s, k)
		}, id)
	}
	m, err := lifecycle.New(lifecycle.Config{Store: e.Store, Keys: e.Vault, Registry: reg, Audit: e.Audit, Backend: d.Client(), ChainID: d.ChainID(),
		Relayer: sender(9), GasSponsor: sender(8)})
	if err != nil {
		t.Fatal(err)
	}
	treasury := common.HexToAddress("0x00000000000000000000000000000000007ea5e1")
	if err := e.Store.Tx(ctx, func(tx store.Tx) error { _, err := tx.SetFleetTreasury(ctx, e.Fleet.ID, treasury.Hex()); return err }); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(Config{Payments: e.svc, Operators: e.svc, Audit: e.Store, AuditKey: testAuditKey, Lifecycle: m}))
	defer srv.Close()
	e.srv = srv

	victim := e.agents[0]
	k1, _ := d.Accounts()[1].PrivateKey()
	opts, _ := bind.NewKeyedTransactorWithChainID(k1, new(big.Int).SetUint64(d.ChainID()))
	usd, err := bindings.NewTestUSD(tok.Address, d.Client())
	if err != nil {
		t.Fatal(err)
	}
	ftx, err := usd.Transfer(opts, common.HexToAddress(victim.Key.Address), big.NewInt(4242))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(ctx, d.Client(), ftx.Hash()); err != nil {
		t.Fatal(err)
	}

	var deps depsResponse
	e.ok(200, "GET", "/v1/agents/"+victim.Agent.ID+"/deps", e.auditor, nil, &deps)
	if !deps.Deps.Chain || len(deps.Deps.Keys) != 1 || len(deps.Deps.Keys[0].Balances) != 1 || deps.Deps.Keys[0].Balances[0].Amount != "4242" {
		t.Fatalf("deps: %+v", deps.Deps)
	}
	if ans := e.do("POST", "/v1/agents/"+victim.Agent.ID+"/revoke", e.auditor, nil); ans.status != http.StatusForbidden {
		t.Errorf("auditor revoke: %d", ans.status)
	}
	if ans := e.do("POST", "/v1/agents/"+victim.Agent.ID+"/revoke", e.operator, strings.NewReader(`{"force":true}`)); ans.status != http.StatusBadRequest {
		t.Errorf("unknown field: %d %s", ans.status, ans.body)
	}
	var rep reportResponse
	e.ok(200, "POST", "/v1/agents/"+victim.Agent.ID+"/revoke", e.operator, nil, &rep)
	if rep.Report.Status != store.JobDone || len(rep.Report.Steps) != 5 {
		t.Fatalf("report: %+v", rep.Report)
	}
	if b, _ := usd.BalanceOf(&bind.CallOpts{Context: ctx}, treasury); b.Int64() != 4242 {
		t.Errorf("treasury holds %v", b)
	}
	var jobs jobsResponse
	e.ok(200, "GET", "/v1/agents/"+victim.Agent.ID+"/jobs", e.auditor, nil, &jobs)
	if len(jobs.Jobs) != 1 || jobs.Jobs[0].JobID != rep.Report.JobID {
		t.Errorf("jobs: %+v", jobs.Jobs)
	}
	if ans := e.do("POST", "/v1/agents/"+victim.Agent.ID+"/revoke", e.operator, nil); ans.status != http.StatusConflict || ans.errorBody(t).Code != CodeStateConflict {
		t.Errorf("second revoke: %d %s", ans.status, ans.body)
	}
	if ans := e.do("POST", "/v1/agents/agt_missing/revoke", e.operator, nil); ans.status != http.StatusNotFound {
		t.Errorf("unknown agent: %d %s", ans.status, ans.body)
	}

	other := e.agents[1]
	if ans := e.do("POST", "/v1/agents/"+other.Agent.ID+"/rotate", e.operator, strings.NewReader(`{"outstanding":"later"}`)); ans.status != http.StatusBadRequest {
		t.Errorf("bad outstanding: %d %s", ans.status, ans.body)
	}
	e.ok(200, "POST", "/v1/agents/"+other.Agent.ID+"/rotate", e.admin, strings.NewReader(`{"outstanding":"expire"}`), &rep)
	if rep.Report.Kind != store.JobRotate || rep.Report.Status != store.JobDone {
		t.Errorf("rotation: %+v", rep.Report)
	}
	e.ok(200, "GET", "/v1/agents/"+other.Agent.ID+"/deps", e.operator, nil, &deps)
	if len(deps.Deps.Keys) != 2 || deps.Deps.Keys[1].Status != store.KeyActive || deps.Deps.Keys[0].Status != store.KeyDraining {
		t.Errorf("keys after rotation: %+v", deps.Deps.Keys)
	}
}
