package anomaly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
)

// fakeClock is the simulated clock of a test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time                    { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration)           { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *fakeClock) set(t time.Time)                   { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func newClock() *fakeClock                             { return &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }
func payee(i int) string                               { return fmt.Sprintf("0x%040x", 0xabc000+i) }
func resURL(host string, i int) string                 { return "https://" + host + "/v1/data?i=" + strconv.Itoa(i) }
func (e *tenv) agent(i int) string                     { return e.agents[i] }
func (e *tenv) ctxWith(runtime string) context.Context { return WithRuntime(e.ctx, runtime) }

// testThresholds make baselines warm after a few payments and an hour.
var testThresholds = Thresholds{MinHistory: 5, FleetMinHistory: 10, Warmup: time.Hour, FleetWarmup: time.Hour, UnusualMinHistory: 20}

// tenv is a real payments service on SQLite with a detector on its signing path.
type tenv struct {
	*paymentstest.Env
	ctx    context.Context
	t      *testing.T
	clk    *fakeClock
	log    *audit.Log
	svc    *payments.Service
	d      *Detector
	cfg    Config
	agents []string
	seq    int
}

func newTEnv(t *testing.T, agents int, mod func(*Config)) *tenv {
	t.Helper()
	pe := paymentstest.New(t, paymentstest.Options{})
	e := &tenv{Env: pe, ctx: pe.Ctx, t: t, clk: newClock()}
	var err error
	if e.log, err = audit.New(audit.Options{Now: e.clk.now}); err != nil {
		t.Fatal(err)
	}
	pe.PutPolicy(store.LevelFleet, pe.Fleet.ID, "version: 1\nname: fleet\nlimits:\n  per_payment: \"0.50\"\n")
	e.cfg = Config{Store: pe.Store, Audit: e.log, Now: e.clk.now, Thresholds: testThresholds, PerPaymentLimit: 500_000,
		Approvers: []string{"secops"}, Quorum: 1, ApprovalExpiresAfter: time.Hour, FlushEvery: -1}
	if mod != nil {
		mod(&e.cfg)
	}
	e.start()
	var req payments.ProvisionRequest
	req.FleetID = pe.Fleet.ID
	for i := range agents {
		req.Agents = append(req.Agents, payments.NewAgent{ExternalID: fmt.Sprintf("a%d", i), Name: fmt.Sprintf("agent %d", i)})
	}
	if agents == 0 {
		return e
	}
	ps, err := e.svc.ProvisionAgents(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		e.agents = append(e.agents, p.Agent.ID)
	}
	return e
}

// start (re)creates the detector and the service on the environment's store.
func (e *tenv) start() {
	e.t.Helper()
	d, err := New(e.ctx, e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { d.Close(context.Background()) })
	e.start2(d)
}

// start2 (re)creates the service with detector d.
func (e *tenv) start2(d *Detector) {
	e.t.Helper()
	e.d = d
	var err error
	if e.svc, err = payments.New(payments.Config{Store: e.Store, Keys: e.Vault, Registry: e.Registry, Audit: e.log, Now: e.clk.now, Detector: e.d}); err != nil {
		e.t.Fatal(err)
	}
}

func demand(t testing.TB, payTo, resource string, amount int64) string {
	r := paymentstest.Requirement(strconv.FormatInt(amount, 10))
	r.PayTo = payTo
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: resource}, Accepts: []x402.PaymentRequirementsV2{r}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// pay asks for one payment with a fresh idempotency key.
func (e *tenv) pay(ctx context.Context, agent int, payTo, resource string, amount int64) (*payments.PayResult, error) {
	e.seq++
	return e.payKey(ctx, agent, payTo, resource, amount, "k"+strconv.Itoa(e.seq))
}

func (e *tenv) payKey(ctx context.Context, agent int, payTo, resource string, amount int64, key string) (*payments.PayResult, error) {
	return e.svc.Pay(ctx, e.agents[agent], payments.PayRequest{Version: 2, Raw: []byte(demand(e.t, payTo, resource, amount)),
		ResourceURL: resource, Method: "GET", IdempotencyKey: key})
}

// mustSign pays and fails the test unless the payment is signed at once.
func (e *tenv) mustSign(agent int, payTo, resource string, amount int64) {
	e.t.Helper()
	res, err := e.pay(e.ctx, agent, payTo, resource, amount)
	if err != nil || res.NeedsApproval {
		e.t.Fatalf("agent %d paying %s %d: %+v, %v", agent, payTo, amount, res, err)
	}
}

// warm gives every agent a history of small payments to payees 0 and 1 over two
// hours, and the last agent one to payee 5 as well.
func (e *tenv) warm() {
	e.t.Helper()
	e.mustSign(len(e.agents)-1, payee(5), resURL("api.example.com", 0), 10_000)
	for i := range 12 {
		for a := range e.agents {
			e.mustSign(a, payee(i%2), resURL("api.example.com", i), 10_000+int64(i%3)*1000)
		}
		e.clk.advance(10 * time.Minute)
	}
}

func (e *tenv) alerts(f store.AlertFilter) []store.Alert {
	e.t.Helper()
	as, err := Alerts(e.ctx, e.Store, f)
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

// signals returns the anomaly.signal audit records' signal names, in order.
func (e *tenv) signals() []string {
	e.t.Helper()
	var out []string
	err := e.Store.ReadTx(e.ctx, func(rt store.ReadTx) error {
		recs, err := rt.AuditRecords(e.ctx, 0, 100000)
		for _, r := range recs {
			if r.Action == ActionSignal {
				var d struct{ Signal string }
				if err := json.Unmarshal(r.Data, &d); err != nil {
					return err
				}
				out = append(out, d.Signal)
			}
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func wantDenied(t *testing.T, err error, reason string) {
	t.Helper()
	var de *payments.DeniedError
	if !errors.As(err, &de) || de.Reason != reason {
		t.Fatalf("error %v, want a denial %s", err, reason)
	}
}

func TestNewPayeeHoldsAgentUntilAck(t *testing.T) {
	e := newTEnv(t, 2, nil)
	e.warm()
	// A payee the agent never paid but the fleet knows: recorded only.
	e.mustSign(0, payee(5), resURL("api.example.com", 99), 10_000)

	res, err := e.pay(e.ctx, 0, payee(7), resURL("evil.example", 1), 20_000)
	if err != nil || !res.NeedsApproval {
		t.Fatalf("payment to a payee new to the fleet: %+v, %v", res, err)
	}
	aps, err := e.svc.Approval(e.ctx, res.ApprovalIDs[0])
	if err != nil || aps.Approval.Rule != "anomaly:new_payee" {
		t.Fatalf("approval %+v, %v", aps, err)
	}
	open := e.alerts(store.AlertFilter{Status: store.AlertOpen})
	if len(open) != 1 || open[0].Signal != string(SignalNewPayee) || open[0].Action != string(RequireApproval) || open[0].AgentID != e.agent(0) {
		t.Fatalf("open alerts %+v", open)
	}
	// Held from now on, even for a known payee; the other agent is not.
	if res, err := e.pay(e.ctx, 0, payee(0), resURL("api.example.com", 1), 10_000); err != nil || !res.NeedsApproval {
		t.Fatalf("held agent's next payment: %+v, %v", res, err)
	}
	e.mustSign(1, payee(0), resURL("api.example.com", 1), 10_000)
	if _, err := e.d.Ack(e.ctx, open[0].ID, audit.OperatorActor("op")); err != nil {
		t.Fatal(err)
	}
	e.mustSign(0, payee(0), resURL("api.example.com", 2), 10_000)
	if got := e.signals(); !reflect.DeepEqual(got, []string{"new_payee", "new_payee", "new_origin"}) {
		t.Errorf("signals %v, want the low and the medium new_payee and a new origin", got)
	}
}

func TestRequireApprovalWithoutApproversDenies(t *testing.T) {
	e := newTEnv(t, 1, func(c *Config) { c.Approvers, c.Quorum = nil, 0 })
	e.warm()
	_, err := e.pay(e.ctx, 0, payee(7), resURL("evil.example", 1), 20_000)
	wantDenied(t, err, ReasonNoApprovers)
}

func TestPayeeSpreadBlocksPayeeFleetWide(t *testing.T) {
	e := newTEnv(t, 5, nil)
	e.warm()
	for a := range 2 {
		if res, err := e.pay(e.ctx, a, payee(9), resURL("cdn.evil.example", a), 5_000); err != nil || !res.NeedsApproval {
			t.Fatalf("agent %d: %+v, %v", a, res, err)
		}
		e.clk.advance(time.Minute)
	}
	_, err := e.pay(e.ctx, 2, payee(9), resURL("cdn.evil.example", 2), 5_000)
	wantDenied(t, err, ReasonPayeeBlocked)
	// Blocked for every agent of the fleet, whatever else it has.
	_, err = e.pay(e.ctx, 4, payee(9), resURL("cdn.evil.example", 4), 5_000)
	wantDenied(t, err, ReasonPayeeBlocked)
	blocks := e.alerts(store.AlertFilter{Status: store.AlertOpen})
	var spread *store.Alert
	for i, a := range blocks {
		if a.Signal == string(SignalPayeeSpread) {
			spread = &blocks[i]
		}
	}
	if spread == nil || spread.Action != string(BlockPayee) || spread.AgentID != "" {
		t.Fatalf("no fleet-wide block in %+v", blocks)
	}
	// Acknowledged by another process (fleetkey alerts ack): lifted at reload.
	if _, err := AckAlert(e.ctx, e.Store, e.log, spread.ID, audit.OperatorActor("op"), e.clk.now()); err != nil {
		t.Fatal(err)
	}
	if err := e.d.reloadOpen(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pay(e.ctx, 4, payee(9), resURL("cdn.evil.example", 4), 5_000); errors.Is(err, payments.ErrDenied) {
		t.Fatalf("payee still blocked after ack: %v", err)
	}
}

func TestRepeatedPaymentFreezesAgent(t *testing.T) {
	e := newTEnv(t, 1, nil)
	for range 2 {
		e.mustSign(0, payee(0), resURL("api.example.com", 1), 10_000)
		e.clk.advance(3 * time.Second)
	}
	_, err := e.pay(e.ctx, 0, payee(0), resURL("api.example.com", 1), 10_000)
	wantDenied(t, err, ReasonAgentFrozen)
	d, err := e.svc.AgentDetail(e.ctx, e.agent(0))
	if err != nil || d.Agent.Status != store.AgentFrozen {
		t.Fatalf("agent %+v, %v", d.Agent, err)
	}
	var se *store.StateError
	if _, err := e.pay(e.ctx, 0, payee(0), resURL("api.example.com", 2), 10_000); !errors.As(err, &se) {
		t.Fatalf("frozen agent paid: %v", err)
	}
}

func TestRunawayRequestRateFreezes(t *testing.T) {
	e := newTEnv(t, 1, func(c *Config) { c.Thresholds.RunawayPerMinute = 6 })
	for i := range 5 {
		e.mustSign(0, payee(0), resURL("api.example.com", i), 10_000)
		e.clk.advance(5 * time.Second)
	}
	_, err := e.pay(e.ctx, 0, payee(0), resURL("api.example.com", 5), 10_000)
	wantDenied(t, err, ReasonAgentFrozen)
}

func TestAmountOutlierHolds(t *testing.T) {
	e := newTEnv(t, 1, nil)
	e.warm()
	res, err := e.pay(e.ctx, 0, payee(0), resURL("api.example.com", 50), 400_000)
	if err != nil || !res.NeedsApproval {
		t.Fatalf("outlier: %+v, %v", res, err)
	}
	if got := e.signals(); len(got) == 0 || got[0] != string(SignalAmountOutlier) {
		t.Errorf("signals %v, want amount_outlier first", got)
	}
}

func TestNearLimitRepeatsHold(t *testing.T) {
	// Outliers off: the near-limit detector alone.
	e := newTEnv(t, 1, func(c *Config) {
		c.Responses = Responses{SignalAmountOutlier: {Medium: Record, High: Record}}
	})
	for i := range 2 {
		e.mustSign(0, payee(0), resURL("api.example.com", i), 460_000)
		e.clk.advance(time.Hour)
	}
	res, err := e.pay(e.ctx, 0, payee(0), resURL("api.example.com", 3), 470_000)
	if err != nil || !res.NeedsApproval {
		t.Fatalf("third near-limit payment: %+v, %v", res, err)
	}
}

func TestDenialBurstAlertsThenFreezes(t *testing.T) {
	e := newTEnv(t, 1, nil)
	for i := range 10 {
		// Above the policy's per-payment limit: denied by policy.
		_, err := e.pay(e.ctx, 0, payee(0), resURL("api.example.com", i), 600_000)
		if i < 9 {
			wantDenied(t, err, "amount_above_per_payment_limit")
		}
		e.clk.advance(10 * time.Second)
	}
	got := e.alerts(store.AlertFilter{AgentID: e.agent(0)})
	if len(got) != 2 || got[1].Signal != string(SignalDenialBurst) || got[1].Severity != "medium" || got[0].Severity != "high" {
		t.Fatalf("alerts %+v, want a medium then a high denial_burst", got)
	}
	d, err := e.svc.AgentDetail(e.ctx, e.agent(0))
	if err != nil || d.Agent.Status != store.AgentFrozen {
		t.Fatalf("agent %+v, %v", d.Agent, err)
	}
}

func TestReplayBurstHolds(t *testing.T) {
	e := newTEnv(t, 1, nil)
	e.mustSign(0, payee(0), resURL("api.example.com", 1), 10_000)
	for range 3 {
		res, err := e.payKey(e.ctx, 0, payee(0), resURL("api.example.com", 1), 10_000, "k1")
		if err != nil || !res.Replayed {
			t.Fatalf("replay: %+v, %v", res, err)
		}
	}
	if got := e.alerts(store.AlertFilter{}); len(got) != 1 || got[0].Signal != string(SignalReplayBurst) {
		t.Fatalf("alerts %+v", got)
	}
	if res, err := e.pay(e.ctx, 0, payee(0), resURL("api.example.com", 2), 10_000); err != nil || !res.NeedsApproval {
		t.Fatalf("payment after a replay burst: %+v, %v", res, err)
	}
}

func TestSecondRuntime(t *testing.T) {
	e := newTEnv(t, 1, nil)
	a := e.ctxWith("rt-a")
	if _, err := e.pay(a, 0, payee(0), resURL("api.example.com", 1), 10_000); err != nil {
		t.Fatal(err)
	}
	// Replaced after a long pause: recorded, signed.
	e.clk.advance(3 * time.Hour)
	if res, err := e.pay(e.ctxWith("rt-b"), 0, payee(0), resURL("api.example.com", 2), 10_000); err != nil || res.NeedsApproval {
		t.Fatalf("replaced runtime: %+v, %v", res, err)
	}
	// Used from another runtime while rt-b is active: held, and so is rt-b from now on.
	e.clk.advance(5 * time.Minute)
	if res, err := e.pay(e.ctxWith("rt-evil"), 0, payee(0), resURL("api.example.com", 3), 10_000); err != nil || !res.NeedsApproval {
		t.Fatalf("second runtime: %+v, %v", res, err)
	}
	if res, err := e.pay(e.ctxWith("rt-b"), 0, payee(0), resURL("api.example.com", 4), 10_000); err != nil || !res.NeedsApproval {
		t.Fatalf("first runtime after the alert: %+v, %v", res, err)
	}
	if got := e.signals(); !reflect.DeepEqual(got, []string{"second_runtime", "second_runtime"}) {
		t.Errorf("signals %v", got)
	}
}

func TestUnusualHourIsRecorded(t *testing.T) {
	e := newTEnv(t, 1, nil)
	for day := range 3 {
		e.clk.set(time.Date(2026, 3, 2+day, 9, 0, 0, 0, time.UTC))
		for i := range 10 {
			e.mustSign(0, payee(0), resURL("api.example.com", day*100+i), 10_000)
			e.clk.advance(10 * time.Minute)
		}
	}
	e.clk.set(time.Date(2026, 3, 5, 3, 0, 0, 0, time.UTC))
	e.mustSign(0, payee(0), resURL("api.example.com", 999), 10_000)
	if got := e.signals(); len(got) != 1 || got[0] != string(SignalUnusualHour) {
		t.Errorf("signals %v, want unusual_hour", got)
	}
	if got := e.alerts(store.AlertFilter{}); len(got) != 0 {
		t.Errorf("record-only signal raised alerts %+v", got)
	}
}

func TestResponsesOverride(t *testing.T) {
	e := newTEnv(t, 1, func(c *Config) { c.Responses = Responses{SignalNewPayee: {Medium: Alert}} })
	e.warm()
	e.mustSign(0, payee(7), resURL("evil.example", 1), 20_000)
	if got := e.alerts(store.AlertFilter{}); len(got) != 1 || got[0].Action != string(Alert) {
		t.Fatalf("alerts %+v", got)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	for _, flush := range []bool{true, false} {
		t.Run(fmt.Sprintf("flush=%v", flush), func(t *testing.T) {
			e := newTEnv(t, 3, nil)
			e.warm()
			if flush {
				if err := e.d.Flush(e.ctx); err != nil {
					t.Fatal(err)
				}
			}
			// More after the save: denials, a replay, new payees.
			_, _ = e.pay(e.ctx, 1, payee(2), resURL("other.example", 1), 30_000)
			_, _ = e.pay(e.ctx, 2, payee(0), resURL("api.example.com", 1), 900_000)
			_, _ = e.payKey(e.ctx, 0, payee(0), resURL("api.example.com", 0), 10_000, "k1")
			e.clk.advance(time.Minute)
			_, _ = e.pay(e.ctx, 0, payee(8), resURL("evil.example", 1), 20_000)

			e.d.mu.Lock()
			want, err := json.Marshal(savedState{Agents: e.d.agents, Fleets: e.d.fleets})
			e.d.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			// A crash: the old detector is dropped without saving.
			e.start()
			got, err := json.Marshal(savedState{Agents: e.d.agents, Fleets: e.d.fleets})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("restored state differs\n got %s\nwant %s", got, want)
			}
			// The responses in force too: agent 0 is still held.
			if res, err := e.pay(e.ctx, 0, payee(0), resURL("api.example.com", 5), 10_000); err != nil || !res.NeedsApproval {
				t.Fatalf("after restart: %+v, %v", res, err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	e := newTEnv(t, 0, nil)
	for name, mod := range map[string]func(*Config){
		"no store":        func(c *Config) { c.Store = nil },
		"no audit":        func(c *Config) { c.Audit = nil },
		"quorum":          func(c *Config) { c.Quorum = 2 },
		"no expiry":       func(c *Config) { c.ApprovalExpiresAfter = 0 },
		"unknown signal":  func(c *Config) { c.Responses = Responses{"nope": {Low: Alert}} },
		"unknown action":  func(c *Config) { c.Responses = Responses{SignalNewPayee: {Low: "shrug"}} },
		"unknown sev":     func(c *Config) { c.Responses = Responses{SignalNewPayee: {"dire": Alert}} },
		"alpha":           func(c *Config) { c.Thresholds.Alpha = 1.5 },
		"ring too large":  func(c *Config) { c.Thresholds.RepeatCount = 1000 },
		"negative limit":  func(c *Config) { c.PerPaymentLimit = -1 },
		"denial ordering": func(c *Config) { c.Thresholds.DenialMedium = 20 },
	} {
		c := e.cfg
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := e.cfg.Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

func TestHeldPaymentSignedByApprover(t *testing.T) {
	e := newTEnv(t, 1, nil)
	e.warm()
	res, err := e.pay(e.ctx, 0, payee(7), resURL("new.example", 1), 20_000)
	if err != nil || !res.NeedsApproval {
		t.Fatalf("%+v, %v", res, err)
	}
	v, err := e.svc.Vote(e.ctx, payments.OperatorIdentity{CredentialID: "crd_sec", Name: "secops", Role: store.RoleApprover}, res.ApprovalIDs[0], store.VoteApprove)
	if err != nil {
		t.Fatal(err)
	}
	if v.Authorization.Status != store.AuthSigned {
		t.Fatalf("after the approver's vote: %+v", v.Authorization)
	}
	p, err := e.svc.Payment(e.ctx, e.agent(0), res.AuthorizationID)
	if err != nil || p.Value == "" {
		t.Fatalf("payment %+v, %v", p, err)
	}
}

// TestConcurrentPayments runs payments of many agents at once through the
// detector (run with -race): every one gets an answer and the state stays whole.
func TestConcurrentPayments(t *testing.T) {
	// The clock stands still: twenty payments in the same instant are not a runaway here.
	e := newTEnv(t, 8, func(c *Config) { c.Thresholds.RunawayPerMinute = 32 })
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for a := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				_, err := e.svc.Pay(e.ctx, e.agents[a], payments.PayRequest{Version: 2, Raw: []byte(demand(t, payee(i%3), resURL("api.example.com", i), 10_000)),
					ResourceURL: resURL("api.example.com", i), IdempotencyKey: fmt.Sprintf("c%d-%d", a, i)})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := e.d.Flush(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.d.mu.Lock()
	defer e.d.mu.Unlock()
	var n int64
	for _, a := range e.d.agents {
		n += a.N
	}
	if n != 160 {
		t.Errorf("learned %d payments, want 160", n)
	}
}
