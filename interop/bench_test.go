package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/x402"
)

// BenchmarkFacilitatorVerify measures POST /verify on our facilitator and on the reference
// TypeScript facilitator (@x402/core + @x402/evm 2.27, interop/facilitator.mjs) in the same
// run: same devnet, same signed payloads, both over HTTP on loopback, every answer checked to
// be isValid. Each reports verifications per second; the "parallel" variants keep 8 requests
// in flight. Run with:
//
//	go test ./interop/ -run '^$' -bench FacilitatorVerify -benchtime 400x
func BenchmarkFacilitatorVerify(b *testing.B) {
	requireNode(b)
	c := devnetFor(b, 1337)
	_, ref := startServer(b, "facilitator.mjs", map[string]string{
		"RPC_URL":         c.dn.RPCURL(),
		"CHAIN_ID":        "1337",
		"FACILITATOR_KEY": c.account(accTSFacilitator).PrivateKeyHex,
		"QUIET":           "1",
	})
	fac := ourFacilitator(b, c)
	ours := httptest.NewServer(fac.Handler())
	b.Cleanup(ours.Close)
	bodies := verifyBodies(b, c, fac, 64)

	for _, target := range []struct{ name, url string }{{"fleetkey", ours.URL}, {"reference", ref.URL}} {
		b.Run(target.name+"/sequential", func(b *testing.B) {
			client := &http.Client{Timeout: 30 * time.Second}
			i := 0
			for b.Loop() {
				postVerify(b, client, target.url, bodies[i%len(bodies)])
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verify/s")
		})
		b.Run(target.name+"/parallel", func(b *testing.B) {
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			var next atomic.Int64
			var lat []time.Duration
			var mu sync.Mutex
			b.SetParallelism(4) // 2 cores × 4 = 8 requests in flight
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					body := bodies[int(next.Add(1))%len(bodies)]
					start := time.Now()
					postVerify(b, client, target.url, body)
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verify/s")
			if len(lat) > 0 {
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// verifyBodies signs n distinct payments for a v2 demand of our middleware and returns the
// /verify request bodies (payload and the matched requirement, as a resource server sends).
func verifyBodies(b *testing.B, c *chainEnv, fac x402.Facilitator, n int) [][]byte {
	b.Helper()
	mw := newGoServer(b, fac, x402.V2, c.dn.Network(), c, newPayee(b))
	srv := httptest.NewServer(mw.Wrap(resourceHandler()))
	defer srv.Close()
	pr := demandV2(b, srv.URL+"/weather")
	raw, err := x402.EncodeHeader(pr)
	if err != nil {
		b.Fatal(err)
	}
	payer := goPayer(b, c)
	out := make([][]byte, 0, n)
	for range n {
		pay, err := payer.Pay(context.Background(), &x402.PaymentRequest{URL: srv.URL + "/weather", Method: http.MethodGet, Version: x402.V2, V2: pr, Raw: []byte(raw)})
		if err != nil {
			b.Fatal(err)
		}
		payload, err := x402.DecodeHeaderJSON(pay.Value)
		if err != nil {
			b.Fatal(err)
		}
		req, err := x402.NewVerifyRequest(payload, pr.Accepts[0])
		if err != nil {
			b.Fatal(err)
		}
		body, err := json.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, body)
	}
	return out
}

func postVerify(b *testing.B, client *http.Client, url string, body []byte) {
	resp, err := client.Post(url+"/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v x402.VerifyResponse
	if err := json.Unmarshal(raw, &v); err != nil || resp.StatusCode != http.StatusOK || !v.IsValid {
		b.Fatal(fmt.Sprintf("verify at %s: %d %s", url, resp.StatusCode, raw))
	}
}
