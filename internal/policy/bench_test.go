package policy

import (
	"testing"
	"time"
)

type benchCase struct {
	set  Set
	req  Request
	snap Snapshot
}

// benchSet is a realistic three-level set: a fleet budget with allowlists and a CEL
// rule, a group budget with approval above a threshold, and an agent budget.
func benchSet(t testing.TB) benchCase {
	fleet := mustParse(t, `version: 1
name: fleet
limits:
  per_payment: "5"
  windows:
    - {window: 1m, max_count: 1000}
    - {window: 1h, max_amount: "500"}
    - {window: 24h, max_amount: "5000"}
allow:
  origins: ["*.example.com", "api.example.org", "tiles.example.net:8443"]
  assets: [USDC]
  networks: ["eip155:8453", "eip155:84532"]
deny:
  pay_to: ["0x000000000000000000000000000000000000dead"]
  origins: ["ads.example.com"]
max_validity: 5m
rate:
  max_requests_per_minute: 6000
time_of_day:
  - {days: [mon, tue, wed, thu, fri], from: "06:00", to: "23:00", tz: Europe/Berlin}
cel:
  - name: prod-on-mainnet
    expr: request.network != "eip155:8453" || agent.labels["env"] == "prod"
`)
	group := mustParse(t, `version: 1
name: group
limits:
  per_payment: "1"
  windows:
    - {window: 1h, max_amount: "50", max_count: 2000}
approval: {above: "0.90", quorum: 2, approvers: [alice, bob, carol]}
`)
	agent := mustParse(t, `version: 1
name: agent
limits:
  windows:
    - {window: 1h, max_amount: "5", max_count: 200}
    - {window: 24h, max_amount: "20"}
`)
	set := Set{Fleet: fleet, Group: group, Agent: agent}
	snap := zeroSnapshot(set)
	snap.Requests[Fleet] = 100
	snap.Spend[SpendKey{Agent, time.Hour}] = Spend{Amount: 1_000_000, Count: 10}
	return benchCase{set, baseRequest(), snap}
}

func BenchmarkEvaluate(b *testing.B) {
	c := benchSet(b)
	if d := Evaluate(c.set, c.req, c.snap, wednesdayNoon); d.Outcome != Allow {
		b.Fatalf("benchmark set does not allow: %+v", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Evaluate(c.set, c.req, c.snap, wednesdayNoon)
	}
}

func BenchmarkEvaluateParallel(b *testing.B) {
	c := benchSet(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			Evaluate(c.set, c.req, c.snap, wednesdayNoon)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	src := []byte(`version: 1
name: fleet
limits:
  per_payment: "5"
  windows:
    - {window: 1h, max_amount: "500"}
allow:
  origins: ["*.example.com"]
cel:
  - name: prod-on-mainnet
    expr: request.network != "eip155:8453" || agent.labels["env"] == "prod"
`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
