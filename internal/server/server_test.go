package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/metrics"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

// syncBuffer collects log lines across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is a valid configuration on a fresh data directory, listening on a free port,
// trusting the payments test asset.
func testConfig(t *testing.T) Config {
	cfg := Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	a := paymentstest.Asset
	cfg.Assets = []AssetConfig{{Network: a.Network, Address: a.Address.Hex(), Symbol: a.Symbol, Decimals: a.Decimals,
		EIP712Name: a.EIP712Name, EIP712Version: a.EIP712Version}}
	cfg.Complete()
	return cfg
}

// randomVault is an unsealed root from a fresh random mnemonic (no Argon2 cost).
func randomVault(t *testing.T) *custody.Vault {
	t.Helper()
	entropy := make([]byte, 32)
	rand.Read(entropy)
	words, err := hd.EntropyToMnemonic(entropy)
	clear(entropy)
	if err != nil {
		t.Fatal(err)
	}
	m, err := custody.NewMnemonic([]byte(words))
	if err != nil {
		t.Fatal(err)
	}
	v, err := custody.VaultFromMnemonic(m, custody.Passphrase{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// running is a Server serving in a goroutine.
type running struct {
	*Server
	t      *testing.T
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func start(t *testing.T, cfg Config) *running { return startWith(t, cfg, nil) }

// startWith lets prepare adjust the server between New and Serve.
func startWith(t *testing.T, cfg Config, prepare func(*Server)) *running {
	return startClock(t, cfg, nil, prepare)
}

// startClock starts a server on the clock now (nil: time.Now).
func startClock(t *testing.T, cfg Config, now func() time.Time, prepare func(*Server)) *running {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(context.Background(), cfg, Options{Logger: logger, Vault: randomVault(t), Now: now,
		Build: metrics.BuildInfo{Version: "test", Commit: "abc", GoVersion: "go"}})
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Server: s, t: t, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Serve(ctx) }()
	t.Cleanup(func() { r.stop() })
	return r
}

// stop cancels Serve's context and returns what Serve returned.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
	})
	return r.err
}

func (r *running) get(path string) (int, []byte) {
	r.t.Helper()
	res, err := http.Get(r.URL() + path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return res.StatusCode, b
}

func readiness(t *testing.T, b []byte) Readiness {
	t.Helper()
	var rd Readiness
	if err := json.Unmarshal(b, &rd); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return rd
}

// TestReadyz checks each readiness state: ready, database unreachable (the store closed under
// the server; a sealed custody cannot happen while serving, New refuses to start sealed), an RPC
// endpoint that answers (a real devnet) and one that does not.
func TestReadyz(t *testing.T) {
	r := start(t, testConfig(t))
	status, body := r.get("/readyz")
	rd := readiness(t, body)
	if status != http.StatusOK || rd.Status != "ready" || rd.Checks["custody"] != CheckOK || rd.Checks["database"] != CheckOK || rd.Checks["rpc"] != CheckSkipped {
		t.Fatalf("ready: %d %s", status, body)
	}
	if status, body := r.get("/healthz"); status != http.StatusOK {
		t.Fatalf("healthz: %d %s", status, body)
	}
	// The whole API is mounted: operator routes want an operator token.
	if status, body := r.get("/v1/operator"); status != http.StatusUnauthorized {
		t.Fatalf("operator route without a token: %d %s", status, body)
	}

	r.store.Close()
	status, body = r.get("/readyz")
	rd = readiness(t, body)
	if status != http.StatusServiceUnavailable || rd.Checks["database"] != CheckFailed || len(rd.Failed) != 1 || rd.Failed[0] != "database" {
		t.Fatalf("database closed: %d %s", status, body)
	}
	if strings.Contains(string(body), "closed") {
		t.Errorf("readyz tells the cause to an unauthenticated caller: %s", body)
	}
	if !strings.Contains(r.logs.String(), `"check":"database"`) {
		t.Errorf("the failed check is not logged:\n%s", r.logs)
	}

	// An RPC endpoint: a real devnet answers eth_chainId; once it is closed, readyz fails rpc.
	ctx := context.Background()
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0", Accounts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cfg := testConfig(t)
	cfg.RPCURL = d.RPCURL()
	r2 := start(t, cfg)
	if status, body := r2.get("/readyz"); status != http.StatusOK || readiness(t, body).Checks["rpc"] != CheckOK {
		t.Fatalf("rpc up: %d %s", status, body)
	}
	d.Close()
	status, body = r2.get("/readyz")
	if rd := readiness(t, body); status != http.StatusServiceUnavailable || rd.Checks["rpc"] != CheckFailed || rd.Checks["database"] != CheckOK {
		t.Fatalf("rpc down: %d %s", status, body)
	}
}

// TestNewRefusesSealed checks that a wrong passphrase stops New before anything listens, and that
// the right one starts.
func TestNewRefusesSealed(t *testing.T) {
	dir := t.TempDir()
	pass, err := custody.NewPassphrase([]byte("correct horse battery staple 42"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := custody.Init(custody.InitRequest{DataDir: dir, Passphrase: pass, Argon2: custody.MinArgon2Params()}); err != nil {
		t.Fatal(err)
	}
	writePass := func(name, p string) string {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(p+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// A port that is free now: nothing may listen on it after the refusal.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	cfg := testConfig(t)
	cfg.DataDir, cfg.DB, cfg.Listen = dir, "", addr
	cfg.Unseal.PassphraseFile = writePass("wrong", "not the passphrase at all")
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	_, err = New(context.Background(), cfg, Options{Logger: logger})
	if !errors.Is(err, custody.ErrWrongPassphrase) || !strings.Contains(err.Error(), "unseal") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("something listens after a refused start")
	}
	if strings.Contains(logs.String(), "not the passphrase") {
		t.Error("the log holds the passphrase")
	}
	if _, err := os.Stat(filepath.Join(dir, "fleetkey.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused start created the database: %v", err)
	}

	// No unseal method at all is a configuration error.
	cfg.Unseal = UnsealConfig{}
	var ve *ValidationError
	if _, err := New(context.Background(), cfg, Options{Logger: logger}); !errors.As(err, &ve) {
		t.Fatalf("no unseal method: %v", err)
	}

	cfg.Unseal.PassphraseFile = writePass("right", "correct horse battery staple 42")
	s, err := New(context.Background(), cfg, Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "correct horse") {
		t.Error("the log holds the passphrase")
	}
	if err := s.custodyCheck(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.custodyCheck(); !errors.Is(err, custody.ErrSealed) {
		t.Fatalf("vault not wiped by Close: %v", err)
	}
}

const groupPolicy = `version: 1
name: group-budget
limits:
  per_payment: "0.05"
  windows:
    - window: 1h
      max_amount: "1.00"
      max_count: 10
max_validity: 2m
`

// fleetAndGroup creates a fleet and a group in the server's database.
func fleetAndGroup(t *testing.T, s *Server) (store.Fleet, store.Group) {
	t.Helper()
	ctx := context.Background()
	var f store.Fleet
	var g store.Group
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		var err error
		if f, err = tx.CreateFleet(ctx, store.Fleet{Name: "research", Index: 7}); err != nil {
			return err
		}
		g, err = tx.CreateGroup(ctx, store.Group{FleetID: f.ID, Name: "crawlers"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, g
}

func putPolicy(t *testing.T, s *Server, level store.Level, scope, src string) {
	t.Helper()
	ctx := context.Background()
	p, err := policy.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	err = s.store.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.PutPolicy(ctx, store.PutPolicyRequest{Level: level, ScopeID: scope, Name: p.Name(), Hash: p.Hash(), Source: src, Now: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func payBody(t *testing.T, key, amount string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"x402_version": 2, "payment_required": paymentstest.DemandV2(t, paymentstest.Requirement(amount)),
		"resource_url": paymentstest.ResourceURL, "method": "GET", "idempotency_key": key,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pay(t *testing.T, url string, p payments.Provisioned, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/payments", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.Token.Reveal())
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// scrape reads /metrics and parses the text exposition format.
func scrape(t *testing.T, r *running) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := r.get("/metrics")
	if status != http.StatusOK {
		t.Fatalf("metrics: %d %s", status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, body)
	}
	return fams
}

// value returns the value of the one series of family name whose labels include want, and
// whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetricsAfterPayment pays over HTTP and reads the counters, the histogram and the scrape-time
// gauges back from /metrics.
func TestMetricsAfterPayment(t *testing.T) {
	r := start(t, testConfig(t))
	ctx := context.Background()
	fleet, group := fleetAndGroup(t, r.Server)
	putPolicy(t, r.Server, store.LevelGroup, group.ID, groupPolicy)
	agents, err := r.Service().ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, GroupID: group.ID,
		Agents: []payments.NewAgent{{ExternalID: "a", Name: "a"}}})
	if err != nil {
		t.Fatal(err)
	}

	fams := scrape(t, r)
	if v, ok := value(fams, "fleetkey_up", nil); !ok || v != 1 {
		t.Fatalf("fleetkey_up = %v, %v", v, ok)
	}
	if v, ok := value(fams, "fleetkey_build_info", map[string]string{"version": "test", "commit": "abc"}); !ok || v != 1 {
		t.Fatalf("build info = %v, %v", v, ok)
	}
	if v, _ := value(fams, "fleetkey_budget_utilization_ratio", map[string]string{"level": "group", "scope": group.ID, "window": "1h", "kind": "amount"}); v != 0 {
		t.Fatalf("budget before paying = %v", v)
	}

	// 0.01 signed; 0.06 denied by the per-payment limit.
	if status, body := pay(t, r.URL(), agents[0], payBody(t, "k1", "10000")); status != http.StatusOK {
		t.Fatalf("pay: %d %s", status, body)
	}
	status, body := pay(t, r.URL(), agents[0], payBody(t, "k2", "60000"))
	if status != http.StatusForbidden {
		t.Fatalf("pay over the limit: %d %s", status, body)
	}
	var denied struct {
		Error struct{ Reason string } `json:"error"`
	}
	if err := json.Unmarshal(body, &denied); err != nil || denied.Error.Reason == "" {
		t.Fatalf("denial body %s: %v", body, err)
	}
	// A replay counts as a replay and adds no amount.
	if status, body := pay(t, r.URL(), agents[0], payBody(t, "k1", "10000")); status != http.StatusOK {
		t.Fatalf("replay: %d %s", status, body)
	}

	fams = scrape(t, r)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"fleetkey_payments_total", map[string]string{"outcome": "signed", "reason": "", "group": group.ID, "asset": "USDC"}, 1},
		{"fleetkey_payments_total", map[string]string{"outcome": "signed", "reason": "replayed", "group": group.ID, "asset": "USDC"}, 1},
		{"fleetkey_payments_total", map[string]string{"outcome": "denied", "reason": denied.Error.Reason, "group": group.ID}, 1},
		{"fleetkey_payment_amount_micro_total", map[string]string{"group": group.ID, "asset": "USDC"}, 10000},
		{"fleetkey_signing_duration_seconds", nil, 1},
		{"fleetkey_approvals_pending", nil, 0},
		{"fleetkey_budget_utilization_ratio", map[string]string{"level": "group", "scope": group.ID, "window": "1h", "kind": "amount"}, 0.01},
		{"fleetkey_budget_utilization_ratio", map[string]string{"level": "group", "scope": group.ID, "window": "1h", "kind": "count"}, 0.1},
	} {
		if v, ok := value(fams, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	// No series is labelled with an agent id.
	_, b := r.get("/metrics")
	if strings.Contains(string(b), agents[0].Agent.ID) {
		t.Errorf("metrics name an agent id")
	}
}

// TestShutdownFinishesInFlight starts a payment whose body is still arriving, asks the server to
// stop, and checks that the listener closes at once, the payment still completes and is
// answered, Serve returns nil, a last audit checkpoint covers it, and the vault is wiped.
func TestShutdownFinishesInFlight(t *testing.T) {
	cfg := testConfig(t)
	// active receives the remote address of every connection that has begun a request.
	active := make(chan string, 16)
	r := startWith(t, cfg, func(s *Server) {
		s.http.ConnState = func(c net.Conn, st http.ConnState) {
			if st == http.StateActive {
				select {
				case active <- c.RemoteAddr().String():
				default:
				}
			}
		}
	})
	ctx := context.Background()
	fleet, group := fleetAndGroup(t, r.Server)
	putPolicy(t, r.Server, store.LevelGroup, group.ID, groupPolicy)
	agents, err := r.Service().ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, GroupID: group.ID,
		Agents: []payments.NewAgent{{ExternalID: "a", Name: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	auditKey, err := r.vault.Key(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	addr := r.Addr()

	body := payBody(t, "inflight", "10000")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("POST /v1/payments HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		addr, agents[0].Token.Reveal(), len(body))
	if _, err := conn.Write(append([]byte(head), body[:10]...)); err != nil {
		t.Fatal(err)
	}
	// Once the server has begun reading this request, shut down.
	for a := range active {
		if a == conn.LocalAddr().String() {
			break
		}
	}
	r.cancel()
	// Shutdown closes the listener first: wait until new connections are refused.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still open after shutdown began")
		}
	}
	select {
	case err := <-r.done:
		t.Fatalf("Serve returned before the in-flight request finished: %v", err)
	default:
	}
	if _, err := conn.Write(body[10:]); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"header"`) {
		t.Fatalf("in-flight payment: %d %s", res.StatusCode, b)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := r.custodyCheck(); !errors.Is(err, custody.ErrSealed) {
		t.Fatalf("vault not wiped at shutdown: %v", err)
	}
	if !strings.Contains(r.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no stop line in the log:\n%s", r.logs)
	}
	if strings.Contains(r.logs.String(), agents[0].Token.Reveal()) {
		t.Error("the log holds the agent's token")
	}

	// The database is closed and consistent: reopen it and verify the chain against the audit
	// key, with a checkpoint at its head.
	st, err := sqlite.Open(ctx, cfg.DB, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := audit.Verify(ctx, st, common.Address(auditKey.Address()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problem != nil || rep.Checkpoints == 0 || rep.LastCheckpoint != rep.Head {
		t.Fatalf("audit after shutdown: %+v", rep)
	}
}

const approvalPolicy = `version: 1
name: group-approval
limits:
  per_payment: "0.05"
max_validity: 2m
approval:
  above: "0.02"
  quorum: 1
  approvers: [alice]
  expires_after: 15m
`

// TestMetricsApproval holds a payment for approval, reads the pending gauge, approves it over the
// operator API and finds it counted as signed with reason approved, once.
func TestMetricsApproval(t *testing.T) {
	r := start(t, testConfig(t))
	ctx := context.Background()
	fleet, group := fleetAndGroup(t, r.Server)
	putPolicy(t, r.Server, store.LevelGroup, group.ID, approvalPolicy)
	agents, err := r.Service().ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, GroupID: group.ID,
		Agents: []payments.NewAgent{{ExternalID: "a", Name: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := payments.BootstrapAdmin(ctx, r.store, r.audit, "root", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	adminID, err := r.Service().AuthenticateOperator(ctx, admin.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	alice, err := r.Service().CreateOperatorCredential(ctx, adminID, payments.NewCredential{Name: "alice", Role: store.RoleApprover})
	if err != nil {
		t.Fatal(err)
	}

	status, body := pay(t, r.URL(), agents[0], payBody(t, "big", "30000"))
	if status != http.StatusAccepted {
		t.Fatalf("pay above the approval threshold: %d %s", status, body)
	}
	var held struct {
		ApprovalIDs []string `json:"approval_ids"`
	}
	if err := json.Unmarshal(body, &held); err != nil || len(held.ApprovalIDs) != 1 {
		t.Fatalf("202 body %s: %v", body, err)
	}
	fams := scrape(t, r)
	if v, _ := value(fams, "fleetkey_approvals_pending", nil); v != 1 {
		t.Errorf("approvals pending = %v, want 1", v)
	}
	if v, _ := value(fams, "fleetkey_payments_total", map[string]string{"outcome": "approval", "group": group.ID, "asset": "USDC"}); v != 1 {
		t.Errorf("approval outcome counted %v times, want 1", v)
	}

	vote := func() (int, []byte) {
		req, err := http.NewRequest(http.MethodPost, r.URL()+"/v1/approvals/"+held.ApprovalIDs[0]+"/approve", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+alice.Token.Reveal())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	if status, body := vote(); status != http.StatusOK {
		t.Fatalf("approve: %d %s", status, body)
	}
	// A second vote on the decided approval is refused and counts nothing.
	if status, body := vote(); status == http.StatusOK {
		t.Fatalf("second approve: %d %s", status, body)
	}
	fams = scrape(t, r)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"fleetkey_approvals_pending", nil, 0},
		{"fleetkey_payments_total", map[string]string{"outcome": "signed", "reason": "approved", "group": group.ID, "asset": "USDC"}, 1},
		{"fleetkey_payment_amount_micro_total", map[string]string{"group": group.ID, "asset": "USDC"}, 30000},
		{"fleetkey_signing_duration_seconds", nil, 1},
	} {
		if v, ok := value(fams, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
}

// TestExpiresApprovalsWithoutRPC: with no reconciler, the daemon still expires approval requests
// and releases what their payments held.
func TestExpiresApprovalsWithoutRPC(t *testing.T) {
	var mu sync.Mutex
	skew := time.Duration(0)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(skew)
	}
	cfg := testConfig(t)
	cfg.Reconcile.Interval = 100 * time.Millisecond
	r := startClock(t, cfg, now, nil)
	ctx := context.Background()
	fleet, group := fleetAndGroup(t, r.Server)
	putPolicy(t, r.Server, store.LevelGroup, group.ID, approvalPolicy)
	agents, err := r.Service().ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, GroupID: group.ID,
		Agents: []payments.NewAgent{{ExternalID: "a", Name: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	status, body := pay(t, r.URL(), agents[0], payBody(t, "big", "30000"))
	if status != http.StatusAccepted {
		t.Fatalf("pay above the approval threshold: %d %s", status, body)
	}
	var held struct {
		AuthorizationID string `json:"authorization_id"`
	}
	if err := json.Unmarshal(body, &held); err != nil {
		t.Fatal(err)
	}
	// Sixteen minutes later (the policy gives approvers fifteen), the loop cancels the payment.
	mu.Lock()
	skew = 16 * time.Minute
	mu.Unlock()
	deadline := time.Now().Add(time.Minute)
	for {
		var a store.Authorization
		err := r.store.ReadTx(ctx, func(rt store.ReadTx) (err error) {
			a, err = rt.Authorization(ctx, held.AuthorizationID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == store.AuthCancelled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment still %s: the expired approval was not swept", a.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v, _ := value(scrape(t, r), "fleetkey_approvals_pending", nil); v != 0 {
		t.Errorf("approvals pending = %v after expiry", v)
	}
}

// TestShutdownGraceOver: a request that never finishes is cut off when the grace period ends, and
// the server still closes everything and returns nil.
func TestShutdownGraceOver(t *testing.T) {
	cfg := testConfig(t)
	cfg.ShutdownGrace = 200 * time.Millisecond
	active := make(chan struct{}, 1)
	r := startWith(t, cfg, func(s *Server) {
		s.http.ConnState = func(c net.Conn, st http.ConnState) {
			if st == http.StateActive {
				select {
				case active <- struct{}{}:
				default:
				}
			}
		}
	})
	conn, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers promise a body that never comes.
	if _, err := fmt.Fprintf(conn, "POST /v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer fka_x\r\nContent-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	<-active
	if err := r.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !strings.Contains(r.logs.String(), "grace period over") {
		t.Errorf("no warning that connections were cut:\n%s", r.logs)
	}
	if err := r.custodyCheck(); !errors.Is(err, custody.ErrSealed) {
		t.Fatalf("vault not wiped: %v", err)
	}
}

// TestCheckpoint: a checkpoint signs the head once; with no new record the next one signs
// nothing; an empty chain signs nothing.
func TestCheckpoint(t *testing.T) {
	r := start(t, testConfig(t))
	ctx := context.Background()
	count := func() int {
		var n int
		err := r.store.ReadTx(ctx, func(rt store.ReadTx) error {
			cps, err := rt.AuditCheckpoints(ctx)
			n = len(cps)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := r.checkpoint(ctx); err != nil || count() != 0 {
		t.Fatalf("empty chain: %d checkpoints, %v", count(), err)
	}
	fleetAndGroup(t, r.Server) // writes no audit record
	if _, err := payments.BootstrapAdmin(ctx, r.store, r.Audit(), "root", time.Now()); err != nil {
		t.Fatal(err)
	}
	before := count()
	if err := r.checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	after := count()
	if err := r.checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if after != before+1 || count() != after {
		t.Fatalf("checkpoints %d → %d → %d, want one more and then none", before, after, count())
	}
}

// TestNewFailureWipesGivenVault: a vault handed to New is wiped whatever step fails, early
// (configuration) or late (the listen address is taken).
func TestNewFailureWipesGivenVault(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	cfg := testConfig(t)
	cfg.HTTP.WriteTimeout = time.Second
	v := randomVault(t)
	var ve *ValidationError
	if _, err := New(context.Background(), cfg, Options{Logger: logger, Vault: v}); !errors.As(err, &ve) {
		t.Fatalf("invalid config: %v", err)
	}
	if _, err := v.Key(hd.Path{}); !errors.Is(err, custody.ErrSealed) {
		t.Fatalf("vault open after a refused configuration: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg = testConfig(t)
	cfg.Listen = ln.Addr().String()
	v = randomVault(t)
	if _, err := New(context.Background(), cfg, Options{Logger: logger, Vault: v}); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("address in use: %v", err)
	}
	if _, err := v.Key(hd.Path{}); !errors.Is(err, custody.ErrSealed) {
		t.Fatalf("vault open after a failed listen: %v", err)
	}
}

// TestNewRefusesAnotherRootsDatabase: a database checkpointed under one root's audit key is
// refused by a daemon unsealing another root.
func TestNewRefusesAnotherRootsDatabase(t *testing.T) {
	cfg := testConfig(t)
	r := start(t, cfg)
	ctx := context.Background()
	if _, err := payments.BootstrapAdmin(ctx, r.store, r.Audit(), "root", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil { // signs a checkpoint at shutdown
		t.Fatal(err)
	}
	_, err := New(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler), Vault: randomVault(t)})
	if err == nil || !strings.Contains(err.Error(), "belongs to another root seed") {
		t.Fatalf("another root's database: %v", err)
	}
}
