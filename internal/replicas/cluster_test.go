// Package replicas_test runs several fleetkey servers on one PostgreSQL database and
// checks that budgets, revocations and the audit chain stay exact across them. It needs
// FLEETKEY_TEST_POSTGRES and skips without it.
package replicas_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/server"
	"github.com/fleetkey/fleetkey/internal/store"
)

// requirePostgres returns FLEETKEY_TEST_POSTGRES or skips.
func requirePostgres(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("FLEETKEY_TEST_POSTGRES")
	if raw == "" {
		t.Skip("FLEETKEY_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); skipping the replica tests")
	}
	return raw
}

// dbURL returns FLEETKEY_TEST_POSTGRES with a fresh schema (dropped at the end) in its
// search_path, or skips.
func dbURL(t testing.TB) string {
	t.Helper()
	raw := requirePostgres(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "fleetkey_replicas_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, raw)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// mnemonic is one random root seed that every replica of a test unseals separately:
// replicas share the database and the seed, nothing in memory.
func mnemonic(t testing.TB) []byte {
	t.Helper()
	entropy := make([]byte, 32)
	if _, err := rand.Read(entropy); err != nil {
		t.Fatal(err)
	}
	words, err := hd.EntropyToMnemonic(entropy)
	clear(entropy)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(words)
}

func vault(t testing.TB, words []byte) *custody.Vault {
	t.Helper()
	m, err := custody.NewMnemonic(bytes.Clone(words))
	if err != nil {
		t.Fatal(err)
	}
	v, err := custody.VaultFromMnemonic(m, custody.Passphrase{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// syncBuffer collects a replica's log.
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

// replica is one running server.
type replica struct {
	*server.Server
	log    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startReplicas starts n servers on db, each with its own vault from words and its
// own data directory.
func startReplicas(t testing.TB, n int, db string, words []byte, pool server.DBPoolConfig) []*replica {
	t.Helper()
	rs := make([]*replica, n)
	for i := range rs {
		cfg := server.Default()
		cfg.DataDir = t.TempDir()
		cfg.Listen = "127.0.0.1:0"
		cfg.DB = db
		cfg.DBPool = pool
		a := paymentstest.Asset
		cfg.Assets = []server.AssetConfig{{Network: a.Network, Address: a.Address.Hex(), Symbol: a.Symbol, Decimals: a.Decimals,
			EIP712Name: a.EIP712Name, EIP712Version: a.EIP712Version}}
		cfg.Complete()
		logs := &syncBuffer{}
		s, err := server.New(context.Background(), cfg, server.Options{Vault: vault(t, words),
			Logger: slog.New(slog.NewJSONHandler(logs, nil))})
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &replica{Server: s, log: logs, cancel: cancel, done: make(chan error, 1)}
		go func() { r.done <- s.Serve(ctx) }()
		t.Cleanup(func() { r.stop() })
		rs[i] = r
	}
	return rs
}

func (r *replica) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

var admin = payments.OperatorIdentity{CredentialID: "test-admin", Name: "test", Role: store.RoleAdmin}

// fleet provisions, through r, a fleet with one group of n agents under the group
// policy src.
func fleet(t testing.TB, r *replica, n int, src string) (store.Group, []payments.Provisioned) {
	t.Helper()
	ctx := context.Background()
	svc := r.Service()
	f, err := svc.CreateFleet(ctx, admin, "replicated", "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.CreateGroup(ctx, admin, f.ID, "crawlers")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ApplyPolicy(ctx, admin, store.LevelGroup, g.ID, "shared-budget", src); err != nil {
		t.Fatal(err)
	}
	na := make([]payments.NewAgent, n)
	for i := range na {
		na[i] = payments.NewAgent{ExternalID: "agent-" + string(rune('a'+i%26)) + hex.EncodeToString([]byte{byte(i)}), Name: "agent"}
	}
	agents, err := svc.ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: f.ID, GroupID: g.ID, Agents: na})
	if err != nil {
		t.Fatal(err)
	}
	return g, agents
}

// payBody is a payment request for amount atomic units of the test asset.
func payBody(t testing.TB, key, amount string) []byte {
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

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute}

// pay posts a payment to a replica and returns the status and body.
func pay(r *replica, p payments.Provisioned, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, r.URL()+"/v1/payments", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token.Reveal())
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// errorCode is the code of an API error body.
func errorCode(b []byte) string {
	var e struct {
		Error struct {
			Code   string `json:"code"`
			Reason string `json:"reason"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	if e.Error.Reason != "" {
		return e.Error.Code + "/" + e.Error.Reason
	}
	return e.Error.Code
}

func key(t testing.TB) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// auditAddress is the audit key's address under words.
func auditAddress(t testing.TB, words []byte) common.Address {
	t.Helper()
	v := vault(t, words)
	defer v.Close()
	p, err := hd.ParsePath(audit.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	k, err := v.Key(p)
	if err != nil {
		t.Fatal(err)
	}
	return k.Address()
}

// verifyAudit checks the shared chain: no gap, no fork, every checkpoint valid.
func verifyAudit(t testing.TB, st store.Store, words []byte) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), st, auditAddress(t, words))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problem != nil {
		t.Fatalf("audit chain: %+v", *rep.Problem)
	}
	return rep
}

// counted returns the authorizations of a group that hold budget.
func counted(t testing.TB, st store.Store, agents []payments.Provisioned) []store.Authorization {
	t.Helper()
	var out []store.Authorization
	err := st.ReadTx(context.Background(), func(rt store.ReadTx) error {
		as, err := rt.Authorizations(context.Background(), store.AuthorizationFilter{FleetID: agents[0].Agent.FleetID,
			Statuses: []store.AuthStatus{store.AuthReserved, store.AuthSigned, store.AuthSettled}})
		out = as
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// proxy is a TCP proxy to PostgreSQL that a test can cut (closing every connection
// and refusing new ones) and restore, to play an unreachable database without
// touching the machine's server.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		go p.pipe(c)
	}
}

func (p *proxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close(); c.Close() }()
	io.Copy(c, s)
	c.Close()
	s.Close()
}

// cut closes every proxied connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// viaProxy rewrites db to reach PostgreSQL through p.
func (p *proxy) url(t testing.TB, db string) string {
	t.Helper()
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

func target(t testing.TB, db string) string {
	t.Helper()
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

var errNotRefused = errors.New("not refused")
