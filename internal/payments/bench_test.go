package payments

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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
			cpu0 := processCPU(b)
			defer func() { reportCPU(b, cpu0) }()
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

// processCPU is the user plus system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU time per operation since cpu0 (cpu-µs/op) and
// the rate that much CPU allows on every core of the machine (cpu-bound-ops/s).
// On a machine shared with other work the wall-clock ns/op says how much CPU this
// process got; these two say what a payment costs, which load does not change much.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if b.N == 0 {
		return
	}
	per := float64(processCPU(b)-cpu0) / float64(b.N)
	b.ReportMetric(per/1e3, "cpu-µs/op")
	b.ReportMetric(float64(runtime.NumCPU())*1e9/per, "cpu-bound-ops/s")
}
