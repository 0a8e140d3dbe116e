package facilitator

import (
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkVerify measures verifications per second of a good payment against the devnet over
// HTTP JSON-RPC, including every RPC check (payer code, authorization state, balance, the
// eth_call simulation; the asset's code and EIP-712 metadata are cached).
func BenchmarkVerify(b *testing.B) {
	f := newFac(b, nil)
	req := newFixture(b).request(b)
	ctx := testCtx(b)
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			r, err := f.Verify(ctx, req)
			if err != nil || !r.IsValid {
				b.Fatalf("Verify = %+v, %v", r, err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r, err := f.Verify(ctx, req)
				if err != nil || !r.IsValid {
					b.Errorf("Verify = %+v, %v", r, err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
	})
}

// BenchmarkSettle measures settled payments per second (transaction sent, mined, receipt and
// Transfer log checked), one after another and with many in flight at once.
func BenchmarkSettle(b *testing.B) {
	f := newFac(b, nil)
	ctx := testCtx(b)
	run := func(b *testing.B, parallel bool) {
		b.StopTimer()
		reqs := make(chan *x402VerifyRequest, b.N)
		for range b.N {
			reqs <- newFixture(b).request(b)
		}
		close(reqs)
		b.StartTimer()
		settle := func() {
			r, err := f.Settle(ctx, <-reqs)
			if err != nil || !r.Success {
				b.Errorf("Settle = %+v, %v", r, err)
			}
		}
		if parallel {
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					settle()
				}
			})
		} else {
			for range b.N {
				settle()
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "settles/s")
	}
	b.Run("sequential", func(b *testing.B) { run(b, false) })
	b.Run("parallel", func(b *testing.B) { run(b, true) })
}

// BenchmarkPaidRequest measures the end-to-end latency of one paid request: GET → 402 → sign
// → retry with the payment → verify → handler → settle (mined) → 200, with the facilitator
// behind HTTP. It reports the median and the 99th percentile.
func BenchmarkPaidRequest(b *testing.B) {
	f := newFac(b, nil)
	api := newPaidAPI(b, f, 6)
	ctx := testCtx(b)
	var mu sync.Mutex
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		resp, err := api.get(ctx, "/weather")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		mu.Lock()
		lat = append(lat, time.Since(start))
		mu.Unlock()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
}
