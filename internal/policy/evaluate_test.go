package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	payee   = "0x1111111111111111111111111111111111111111"
	usdc    = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913"
	otherTk = "0x2222222222222222222222222222222222222222"
)

// wednesdayNoon is Wednesday 2026-03-04 12:00 UTC.
var wednesdayNoon = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

func baseRequest() Request {
	return Request{
		Agent: AgentInfo{ID: "a1", Name: "crawler-1", Group: "research", Fleet: "acme", Labels: map[string]string{"env": "prod"}},
		PayTo: payee,
		Asset: usdc, AssetSymbol: "USDC",
		Network: "eip155:8453",
		URL:     "https://api.example.com/v1/data?q=1",
		Method:  "GET",
		Amount:  250_000, AmountAtomic: "250000",
		Validity: 10 * time.Minute,
	}
}

// zeroSnapshot has a zero total for every window and request count the set reads.
func zeroSnapshot(set Set) Snapshot {
	s := Snapshot{Spend: map[SpendKey]Spend{}, Requests: map[Level]int64{}}
	spec := set.SnapshotSpec()
	for _, k := range spec.Windows {
		s.Spend[k] = Spend{}
	}
	for _, l := range spec.Requests {
		s.Requests[l] = 0
	}
	return s
}

func policyAt(t testing.TB, body string) *Policy {
	t.Helper()
	return mustParse(t, "version: 1\nname: p\n"+body)
}

type want struct {
	outcome               Outcome
	reason                Reason
	rule, limit, observed string
}

func (w want) check(t *testing.T, d Decision) {
	t.Helper()
	if d.Outcome != w.outcome || d.Reason != w.reason || d.Rule != w.rule || d.Limit != w.limit || d.Observed != w.observed {
		t.Errorf("decision = {%s %s %q limit=%q observed=%q msg=%q}\nwant       {%s %s %q limit=%q observed=%q}",
			d.Outcome, d.Reason, d.Rule, d.Limit, d.Observed, d.Message, w.outcome, w.reason, w.rule, w.limit, w.observed)
	}
}

var allow = want{outcome: Allow}

// TestRules checks every rule at its limit (allowed) and just past it (denied, with the
// exact reason, rule path, limit and observed value). The policy is attached at the
// agent level.
func TestRules(t *testing.T) {
	type step struct {
		name string
		req  func(*Request)
		snap func(*Snapshot)
		now  time.Time
		want want
	}
	tests := []struct {
		rule   string
		policy string
		steps  []step
	}{
		{"per_payment", "limits:\n  per_payment: \"0.25\"\n", []step{
			{name: "at the limit", want: allow},
			{name: "one micro above", req: func(r *Request) { r.Amount = 250_001 },
				want: want{Deny, ReasonAbovePerPayment, "agent:limits.per_payment", "0.25", "0.250001"}},
			{name: "zero", req: func(r *Request) { r.Amount = 0 }, want: allow},
		}},
		{"window amount", "limits:\n  windows:\n    - {window: 1h, max_amount: \"10\"}\n", []step{
			{name: "total reaches the limit", snap: func(s *Snapshot) { s.Spend[SpendKey{Agent, time.Hour}] = Spend{Amount: 9_750_000, Count: 3} }, want: allow},
			{name: "total one micro above", snap: func(s *Snapshot) { s.Spend[SpendKey{Agent, time.Hour}] = Spend{Amount: 9_750_001, Count: 3} },
				want: want{Deny, ReasonWindowAmountExceeded, "agent:limits.windows[1h].max_amount", "10", "10.000001"}},
		}},
		{"window count", "limits:\n  windows:\n    - {window: 24h, max_count: 5}\n", []step{
			{name: "fifth payment", snap: func(s *Snapshot) { s.Spend[SpendKey{Agent, 24 * time.Hour}] = Spend{Amount: 1, Count: 4} }, want: allow},
			{name: "sixth payment", snap: func(s *Snapshot) { s.Spend[SpendKey{Agent, 24 * time.Hour}] = Spend{Amount: 1, Count: 5} },
				want: want{Deny, ReasonWindowCountExceeded, "agent:limits.windows[24h].max_count", "5", "6"}},
		}},
		{"windows are checked shortest first", "limits:\n  windows:\n    - {window: 24h, max_count: 1}\n    - {window: 1m, max_count: 1}\n", []step{
			{name: "both exceeded", snap: func(s *Snapshot) {
				s.Spend[SpendKey{Agent, time.Minute}] = Spend{Count: 1}
				s.Spend[SpendKey{Agent, 24 * time.Hour}] = Spend{Count: 1}
			}, want: want{Deny, ReasonWindowCountExceeded, "agent:limits.windows[1m].max_count", "1", "2"}},
		}},
		{"rate", "rate:\n  max_requests_per_minute: 60\n", []step{
			{name: "60th request", snap: func(s *Snapshot) { s.Requests[Agent] = 59 }, want: allow},
			{name: "61st request", snap: func(s *Snapshot) { s.Requests[Agent] = 60 },
				want: want{Deny, ReasonRateLimited, "agent:rate.max_requests_per_minute", "60", "61"}},
		}},
		{"deny pay_to", "deny:\n  pay_to: [\"0x1111111111111111111111111111111111111111\"]\n", []step{
			{name: "other payee", req: func(r *Request) { r.PayTo = "0x1111111111111111111111111111111111111112" }, want: allow},
			{name: "listed payee, any case", req: func(r *Request) { r.PayTo = "0X1111111111111111111111111111111111111111" },
				want: want{Deny, ReasonPayToDenied, "agent:deny.pay_to", payee, payee}},
		}},
		{"allow pay_to", "allow:\n  pay_to: [\"0x1111111111111111111111111111111111111111\"]\n", []step{
			{name: "listed payee", want: allow},
			{name: "other payee", req: func(r *Request) { r.PayTo = "0x1111111111111111111111111111111111111112" },
				want: want{Deny, ReasonPayToNotAllowed, "agent:allow.pay_to", "", "0x1111111111111111111111111111111111111112"}},
		}},
		{"deny origins", "deny:\n  origins: [\"*.evil.example\"]\n", []step{
			{name: "the domain itself is not covered", req: func(r *Request) { r.URL = "https://evil.example/x" }, want: allow},
			{name: "subdomain", req: func(r *Request) { r.URL = "https://Pay.Evil.Example/x" },
				want: want{Deny, ReasonOriginDenied, "agent:deny.origins", "*.evil.example", "pay.evil.example"}},
		}},
		{"allow origins", "allow:\n  origins: [\"api.example.com\", \"*.cdn.example.com:8443\"]\n", []step{
			{name: "exact host", want: allow},
			{name: "wildcard with port", req: func(r *Request) { r.URL = "https://eu.cdn.example.com:8443/a" }, want: allow},
			{name: "wildcard without the port", req: func(r *Request) { r.URL = "https://eu.cdn.example.com/a" },
				want: want{Deny, ReasonOriginNotAllowed, "agent:allow.origins", "", "eu.cdn.example.com"}},
			{name: "other host", req: func(r *Request) { r.URL = "https://api.example.net/a" },
				want: want{Deny, ReasonOriginNotAllowed, "agent:allow.origins", "", "api.example.net"}},
		}},
		{"https only", "limits:\n  per_payment: 1\n", []step{
			{name: "http refused", req: func(r *Request) { r.URL = "http://api.example.com/x" },
				want: want{Deny, ReasonInsecureOrigin, "agent:allow_http", "https", "http"}},
		}},
		{"allow_http", "allow_http: true\nallow:\n  origins: [\"localhost:8080\"]\n", []step{
			{name: "http on loopback", req: func(r *Request) { r.URL = "http://localhost:8080/paid" }, want: allow},
			{name: "other port", req: func(r *Request) { r.URL = "http://localhost:8081/paid" },
				want: want{Deny, ReasonOriginNotAllowed, "agent:allow.origins", "", "localhost:8081"}},
		}},
		{"allow assets", "allow:\n  assets: [usdc, \"0x2222222222222222222222222222222222222222\"]\n", []step{
			{name: "by symbol", want: allow},
			{name: "by address", req: func(r *Request) { r.Asset, r.AssetSymbol = otherTk, "" }, want: allow},
			{name: "neither", req: func(r *Request) { r.Asset, r.AssetSymbol = "0x3333333333333333333333333333333333333333", "EURC" },
				want: want{Deny, ReasonAssetNotAllowed, "agent:allow.assets", "", "0x3333333333333333333333333333333333333333 (EURC)"}},
		}},
		{"deny assets", "deny:\n  assets: [\"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913\"]\n", []step{
			{name: "other token", req: func(r *Request) { r.Asset, r.AssetSymbol = otherTk, "" }, want: allow},
			{name: "listed token", want: want{Deny, ReasonAssetDenied, "agent:deny.assets", usdc, usdc + " (USDC)"}},
		}},
		{"allow networks", "allow:\n  networks: [\"eip155:8453\", \"eip155:84532\"]\n", []step{
			{name: "listed", want: allow},
			{name: "not listed", req: func(r *Request) { r.Network = "eip155:1" },
				want: want{Deny, ReasonNetworkNotAllowed, "agent:allow.networks", "", "eip155:1"}},
		}},
		{"network wildcard", "allow:\n  networks: [\"eip155:*\"]\ndeny:\n  networks: [\"eip155:1\"]\n", []step{
			{name: "any EVM chain", req: func(r *Request) { r.Network = "eip155:10" }, want: allow},
			{name: "deny wins over allow", req: func(r *Request) { r.Network = "eip155:1" },
				want: want{Deny, ReasonNetworkDenied, "agent:deny.networks", "eip155:1", "eip155:1"}},
			{name: "other namespace", req: func(r *Request) { r.Network = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" },
				want: want{Deny, ReasonNetworkNotAllowed, "agent:allow.networks", "", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"}},
		}},
		{"time_of_day", "time_of_day:\n  - {days: [mon, tue, wed, thu, fri], from: \"08:00\", to: \"13:00\", tz: Europe/Berlin}\n", []step{
			{name: "last minute", now: time.Date(2026, 3, 4, 11, 59, 0, 0, time.UTC), want: allow},
			{name: "window closed", now: time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC),
				want: want{Deny, ReasonOutsideTimeWindow, "agent:time_of_day", "", "Wed 13:00 Europe/Berlin"}},
		}},
		{"cel", "cel:\n  - name: prod-only\n    expr: agent.labels[\"env\"] == \"prod\" && request.amount <= micro(\"0.25\")\n    deny_reason: prod agents only\n", []step{
			{name: "true", want: allow},
			{name: "false", req: func(r *Request) { r.Agent.Labels = map[string]string{"env": "dev"} },
				want: want{Deny, ReasonCELDenied, "agent:cel[prod-only]", `agent.labels["env"] == "prod" && request.amount <= micro("0.25")`, ""}},
			{name: "missing label is an error, fail closed", req: func(r *Request) { r.Agent.Labels = nil },
				want: want{Deny, ReasonCELError, "agent:cel[prod-only]", "", ""}},
		}},
		{"approval", "approval:\n  above: \"0.25\"\n  quorum: 2\n  approvers: [alice, bob, carol]\n", []step{
			{name: "at the threshold", want: allow},
			{name: "above", req: func(r *Request) { r.Amount = 250_001 }, want: want{outcome: NeedsApproval}},
		}},
	}
	for _, tt := range tests {
		p := policyAt(t, tt.policy)
		for _, st := range tt.steps {
			t.Run(tt.rule+"/"+st.name, func(t *testing.T) {
				set := Set{Agent: p}
				req := baseRequest()
				if st.req != nil {
					st.req(&req)
				}
				snap := zeroSnapshot(set)
				if st.snap != nil {
					st.snap(&snap)
				}
				now := st.now
				if now.IsZero() {
					now = wednesdayNoon
				}
				d := Evaluate(set, req, snap, now)
				st.want.check(t, d)
				if d.Outcome == Deny && (d.Level != Agent || d.PolicyHash != p.Hash()) {
					t.Errorf("deny names level %s, hash %s", d.Level, d.PolicyHash)
				}
				if d.Outcome == Deny && (d.Windows != nil || d.Approvals != nil) {
					t.Errorf("deny carries windows or approvals")
				}
			})
		}
	}
}

func TestFailClosed(t *testing.T) {
	p := policyAt(t, "limits:\n  per_payment: 100\n  windows:\n    - {window: 1h, max_amount: 10}\nrate:\n  max_requests_per_minute: 10\n")
	set := Set{Agent: p}

	d := Evaluate(Set{}, baseRequest(), Snapshot{}, wednesdayNoon)
	want{Deny, ReasonNoPolicy, "", "", ""}.check(t, d)

	bad := []struct {
		name string
		mut  func(*Request)
		rule string
	}{
		{"payee", func(r *Request) { r.PayTo = "bob" }, "request.pay_to"},
		{"payee length", func(r *Request) { r.PayTo = "0x000000000000000000000000000000000000DeA" }, "request.pay_to"},
		{"asset", func(r *Request) { r.Asset = "" }, "request.asset"},
		{"symbol", func(r *Request) { r.AssetSymbol = "US DC" }, "request.asset_symbol"},
		{"network", func(r *Request) { r.Network = "base" }, "request.network"},
		{"url scheme", func(r *Request) { r.URL = "ftp://api.example.com/" }, "request.url"},
		{"url userinfo", func(r *Request) { r.URL = "https://api.example.com@evil.example/" }, "request.url"},
		{"url IDN", func(r *Request) { r.URL = "https://ａｐｉ.example.com/" }, "request.url"},
		{"amount", func(r *Request) { r.Amount = -1 }, "request.amount"},
		{"validity", func(r *Request) { r.Validity = -time.Second }, "request.validity"},
	}
	for _, tt := range bad {
		req := baseRequest()
		tt.mut(&req)
		d := Evaluate(set, req, zeroSnapshot(set), wednesdayNoon)
		if d.Outcome != Deny || d.Reason != ReasonInvalidRequest || d.Rule != tt.rule || d.Message == "" {
			t.Errorf("%s: %+v", tt.name, d)
		}
	}

	// A snapshot without a total the rules need denies rather than assuming zero.
	snap := zeroSnapshot(set)
	delete(snap.Spend, SpendKey{Agent, time.Hour})
	d = Evaluate(set, baseRequest(), snap, wednesdayNoon)
	want{Deny, ReasonSnapshotIncomplete, "agent:limits.windows[1h]", "", ""}.check(t, d)
	snap = zeroSnapshot(set)
	delete(snap.Requests, Agent)
	d = Evaluate(set, baseRequest(), snap, wednesdayNoon)
	want{Deny, ReasonSnapshotIncomplete, "agent:rate.max_requests_per_minute", "", ""}.check(t, d)
	snap = zeroSnapshot(set)
	snap.Spend[SpendKey{Agent, time.Hour}] = Spend{Amount: -5}
	d = Evaluate(set, baseRequest(), snap, wednesdayNoon)
	want{Deny, ReasonSnapshotIncomplete, "agent:limits.windows[1h]", "", ""}.check(t, d)

	// Totals near int64 overflow saturate and deny instead of wrapping to allow.
	snap = zeroSnapshot(set)
	snap.Spend[SpendKey{Agent, time.Hour}] = Spend{Amount: 1<<63 - 1}
	d = Evaluate(set, baseRequest(), snap, wednesdayNoon)
	if d.Reason != ReasonWindowAmountExceeded {
		t.Errorf("overflowing total: %+v", d)
	}
}

// TestLevels checks the combination of levels: every level must allow, windows are
// read per level, and a decision names the level and policy that decided.
func TestLevels(t *testing.T) {
	fleet := policyAt(t, "limits:\n  per_payment: 5\n  windows:\n    - {window: 1h, max_amount: 100}\nmax_validity: 10m\n")
	group := policyAt(t, "limits:\n  per_payment: \"0.50\"\n  windows:\n    - {window: 1h, max_amount: 20}\nmax_validity: 2m\n")
	agent := policyAt(t, "limits:\n  windows:\n    - {window: 1h, max_amount: 5}\n")
	set := Set{Fleet: fleet, Group: group, Agent: agent}

	d := Evaluate(set, baseRequest(), zeroSnapshot(set), wednesdayNoon)
	allow.check(t, d)
	if d.MaxValidity != 2*time.Minute {
		t.Errorf("MaxValidity = %v, want the smallest, 2m", d.MaxValidity)
	}
	wantHashes := map[Level]string{Fleet: fleet.Hash(), Group: group.Hash(), Agent: agent.Hash()}
	for l, h := range wantHashes {
		if d.PolicyHashes.Get(l) != h {
			t.Errorf("PolicyHashes[%s] = %q", l, d.PolicyHashes.Get(l))
		}
	}
	wantWindows := []WindowLimit{
		{Fleet, time.Hour, 100_000_000, -1, "fleet:limits.windows[1h]", fleet.Hash()},
		{Group, time.Hour, 20_000_000, -1, "group:limits.windows[1h]", group.Hash()},
		{Agent, time.Hour, 5_000_000, -1, "agent:limits.windows[1h]", agent.Hash()},
	}
	if !slices.Equal(d.Windows, wantWindows) {
		t.Errorf("Windows = %+v\nwant %+v", d.Windows, wantWindows)
	}

	// The fleet allows 1.00 but the group caps payments at 0.50.
	req := baseRequest()
	req.Amount = 1_000_000
	d = Evaluate(set, req, zeroSnapshot(set), wednesdayNoon)
	want{Deny, ReasonAbovePerPayment, "group:limits.per_payment", "0.5", "1"}.check(t, d)
	if d.Level != Group || d.PolicyHash != group.Hash() || d.PolicyHashes != (Hashes{fleet.Hash(), group.Hash(), agent.Hash()}) {
		t.Errorf("deny level %s hash %s hashes %v", d.Level, d.PolicyHash, d.PolicyHashes)
	}

	// The fleet's shared budget is exhausted by other agents, though this agent has
	// spent nothing.
	snap := zeroSnapshot(set)
	snap.Spend[SpendKey{Fleet, time.Hour}] = Spend{Amount: 99_900_000, Count: 999}
	d = Evaluate(set, baseRequest(), snap, wednesdayNoon)
	want{Deny, ReasonWindowAmountExceeded, "fleet:limits.windows[1h].max_amount", "100", "100.15"}.check(t, d)

	// Stage order is across levels: an agent-level deny list is reported before a
	// fleet-level budget, because who is paid is checked before how much.
	denyAgent := policyAt(t, "deny:\n  pay_to: [\""+payee+"\"]\n")
	d = Evaluate(Set{Fleet: fleet, Agent: denyAgent}, baseRequest(), snap, wednesdayNoon)
	want{Deny, ReasonPayToDenied, "agent:deny.pay_to", payee, payee}.check(t, d)

	// Allow lists intersect: each level's list must admit the payee.
	fleetAllow := policyAt(t, "allow:\n  origins: [\"*.example.com\"]\n")
	agentAllow := policyAt(t, "allow:\n  origins: [\"api.example.com\"]\n")
	r2 := baseRequest()
	r2.URL = "https://www.example.com/"
	d = Evaluate(Set{Fleet: fleetAllow, Agent: agentAllow}, r2, Snapshot{}, wednesdayNoon)
	want{Deny, ReasonOriginNotAllowed, "agent:allow.origins", "", "www.example.com"}.check(t, d)

	// A level without a policy imposes nothing; http must be allowed at every level
	// that has a policy.
	httpFleet := policyAt(t, "allow_http: true\n")
	r3 := baseRequest()
	r3.URL = "http://api.example.com/"
	allow.check(t, Evaluate(Set{Fleet: httpFleet}, r3, Snapshot{}, wednesdayNoon))
	d = Evaluate(Set{Fleet: httpFleet, Group: policyAt(t, "max_validity: 1m\n")}, r3, Snapshot{}, wednesdayNoon)
	want{Deny, ReasonInsecureOrigin, "group:allow_http", "https", "http"}.check(t, d)
}

func TestApprovalCombination(t *testing.T) {
	fleet := policyAt(t, "approval:\n  above: 5\n  quorum: 1\n  approvers: [treasury]\n  expires_after: 1h\n")
	group := policyAt(t, "approval:\n  above: 1\n  quorum: 2\n  approvers: [alice, bob, carol]\n  expires_after: 10m\n")
	set := Set{Fleet: fleet, Group: group}
	req := baseRequest()

	req.Amount = 1_000_000
	allow.check(t, Evaluate(set, req, Snapshot{}, wednesdayNoon))

	req.Amount = 2_000_000 // above the group's threshold only
	d := Evaluate(set, req, Snapshot{}, wednesdayNoon)
	if d.Outcome != NeedsApproval || len(d.Approvals) != 1 || d.Approvals[0].Level != Group ||
		d.Approvals[0].Quorum != 2 || d.Approvals[0].Rule != "group:approval.above" || d.Approvals[0].Threshold != 1_000_000 {
		t.Fatalf("group approval: %+v", d)
	}
	if d.Windows == nil && len(set.Windows()) != 0 {
		t.Error("needs-approval decision lacks windows")
	}

	req.Amount = 6_000_000 // above both: both requirements apply
	d = Evaluate(set, req, Snapshot{}, wednesdayNoon)
	if d.Outcome != NeedsApproval || len(d.Approvals) != 2 || d.Approvals[0].Level != Fleet || d.Approvals[1].Level != Group {
		t.Fatalf("two approvals: %+v", d.Approvals)
	}
	if got := d.ApprovalExpiresAfter(); got != 10*time.Minute {
		t.Errorf("ApprovalExpiresAfter = %v, want the shortest, 10m", got)
	}
	for _, tt := range []struct {
		by   []string
		want bool
	}{
		{nil, false},
		{[]string{"alice", "bob"}, false},               // group met, fleet not
		{[]string{"treasury"}, false},                   // fleet met, group not
		{[]string{"treasury", "alice", "alice"}, false}, // a repeated approver counts once
		{[]string{"treasury", "alice", "carol"}, true},
		{[]string{"mallory", "treasury", "bob", "carol"}, true},
	} {
		if got := d.ApprovalSatisfied(tt.by); got != tt.want {
			t.Errorf("ApprovalSatisfied(%v) = %v", tt.by, got)
		}
	}
	// The decision's approver list is a copy: changing it leaves the policy intact.
	d.Approvals[1].Approvers[0] = "mallory"
	if group.approval.approvers[0] != "alice" {
		t.Error("decision aliases the policy's approver list")
	}
	// A deny beats approval.
	deny := policyAt(t, "limits:\n  per_payment: 5\n")
	d = Evaluate(Set{Fleet: fleet, Agent: deny}, req, Snapshot{}, wednesdayNoon)
	want{Deny, ReasonAbovePerPayment, "agent:limits.per_payment", "5", "6"}.check(t, d)
}

func TestCEL(t *testing.T) {
	p := policyAt(t, `cel:
  - name: hourly-share
    expr: spend.agent["1h"].amount + request.amount <= micro("2.00")
  - name: vars
    expr: >-
      request.pay_to == "`+payee+`" && request.asset == "`+usdc+`" &&
      request.asset_symbol == "USDC" && request.network == "eip155:8453" &&
      request.host == "api.example.com" && request.origin == "api.example.com" &&
      request.scheme == "https" && request.method == "GET" && request.amount_atomic == "250000" &&
      request.valid_for_seconds == 120 && agent.id == "a1" && agent.name == "crawler-1" &&
      agent.group == "research" && agent.fleet == "acme" && spend.requests["agent"] == 7 &&
      spend.fleet["24h"].count == 40 && now == timestamp("2026-03-04T12:00:00Z") &&
      request.url.startsWith("https://api.example.com/")
limits:
  windows:
    - {window: 1h, max_amount: 100}
max_validity: 2m
`)
	set := Set{Agent: p}
	snap := zeroSnapshot(set)
	snap.Spend[SpendKey{Fleet, 24 * time.Hour}] = Spend{Amount: 5, Count: 40}
	snap.Requests[Agent] = 7
	snap.Spend[SpendKey{Agent, time.Hour}] = Spend{Amount: 1_750_000}
	allow.check(t, Evaluate(set, baseRequest(), snap, wednesdayNoon))

	snap.Spend[SpendKey{Agent, time.Hour}] = Spend{Amount: 1_750_001}
	d := Evaluate(set, baseRequest(), snap, wednesdayNoon)
	if d.Reason != ReasonCELDenied || d.Rule != "agent:cel[hourly-share]" || !strings.Contains(d.Message, "hourly-share") {
		t.Errorf("%+v", d)
	}
	// A window the rule reads but the snapshot lacks: fail closed.
	delete(snap.Spend, SpendKey{Fleet, 24 * time.Hour})
	snap.Spend[SpendKey{Agent, time.Hour}] = Spend{}
	d = Evaluate(set, baseRequest(), snap, wednesdayNoon)
	if d.Reason != ReasonSnapshotIncomplete || d.Rule != "agent:cel[vars]" || !strings.Contains(d.Message, "24h total for the fleet") {
		t.Errorf("%+v", d)
	}
	// The spec names the windows CEL reads with constant keys, so a caller that loads
	// the spec never hits that.
	spec := set.SnapshotSpec()
	if !slices.Contains(spec.Windows, SpendKey{Fleet, 24 * time.Hour}) || !slices.Contains(spec.Windows, SpendKey{Agent, time.Hour}) || len(spec.Windows) != 2 {
		t.Errorf("SnapshotSpec = %+v", spec)
	}
	// A key computed at run time that is missing is an evaluation error: fail closed.
	dyn := policyAt(t, "cel:\n  - {name: dyn, expr: 'spend.agent[agent.labels[\"w\"]].count < 5'}\n")
	req := baseRequest()
	req.Agent.Labels["w"] = "2h"
	d = Evaluate(Set{Agent: dyn}, req, Snapshot{}, wednesdayNoon)
	if d.Reason != ReasonCELError || d.Rule != "agent:cel[dyn]" || !strings.Contains(d.Message, "2h") {
		t.Errorf("%+v", d)
	}
}

// TestCELRunaway shows that an expression built to run for hours is stopped and
// denies: by the cost limit, or by the wall-clock interrupt when the machine is slow
// (as under the race detector).
func TestCELRunaway(t *testing.T) {
	list := make([]string, 60)
	for i := range list {
		list[i] = fmt.Sprint(i)
	}
	l := "[" + strings.Join(list, ",") + "]"
	expr := l + ".all(a, " + l + ".all(b, " + l + ".all(c, " + l + ".all(d, a + b + c + d >= 0))))"
	p := policyAt(t, "cel:\n  - name: runaway\n    expr: \""+expr+"\"\n")
	start := time.Now()
	d := Evaluate(Set{Agent: p}, baseRequest(), Snapshot{}, wednesdayNoon)
	elapsed := time.Since(start)
	if d.Outcome != Deny || d.Reason != ReasonCELError || d.Rule != "agent:cel[runaway]" ||
		!(strings.Contains(d.Message, "cost limit") || strings.Contains(d.Message, "interrupted")) {
		t.Errorf("%+v", d)
	}
	t.Logf("stopped after %v: %s", elapsed, d.Message)

	e := &evaluation{req: &Request{}, snap: &Snapshot{}}
	vars := &celVars{e: e}
	// Without any deadline, the cost limit alone stops it.
	if _, err := p.cel[0].eval(context.Background(), vars); err == nil || !strings.Contains(err.Error(), "cost limit exceeded") {
		t.Errorf("cost limit: %v", err)
	}
	// With an expired deadline, the interrupt check stops it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.cel[0].eval(ctx, vars); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("interrupt: %v", err)
	}
}

func TestMaxValidityForCEL(t *testing.T) {
	p := policyAt(t, "max_validity: 5m\ncel:\n  - {name: v, expr: \"request.valid_for_seconds == 60\"}\n")
	req := baseRequest()
	req.Validity = time.Minute // shorter than the cap: unchanged
	allow.check(t, Evaluate(Set{Agent: p}, req, Snapshot{}, wednesdayNoon))
	req.Validity = time.Hour // capped to 5m = 300 s
	if d := Evaluate(Set{Agent: p}, req, Snapshot{}, wednesdayNoon); d.Reason != ReasonCELDenied || d.MaxValidity != 0 {
		t.Errorf("%+v", d)
	}
	d := Evaluate(Set{Agent: policyAt(t, "max_validity: 5m\n")}, req, Snapshot{}, wednesdayNoon)
	if d.Outcome != Allow || d.MaxValidity != 5*time.Minute {
		t.Errorf("%+v", d)
	}
}

func TestSnapshotSpec(t *testing.T) {
	fleet := policyAt(t, "limits:\n  windows:\n    - {window: 24h, max_amount: 1}\n    - {window: 1m, max_count: 1}\nrate:\n  max_requests_per_minute: 5\n")
	agent := policyAt(t, "limits:\n  windows:\n    - {window: 1h, max_amount: 1}\n")
	spec := Set{Fleet: fleet, Agent: agent}.SnapshotSpec()
	wantW := []SpendKey{{Fleet, time.Minute}, {Fleet, 24 * time.Hour}, {Agent, time.Hour}}
	if !slices.Equal(spec.Windows, wantW) || !slices.Equal(spec.Requests, []Level{Fleet}) {
		t.Errorf("%+v", spec)
	}
}

func TestEvaluateConcurrent(t *testing.T) {
	p := benchSet(t)
	done := make(chan Decision, 8)
	for i := 0; i < 8; i++ {
		go func() {
			var d Decision
			for j := 0; j < 200; j++ {
				d = Evaluate(p.set, p.req, p.snap, wednesdayNoon)
			}
			done <- d
		}()
	}
	for i := 0; i < 8; i++ {
		if d := <-done; d.Outcome != Allow {
			t.Errorf("%+v", d)
		}
	}
}

// TestDecisionJSON: decisions go into API responses and audit records as JSON.
func TestDecisionJSON(t *testing.T) {
	set := benchSet(t).set
	for i, amount := range []int64{100_000, 950_000, 6_000_000} {
		req := baseRequest()
		req.Amount = amount
		d := Evaluate(set, req, zeroSnapshot(set), wednesdayNoon)
		if want := []Outcome{Allow, NeedsApproval, Deny}[i]; d.Outcome != want {
			t.Fatalf("amount %d: %s, want %s", amount, d.Outcome, want)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("%s: %v", d.Outcome, err)
		}
		var back Decision
		if err := json.Unmarshal(b, &back); err != nil || back.Outcome != d.Outcome || back.Level != d.Level ||
			back.Rule != d.Rule || back.PolicyHashes != d.PolicyHashes || len(back.Windows) != len(d.Windows) {
			t.Errorf("%s: round trip %v\n%s", d.Outcome, err, b)
		}
	}
}

func TestLevelText(t *testing.T) {
	for _, l := range levels {
		b, err := l.MarshalText()
		var back Level
		if err != nil || back.UnmarshalText(b) != nil || back != l {
			t.Errorf("level %d round trip: %s %v", l, b, err)
		}
	}
	if b, err := Level(0).MarshalText(); err != nil || len(b) != 0 {
		t.Errorf("level 0 marshalled as %q, %v", b, err)
	}
	if _, err := Level(7).MarshalText(); err == nil {
		t.Error("level 7 marshalled")
	}
	var l Level
	if l.UnmarshalText([]byte("org")) == nil {
		t.Error("unknown level parsed")
	}
}
