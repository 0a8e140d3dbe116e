package simulate

import (
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// scenario is one attack and what became of it.
type scenario struct {
	name    string
	victims []*agent
	start   time.Time
	// payee is the attacker's payee, when the attack has one.
	payee string

	attempts, lost int
	amount         int64
	detected       bool
	delay          int
	signal         string
}

// owns reports whether an alert is about this scenario: it names one of its
// victims, or, fleet-wide, its payee.
func (s *scenario) owns(al store.Alert, byID map[string]*agent) bool {
	if a := byID[al.AgentID]; a != nil {
		for _, v := range s.victims {
			if v == a {
				return true
			}
		}
		return false
	}
	return al.AgentID == "" && s.payee != "" && equalFoldHex(al.PayTo, s.payee)
}

func equalFoldHex(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// attack generates the scenario's attack payments; normal holds every normal
// event generated so far (a replay replays one of them).
func (w *workload) attack(s *scenario, idx int, normal []event) []event {
	var out []event
	v := s.victims[0]
	add := func(a *agent, t time.Time, payTo, url string, amount int64, runtime, idem string) {
		if idem == "" {
			idem = a.nextKey()
		}
		out = append(out, event{at: t, agent: a, payTo: payTo, url: url, amount: amount, runtime: runtime, idem: idem, scenario: idx})
	}
	// The runtime the agent pays from on the day the attack starts.
	day := int(s.start.Sub(w.start) / (24 * time.Hour))
	rt := func(a *agent) string { return fmt.Sprintf("rt-%s-%d", a.name, a.runtimes[day]) }
	switch s.name {
	case PromptInjection:
		// A page the agent read told it to pay the attacker's "premium" endpoint,
		// again and again, under the per-payment limit.
		s.payee = address(w.seed, "attacker/prompt-injection")
		for i := range 8 {
			add(v, s.start.Add(time.Duration(i)*90*time.Second), s.payee,
				fmt.Sprintf("https://premium.injected.example/unlock?step=%d", i), 100_000+int64(w.r.IntN(350_000)), rt(v), "")
		}
	case CompromisedDependency:
		// A dependency shared by part of the fleet pays one new payee from each
		// agent that loaded it, a few minutes apart.
		s.payee = address(w.seed, "attacker/dependency")
		for i, a := range s.victims {
			for j := range 3 {
				add(a, s.start.Add(time.Duration(2*i)*time.Minute+time.Duration(j)*time.Minute), s.payee,
					fmt.Sprintf("https://telemetry.left-pad.example/v1/collect?id=%d", j), 50_000, rt(a), "")
			}
		}
	case SlowDrain:
		// A merchant the fleet already pays, gone rogue: one payment an hour at 96%
		// of the per-payment limit, to an endpoint the agent never used.
		m := w.merchants[0]
		for _, i := range []int{0, 1, 2, 3, 4, 5} {
			if !containsInt(v.favs, i) {
				m = w.merchants[i]
				break
			}
		}
		for i := range 12 {
			add(v, s.start.Add(time.Duration(i)*time.Hour), m.payTo, fmt.Sprintf("https://%s/v1/premium?page=%d", m.origin, i), 480_000, rt(v), "")
		}
	case RunawayLoop:
		// The agent retries one paid request in a loop, every three seconds.
		m := w.merchants[v.favs[0]]
		url := fmt.Sprintf("https://%s/v1/e0?q=loop", m.origin)
		for i := range 60 {
			add(v, s.start.Add(time.Duration(3*i)*time.Second), m.payTo, url, m.prices[0], rt(v), "")
		}
	case ReplayedRequests:
		// A captured request of the victim's is replayed: first as captured (same
		// idempotency key), then under fresh keys.
		var last *event
		for i := range normal {
			if ev := &normal[i]; ev.agent == v && ev.at.Before(s.start) && (last == nil || ev.at.After(last.at)) {
				last = ev
			}
		}
		if last == nil {
			return nil
		}
		for i := range 10 {
			idem := last.idem
			if i >= 4 {
				idem = ""
			}
			add(v, s.start.Add(time.Duration(10*i)*time.Second), last.payTo, last.url, last.amount, last.runtime, idem)
		}
	case SecondRuntime:
		// The agent's credential, stolen, is used from another runtime while the
		// agent works: it buys what the agent buys, at the agent's prices.
		for i := range 8 {
			m := w.merchants[v.favs[i%len(v.favs)]]
			ep := i % len(m.prices)
			add(v, s.start.Add(time.Duration(5*i)*time.Minute), m.payTo, fmt.Sprintf("https://%s/v1/e%d?q=stolen%d", m.origin, ep, i), m.prices[ep], "rt-stolen", "")
		}
	}
	return out
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
