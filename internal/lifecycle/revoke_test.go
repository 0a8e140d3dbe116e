package lifecycle

import (
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
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
func TestRevokeOnDevnet(t *testing.T) { checkRevoke(t, newEnv(t)) }

// checkRevoke is TestRevokeOnDevnet on any store (see TestRevokeOnPostgres).
func checkRevoke(t *testing.T, e *env) {
	ag := e.provision("victim")[0]
	addr := common.HexToAddress(ag.Key.Address)
	e.fund(addr, 2_000_000)
	e.permitFrom(ag.Key, spender, 777)
	p1 := e.pay(ag.Agent.ID, "p1", merchant, "10000")
	p2 := e.pay(ag.Agent.ID, "p2", merchant, "20000")
	if e.allowance(addr, spender).Int64() != 777 {
		t.Fatal("allowance not set up")
	}

	if _, err := e.svc.Authenticate(e.ctx, ag.Token.Reveal()); err != nil {
		t.Fatalf("authenticate before revoke: %v", err)
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
	if _, err := e.svc.Authenticate(e.ctx, ag.Token.Reveal()); !errors.Is(err, payments.ErrUnauthenticated) {
		t.Errorf("authenticate after revoke: %v", err)
	}
	if _, err := e.tryPay(ag.Agent.ID, "p3", merchant, "1000"); err == nil {
		t.Error("payment after revoke was signed")
	}
	svc2, err := payments.New(payments.Config{Store: e.replica(), Keys: e.vault, Registry: e.m.cfg.Registry, Audit: e.log})
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

// TestRevokeResumesAfterCrash: a revocation that stops right after step k (as a
// crash there would) is resumed by the next call from step k+1, and the end state
// is the same as an uninterrupted run, with nothing done twice.
func TestRevokeResumesAfterCrash(t *testing.T) {
	e := newEnv(t)
	steps := []string{StepCredentials, StepKey, StepAuthorizations, StepAllowances}
	for i, after := range steps {
		t.Run("after_"+after, func(t *testing.T) {
			ag := e.provision("crash-" + after)[0]
			addr := common.HexToAddress(ag.Key.Address)
			e.fund(addr, 500_000)
			e.permitFrom(ag.Key, spender, 5)
			p := e.pay(ag.Agent.ID, "p", merchant, "1000")
			treasuryBefore := e.balance(e.treasury)

			e.m.failAfter = after
			rep, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID, Actor: operator})
			e.m.failAfter = ""
			if !errors.Is(err, errInjected) {
				t.Fatalf("first run: %v", err)
			}
			for j, s := range rep.Steps {
				if want := j <= i; (s.Status == store.StepDone) != want {
					t.Errorf("after the crash step %s is %s", s.Name, s.Status)
				}
			}
			// A different request cannot start a second job meanwhile: the same job resumes.
			rep2, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID, Actor: operator})
			if err != nil {
				t.Fatalf("resume: %v\n%s", err, mustJSON(rep2))
			}
			if !rep2.Resumed || rep2.JobID != rep.JobID || rep2.Status != store.JobDone {
				t.Fatalf("resumed report %s", mustJSON(rep2))
			}
			if n := countAction(rep2, StepAuthorizations, "cancel_authorization"); n != 1 {
				t.Errorf("%d cancellations", n)
			}
			if n := countAction(rep2, StepSweep, "sweep_token"); n != 1 {
				t.Errorf("%d token sweeps", n)
			}
			if n := countAction(rep2, StepAllowances, "approve_zero"); n != 1 {
				t.Errorf("%d allowance resets", n)
			}
			var a store.Authorization
			e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { a, err = rt.Authorization(e.ctx, p.AuthorizationID); return err })
			if a.Status != store.AuthCancelled || !e.authState(addr, a.Nonce) {
				t.Errorf("authorization %s, on chain used %v", a.Status, e.authState(addr, a.Nonce))
			}
			if e.allowance(addr, spender).Sign() != 0 || e.balance(addr).Sign() != 0 {
				t.Error("allowance or balance left")
			}
			if got := new(big.Int).Sub(e.balance(e.treasury), treasuryBefore); got.Int64() != 500_000 {
				t.Errorf("treasury received %v", got)
			}
			jobs, err := e.m.Jobs(e.ctx, store.JobFilter{AgentID: ag.Agent.ID})
			if err != nil || len(jobs) != 1 {
				t.Errorf("jobs %d, %v", len(jobs), err)
			}
		})
	}
}

// TestRevokeBadInput: an unknown agent, a fleet without treasury and a Manager
// without chain are refused with a clear error and nothing changes.
func TestRevokeBadInput(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("ok")[0]
	head := func() uint64 {
		var h store.AuditRecord
		e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { h, err = rt.AuditHead(e.ctx); return err })
		return h.Seq
	}
	before := head()
	if _, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: "agt_missing", Actor: operator}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown agent: %v", err)
	}
	if _, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID}); err == nil {
		t.Error("no actor: accepted")
	}
	// A fleet without treasury.
	var nf store.Fleet
	e.st.Tx(e.ctx, func(tx store.Tx) (err error) {
		nf, err = tx.CreateFleet(e.ctx, store.Fleet{Name: "bare", Index: 8})
		return err
	})
	ps, err := e.svc.ProvisionAgents(e.ctx, payments.ProvisionRequest{FleetID: nf.ID, Agents: []payments.NewAgent{{ExternalID: "x", Name: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	before = head()
	if _, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ps[0].Agent.ID, Actor: operator}); !errors.Is(err, ErrTreasuryUnset) {
		t.Errorf("treasury unset: %v", err)
	}
	noChain, err := New(Config{Store: e.st, Keys: e.vault, Registry: e.m.cfg.Registry, Audit: e.log})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noChain.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID, Actor: operator}); !errors.Is(err, ErrNoChain) {
		t.Errorf("no chain: %v", err)
	}
	if head() != before {
		t.Error("a refused revocation wrote an audit record")
	}
	for _, id := range []string{ag.Agent.ID, ps[0].Agent.ID} {
		if a := e.agent(id); a.Status != store.AgentActive {
			t.Errorf("agent %s is %s", id, a.Status)
		}
		if jobs, _ := e.m.Jobs(e.ctx, store.JobFilter{AgentID: id}); len(jobs) != 0 {
			t.Errorf("agent %s has %d jobs", id, len(jobs))
		}
	}
	if _, err := e.svc.Authenticate(e.ctx, ag.Token.Reveal()); err != nil {
		t.Errorf("credential after refused revocations: %v", err)
	}
}

// TestRevokeResumesAfterSubmittedTx: a revocation that stops right after a chain step
// has submitted its transaction (before seeing it mined) resumes by waiting for that
// transaction and does not send it again: one cancellation, one reset, one sweep.
func TestRevokeResumesAfterSubmittedTx(t *testing.T) {
	e := newEnv(t)
	for _, step := range []string{StepAuthorizations, StepAllowances, StepSweep} {
		t.Run(step, func(t *testing.T) {
			ag := e.provision("submitted-" + step)[0]
			addr := common.HexToAddress(ag.Key.Address)
			e.fund(addr, 300_000)
			e.permitFrom(ag.Key, spender, 9)
			p := e.pay(ag.Agent.ID, "p", merchant, "1000")
			treasuryBefore := e.balance(e.treasury)

			e.m.failAfterSubmit = step
			_, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID, Actor: operator})
			e.m.failAfterSubmit = ""
			if !errors.Is(err, errInjected) {
				t.Fatalf("first run: %v", err)
			}
			rep, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID, Actor: operator})
			if err != nil || rep.Status != store.JobDone {
				t.Fatalf("resume: %v\n%s", err, mustJSON(rep))
			}
			if !hasAction(rep, step, "confirm_tx") {
				t.Errorf("no confirm_tx in %s: %s", step, mustJSON(rep))
			}
			var a store.Authorization
			e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { a, err = rt.Authorization(e.ctx, p.AuthorizationID); return err })
			if a.Status != store.AuthCancelled {
				t.Errorf("authorization is %s", a.Status)
			}
			if n := countAction(rep, StepAuthorizations, "cancel_authorization"); n != 1 {
				t.Errorf("%d cancellations recorded", n)
			}
			if e.allowance(addr, spender).Sign() != 0 || e.balance(addr).Sign() != 0 {
				t.Error("allowance or balance left")
			}
			if got := new(big.Int).Sub(e.balance(e.treasury), treasuryBefore); got.Int64() != 300_000 {
				t.Errorf("treasury received %v", got)
			}
		})
	}
}

// TestRevokeConcurrentCallsRunOnce: two revocations of one agent at once run its job
// once; the other call is refused with ErrBusy or finds it done.
func TestRevokeConcurrentCallsRunOnce(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("twice")[0]
	e.fund(common.HexToAddress(ag.Key.Address), 1000)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID, Actor: operator})
			errs <- err
		}()
	}
	var ok int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, ErrBusy), errors.Is(err, ErrAlreadyRevoked):
		default:
			t.Errorf("revoke: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d calls ran the job", ok)
	}
	if got := e.balance(e.treasury); got.Int64() != 1000 {
		t.Errorf("treasury holds %v", got)
	}
}
