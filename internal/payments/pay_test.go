package payments

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// checkHeader decodes a v2 payment header as a facilitator would and checks that
// its signature recovers to want under the registry's domain, and that accepted
// is byte-identical to the demand's requirement.
func checkHeader(t *testing.T, res *PayResult, demand []byte, want common.Address) *exact.Authorization {
	t.Helper()
	if res.Header != x402.HeaderPaymentSignature {
		t.Fatalf("header %q", res.Header)
	}
	a := paymentstest.CheckPaymentV2(t, string(demand), res.Value)
	if a.From != want {
		t.Errorf("authorization from %s, want %s", a.From, want)
	}
	if a.To != common.HexToAddress(payee) || a.Value.String() != res.Amount {
		t.Errorf("pays %s %s, want %s %s", a.To, a.Value, payee, res.Amount)
	}
	return a
}

func TestPayV2SignsForTheAgent(t *testing.T) {
	e := newEnv(t)
	ag := e.provision(e.group.ID, "a")[0]
	hash := e.putPolicy(store.LevelAgent, ag.Agent.ID, agentPolicy)
	before := e.auditCount()
	req := payReq(t, "k1", requirement("10000"))
	start := time.Now()
	res, err := e.svc.Pay(e.ctx, ag.Agent.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	a := checkHeader(t, res, req.Raw, common.HexToAddress(ag.Key.Address))
	if res.PolicyHash != hash || res.PolicyHashes.Agent != hash || res.Amount != "10000" || res.AmountMicro != 10000 ||
		res.Network != "eip155:84532" || res.PayTo != strings.ToLower(payee) || res.Replayed || res.NeedsApproval {
		t.Errorf("result %+v", res)
	}
	// max_validity 2m caps the server's 300 s.
	if vb := time.Unix(a.ValidBefore.Int64(), 0); vb.After(start.Add(2*time.Minute+time.Second)) || !vb.Equal(res.ValidBefore) {
		t.Errorf("validBefore %s (result %s), want at most %s", vb, res.ValidBefore, start.Add(2*time.Minute))
	}
	as := e.authorizations(ag.Agent.ID)
	if len(as) != 1 || as[0].Status != store.AuthSigned || as[0].ID != res.AuthorizationID || as[0].Response.Value != res.Value {
		t.Fatalf("stored %+v", as)
	}
	if n := e.auditCount(); n != before+1 {
		t.Errorf("%d audit records for one payment", n-before)
	}
	if rec := e.lastAudit(); rec.Action != audit.ActionPaymentSigned || rec.Subject != res.AuthorizationID {
		t.Errorf("audit %s %s", rec.Action, rec.Subject)
	}
}

func TestPayV1(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("", "a")[0]
	e.putPolicy(store.LevelAgent, ag.Agent.ID, agentPolicy)
	body, err := json.Marshal(x402.PaymentRequiredV1{X402Version: 1, Error: "X-PAYMENT header is required", Accepts: []x402.PaymentRequirementsV1{{
		Scheme: "exact", Network: "base-sepolia", MaxAmountRequired: "20000", Resource: resourceURL, MimeType: "application/json",
		Asset: sepoliaUSDC.Address.Hex(), PayTo: payee, MaxTimeoutSeconds: 60, Extra: json.RawMessage(`{"name":"USDC","version":"2"}`),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Pay(e.ctx, ag.Agent.ID, PayRequest{Version: 1, Raw: body, ResourceURL: resourceURL, IdempotencyKey: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := x402.DecodePaymentPayloadV1(res.Value)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := x402.DecodeExactEVMPayload(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if res.Header != x402.HeaderXPayment || !strings.EqualFold(ev.Authorization.From, ag.Key.Address) || res.Network != "eip155:84532" {
		t.Errorf("v1 result %+v, from %s", res, ev.Authorization.From)
	}
}

func TestPayIdempotency(t *testing.T) {
	e := newEnv(t)
	ag := e.provision(e.group.ID, "a")[0]
	e.putPolicy(store.LevelAgent, ag.Agent.ID, agentPolicy)
	req := payReq(t, "same-key", requirement("10000"))
	first, err := e.svc.Pay(e.ctx, ag.Agent.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.Pay(e.ctx, ag.Agent.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Replayed {
		t.Error("replay not marked")
	}
	second.Replayed, second.PolicyHashes = false, first.PolicyHashes
	if !reflect.DeepEqual(second, first) {
		t.Errorf("replay differs:\n%+v\n%+v", second, first)
	}
	if rec := e.lastAudit(); rec.Action != ActionPaymentReplayed {
		t.Errorf("replay recorded as %s", rec.Action)
	}
	for name, r := range map[string]PayRequest{
		"other amount": payReq(t, "same-key", requirement("20000")),
		"other url":    {Version: 2, Raw: req.Raw, ResourceURL: resourceURL + "?x=1", IdempotencyKey: "same-key"},
	} {
		t.Run(name, func(t *testing.T) {
			before := e.auditCount()
			res, err := e.svc.Pay(e.ctx, ag.Agent.ID, r)
			if !errors.Is(err, store.ErrIdempotencyMismatch) || res != nil {
				t.Fatalf("got %+v, %v; want ErrIdempotencyMismatch", res, err)
			}
			if rec := e.lastAudit(); e.auditCount() != before+1 || rec.Action != audit.ActionPaymentFailed {
				t.Errorf("mismatch recorded as %s (%d records)", rec.Action, e.auditCount()-before)
			}
		})
	}
	if as := e.authorizations(ag.Agent.ID); len(as) != 1 {
		t.Errorf("%d authorizations after replays, want 1", len(as))
	}
	// The same key is the agent's own: another agent may use it freely.
	other := e.provision(e.group.ID, "b")[0]
	e.putPolicy(store.LevelAgent, other.Agent.ID, agentPolicy)
	res, err := e.svc.Pay(e.ctx, other.Agent.ID, req)
	if err != nil || res.Replayed || res.AuthorizationID == first.AuthorizationID {
		t.Fatalf("another agent's payment under the same key: %+v, %v", res, err)
	}
}

func TestPayConcurrentSameKeyReservesOnce(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("", "a")[0]
	e.putPolicy(store.LevelAgent, ag.Agent.ID, agentPolicy)
	req := payReq(t, "racy", requirement("10000"))
	var wg sync.WaitGroup
	results := make([]*PayResult, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = e.svc.Pay(e.ctx, ag.Agent.ID, req) })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if results[i].Value != results[0].Value || results[i].AuthorizationID != results[0].AuthorizationID {
			t.Errorf("answer %d differs", i)
		}
	}
	if as := e.authorizations(ag.Agent.ID); len(as) != 1 {
		t.Errorf("%d authorizations, want 1", len(as))
	}
	if n := e.auditCount(); n != 1+8 {
		t.Errorf("%d audit records, want 1 agent.created + 8", n)
	}
}

func TestPayDenials(t *testing.T) {
	hostile := requirement("10000")
	hostile.Extra = json.RawMessage(`{"name":"USD Coin","version":"2"}`)
	unknown := requirement("10000")
	unknown.Asset = "0x1111111111111111111111111111111111111111"
	for _, tc := range []struct {
		name     string
		policy   string // empty: none
		req      func(t *testing.T) PayRequest
		reason   string
		rule     string
		byPolicy bool
	}{
		{"per-payment limit", agentPolicy, func(t *testing.T) PayRequest { return payReq(t, "k", requirement("50001")) },
			string(policy.ReasonAbovePerPayment), "agent:limits.per_payment", true},
		{"hostile EIP-712 domain", agentPolicy, func(t *testing.T) PayRequest { return payReq(t, "k", hostile) },
			ReasonDomainMismatch, "", false},
		{"unknown asset", agentPolicy, func(t *testing.T) PayRequest { return payReq(t, "k", unknown) },
			ReasonUnknownAsset, "", false},
		{"preferred index refused, no fallback", agentPolicy, func(t *testing.T) PayRequest {
			r := payReq(t, "k", requirement("50001"), requirement("10"))
			r.Preferred = new(int)
			return r
		}, string(policy.ReasonAbovePerPayment), "agent:limits.per_payment", true},
		{"no policy at any level", "", func(t *testing.T) PayRequest { return payReq(t, "k", requirement("10")) },
			string(policy.ReasonNoPolicy), "", true},
		{"origin not allowed", "version: 1\nname: o\nallow:\n  origins: [api.other.com]\n", func(t *testing.T) PayRequest { return payReq(t, "k", requirement("10")) },
			string(policy.ReasonOriginNotAllowed), "agent:allow.origins", true},
		{"server names an allowed origin the agent is not fetching", "version: 1\nname: o\nallow:\n  origins: [api.example.com]\n", func(t *testing.T) PayRequest {
			r := payReq(t, "k", requirement("10"))
			r.ResourceURL = "https://evil.example.net/x"
			return r
		}, string(policy.ReasonOriginNotAllowed), "agent:allow.origins", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ag := e.provision("", "a")[0]
			var hash string
			if tc.policy != "" {
				hash = e.putPolicy(store.LevelAgent, ag.Agent.ID, tc.policy)
			}
			before := e.auditCount()
			res, err := e.svc.Pay(e.ctx, ag.Agent.ID, tc.req(t))
			var de *DeniedError
			if !errors.As(err, &de) || !errors.Is(err, ErrDenied) || res != nil {
				t.Fatalf("got %+v, %v; want a DeniedError", res, err)
			}
			if de.Reason != tc.reason || de.Rule != tc.rule {
				t.Errorf("reason %q rule %q, want %q %q", de.Reason, de.Rule, tc.reason, tc.rule)
			}
			if tc.byPolicy {
				if de.Decision.Outcome != policy.Deny || (tc.rule != "" && de.PolicyHash != hash) {
					t.Errorf("decision %+v, policy hash %q want %q", de.Decision, de.PolicyHash, hash)
				}
			} else if de.Decision.Outcome != "" {
				t.Errorf("a registry refusal carries a policy decision %+v", de.Decision)
			}
			if as := e.authorizations(ag.Agent.ID); len(as) != 0 {
				t.Errorf("denied payment left %d authorizations", len(as))
			}
			rec := e.lastAudit()
			if e.auditCount() != before+1 || rec.Action != audit.ActionPaymentDenied || !strings.Contains(string(rec.Data), `"reason":"`+tc.reason+`"`) {
				t.Errorf("%d records, last %s %s", e.auditCount()-before, rec.Action, rec.Data)
			}
		})
	}
}

func TestPayBadRequests(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("", "a")[0]
	e.putPolicy(store.LevelAgent, ag.Agent.ID, agentPolicy)
	good := payReq(t, "k", requirement("10"))
	for name, mod := range map[string]func(*PayRequest){
		"no idempotency key":   func(r *PayRequest) { r.IdempotencyKey = "" },
		"long idempotency key": func(r *PayRequest) { r.IdempotencyKey = strings.Repeat("k", MaxIdempotencyKeyLen+1) },
		"space in key":         func(r *PayRequest) { r.IdempotencyKey = "a b" },
		"version 3":            func(r *PayRequest) { r.Version = 3 },
		"relative url":         func(r *PayRequest) { r.ResourceURL = "/data" },
		"ftp url":              func(r *PayRequest) { r.ResourceURL = "ftp://api.example.com/x" },
		"user info":            func(r *PayRequest) { r.ResourceURL = "https://me@api.example.com/x" },
		"garbage demand":       func(r *PayRequest) { r.Raw = []byte("not base64 json") },
		"v1 body as v2":        func(r *PayRequest) { r.Version = 1 },
		"oversized demand":     func(r *PayRequest) { r.Raw = make([]byte, 70<<10) },
	} {
		t.Run(name, func(t *testing.T) {
			r := good
			mod(&r)
			before := e.auditCount()
			res, err := e.svc.Pay(e.ctx, ag.Agent.ID, r)
			if !errors.Is(err, ErrBadRequest) || res != nil {
				t.Fatalf("got %+v, %v; want ErrBadRequest", res, err)
			}
			if rec := e.lastAudit(); e.auditCount() != before+1 || rec.Action != audit.ActionPaymentFailed {
				t.Errorf("recorded %d, last %s", e.auditCount()-before, rec.Action)
			}
		})
	}
	if as := e.authorizations(ag.Agent.ID); len(as) != 0 {
		t.Errorf("bad requests left %d authorizations", len(as))
	}
	// A frozen agent fails before anything is reserved.
	if err := e.st.Tx(e.ctx, func(tx store.Tx) error {
		_, err := tx.SetAgentStatus(e.ctx, ag.Agent.ID, store.AgentFrozen, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Pay(e.ctx, ag.Agent.ID, good); !errors.Is(err, store.ErrState) {
		t.Fatalf("frozen agent: %v", err)
	}
}

// payMany runs n concurrent payments of 0.01 by the given agents in turn, each with
// its own idempotency key, and counts the outcomes.
func payMany(t *testing.T, e *env, n int, agents ...string) (signed int, denials []*DeniedError) {
	t.Helper()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			agent := agents[i%len(agents)]
			res, err := e.svc.Pay(e.ctx, agent, payReq(t, "key-"+string(rune('a'+i)), requirement("10000")))
			mu.Lock()
			defer mu.Unlock()
			var de *DeniedError
			switch {
			case err == nil && res.Value != "":
				signed++
			case errors.As(err, &de):
				denials = append(denials, de)
			default:
				t.Errorf("payment %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	return signed, denials
}

func TestWindowBudgetUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("", "a")[0]
	hash := e.putPolicy(store.LevelAgent, ag.Agent.ID, agentPolicy)
	before := e.auditCount()
	signed, denials := payMany(t, e, 20, ag.Agent.ID)
	if signed != 5 || len(denials) != 15 {
		t.Fatalf("%d signed, %d denied; want 5 and 15", signed, len(denials))
	}
	for _, d := range denials {
		if d.Reason != string(policy.ReasonWindowCountExceeded) || d.Rule != "agent:limits.windows[1h].max_count" || d.PolicyHash != hash {
			t.Errorf("denial %+v", d)
		}
	}
	counted := 0
	for _, a := range e.authorizations(ag.Agent.ID) {
		if a.Status.Counts() {
			counted++
		}
	}
	if counted != 5 {
		t.Errorf("%d counted authorizations, want 5", counted)
	}
	if n := e.auditCount() - before; n != 20 {
		t.Errorf("%d audit records for 20 payments", n)
	}
}

func TestGroupBudgetIsShared(t *testing.T) {
	e := newEnv(t)
	ps := e.provision(e.group.ID, "a", "b")
	hash := e.putPolicy(store.LevelGroup, e.group.ID, `version: 1
name: group-budget
limits:
  windows:
    - window: 1h
      max_amount: "0.03"
`)
	signed, denials := payMany(t, e, 10, ps[0].Agent.ID, ps[1].Agent.ID)
	if signed != 3 || len(denials) != 7 {
		t.Fatalf("%d signed, %d denied; want 3 and 7", signed, len(denials))
	}
	for _, d := range denials {
		if d.Reason != string(policy.ReasonWindowAmountExceeded) || d.Rule != "group:limits.windows[1h].max_amount" || d.PolicyHash != hash {
			t.Errorf("denial %+v", d)
		}
	}
	// The budget is the group's: both agents drew on it, and neither can pay now.
	var spend store.Spend
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		spend, err = rt.Spend(e.ctx, store.LevelGroup, e.group.ID, time.Hour, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if spend.Count != 3 || spend.AmountMicro != 30000 {
		t.Errorf("group spend %+v", spend)
	}
}

func TestNeedsApproval(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("", "a")[0]
	e.putPolicy(store.LevelAgent, ag.Agent.ID, `version: 1
name: approve-big
limits:
  windows:
    - window: 1h
      max_amount: "1"
approval:
  above: "0.02"
  quorum: 1
  approvers: [alice, bob]
  expires_after: 10m
`)
	req := payReq(t, "big", requirement("30000"))
	res, err := e.svc.Pay(e.ctx, ag.Agent.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.NeedsApproval || len(res.ApprovalIDs) != 1 || res.Value != "" || res.ApprovalExpiresAt.Before(time.Now().Add(9*time.Minute)) {
		t.Fatalf("result %+v", res)
	}
	err = e.st.ReadTx(e.ctx, func(rt store.ReadTx) error {
		ap, err := rt.Approval(e.ctx, res.ApprovalIDs[0])
		if err != nil {
			return err
		}
		if ap.AuthorizationID != res.AuthorizationID || ap.Quorum != 1 || ap.Status != store.ApprovalPending || len(ap.Approvers) != 2 {
			t.Errorf("approval %+v", ap)
		}
		sp, err := rt.Spend(e.ctx, store.LevelAgent, ag.Agent.ID, time.Hour, time.Now())
		if sp.AmountMicro != 30000 {
			t.Errorf("pending approval holds %d of the budget, want 30000", sp.AmountMicro)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec := e.lastAudit(); rec.Action != audit.ActionApprovalCreated {
		t.Errorf("recorded %s", rec.Action)
	}
	again, err := e.svc.Pay(e.ctx, ag.Agent.ID, req)
	if err != nil || !again.NeedsApproval || again.AuthorizationID != res.AuthorizationID || again.ApprovalIDs[0] != res.ApprovalIDs[0] {
		t.Fatalf("replay %+v, %v", again, err)
	}
	// Below the threshold, the same agent is signed at once.
	small, err := e.svc.Pay(e.ctx, ag.Agent.ID, payReq(t, "small", requirement("10000")))
	if err != nil || small.NeedsApproval || small.Value == "" {
		t.Fatalf("small payment %+v, %v", small, err)
	}
}

func TestRateRuleCountsEveryRequest(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("", "a")[0]
	hash := e.putPolicy(store.LevelAgent, ag.Agent.ID, `version: 1
name: rate
limits:
  per_payment: "0.05"
rate:
  max_requests_per_minute: 3
`)
	// A denied request counts toward the rate too.
	if _, err := e.svc.Pay(e.ctx, ag.Agent.ID, payReq(t, "r0", requirement("60000"))); !errors.Is(err, ErrDenied) {
		t.Fatalf("over the per-payment limit: %v", err)
	}
	for _, k := range []string{"r1", "r2"} {
		if _, err := e.svc.Pay(e.ctx, ag.Agent.ID, payReq(t, k, requirement("10"))); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.Pay(e.ctx, ag.Agent.ID, payReq(t, "r3", requirement("10")))
	var de *DeniedError
	if !errors.As(err, &de) || de.Reason != string(policy.ReasonRateLimited) || de.Rule != "agent:rate.max_requests_per_minute" || de.PolicyHash != hash {
		t.Fatalf("fourth request in a minute: %v (%+v)", err, de)
	}
}

func TestRequestCounter(t *testing.T) {
	var c requestCounter
	t0 := time.Unix(1_700_000_000, 0)
	scopes := map[policy.Level]string{policy.Fleet: "f", policy.Agent: "a1", policy.Group: ""}
	other := map[policy.Level]string{policy.Fleet: "f", policy.Agent: "a2"}
	for _, step := range []struct {
		at          time.Duration
		scopes      map[policy.Level]string
		fleet, agnt int64
	}{
		{0, scopes, 0, 0},
		{time.Second, scopes, 1, 1},
		{2 * time.Second, other, 2, 0},
		{59 * time.Second, scopes, 3, 2},
		{60 * time.Second, scopes, 3, 2},  // the request at 0 s has left the minute
		{61 * time.Second, scopes, 3, 2},  // and the one at 1 s
		{200 * time.Second, scopes, 0, 0}, // all gone
		{200*time.Second + 500*time.Millisecond, scopes, 1, 1},
	} {
		got := c.countAndAdd(step.scopes, t0.Add(step.at))
		if got[policy.Fleet] != step.fleet || got[policy.Agent] != step.agnt {
			t.Errorf("at %s: fleet %d agent %d, want %d %d", step.at, got[policy.Fleet], got[policy.Agent], step.fleet, step.agnt)
		}
		if _, ok := got[policy.Group]; ok {
			t.Errorf("at %s: counted a request for an empty group scope", step.at)
		}
	}
}

func TestCELSeesAgentNames(t *testing.T) {
	e := newEnv(t)
	ps := e.provision(e.group.ID, "in-group")
	loose := e.provision("", "no-group")[0]
	const src = `version: 1
name: names
cel:
  - name: crawlers-only
    expr: agent.fleet == "research" && agent.group == "crawlers" && agent.labels["env"] == "test"
    deny_reason: only the research fleet's crawlers
`
	hash := e.putPolicy(store.LevelFleet, e.fleet.ID, src)
	if _, err := e.svc.Pay(e.ctx, ps[0].Agent.ID, payReq(t, "k", requirement("10"))); err != nil {
		t.Fatalf("agent in the crawlers group: %v", err)
	}
	_, err := e.svc.Pay(e.ctx, loose.Agent.ID, payReq(t, "k", requirement("10")))
	var de *DeniedError
	if !errors.As(err, &de) || de.Reason != string(policy.ReasonCELDenied) || de.Rule != "fleet:cel[crawlers-only]" || de.PolicyHash != hash {
		t.Fatalf("agent in no group: %v (%+v)", err, de)
	}
}

// The ledger test at the service level: 500 concurrent payment requests
// from ten agents against a fleet budget that admits exactly 37 of them.
func TestFleetBudget500Concurrent(t *testing.T) {
	e := newEnv(t)
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = "agent-" + string(rune('a'+i))
	}
	ps := e.provision(e.group.ID, ids...)
	agents := make([]string, len(ps))
	for i, p := range ps {
		agents[i] = p.Agent.ID
	}
	e.putPolicy(store.LevelFleet, e.fleet.ID, `version: 1
name: fleet-budget
limits:
  windows:
    - window: 24h
      max_amount: "0.37"
`)
	before := e.auditCount()
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		signed  int
		denials int
	)
	for i := range 500 {
		wg.Go(func() {
			_, err := e.svc.Pay(e.ctx, agents[i%len(agents)], payReq(t, "p"+strconv.Itoa(i), requirement("10000")))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				signed++
			case errors.Is(err, ErrDenied):
				denials++
			default:
				t.Errorf("payment %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if signed != 37 || denials != 463 {
		t.Fatalf("%d signed, %d denied; want 37 and 463", signed, denials)
	}
	var spend store.Spend
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		spend, err = rt.Spend(e.ctx, store.LevelFleet, e.fleet.ID, 24*time.Hour, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if spend.AmountMicro != 370000 || spend.Count != 37 {
		t.Errorf("fleet spend %+v, want 0.37 in 37 payments", spend)
	}
	if n := e.auditCount() - before; n != 500 {
		t.Errorf("%d audit records for 500 requests", n)
	}
}
