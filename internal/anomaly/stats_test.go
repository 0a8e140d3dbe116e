package anomaly

import (
	"math"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/payments"
)

func TestEWMA(t *testing.T) {
	var e ewma
	for range 1000 {
		e.add(10, 0.05)
	}
	if e.Mean != 10 || e.Var != 0 {
		t.Fatalf("constant series: %+v", e)
	}
	e = ewma{}
	for i := range 2000 {
		e.add(float64(i%2)*2, 0.05) // 0, 2, 0, 2: mean 1, variance 1
	}
	if math.Abs(e.Mean-1) > 0.1 || math.Abs(e.Var-1) > 0.1 {
		t.Fatalf("alternating series: %+v", e)
	}
}

func TestRings(t *testing.T) {
	t0 := time.Unix(1000, 0)
	r := newRing(3)
	for i := range 5 {
		r.add(t0.Add(time.Duration(i) * time.Second))
	}
	if n := r.since(t0); n != 3 {
		t.Errorf("ring of 3 holds %d", n)
	}
	if n := r.since(t0.Add(4 * time.Second)); n != 1 {
		t.Errorf("since the last: %d", n)
	}
	k := newKeyed(4)
	k.add(t0, 1)
	k.add(t0, 2)
	k.add(t0.Add(time.Second), 1)
	if n := k.since(t0, 1); n != 2 {
		t.Errorf("key 1: %d", n)
	}
}

// judgeEnv is a detector without a store, for the judge's own arithmetic.
func judgeEnv() *Detector {
	return &Detector{cfg: Config{}, th: Thresholds{MinHistory: 5, FleetMinHistory: 10, Warmup: time.Hour, FleetWarmup: time.Hour}.withDefaults(),
		agents: map[string]*agentState{}, fleets: map[string]*fleetState{}}
}

func has(fs []finding, s Signal, sev Severity) bool {
	for _, f := range fs {
		if f.Signal == s && f.Severity == sev {
			return true
		}
	}
	return false
}

func TestFleetWideDetectors(t *testing.T) {
	d := judgeEnv()
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	// Twenty agents pay a little, every ten minutes, for a day.
	for i := range 144 {
		at := t0.Add(time.Duration(i) * 10 * time.Minute)
		for a := range 20 {
			id := "agt_" + string(rune('a'+a))
			d.apply(payments.Observation{AgentID: id, Outcome: payments.OutcomeSigned, PayTo: "0xp", ResourceURL: "https://api.example/x?a=" + id,
				Origin: "api.example", AmountMicro: 1000, At: at}, "flt", "")
		}
	}
	at := t0.Add(24*time.Hour + 5*time.Minute)
	a, f := d.agent("agt_a", "flt", at)
	c := payments.Candidate{AgentID: "agt_a", FleetID: "flt", PayTo: "0xp", Origin: "api.example", ResourceURL: "https://api.example/x", AmountMicro: 1000, At: at}
	if fs := d.judge(a, f, c, ""); len(fs) != 0 {
		t.Fatalf("ordinary payment raised %+v", fs)
	}
	// A spend spike: one payment worth a thousand ordinary ten-minute buckets.
	c.AmountMicro = 20_000_000
	if fs := d.judge(a, f, c, ""); !has(fs, SignalFleetSpend, Medium) {
		t.Errorf("no fleet spend spike in %+v", fs)
	}
	// Ten agents paying one resource within the minute.
	c.AmountMicro = 1000
	for i := range 9 {
		id := "agt_" + string(rune('a'+i+1))
		d.apply(payments.Observation{AgentID: id, Outcome: payments.OutcomeSigned, PayTo: "0xp", ResourceURL: "https://api.example/hot?x=1",
			AmountMicro: 1000, At: at}, "flt", "")
	}
	c.ResourceURL = "https://api.example/hot?x=2"
	if fs := d.judge(a, f, c, ""); !has(fs, SignalResourceRush, Medium) {
		t.Errorf("no resource rush in %+v", fs)
	}
}

func TestAgentRateAndSpendBaselines(t *testing.T) {
	d := judgeEnv()
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	// Two payments per ten minutes, of 1000 micro-units, for a day.
	for i := range 288 {
		d.apply(payments.Observation{AgentID: "agt", Outcome: payments.OutcomeSigned, PayTo: "0xp", ResourceURL: "https://api.example/x",
			AmountMicro: 1000, At: t0.Add(time.Duration(i) * 5 * time.Minute)}, "flt", "")
	}
	at := t0.Add(24 * time.Hour)
	a, f := d.agent("agt", "flt", at)
	// Fifteen more within this bucket (at different resources, under a minute's
	// runaway count): a request-rate signal.
	for i := range 14 {
		d.apply(payments.Observation{AgentID: "agt", Outcome: payments.OutcomeSigned, PayTo: "0xp", ResourceURL: "https://api.example/y?" + string(rune('a'+i)),
			AmountMicro: 1000, At: at.Add(time.Duration(i) * 30 * time.Second)}, "flt", "")
	}
	c := payments.Candidate{AgentID: "agt", FleetID: "flt", PayTo: "0xp", ResourceURL: "https://api.example/z", AmountMicro: 1000, At: at.Add(8 * time.Minute)}
	if fs := d.judge(a, f, c, ""); !has(fs, SignalRequestRate, Medium) {
		t.Errorf("no request-rate signal in %+v", fs)
	}
	// Spend: one payment worth a hundred hours.
	c.AmountMicro, c.At = 400_000, at.Add(30*time.Minute)
	if fs := d.judge(a, f, c, ""); !has(fs, SignalSpendRate, Medium) || !has(fs, SignalAmountOutlier, High) {
		t.Errorf("no spend-rate and amount signals in %+v", fs)
	}
}
