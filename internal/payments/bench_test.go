package payments

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/fleetkey/fleetkey/internal/store"
)

// benchPolicy is a fleet policy with windows at three lengths, loose enough never
// to refuse during a benchmark, so each payment sums three windows in the ledger.
const benchPolicy = `version: 1
name: bench-fleet
limits:
  per_payment: "1"
  windows:
    - window: 1m
      max_count: 100000000
    - window: 1h
      max_amount: "100000000"
    - window: 24h
      max_amount: "1000000000"
max_validity: 5m
`

// BenchmarkPay measures Pay end to end (no HTTP) on SQLite: one agent paying
// sequentially, and 16 or 128 agents paying concurrently (one goroutine each), with
// synchronous=NORMAL and with the durable default synchronous=FULL.
func BenchmarkPay(b *testing.B) {
	for _, bc := range []struct {
		name   string
		agents int // 1: sequential
		full   bool
	}{
		{"sequential", 1, false},
		{"agents16", 16, false},
		{"agents128", 128, false},
		{"sequential-full", 1, true},
		{"agents16-full", 16, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnvWith(b, bc.full)
			ids := make([]string, bc.agents)
			for i := range ids {
				ids[i] = "bench-" + strconv.Itoa(i)
			}
			ps := e.provision(e.group.ID, ids...)
			e.putPolicy(store.LevelFleet, e.fleet.ID, benchPolicy)
			raw := demandV2(b, requirement("1000"))
			var seq atomic.Int64
			pay := func(agent string) {
				n := seq.Add(1)
				_, err := e.svc.Pay(e.ctx, agent, PayRequest{Version: 2, Raw: raw, ResourceURL: resourceURL, IdempotencyKey: "b" + strconv.FormatInt(n, 10)})
				if err != nil {
					b.Error(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			if bc.agents == 1 {
				for b.Loop() {
					pay(ps[0].Agent.ID)
				}
				return
			}
			b.SetParallelism(max(1, bc.agents/runtime.GOMAXPROCS(0)))
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				agent := ps[(next.Add(1)-1)%int64(len(ps))].Agent.ID
				for pb.Next() {
					pay(agent)
				}
			})
		})
	}
}
