package simulate

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// TestScenariosSmall runs every scenario at a small scale (20 normal agents, 3
// days) and checks the targets per scenario: detected, and at most three
// payments lost before containment.
func TestScenariosSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated fleet of 20 agents over 3 days takes a few seconds")
	}
	res, err := Run(context.Background(), Options{Agents: 20, Days: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range res.Scenarios {
		names = append(names, s.Name)
		if !s.Detected {
			t.Errorf("%s: not detected", s.Name)
		}
		if s.PaymentsLost > 3 {
			t.Errorf("%s: %d payments (%.6f USDC) lost before containment", s.Name, s.PaymentsLost, s.AmountLost)
		}
		if s.Attempts == 0 {
			t.Errorf("%s: no attack payment made", s.Name)
		}
	}
	if !slices.Equal(names, Scenarios()) {
		t.Errorf("scenarios %v, want %v", names, Scenarios())
	}
	// At this scale one alerted agent-day is 1.7%; the 1% target is measured on
	// the default fleet (docs/anomaly.md). Here: no more than a few.
	if res.Stats.FlaggedAgentDays > 6 {
		t.Errorf("%d normal agent-days alerted (%v)", res.Stats.FlaggedAgentDays, res.Stats.FalseAlarms)
	}
	if res.Stats.Signed == 0 || res.Stats.Payments < 1000 {
		t.Errorf("workload too small: %+v", res.Stats)
	}

	// The JSON report has exactly the shape.
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var shape map[string]any
	if err := json.Unmarshal(b, &shape); err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape["false_alarm_rate"] == nil {
		t.Fatalf("report keys: %s", b)
	}
	first := shape["scenarios"].([]any)[0].(map[string]any)
	var keys []string
	for k := range first {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"amount_lost", "detected", "detection_delay_payments", "name", "payments_lost"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("scenario keys %v, want %v", keys, want)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []Options{{Agents: 5}, {Days: 2}, {Scenarios: []string{"nope"}}, {PerPaymentLimit: 10}} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}

func TestOneScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	res, err := Run(context.Background(), Options{Agents: 10, Days: 3, Scenarios: []string{RunawayLoop}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scenarios) != 1 || res.Scenarios[0].Name != RunawayLoop || !res.Scenarios[0].Detected {
		t.Fatalf("%+v", res.Scenarios)
	}
}
