package demo

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/x402"
)

// TestFleetSpec: the fleet has two groups of three named agents, every policy
// parses, the research group's approval names Approver, and the runaway
// agent has a per-minute rate and a pace above it.
func TestFleetSpec(t *testing.T) {
	cfg := offlineConfig(84532)
	f, err := Fleet(cfg.ChainID, cfg.Token.Address, cfg.Merchant)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) != 2 || len(f.Agents()) != 6 {
		t.Fatalf("%d groups, %d agents", len(f.Groups), len(f.Agents()))
	}
	seen := map[string]bool{}
	for _, a := range f.Agents() {
		if a.Name == "" || seen[a.Name] || a.Pace <= 0 || a.Group == "" {
			t.Errorf("agent %+v", a)
		}
		seen[a.Name] = true
	}
	for where, src := range map[string]string{"fleet": f.Policy, "research": f.Groups[0].Policy, "ops": f.Groups[1].Policy, "runaway": f.Groups[1].Agents[2].Policy} {
		p, err := policy.Parse([]byte(src))
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if p.Name() == "" || p.Description() == "" {
			t.Errorf("%s: unnamed or undescribed policy", where)
		}
	}
	if !strings.Contains(f.Groups[0].Policy, "approvers: ["+Approver+"]") {
		t.Error("research approval does not name the approver")
	}
	if time.Minute/RunawayPace <= 10 {
		t.Error("the runaway agent's pace does not exceed its rate limit")
	}
	if _, err := Fleet(0, cfg.Token.Address, cfg.Merchant); err == nil {
		t.Error("chain id 0 accepted")
	}
	if _, err := Fleet(1, cfg.Token.Address, common.Address{}); err == nil {
		t.Error("zero merchant accepted")
	}
}

// decision is what the signer makes of a demand: a registry refusal, or the
// policy's decision.
type decision struct {
	refused error
	policy.Decision
}

// decide runs a demo endpoint's 402 through what the signing service does
// with it: parse the demand, choose a requirement against the trusted
// registry, evaluate the agent's effective policies with an empty spend
// snapshot, except for the given request count and fleet daily spend.
func decide(t *testing.T, api *PaidAPI, reg *signer.Registry, set policy.Set, agent policy.AgentInfo, ep Endpoint, requests int64, fleetDay int64) decision {
	t.Helper()
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4021"+ep.Path, nil))
	if rec.Code != http.StatusPaymentRequired {
		t.Fatalf("%s: status %d", ep.Path, rec.Code)
	}
	raw := []byte(rec.Header().Get(x402.HeaderPaymentRequired))
	if ep.Version == x402.V1 {
		raw = rec.Body.Bytes()
	}
	d, err := signer.ParseDemand(ep.Version, raw)
	if err != nil {
		t.Fatalf("%s: %v", ep.Path, err)
	}
	var out decision
	_, err = signer.Choose(d, reg, signer.ChooseOptions{Accept: func(c signer.Candidate) error {
		req := c.PolicyRequest()
		req.Agent, req.Method = agent, ep.Method
		spec := set.SnapshotSpec()
		snap := policy.Snapshot{Spend: map[policy.SpendKey]policy.Spend{}, Requests: map[policy.Level]int64{}}
		for _, k := range spec.Windows {
			snap.Spend[k] = policy.Spend{}
			if k.Level == policy.Fleet && k.Window == 24*time.Hour {
				snap.Spend[k] = policy.Spend{Amount: fleetDay, Count: 1}
			}
		}
		for _, l := range spec.Requests {
			snap.Requests[l] = requests
		}
		out.Decision = policy.Evaluate(set, req, snap, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
		if out.Outcome == policy.Deny {
			return errors.New(string(out.Reason))
		}
		return nil
	}})
	if err != nil && !errors.Is(err, signer.ErrNotAccepted) {
		out.refused = err
	}
	return out
}

// TestFleetPoliciesDecideTheTraffic: every endpoint the traffic picks meets
// the decision the demo expects from every demo agent: honest lookups are
// allowed, the research report needs alice's approval in research and is
// above ops' per-payment limit, the overcharge is above the fleet's
// per-payment limit, the foreign payee is not on the allowlist, the wrong
// domain is refused by the registry before any policy, and repeat_402 is
// allowed (the client refuses to pay it twice). The runaway agent is rate
// limited on its eleventh request in a minute, and the fleet's daily budget
// holds.
func TestFleetPoliciesDecideTheTraffic(t *testing.T) {
	cfg := offlineConfig(84532)
	api, err := NewPaidAPI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Fleet(cfg.ChainID, cfg.Token.Address, cfg.Merchant)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := signer.NewRegistry([]signer.Asset{{Network: cfg.Network(), Address: cfg.Token.Address, Symbol: cfg.Token.Symbol,
		Decimals: cfg.Token.Decimals, EIP712Name: cfg.Token.Name, EIP712Version: cfg.Token.Version}})
	if err != nil {
		t.Fatal(err)
	}
	mustParse := func(src string) *policy.Policy {
		if src == "" {
			return nil
		}
		p, err := policy.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	fleetPolicy := mustParse(f.Policy)

	type want struct {
		outcome policy.Outcome
		rule    string
		refused error
	}
	expect := func(group string, ep Endpoint) want {
		switch {
		case ep.Kind == KindOvercharge:
			return want{outcome: policy.Deny, rule: "fleet:limits.per_payment"}
		case ep.Kind == KindForeignPayTo:
			return want{outcome: policy.Deny, rule: "fleet:allow.pay_to"}
		case ep.Kind == KindWrongDomain:
			return want{refused: signer.ErrDomainMismatch}
		case ep.Path == ApprovalPath && group == "research":
			return want{outcome: policy.NeedsApproval}
		case ep.Path == ApprovalPath:
			return want{outcome: policy.Deny, rule: "group:limits.per_payment"}
		}
		return want{outcome: policy.Allow}
	}
	for _, g := range f.Groups {
		for _, a := range g.Agents {
			set := policy.Set{Fleet: fleetPolicy, Group: mustParse(g.Policy), Agent: mustParse(a.Policy)}
			info := policy.AgentInfo{ID: "agent-" + a.Name, Name: a.Name, Group: g.Name, Fleet: f.Name}
			for _, ep := range api.Endpoints() {
				w := expect(g.Name, ep)
				got := decide(t, api, reg, set, info, ep, 0, 0)
				switch {
				case w.refused != nil:
					if !errors.Is(got.refused, w.refused) {
						t.Errorf("%s %s: refused %v, want %v", a.Name, ep.Path, got.refused, w.refused)
					}
				case got.refused != nil:
					t.Errorf("%s %s: refused by the registry: %v", a.Name, ep.Path, got.refused)
				case got.Outcome != w.outcome || (w.rule != "" && got.Rule != w.rule):
					t.Errorf("%s %s: %s %s (%s), want %s %s", a.Name, ep.Path, got.Outcome, got.Rule, got.Message, w.outcome, w.rule)
				case w.outcome == policy.NeedsApproval:
					if len(got.Approvals) != 1 || got.Approvals[0].Quorum != 1 || len(got.Approvals[0].Approvers) != 1 || got.Approvals[0].Approvers[0] != Approver {
						t.Errorf("%s %s: approvals %+v", a.Name, ep.Path, got.Approvals)
					}
				}
			}
			weather := api.Endpoints()[0]
			// The eleventh request in a minute.
			got := decide(t, api, reg, set, info, weather, 10, 0)
			if a.Name == "runaway" {
				if got.Outcome != policy.Deny || got.Reason != policy.ReasonRateLimited || got.Rule != "agent:rate.max_requests_per_minute" {
					t.Errorf("runaway's eleventh request: %s %s", got.Outcome, got.Rule)
				}
			} else if got.Outcome != policy.Allow {
				t.Errorf("%s's eleventh request: %s %s", a.Name, got.Outcome, got.Rule)
			}
			// The fleet's daily budget: 99.9995 spent, a 0.001 lookup is over.
			got = decide(t, api, reg, set, info, weather, 0, 99_999_500)
			if got.Outcome != policy.Deny || got.Rule != "fleet:limits.windows[24h].max_amount" {
				t.Errorf("%s over the daily budget: %s %s", a.Name, got.Outcome, got.Rule)
			}
		}
	}
}
