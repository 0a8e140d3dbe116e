package anomaly

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
)

// BenchmarkPaySigningPath pays through a real service on SQLite without and with
// the detector and reports the p50 and p99 latency of Pay; the difference is the
// detector's cost on the signing path. Agents have warm baselines and a few
// hundred known payees each, so every detector runs.
//
//	go test -run '^$' -bench PaySigningPath -benchtime 3000x ./internal/anomaly
func BenchmarkPaySigningPath(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("detector=%v", on), func(b *testing.B) {
			pe := paymentstest.New(b, paymentstest.Options{})
			ctx := context.Background()
			clk := newClock()
			alog, err := audit.New(audit.Options{Now: clk.now})
			if err != nil {
				b.Fatal(err)
			}
			pe.PutPolicy(store.LevelFleet, pe.Fleet.ID, "version: 1\nname: fleet\nlimits:\n  per_payment: \"0.50\"\n")
			cfg := payments.Config{Store: pe.Store, Keys: pe.Vault, Registry: pe.Registry, Audit: alog, Now: clk.now}
			var d *Detector
			if on {
				d, err = New(ctx, Config{Store: pe.Store, Audit: alog, Now: clk.now, PerPaymentLimit: 500_000, FlushEvery: time.Second,
					Approvers: []string{"secops"}, Quorum: 1, ApprovalExpiresAfter: time.Hour})
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close(ctx)
				cfg.Detector = d
			}
			svc, err := payments.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var req payments.ProvisionRequest
			req.FleetID = pe.Fleet.ID
			for i := range 8 {
				req.Agents = append(req.Agents, payments.NewAgent{ExternalID: fmt.Sprint(i), Name: fmt.Sprint(i)})
			}
			ps, err := svc.ProvisionAgents(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			if d != nil {
				// Warm state, as after weeks: baselines and known payees.
				d.mu.Lock()
				for i := range 4000 {
					for _, p := range ps {
						d.apply(payments.Observation{AgentID: p.Agent.ID, Outcome: payments.OutcomeSigned, PayTo: payee(i % 300),
							ResourceURL: resURL("api.example.com", i), Origin: "api.example.com", AmountMicro: 10_000, At: clk.now().Add(time.Duration(i-4000) * time.Minute)}, pe.Fleet.ID, "")
					}
				}
				d.mu.Unlock()
			}
			demands := make([]string, 300)
			for i := range demands {
				demands[i] = demand(b, payee(i), resURL("api.example.com", i), 10_000)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				clk.advance(time.Minute)
				t0 := time.Now()
				res, err := svc.Pay(ctx, ps[i%len(ps)].Agent.ID, payments.PayRequest{Version: 2, Raw: []byte(demands[i%300]),
					ResourceURL: resURL("api.example.com", i%300), IdempotencyKey: "k" + strconv.Itoa(i)})
				lat = append(lat, time.Since(t0))
				if err != nil || res.NeedsApproval {
					b.Fatalf("payment %d: %+v, %v", i, res, err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkScreen is the detector alone: judging a payment of a warm agent.
func BenchmarkScreen(b *testing.B) {
	d := judgeEnv()
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range 4000 {
		d.apply(payments.Observation{AgentID: "agt", Outcome: payments.OutcomeSigned, PayTo: payee(i % 300), ResourceURL: resURL("api.example.com", i),
			Origin: "api.example.com", AmountMicro: 10_000, At: t0.Add(time.Duration(i) * time.Minute)}, "flt", "rt")
	}
	at := t0.Add(4000 * time.Minute)
	a, f := d.agent("agt", "flt", at)
	c := payments.Candidate{AgentID: "agt", FleetID: "flt", Origin: "api.example.com", AmountMicro: 10_000}
	b.ReportAllocs()
	for i := range b.N {
		c.At = at.Add(time.Duration(i) * time.Minute)
		c.PayTo, c.ResourceURL = payee(i%300), resURL("api.example.com", i)
		if fs := d.judge(a, f, c, "rt"); len(fs) != 0 {
			b.Fatalf("findings %+v", fs)
		}
		d.learn(a, f, payments.Observation{AgentID: "agt", Outcome: payments.OutcomeSigned, PayTo: c.PayTo, ResourceURL: c.ResourceURL,
			Origin: c.Origin, AmountMicro: c.AmountMicro, At: c.At}, "rt")
	}
}
