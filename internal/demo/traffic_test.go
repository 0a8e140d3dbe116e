package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// TestSummaryAggregates: a scripted sequence of events gives exact totals and
// an exact rendering.
func TestSummaryAggregates(t *testing.T) {
	s := NewSummary(6, "TestUSD")
	var buf bytes.Buffer
	if err := s.Render(&buf); err != nil {
		t.Fatal(err)
	}
	if want := "payments  0 requests · 0 paid, 0 TestUSD · 0 awaiting approval · 0 failed\n" +
		"denied    0\n" +
		"hostile   overcharge    0/0 refused\n" +
		"          foreign_payto 0/0 refused\n" +
		"          wrong_domain  0/0 refused\n" +
		"          repeat_402    0/0 refused\n" +
		"last      -\n"; buf.String() != want {
		t.Errorf("empty summary:\n%s\nwant:\n%s", buf.String(), want)
	}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ev := func(agent, path string, kind Kind, o Outcome, reason string, amount int64) Event {
		return Event{Time: at, Agent: agent, Group: "g", Method: "GET", Path: path, Kind: kind, Outcome: o, Reason: reason, Amount: big.NewInt(amount)}
	}
	events := []Event{
		ev("scout", "/weather", KindNormal, OutcomePaid, "", 1000),
		ev("scout", "/news", KindNormal, OutcomePaid, "", 10000),
		ev("pager", "/hostile/overcharge", KindOvercharge, OutcomeDenied, "amount_above_per_payment_limit", 2000000),
		ev("pager", "/hostile/foreign-payto", KindForeignPayTo, OutcomeDenied, "pay_to_not_allowed", 1000),
		ev("runaway", "/weather", KindNormal, OutcomeDenied, "rate_limited", 1000),
		ev("runaway", "/weather", KindNormal, OutcomeDenied, "rate_limited", 1000),
		ev("monitor", "/hostile/wrong-domain", KindWrongDomain, OutcomeDenied, "domain_mismatch", 1000),
		ev("monitor", "/hostile/repeat-402", KindRepeat402, OutcomeRejected, "Payment required", 1000),
		ev("analyst", "/research", KindNormal, OutcomeApprovalPending, "approval_pending", 250000),
		ev("analyst", "/news", KindNormal, OutcomeFailed, "status 502", 10000),
		ev("librarian", "/hostile/foreign-payto", KindForeignPayTo, OutcomePaid, "", 1000),
		ev("scout", "/quotes", KindNormal, OutcomeDenied, "", 5000),
		ev("librarian", "/weather", KindNormal, OutcomePaid, "", 1000),
	}
	var wg sync.WaitGroup
	for _, e := range events[:len(events)-1] {
		wg.Go(func() { s.Add(e) })
	}
	wg.Wait()
	s.Add(events[len(events)-1]) // last, so that it is the one Render shows

	st := s.Stats()
	if st.Requests != 13 || st.Paid != 4 || st.Amount.Int64() != 13000 || st.ApprovalsPending != 1 {
		t.Errorf("totals %+v", st)
	}
	wantDenied := map[string]int{"amount_above_per_payment_limit": 1, "pay_to_not_allowed": 1, "rate_limited": 2, "domain_mismatch": 1, "unknown": 1}
	if !mapsEqual(st.Denied, wantDenied) || !mapsEqual(st.Rejected, map[string]int{"Payment required": 1}) || !mapsEqual(st.Failed, map[string]int{"status 502": 1}) {
		t.Errorf("denied %v, rejected %v, failed %v", st.Denied, st.Rejected, st.Failed)
	}
	wantHostile := map[Kind]HostileStats{
		KindOvercharge: {1, 1, 0}, KindForeignPayTo: {2, 1, 1}, KindWrongDomain: {1, 1, 0}, KindRepeat402: {1, 1, 0},
	}
	if len(st.Hostile) != len(wantHostile) {
		t.Errorf("hostile %v", st.Hostile)
	}
	for k, w := range wantHostile {
		if st.Hostile[k] != w {
			t.Errorf("hostile %s: %+v, want %+v", k, st.Hostile[k], w)
		}
	}
	wantRefusals := map[Kind]map[string]int{
		KindOvercharge: {"amount_above_per_payment_limit": 1}, KindForeignPayTo: {"pay_to_not_allowed": 1},
		KindWrongDomain: {"domain_mismatch": 1}, KindRepeat402: {"rejected-by-server (Payment required)": 1},
	}
	if len(st.Refusals) != len(wantRefusals) {
		t.Errorf("refusals %v", st.Refusals)
	}
	for k, w := range wantRefusals {
		if !mapsEqual(st.Refusals[k], w) {
			t.Errorf("refusals of %s: %v, want %v", k, st.Refusals[k], w)
		}
	}
	// Stats is a copy.
	st.Denied["rate_limited"] = 100
	st.Amount.SetInt64(0)
	st.Refusals[KindOvercharge]["x"] = 1
	if s.Stats().Denied["rate_limited"] != 2 || s.Stats().Amount.Int64() != 13000 || len(s.Stats().Refusals[KindOvercharge]) != 1 {
		t.Error("Stats shares state with the summary")
	}

	buf.Reset()
	if err := s.Render(&buf); err != nil {
		t.Fatal(err)
	}
	want := "payments  13 requests · 4 paid, 0.013 TestUSD · 1 awaiting approval · 1 failed\n" +
		"denied    6: rate_limited 2, amount_above_per_payment_limit 1, domain_mismatch 1, pay_to_not_allowed 1, +1 more\n" +
		"hostile   overcharge    1/1 refused: amount_above_per_payment_limit 1\n" +
		"          foreign_payto 1/2 refused: pay_to_not_allowed 1 · PAID 1\n" +
		"          wrong_domain  1/1 refused: domain_mismatch 1\n" +
		"          repeat_402    1/1 refused: rejected-by-server (Payment required) 1\n" +
		"last      librarian GET /weather: paid 0.001 TestUSD\n"
	if buf.String() != want {
		t.Errorf("render:\n%s\nwant:\n%s", buf.String(), want)
	}
	if n := strings.Count(buf.String(), "\n"); n != SummaryLines {
		t.Errorf("%d lines, want %d", n, SummaryLines)
	}

	// An event of no known kind counts, but not as hostile.
	s.Add(Event{Agent: "x", Method: "GET", Path: "/other", Outcome: OutcomePaid})
	if st := s.Stats(); st.Requests != 14 || st.Paid != 5 || len(st.Hostile) != 4 {
		t.Errorf("after an event without kind: %+v", st)
	}

	// A long, multi-line reason stays on one bounded line.
	s.Add(Event{Agent: "x", Method: "GET", Path: "/news", Kind: KindNormal, Outcome: OutcomeFailed, Reason: strings.Repeat("word\n", 100)})
	buf.Reset()
	s.Render(&buf)
	if n := strings.Count(buf.String(), "\n"); n != SummaryLines {
		t.Errorf("%d lines after a multi-line reason:\n%s", n, buf.String())
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNewTrafficValidates(t *testing.T) {
	payer := exact.NewLocalKeyPayer(devKey(t, 3))
	t.Cleanup(payer.Destroy)
	good := func() TrafficConfig {
		return TrafficConfig{APIURL: "http://127.0.0.1:1", Endpoints: []Endpoint{{Path: "/weather", Weight: 1}},
			Agents: []TrafficAgent{{Name: "a", Payer: payer}}}
	}
	if _, err := NewTraffic(good()); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, mod := range map[string]func(*TrafficConfig){
		"url":       func(c *TrafficConfig) { c.APIURL = "127.0.0.1:1" },
		"endpoints": func(c *TrafficConfig) { c.Endpoints = nil },
		"weights":   func(c *TrafficConfig) { c.Endpoints[0].Weight = 0 },
		"negative":  func(c *TrafficConfig) { c.Endpoints[0].Weight = -1 },
		"agents":    func(c *TrafficConfig) { c.Agents = nil },
		"payer":     func(c *TrafficConfig) { c.Agents[0].Payer = nil },
		"name":      func(c *TrafficConfig) { c.Agents[0].Name = "" },
		"pace":      func(c *TrafficConfig) { c.Agents[0].Pace = -time.Second },
		"rate":      func(c *TrafficConfig) { c.MaxPerSecond = -1 },
	} {
		c := good()
		mod(&c)
		if _, err := NewTraffic(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestTrafficRunsAndStopsOnCancel: two agents paying with local keys (which,
// unlike fleetkey, check nothing but a maximum amount) drive the real demo
// API until every endpoint has been hit; each event has the outcome that
// endpoint gives such a payer; after cancel, Run returns and nothing more is
// emitted.
func TestTrafficRunsAndStopsOnCancel(t *testing.T) {
	api := newTestAPI(t)
	max := big.NewInt(500_000)
	var agents []TrafficAgent
	for i, name := range []string{"scout", "pager"} {
		p := exact.NewLocalKeyPayer(devKey(t, 4+i), exact.WithMaxAmount(max))
		t.Cleanup(p.Destroy)
		agents = append(agents, TrafficAgent{Name: name, Group: "g", Payer: p, Pace: 5 * time.Millisecond})
	}
	eps := api.Endpoints()
	for i := range eps {
		eps[i].Weight = 1
	}
	summary := NewSummary(6, "TUSD")
	var (
		mu      sync.Mutex
		events  []Event
		stopped atomic.Bool
	)
	seen := map[string]bool{}
	allSeen := make(chan struct{})
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	tr, err := NewTraffic(TrafficConfig{
		APIURL: api.url, Endpoints: eps, Agents: agents, MaxPerSecond: 200,
		Classify: func(err error) (Outcome, string) {
			if errors.Is(err, exact.ErrNoPayableRequirement) {
				return OutcomeDenied, "above_max"
			}
			return OutcomeFailed, err.Error()
		},
		Emit: func(e Event) {
			if stopped.Load() {
				t.Errorf("event after Run returned: %+v", e)
			}
			summary.Add(e)
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
			if !seen[e.Path] {
				seen[e.Path] = true
				if len(seen) == len(eps) {
					close(allSeen)
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	select {
	case <-allSeen:
	case err := <-done:
		t.Fatalf("Run returned early: %v", err)
	case <-ctx.Done():
		t.Fatalf("not every endpoint was requested before the test's deadline: %v", seen)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	stopped.Store(true)

	mu.Lock()
	defer mu.Unlock()
	amounts := map[string]string{}
	for _, e := range eps {
		amounts[e.Path] = e.Amount
	}
	for _, e := range events {
		if e.Agent != "scout" && e.Agent != "pager" || e.Group != "g" || e.Method != "GET" || e.Time.IsZero() {
			t.Errorf("event %+v", e)
		}
		want := amounts[e.Path]
		if e.Kind == KindOvercharge {
			adv, _ := new(big.Int).SetString(want, 10)
			want = adv.Mul(adv, big.NewInt(OverchargeFactor)).String()
		}
		if e.Amount == nil || e.Amount.String() != want {
			t.Errorf("%s: amount %v, want %s", e.Path, e.Amount, want)
		}
		var ok bool
		switch e.Kind {
		case KindNormal, KindForeignPayTo:
			ok = e.Outcome == OutcomePaid && strings.HasPrefix(e.Transaction, "0x")
		case KindOvercharge:
			ok = e.Outcome == OutcomeDenied && e.Reason == "above_max"
		case KindWrongDomain:
			// The local payer signs under the claimed domain; the facilitator
			// refuses the signature, and the server says so.
			ok = e.Outcome == OutcomeRejected && e.Reason != ""
		case KindRepeat402:
			ok = e.Outcome == OutcomeRejected && e.Reason == "Payment required"
		}
		if !ok {
			t.Errorf("%s (%s): %s %q tx %q", e.Path, e.Kind, e.Outcome, e.Reason, e.Transaction)
		}
	}
	if st := summary.Stats(); st.Requests != len(events) {
		t.Errorf("summary counted %d requests, %d events", st.Requests, len(events))
	}
	var buf bytes.Buffer
	summary.Render(&buf)
	t.Logf("summary:\n%s", buf.String())
}

// TestClassifyError: the SDK payer's errors, wrapped as the x402 client and
// net/http wrap them, map to outcomes with the API's reason code.
func TestClassifyError(t *testing.T) {
	wrap := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://127.0.0.1:1/weather", Err: fmt.Errorf("x402: pay for GET http://127.0.0.1:1/weather: %w", err)}
	}
	denied := func(reason string) error {
		return &sdk.APIError{Method: "POST", Path: "/v1/payments", Status: 403, Code: sdk.CodePaymentDenied, Message: "payment denied", Reason: reason, Rule: "fleet:allow.pay_to"}
	}
	for _, tc := range []struct {
		err     error
		outcome Outcome
		reason  string
	}{
		{denied("pay_to_not_allowed"), OutcomeDenied, "pay_to_not_allowed"},
		{wrap(denied("domain_mismatch")), OutcomeDenied, "domain_mismatch"},
		{wrap(denied("")), OutcomeDenied, "denied"},
		{wrap(fmt.Errorf("%w: payment a-1 (approvals p-1) undecided after 5s", sdk.ErrApprovalPending)), OutcomeApprovalPending, "awaiting approval"},
		{wrap(fmt.Errorf("%w: payment a-1 is cancelled", sdk.ErrNotApproved)), OutcomeDenied, "not_approved"},
		{wrap(&sdk.APIError{Status: 403, Code: sdk.CodeForbidden, Message: "frozen"}), OutcomeFailed, ""},
		{wrap(&sdk.APIError{Status: 500, Code: sdk.CodeInternal, Message: "internal error"}), OutcomeFailed, ""},
		{errors.New("connection refused"), OutcomeFailed, "connection refused"},
	} {
		o, r := ClassifyError(tc.err)
		if o != tc.outcome || (tc.reason != "" && r != tc.reason) || r == "" {
			t.Errorf("ClassifyError(%v) = %s %q, want %s %q", tc.err, o, r, tc.outcome, tc.reason)
		}
	}
}
