package payments

import (
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

func BenchmarkPay(b *testing.B) {
	for _, bc := range []struct {
		name        string
		parallelism int // goroutines per GOMAXPROCS; 0: sequential
	}{
		{"sequential", 0},
		{"parallel16", 8},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b)
			ids := make([]string, 16)
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
			if bc.parallelism == 0 {
				for i := 0; b.Loop(); i++ {
					pay(ps[i%len(ps)].Agent.ID)
				}
				return
			}
			b.SetParallelism(bc.parallelism)
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				agent := ps[next.Add(1)%int64(len(ps))].Agent.ID
				for pb.Next() {
					pay(agent)
				}
			})
		})
	}
}
