package anomaly

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/payments"
)

// Bucket sizes of the rate baselines.
const (
	rateBucket       = 10 * time.Minute
	spendBucket      = time.Hour
	fleetSpendBucket = 10 * time.Minute
	rushWindow       = time.Minute
	maxSpreadAgents  = 32
	maxRushAgents    = 256
	maxDecay         = 0.999 // per learned payment: a decayed maximum forgets slowly
	hourDecay        = 0.999 // per learned payment: the hour histogram follows a changed schedule
	minBaseBuckets   = 5
)

// agentState is what the detectors keep per agent. Its size does not depend on
// the number of payments, only on the payees and origins the agent paid.
type agentState struct {
	Fleet string `json:"fleet"`
	First int64  `json:"first"` // first request seen (Unix ns)
	// N counts the payments learned from: signed at the agent's request.
	N       int64             `json:"n"`
	Amount  ewma              `json:"amount"` // ln(1+micro-units)
	Max     float64           `json:"max"`    // decayed maximum amount, micro-units
	Payees  map[string]uint32 `json:"payees"`
	Origins map[string]uint32 `json:"origins"`
	Hours   [24]float64       `json:"hours"` // UTC hour-of-day histogram, decayed
	Rate    bucketed          `json:"rate"`  // requests per ten minutes
	Spend   bucketed          `json:"spend"` // micro-units per hour
	// Attempts, Denials, Replays and Near are the times of the last requests,
	// denials, replays and near-limit payments; Recent the last payments by key.
	Attempts ring  `json:"attempts"`
	Denials  ring  `json:"denials"`
	Replays  ring  `json:"replays"`
	Near     ring  `json:"near"`
	Recent   keyed `json:"recent"`
	// Runtime is the runtime the agent pays from, last seen at RuntimeSeen.
	Runtime     string `json:"runtime,omitempty"`
	RuntimeSeen int64  `json:"runtime_seen,omitempty"`
}

func newAgentState(t Thresholds, fleet string, at time.Time) *agentState {
	return &agentState{
		Fleet: fleet, First: at.UnixNano(), Payees: map[string]uint32{}, Origins: map[string]uint32{},
		Attempts: newRing(t.RunawayPerMinute), Denials: newRing(t.DenialHigh), Replays: newRing(t.ReplayCount),
		Near: newRing(t.NearLimitCount), Recent: newKeyed(max(t.RepeatCount, 8)),
	}
}

// warm reports whether the agent's baselines may judge it.
func (a *agentState) warm(t Thresholds, at time.Time) bool {
	return a.N >= int64(t.MinHistory) && at.Sub(time.Unix(0, a.First)) >= t.Warmup
}

// spread is a payee new to the fleet and the agents that tried it.
type spread struct {
	First  int64    `json:"first"`
	Last   int64    `json:"last"`
	Agents []string `json:"agents"`
}

// rush is the agents that paid one resource within the current minute.
type rush struct {
	Agents []string `json:"agents"`
}

// fleetState is what the fleet-wide detectors keep per fleet.
type fleetState struct {
	First int64 `json:"first"`
	N     int64 `json:"n"`
	// Agents counts the fleet's agents the detectors have seen.
	Agents int `json:"agents"`
	// Known holds every payee the fleet paid; Pending the payees tried but never
	// paid, with who tried them.
	Known   map[string]uint32  `json:"known"`
	Pending map[string]*spread `json:"pending"`
	Spend   bucketed           `json:"spend"`
	// Rush holds the resources paid in minute RushMinute.
	RushMinute int64            `json:"rush_minute"`
	Rush       map[string]*rush `json:"rush"`
}

func newFleetState(at time.Time) *fleetState {
	return &fleetState{First: at.UnixNano(), Known: map[string]uint32{}, Pending: map[string]*spread{}, Rush: map[string]*rush{}}
}

func (f *fleetState) warm(t Thresholds, at time.Time) bool {
	return f.N >= int64(t.FleetMinHistory) && at.Sub(time.Unix(0, f.First)) >= t.FleetWarmup
}

// finding is one signal a detector raised.
type finding struct {
	Signal   Signal
	Severity Severity
	PayTo    string
	Detail   map[string]any
}

func bucketOf(t time.Time, d time.Duration) int64 { return t.UnixNano() / int64(d) }

func amountKey(micro int64) float64 { return math.Log1p(float64(max(micro, 0))) }

// resourceKey is a resource's origin and path, without the query.
func resourceKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Host) + u.EscapedPath()
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// judge runs every per-agent and fleet-wide detector on a payment about to be
// reserved. It changes no state: Observe learns once the outcome is known.
func (d *Detector) judge(a *agentState, f *fleetState, c payments.Candidate, runtime string) []finding {
	t, at := d.th, c.At
	var out []finding
	add := func(s Signal, sev Severity, detail map[string]any) {
		out = append(out, finding{Signal: s, Severity: sev, PayTo: c.PayTo, Detail: detail})
	}
	agentWarm, fleetWarm := a.warm(t, at), f.warm(t, at)

	if a.Payees[c.PayTo] == 0 {
		switch {
		case f.Known[c.PayTo] == 0 && fleetWarm:
			add(SignalNewPayee, Medium, map[string]any{"new_to_fleet": true})
		case agentWarm:
			add(SignalNewPayee, Low, map[string]any{"new_to_fleet": false})
		}
	}
	if agentWarm && c.Origin != "" && a.Origins[c.Origin] == 0 {
		add(SignalNewOrigin, Low, map[string]any{"origin": c.Origin})
	}
	if agentWarm && a.Amount.N > 0 {
		z := (amountKey(c.AmountMicro) - a.Amount.Mean) / max(a.Amount.std(), 0.1)
		if z > t.OutlierZ && float64(c.AmountMicro) > t.OutlierFactor*a.Max {
			sev := Medium
			if z > 2*t.OutlierZ {
				sev = High
			}
			add(SignalAmountOutlier, sev, map[string]any{"z": round2(z), "amount_micro": c.AmountMicro, "baseline_max_micro": int64(a.Max)})
		}
	}
	if agentWarm {
		rb := bucketOf(at, rateBucket)
		n := a.Rate.current(rb) + 1
		if n >= float64(t.RateMinCount) && a.Rate.exceeds(n, t.RateZ, 1, 1, minBaseBuckets) {
			add(SignalRequestRate, Medium, map[string]any{"requests_10m": n, "baseline": round2(a.Rate.Stat.Mean)})
		}
		sb := bucketOf(at, spendBucket)
		s := a.Spend.current(sb) + float64(c.AmountMicro)
		if a.Spend.exceeds(s, t.RateZ, t.SpendFactor, 1, minBaseBuckets) {
			add(SignalSpendRate, Medium, map[string]any{"spend_1h_micro": int64(s), "baseline_micro": int64(a.Spend.Stat.Mean)})
		}
	}
	if n := a.Attempts.since(at.Add(-time.Minute)) + 1; n >= t.RunawayPerMinute {
		add(SignalRequestRate, High, map[string]any{"requests_1m": n})
	}
	if n := a.Recent.since(at.Add(-t.RepeatWindow), repeatKey(c.PayTo, c.ResourceURL, c.AmountMicro)) + 1; n >= t.RepeatCount {
		add(SignalRepeat, High, map[string]any{"repeats": n, "window": t.RepeatWindow.String(), "resource_url": c.ResourceURL})
	}
	if agentWarm && a.N >= int64(t.UnusualMinHistory) {
		h := at.UTC().Hour()
		var total float64
		for _, x := range a.Hours {
			total += x
		}
		near := a.Hours[h] + a.Hours[(h+23)%24] + a.Hours[(h+1)%24]
		if near < t.UnusualHourShare*total {
			add(SignalUnusualHour, Low, map[string]any{"hour_utc": h})
		}
	}
	if lim := d.cfg.PerPaymentLimit; lim > 0 && nearLimit(c.AmountMicro, lim, t.NearLimitFraction) {
		if n := a.Near.since(at.Add(-t.NearLimitWindow)) + 1; n >= t.NearLimitCount {
			add(SignalNearLimit, Medium, map[string]any{"near_limit_payments": n, "limit_micro": lim})
		}
	}
	if runtime != "" && a.Runtime != "" && runtime != a.Runtime {
		if at.Sub(time.Unix(0, a.RuntimeSeen)) < t.RuntimeOverlap {
			add(SignalSecondRuntime, High, map[string]any{"runtime": runtime, "active_runtime": a.Runtime})
		} else {
			add(SignalSecondRuntime, Low, map[string]any{"runtime": runtime, "replaced_runtime": a.Runtime})
		}
	}

	// Fleet-wide.
	if f.Known[c.PayTo] == 0 && fleetWarm {
		n := 1
		if p := f.Pending[c.PayTo]; p != nil && at.Sub(time.Unix(0, p.First)) <= t.SpreadWindow {
			n = len(p.Agents)
			if !contains(p.Agents, c.AgentID) {
				n++
			}
		}
		if n >= t.SpreadAgents {
			add(SignalPayeeSpread, High, map[string]any{"agents": n, "window": t.SpreadWindow.String()})
		}
	}
	if fleetWarm {
		fb := bucketOf(at, fleetSpendBucket)
		s := f.Spend.current(fb) + float64(c.AmountMicro)
		if f.Spend.exceeds(s, t.FleetSpendZ, t.FleetSpendFactor, 1, 2*minBaseBuckets) {
			add(SignalFleetSpend, Medium, map[string]any{"spend_10m_micro": int64(s), "baseline_micro": int64(f.Spend.Stat.Mean), "bucket": fb})
		}
		if f.RushMinute == bucketOf(at, rushWindow) {
			if r := f.Rush[resourceKey(c.ResourceURL)]; r != nil {
				n := len(r.Agents)
				if !contains(r.Agents, c.AgentID) {
					n++
				}
				need := max(t.RushAgents, int(math.Ceil(t.RushShare*float64(f.Agents))))
				if n >= need && !contains(r.Agents, c.AgentID) {
					add(SignalResourceRush, Medium, map[string]any{"agents": n, "resource": resourceKey(c.ResourceURL)})
				}
			}
		}
	}
	return out
}

func nearLimit(amount, limit int64, frac float64) bool {
	return amount <= limit && float64(amount) >= frac*float64(limit)
}

func repeatKey(payTo, resourceURL string, amount int64) uint64 {
	return fnv64(payTo, resourceURL, fmt.Sprint(amount))
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// learn folds one outcome into the agent's and its fleet's state. Every request
// counts toward rates, repeats and spreads; only a payment signed at the agent's
// request teaches the baselines (a held or refused one must not make an attacker's
// payee or amount look normal).
func (d *Detector) learn(a *agentState, f *fleetState, o payments.Observation, runtime string) {
	t, at := d.th, o.At
	attempt := o.PayTo != "" && (o.Outcome == payments.OutcomeSigned || o.Outcome == payments.OutcomeHeld || o.Outcome == payments.OutcomeDenied)
	switch o.Outcome {
	case payments.OutcomeDenied:
		a.Denials.add(at)
	case payments.OutcomeReplayed, payments.OutcomeMismatch:
		a.Replays.add(at)
	}
	if o.Outcome != payments.OutcomeFailed {
		a.Attempts.add(at)
		a.Rate.add(bucketOf(at, rateBucket), 1, t.Alpha)
	}
	if attempt {
		a.Recent.add(at, repeatKey(o.PayTo, o.ResourceURL, o.AmountMicro))
		if lim := d.cfg.PerPaymentLimit; lim > 0 && nearLimit(o.AmountMicro, lim, t.NearLimitFraction) {
			a.Near.add(at)
		}
	}
	if f != nil && attempt {
		if f.Known[o.PayTo] == 0 {
			p := f.Pending[o.PayTo]
			if p == nil || at.Sub(time.Unix(0, p.First)) > t.SpreadWindow {
				p = &spread{First: at.UnixNano()}
				f.Pending[o.PayTo] = p
			}
			p.Last = at.UnixNano()
			if !contains(p.Agents, o.AgentID) && len(p.Agents) < maxSpreadAgents {
				p.Agents = append(p.Agents, o.AgentID)
			}
		}
		if m := bucketOf(at, rushWindow); m != f.RushMinute {
			f.RushMinute, f.Rush = m, map[string]*rush{}
		}
		k := resourceKey(o.ResourceURL)
		r := f.Rush[k]
		if r == nil {
			r = &rush{}
			f.Rush[k] = r
		}
		if !contains(r.Agents, o.AgentID) && len(r.Agents) < maxRushAgents {
			r.Agents = append(r.Agents, o.AgentID)
		}
	}
	if o.Outcome != payments.OutcomeSigned {
		return
	}
	a.N++
	a.Amount.add(amountKey(o.AmountMicro), t.Alpha)
	a.Max = max(a.Max*maxDecay, float64(o.AmountMicro))
	a.Payees[o.PayTo]++
	if o.Origin != "" {
		a.Origins[o.Origin]++
	}
	for i := range a.Hours {
		a.Hours[i] *= hourDecay
	}
	a.Hours[at.UTC().Hour()]++
	a.Spend.add(bucketOf(at, spendBucket), float64(o.AmountMicro), t.Alpha)
	if runtime != "" {
		a.Runtime, a.RuntimeSeen = runtime, at.UnixNano()
	}
	if f == nil {
		return
	}
	f.N++
	f.Known[o.PayTo]++
	delete(f.Pending, o.PayTo)
	fb := bucketOf(at, fleetSpendBucket)
	if fb != f.Spend.Bucket {
		// Once per bucket: forget payees tried long ago and never paid.
		for k, p := range f.Pending {
			if at.Sub(time.Unix(0, p.Last)) > t.SpreadWindow {
				delete(f.Pending, k)
			}
		}
	}
	f.Spend.add(fb, float64(o.AmountMicro), t.Alpha)
}
