package replicas_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/server"
	"github.com/fleetkey/fleetkey/internal/store"
)

// BenchmarkReplicas measures POST /v1/payments over loopback HTTP against one server
// on SQLite, one on PostgreSQL and three on one PostgreSQL database (requests spread
// round-robin), with 32 agents of one group each sending one request after the other,
// under a group window limit (so every payment sums a shared window). All servers run
// in this process, on this machine's cores, beside the PostgreSQL server: the figures
// show the cost of the shared database and its locks, not the capacity of three
// machines. Reports payments/s and the p50/p99 latency of one request.
func BenchmarkReplicas(b *testing.B) {
	for _, bc := range []struct {
		name     string
		postgres bool
		replicas int
	}{
		{"sqlite-1", false, 1},
		{"postgres-1", true, 1},
		{"postgres-3", true, 3},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := ""
			if bc.postgres {
				db = dbURL(b)
			}
			benchReplicas(b, db, bc.replicas)
		})
	}
}

func benchReplicas(b *testing.B, db string, n int) {
	const agents = 32
	words := mnemonic(b)
	rs := startReplicas(b, n, db, words, server.DBPoolConfig{})
	_, ps := fleet(b, rs[0], agents, budgetPolicy(1_000_000_000))
	var seq atomic.Int64
	payOnce := func(r *replica, p payments.Provisioned) (time.Duration, error) {
		body := payBody(b, fmt.Sprintf("bench-%d", seq.Add(1)), "1000")
		start := time.Now()
		status, out, err := pay(r, p, body)
		took := time.Since(start)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d: %s", status, out)
		}
		return took, err
	}
	for i, p := range ps {
		if _, err := payOnce(rs[i%n], p); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([][]time.Duration, agents)
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			for k := i; left.Add(-1) >= 0; k++ {
				took, err := payOnce(rs[k%n], p)
				if err != nil {
					b.Error(err)
					return
				}
				lat[i] = append(lat[i], took)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	at := func(q float64) float64 { return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / 1e6 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "payments/s")
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkRevocationPropagation measures, across three replicas on one PostgreSQL
// database, the time from the freeze call returning on one replica until every
// replica has refused a payment of the frozen agent (each replica is asked once, in
// parallel; a replica that still signed would fail the benchmark). Each operation
// freezes and then thaws the agent; only the freeze is timed. Reports the median and
// p99 in ms.
func BenchmarkRevocationPropagation(b *testing.B) {
	ctx := context.Background()
	db, words := dbURL(b), mnemonic(b)
	rs := startReplicas(b, 3, db, words, server.DBPoolConfig{})
	_, ps := fleet(b, rs[0], 1, budgetPolicy(1_000_000_000))
	agent := ps[0]
	var seq atomic.Int64
	for _, r := range rs {
		if status, out, err := pay(r, agent, payBody(b, fmt.Sprintf("warm-%d", seq.Add(1)), "1000")); err != nil || status != http.StatusOK {
			b.Fatalf("warm-up: %d %s %v", status, out, err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := rs[i%3].Service().SetAgentStatus(ctx, admin, agent.Agent.ID, store.AgentFrozen); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var wg sync.WaitGroup
		for _, r := range rs {
			body := payBody(b, fmt.Sprintf("p-%d", seq.Add(1)), "1000")
			wg.Go(func() {
				status, out, err := pay(r, agent, body)
				if err != nil || status == http.StatusOK {
					b.Errorf("a replica signed for a frozen agent: %d %s %v", status, out, err)
				}
			})
		}
		wg.Wait()
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if _, err := rs[(i+1)%3].Service().SetAgentStatus(ctx, admin, agent.Agent.ID, store.AgentActive); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / 1e6 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
