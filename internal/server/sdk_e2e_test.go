package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// TestSDKPaysSettlesReconcilesAndVerifies is the signing service's acceptance test, every part
// real: a devnet with the TestUSD token, a facilitator, a paid resource behind the x402
// middleware, and the daemon with its reconciler. An operator provisions an agent and applies a
// policy through the SDK; the agent fetches the paid resource with x402.NewClient(sdk.NewPayer);
// the payment settles on chain (balances move); the daemon's reconciler marks the authorization
// settled with the settlement's transaction; an auditor downloads the audit chain through the
// SDK and verifies it against the audit key, and the database's own chain verifies too.
func TestSDKPaysSettlesReconcilesAndVerifies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startChain(t, ctx)
	d, fac := c.d, c.fac
	tok := d.Token()
	merchant := common.HexToAddress("0x00000000000000000000000000000000000a11ce")

	// The paid resource: 0.02 TestUSD per call, settled through the facilitator.
	mw, err := x402.NewMiddleware(x402.MiddlewareConfig{Facilitator: fac, Routes: []x402.Route{{
		Pattern: "GET /report",
		Accepts: []x402.Accept{{Network: d.Network(), Amount: "20000", Asset: tok.Address.Hex(), PayTo: merchant.Hex(),
			EIP712Name: tok.Name, EIP712Version: tok.Version}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	resource := httptest.NewServer(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "the paid report")
	})))
	t.Cleanup(resource.Close)

	cfg := testConfig(t)
	cfg.RPCURL = d.RPCURL()
	cfg.Reconcile.Interval = 100 * time.Millisecond
	cfg.Assets = []AssetConfig{c.asset()}
	r := start(t, cfg)
	boot, err := payments.BootstrapAdmin(ctx, r.Store(), r.Audit(), "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sdk.NewClient(r.URL(), boot.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}

	// The operator side, through the SDK only.
	fleet, err := admin.CreateFleet(ctx, "acceptance", "")
	if err != nil {
		t.Fatal(err)
	}
	group, err := admin.CreateGroup(ctx, fleet.ID, "research")
	if err != nil {
		t.Fatal(err)
	}
	policy := "version: 1\nname: research\nallow_http: true\nlimits:\n  per_payment: \"0.05\"\n  windows:\n    - window: 1h\n      max_amount: \"1.00\"\nallow:\n  pay_to: [\"" + merchant.Hex() + "\"]\nmax_validity: 2m\n"
	fleetPolicy := "version: 1\nname: fleet\nallow_http: true\nlimits:\n  per_payment: \"1.00\"\n"
	if _, err := admin.ApplyPolicy(ctx, "fleet", fleet.ID, "fleet", fleetPolicy); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ApplyPolicy(ctx, "group", group.ID, "research", policy); err != nil {
		t.Fatal(err)
	}
	made, err := admin.CreateAgents(ctx, sdk.CreateAgentsRequest{FleetID: fleet.ID, GroupID: group.ID,
		Agents: []sdk.NewAgent{{ExternalID: "reader-1", Name: "reader"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(made) != 1 || !made[0].Created || made[0].Token.Reveal() == "" {
		t.Fatalf("provisioned %+v", made)
	}
	agentAddr := common.HexToAddress(made[0].Address)

	// Fund the agent with 1 TestUSD from a dev account.
	c.fund(t, ctx, agentAddr, "1000000")

	usd, err := bindings.NewTestUSD(tok.Address, d.Client())
	if err != nil {
		t.Fatal(err)
	}
	balance := func(a common.Address) *big.Int {
		t.Helper()
		b, err := usd.BalanceOf(nil, a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	agentBefore, merchantBefore := balance(agentAddr), balance(merchant)

	// The agent fetches the paid resource with nothing but its token.
	payer, err := sdk.NewPayer(r.URL(), made[0].Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := x402.NewClient(payer).Get(resource.URL + "/report")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "the paid report" {
		t.Fatalf("paid fetch: %d %q", resp.StatusCode, body)
	}
	settlement, err := x402.SettlementFromResponse(resp)
	if err != nil || !settlement.Success || settlement.Transaction == "" {
		t.Fatalf("settlement %+v, %v", settlement, err)
	}
	price := big.NewInt(20000)
	if got := new(big.Int).Sub(agentBefore, balance(agentAddr)); got.Cmp(price) != 0 {
		t.Errorf("agent paid %s, want %s", got, price)
	}
	if got := new(big.Int).Sub(balance(merchant), merchantBefore); got.Cmp(price) != 0 {
		t.Errorf("merchant received %s, want %s", got, price)
	}

	// The ledger reconciles: the daemon's reconciler marks the authorization settled with the
	// transaction the resource server reported.
	var auth sdk.Authorization
	for {
		page, err := admin.Authorizations(ctx, sdk.AuthorizationFilter{AgentID: made[0].Agent.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Authorizations) != 1 {
			t.Fatalf("authorizations %+v", page.Authorizations)
		}
		auth = page.Authorizations[0]
		if auth.Status == sdk.PaymentSettled {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("authorization still %s: the ledger did not reconcile it", auth.Status)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if common.HexToHash(auth.TxHash) != common.HexToHash(settlement.Transaction) {
		t.Fatalf("ledger tx %s, settlement tx %s", auth.TxHash, settlement.Transaction)
	}
	var spent store.Spend
	if err := r.Store().ReadTx(ctx, func(rt store.ReadTx) (err error) {
		spent, err = rt.Spend(ctx, store.LevelGroup, group.ID, time.Hour, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if spent.AmountMicro != 20000 || spent.Count != 1 {
		t.Errorf("group window after settlement: %+v, want 0.02 in one payment", spent)
	}

	// An auditor verifies the chain it downloads, against the audit key it trusts (derived here
	// from the same root, not taken from the server), after a checkpoint.
	if err := r.checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	auditKey, err := r.vault.Key(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := admin.CreateCredential(ctx, sdk.NewCredential{Name: "auditor", Role: sdk.RoleAuditor})
	if err != nil {
		t.Fatal(err)
	}
	auditor, err := sdk.NewClient(r.URL(), cred.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	var export bytes.Buffer
	enc := json.NewEncoder(&export)
	cps, err := auditor.AuditCheckpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cps {
		enc.Encode(c)
	}
	var after uint64
	actions := map[string]int{}
	for {
		recs, err := auditor.AuditRecords(ctx, after, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, rec := range recs {
			enc.Encode(rec)
			after = rec.Seq
			actions[rec.Action]++
		}
	}
	rep, err := audit.VerifyExport(ctx, &export, common.Address(auditKey.Address()))
	if err != nil || !rep.OK() || rep.Checkpoints == 0 {
		t.Fatalf("downloaded chain: %+v (%v), %v", rep, rep.Problem, err)
	}
	for _, a := range []string{audit.ActionPaymentSigned, audit.ActionPaymentSettled, audit.ActionPolicyApplied, audit.ActionAgentCreated} {
		if actions[a] == 0 {
			t.Errorf("no %s record in the audit chain (actions %v)", a, actions)
		}
	}
	local, err := audit.Verify(ctx, r.Store(), common.Address(auditKey.Address()))
	if err != nil || local.Problem != nil || local.Head != after {
		t.Fatalf("database chain: %+v, %v (downloaded head %d)", local, err, after)
	}
}
