package lifecycle

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

var (
	merchant = common.HexToAddress("0x00000000000000000000000000000000000a11ce")
	spender  = common.HexToAddress("0x000000000000000000000000000000000005bed0")
)

// TestRevokeOnDevnet: an agent with funds, an allowance and two outstanding
// authorizations is revoked; the chain shows the authorizations cancelled, the
// allowance zero and the funds in the treasury; its payments are refused by this
// service and by a second one on the same database; a second revoke changes
// nothing.
func TestRevokeOnDevnet(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("victim")[0]
	addr := common.HexToAddress(ag.Key.Address)
	e.fund(addr, 2_000_000)
	e.permitFrom(ag.Key, spender, 777)
	p1 := e.pay(ag.Agent.ID, "p1", merchant, "10000")
	p2 := e.pay(ag.Agent.ID, "p2", merchant, "20000")
	if e.allowance(addr, spender).Int64() != 777 {
		t.Fatal("allowance not set up")
	}

	rep, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID, Actor: operator})
	if err != nil {
		t.Fatalf("revoke: %v\n%s", err, mustJSON(rep))
	}
	if os.Getenv("LIFECYCLE_REPORT") != "" {
		_ = os.WriteFile(filepath.Join(os.Getenv("LIFECYCLE_REPORT")), []byte(mustJSON(rep)), 0o644)
	}
	if rep.Status != store.JobDone || len(rep.Steps) != 5 {
		t.Fatalf("report %s", mustJSON(rep))
	}
	for _, s := range rep.Steps {
		if s.Status != store.StepDone {
			t.Errorf("step %s is %s", s.Name, s.Status)
		}
	}

	// On chain.
	for _, p := range []*payments.PayResult{p1, p2} {
		var a store.Authorization
		e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { a, err = rt.Authorization(e.ctx, p.AuthorizationID); return err })
		if a.Status != store.AuthCancelled {
			t.Errorf("authorization %s is %s, want cancelled", a.ID, a.Status)
		}
		if !e.authState(addr, a.Nonce) {
			t.Errorf("authorizationState(%s) is false after the cancellation", a.Nonce)
		}
	}
	if v := e.allowance(addr, spender); v.Sign() != 0 {
		t.Errorf("allowance after revoke = %v", v)
	}
	if b := e.balance(addr); b.Sign() != 0 {
		t.Errorf("agent balance after revoke = %v", b)
	}
	if b := e.balance(e.treasury); b.Int64() != 2_000_000 {
		t.Errorf("treasury balance = %v, want 2000000", b)
	}
	// Gas was funded from the sponsor and reported.
	if !hasAction(rep, StepAllowances, "fund_gas") || !hasAction(rep, StepAllowances, "approve_zero") ||
		countAction(rep, StepAuthorizations, "cancel_authorization") != 2 || !hasAction(rep, StepSweep, "sweep_token") {
		t.Errorf("report lacks an action: %s", mustJSON(rep))
	}

	// Off chain: the agent, its key and credential are refused at once, here and
	// by a second service on the same database file.
	if a := e.agent(ag.Agent.ID); a.Status != store.AgentRevoked {
		t.Errorf("agent status %s", a.Status)
	}
	if k := e.keys(ag.Agent.ID)[0]; k.Status != store.KeyRevoked {
		t.Errorf("key status %s", k.Status)
	}
	if _, err := e.svc.Authenticate(e.ctx, ag.Token.String()); !errors.Is(err, payments.ErrUnauthenticated) {
		t.Errorf("authenticate after revoke: %v", err)
	}
	if _, err := e.tryPay(ag.Agent.ID, "p3", merchant, "1000"); err == nil {
		t.Error("payment after revoke was signed")
	}
	replica, err := sqlite.Open(e.ctx, e.dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	svc2, err := payments.New(payments.Config{Store: replica, Keys: e.vault, Registry: e.m.cfg.Registry, Audit: e.log})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.payWith(svc2, ag.Agent.ID, "p4", merchant, "1000"); err == nil {
		t.Error("payment through a second replica after revoke was signed")
	}

	// Twice: nothing is done again.
	before := e.balance(e.treasury)
	if _, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID, Actor: operator}); !errors.Is(err, ErrAlreadyRevoked) {
		t.Errorf("second revoke: %v", err)
	}
	if e.balance(e.treasury).Cmp(before) != 0 {
		t.Error("second revoke moved funds")
	}
}

func hasAction(r *Report, step, what string) bool { return countAction(r, step, what) > 0 }

func countAction(r *Report, step, what string) int {
	n := 0
	for _, s := range r.Steps {
		if s.Name != step {
			continue
		}
		for _, a := range s.Actions {
			if a.What == what {
				n++
			}
		}
	}
	return n
}

func mustJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
