package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
)

// benchPolicy is a fleet policy with windows at three lengths, loose enough never
// to refuse during a benchmark (the same as the payments benchmark's).
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

// BenchmarkPayHTTP measures POST /v1/payments end to end: a real HTTP client on
// loopback, the API handler (agent authentication, strict decoding), the payments
// service and SQLite, with 1, 16 and 128 agents each sending one request after the
// other on its own connection. Besides ns/op it reports payments/s (wall clock),
// the p50 and p99 latency of one request, and the process CPU per payment; the
// raw-secp256k1 sub-benchmark gives, in the same run, how many bare ECDSA
// signatures per second this machine makes on all its cores.
func BenchmarkPayHTTP(b *testing.B) {
	for _, bc := range []struct {
		name   string
		agents int
		full   bool
	}{
		{"agents1", 1, false},
		{"agents16", 16, false},
		{"agents128", 128, false},
		{"agents16-full", 16, true},
	} {
		b.Run(bc.name, func(b *testing.B) { benchPayHTTP(b, bc.agents, bc.full) })
	}
	b.Run("raw-secp256k1", benchRawSign)
}

func benchPayHTTP(b *testing.B, agents int, full bool) {
	pe := paymentstest.New(b, paymentstest.Options{FleetIndex: 3, FullSync: full})
	svc, err := payments.New(payments.Config{Store: pe.Store, Keys: pe.Vault, Registry: pe.Registry, Audit: pe.Audit})
	if err != nil {
		b.Fatal(err)
	}
	var ps []payments.Provisioned
	for len(ps) < agents {
		var batch []payments.NewAgent
		for i := len(ps); i < agents && len(batch) < payments.MaxBatch; i++ {
			batch = append(batch, payments.NewAgent{ExternalID: "bench-" + strconv.Itoa(i), Name: "bench " + strconv.Itoa(i)})
		}
		got, err := svc.ProvisionAgents(pe.Ctx, payments.ProvisionRequest{FleetID: pe.Fleet.ID, GroupID: pe.Group.ID, Agents: batch})
		if err != nil {
			b.Fatal(err)
		}
		ps = append(ps, got...)
	}
	pe.PutPolicy(store.LevelFleet, pe.Fleet.ID, benchPolicy)
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := httptest.NewServer(NewHandler(Config{Payments: svc, Operators: svc, Audit: pe.Store, AuditKey: testAuditKey, Logger: logger}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: agents, MaxConnsPerHost: agents}}
	defer client.CloseIdleConnections()

	demand := strconv.Quote(paymentstest.DemandV2(b, paymentstest.Requirement("1000")))
	bodyPrefix := []byte(`{"x402_version":2,"payment_required":` + demand + `,"resource_url":"` + resourceURL + `","idempotency_key":"`)
	var seq atomic.Int64
	pay := func(token string) (time.Duration, error) {
		body := append(append(slices.Clip(bodyPrefix), "b"+strconv.FormatInt(seq.Add(1), 10)...), `"}`...)
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/payments", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		out, err := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(start)
		if err != nil {
			return 0, err
		}
		if res.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d: %s", res.StatusCode, out)
		}
		return took, nil
	}
	// One payment per agent first: connections open, caches warm.
	for _, p := range ps {
		if _, err := pay(bearer(p)); err != nil {
			b.Fatal(err)
		}
	}

	lat := make([][]time.Duration, agents)
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range ps {
		token := bearer(p)
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				took, err := pay(token)
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
	cpu := processCPU(b) - cpu0
	all := slices.Concat(lat...)
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	at := func(q float64) float64 { return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / 1e6 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "payments/s")
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(all)), "cpu-µs/op")
}

// benchRawSign signs a digest with an already derived secp256k1 key on every core
// (libsecp256k1 through hd, no derivation, no verification): the ceiling that
// signing alone would put on payments per second.
func benchRawSign(b *testing.B) {
	seed := make([]byte, 64)
	if _, err := rand.Read(seed); err != nil {
		b.Fatal(err)
	}
	p, err := hd.AgentPath(1, 1, 0)
	if err != nil {
		b.Fatal(err)
	}
	k, err := hd.DerivePrivate(seed, p)
	if err != nil {
		b.Fatal(err)
	}
	defer k.Wipe()
	d := sha256.Sum256([]byte("payment"))
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := k.SignDigest(d); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signatures/s")
}

// processCPU is the user plus system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
