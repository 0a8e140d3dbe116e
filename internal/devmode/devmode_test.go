package devmode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// running is an environment served by Run in the background.
type running struct {
	env    *Env
	cancel context.CancelFunc
	done   chan error
	out    *syncBuffer
}

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

func start(t *testing.T, dir string, fresh bool) *running {
	t.Helper()
	out := &syncBuffer{}
	e, err := Start(testCtx(t), Options{DataDir: dir, Fresh: fresh, NoTraffic: true, AnyPort: true, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{env: e, cancel: cancel, done: make(chan error, 1), out: out}
	go func() { r.done <- e.Run(ctx) }()
	manifest := filepath.Join(dir, ManifestFile)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(manifest); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("dev.json did not appear")
		}
	}
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after cancel")
	}
}

func TestStartPayRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	r := start(t, dir, false)
	m := r.env.Manifest()
	ctx := testCtx(t)

	// The manifest on disk has the documented keys of issue #5.
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"api_url", "rpc_url", "chain_id", "network", "facilitator_url", "demo_api_url", "token",
		"treasury", "admin_token_file", "agents", "demo_endpoints", "approver_token_file", "passphrase_file"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("dev.json lacks %q", k)
		}
	}
	if m.ChainID != ChainID || m.Network != "eip155:84532" || m.Token.Decimals != 6 || m.Token.Address == "" || len(m.Agents) != 6 {
		t.Fatalf("manifest %+v", m)
	}
	kinds := map[string]bool{}
	for _, ep := range m.DemoEndpoints {
		kinds[ep.Kind] = true
	}
	for _, k := range []string{"normal", "overcharge", "foreign_payto", "wrong_domain", "repeat_402"} {
		if !kinds[k] {
			t.Errorf("no demo endpoint of kind %s", k)
		}
	}
	for _, f := range []string{m.AdminTokenFile, m.ApproverTokenFile, m.PassphraseFile, m.Agents[0].TokenFile} {
		st, err := os.Stat(f)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, st.Mode().Perm())
		}
	}
	if !strings.Contains(r.out.String(), "DEVELOPMENT ONLY") {
		t.Error("no DEVELOPMENT ONLY banner")
	}

	// A second environment on the same directory is refused, and --fresh wipes nothing of a
	// running one.
	if _, err := Start(ctx, Options{DataDir: dir, Fresh: true, NoTraffic: true, AnyPort: true}); err == nil ||
		!strings.Contains(err.Error(), "another fleetkey dev is running") {
		t.Fatalf("second Start on a running directory: %v", err)
	}
	for _, f := range []string{datadir.DB, ManifestFile, PassphraseFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after a refused --fresh: %v", err)
		}
	}

	// An agent pays the demo API through the signer: its TestUSD goes to the merchant.
	scout, _ := m.Agent("scout")
	tok, err := os.ReadFile(scout.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	payer, err := sdk.NewPayer(m.APIURL, string(tok))
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ethclient.DialContext(ctx, m.RPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	usd, err := bindings.NewTestUSD(common.HexToAddress(m.Token.Address), ec)
	if err != nil {
		t.Fatal(err)
	}
	bal := func(a string) *big.Int {
		b, err := usd.BalanceOf(&bind.CallOpts{Context: ctx}, common.HexToAddress(a))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := bal(scout.Address); b.Cmp(FundAmount) != 0 {
		t.Fatalf("scout holds %s, want the funding %s", b, FundAmount)
	}
	merchantBefore := bal(m.Merchant)
	resp, err := x402.NewClient(payer).Get(m.DemoAPIURL + "/weather")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /weather: %d %s", resp.StatusCode, body)
	}
	if got := new(big.Int).Sub(FundAmount, bal(scout.Address)); got.Int64() != 1000 {
		t.Errorf("scout paid %s, want 1000 (0.001 TUSD)", got)
	}
	if got := new(big.Int).Sub(bal(m.Merchant), merchantBefore); got.Int64() != 1000 {
		t.Errorf("merchant received %s, want 1000", got)
	}

	// A hostile endpoint is refused by the signer.
	resp, err = x402.NewClient(payer).Get(m.DemoAPIURL + "/hostile/foreign-payto")
	if err == nil {
		resp.Body.Close()
		t.Fatal("foreign payee paid")
	}
	var apiErr *sdk.APIError
	if !errors.As(err, &apiErr) || apiErr.Reason != "pay_to_not_allowed" {
		t.Errorf("foreign payee: %v, want a pay_to_not_allowed denial", err)
	}

	// With --no-traffic the live summary still shows the daemon's own view of these two
	// payments: one signed with its amount, one denied with its reason, and the signed one
	// settled once the reconciler (every 5 s) has seen it on the chain.
	wantFleet := []string{
		"fleet     1 signed, 0.001 TUSD · 1 settled · 0 awaiting approval · 0 failed",
		"          1 denied: pay_to_not_allowed 1",
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		got := r.env.summaryBlock(ctx)
		if strings.Join(got, "\n") == strings.Join(wantFleet, "\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("summary:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantFleet, "\n"))
		}
	}

	// The repeated-402 endpoint leaves a signed payment that is never settled: the restart must
	// cope with it, since the new chain never sees it.
	resp, err = x402.NewClient(payer).Get(m.DemoAPIURL + "/hostile/repeat-402")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("repeat-402 answered %d", resp.StatusCode)
	}

	r.stop(t)
	// The summary went to Out as plain lines (not a terminal), the last one at shutdown.
	if out := r.out.String(); !strings.Contains(out, "\n"+wantFleet[1]+"\n") {
		t.Errorf("the output has no fleet summary %q:\n%s", wantFleet[1], out)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dev.json left after shutdown: %v", err)
	}

	// An agent whose token file is lost gets a new credential on the next start.
	analyst, _ := m.Agent("analyst")
	if err := os.Remove(analyst.TokenFile); err != nil {
		t.Fatal(err)
	}

	// The second start reuses the state: the same agents at the same addresses, with their
	// token files still valid, on a new chain where they are funded again.
	r2 := start(t, dir, false)
	defer r2.stop(t)
	m2 := r2.env.Manifest()
	if !r2.env.reused {
		t.Error("second start did not reuse the data directory")
	}
	for i, a := range m.Agents {
		b := m2.Agents[i]
		if a.ID != b.ID || a.Address != b.Address || a.TokenFile != b.TokenFile {
			t.Errorf("agent %s changed: %+v, then %+v", a.Name, a, b)
		}
	}
	if m2.Fleet.ID != m.Fleet.ID {
		t.Errorf("fleet %s, then %s", m.Fleet.ID, m2.Fleet.ID)
	}
	ec2, err := ethclient.DialContext(ctx, m2.RPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ec2.Close()
	usd2, err := bindings.NewTestUSD(common.HexToAddress(m2.Token.Address), ec2)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := usd2.BalanceOf(&bind.CallOpts{Context: ctx}, common.HexToAddress(scout.Address)); err != nil || b.Cmp(FundAmount) != 0 {
		t.Errorf("scout on the new chain: %v %v, want %s", b, err, FundAmount)
	}
	atok, err := os.ReadFile(analyst.TokenFile)
	if err != nil {
		t.Fatalf("the lost token file was not written again: %v", err)
	}
	ac, err := sdk.NewClient(m2.APIURL, string(atok))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := ac.AgentIdentity(ctx); err != nil || id.AgentID != analyst.ID {
		t.Errorf("analyst's new token: %+v %v", id, err)
	}
	payer2, err := sdk.NewPayer(m2.APIURL, string(tok))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = x402.NewClient(payer2).Get(m2.DemoAPIURL + "/news")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /news after restart: %d", resp.StatusCode)
	}
	logText, err := os.ReadFile(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(logText), `"level":"ERROR"`) {
		t.Errorf("the daemon logged errors:\n%s", logText)
	}
}

func TestRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	seal := filepath.Join(dir, "custody.seal")
	if err := os.WriteFile(seal, []byte("a real deployment's seal"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, fresh := range []bool{false, true} {
		_, err := Start(testCtx(t), Options{DataDir: dir, Fresh: fresh, AnyPort: true})
		if err == nil || !strings.Contains(err.Error(), "not a fleetkey dev data directory") {
			t.Fatalf("fresh=%v: %v, want a refusal", fresh, err)
		}
		if b, err := os.ReadFile(seal); err != nil || string(b) != "a real deployment's seal" {
			t.Fatalf("fresh=%v: the foreign file changed: %q %v", fresh, b, err)
		}
		if _, err := os.Stat(filepath.Join(dir, MarkerFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("fresh=%v: marker written into a foreign directory", fresh)
		}
	}
}

func TestFreshWipesOnlyDevDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{MarkerFile, datadir.DB, "custody.seal", "stray"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lock, err := prepareDir(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != MarkerFile+","+AgentsDir {
		t.Errorf("after --fresh the directory holds %v, want only the new marker and agents/", names)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, MarkerFile)); string(b) != markerText {
		t.Errorf("marker %q", b)
	}
}

func TestSealWithoutPassphraseIsAnError(t *testing.T) {
	dir := t.TempDir()
	lock, err := prepareDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	v, created, err := unsealDev(dir)
	if err != nil || !created {
		t.Fatal(err, created)
	}
	v.Close()
	if err := os.Remove(filepath.Join(dir, PassphraseFile)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := unsealDev(dir); err == nil || !strings.Contains(err.Error(), "--fresh") {
		t.Fatalf("unseal without the passphrase file: %v", err)
	}
}

func TestNextFreePort(t *testing.T) {
	// Hold a port, then ask for it: the next free one is chosen.
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	if port+portTries > 65535 {
		t.Skip("the held port is too close to the top of the range")
	}
	e := &Env{}
	ln, err := e.listen(port, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := ln.Addr().(*net.TCPAddr).Port
	if got <= port || got >= port+portTries {
		t.Errorf("port %d taken: got %d, want one of the next %d", port, got, portTries-1)
	}
}

// TestTakenDefaultSkipsReservedPorts checks that a component whose default port is taken
// does not move onto the sidecar's port or another component's default (the API on 8403 made
// the suggested sidecar command fail and sent default-port clients to the wrong service).
func TestTakenDefaultSkipsReservedPorts(t *testing.T) {
	// 8402 taken: by this test, or already by another process.
	if held, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(DefaultAPIPort))); err == nil {
		defer held.Close()
	}
	e := &Env{}
	ln, err := e.listen(0, DefaultAPIPort)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	switch got := ln.Addr().(*net.TCPAddr).Port; got {
	case DefaultAPIPort, SidecarPort, DefaultDemoAPIPort, DefaultFacilitatorPort, DefaultRPCPort:
		t.Errorf("the API moved to port %d, reserved for another component", got)
	}

	for _, c := range []struct {
		p, def int
		ports  Ports
		want   bool
	}{
		{SidecarPort, DefaultAPIPort, Ports{}, true},
		{DefaultDemoAPIPort, DefaultAPIPort, Ports{}, true},
		{DefaultAPIPort, DefaultFacilitatorPort, Ports{}, true},
		{DefaultRPCPort, DefaultDemoAPIPort, Ports{}, true},
		{DefaultAPIPort, DefaultAPIPort, Ports{}, false},
		{DefaultAPIPort + 10, DefaultAPIPort, Ports{}, false},
		{SidecarPort, DefaultAPIPort, Ports{API: SidecarPort}, false}, // asked for
	} {
		e := &Env{opt: Options{Ports: c.ports}}
		if got := e.reserved(c.p, c.def); got != c.want {
			t.Errorf("reserved(%d, %d) with %+v = %v, want %v", c.p, c.def, c.ports, got, c.want)
		}
	}
}

// TestAddrInUse checks that a taken port is recognised in the errors of the components that
// bind one themselves (net.Listen, the devnet), so that Start moves on to the next port.
func TestAddrInUse(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, err = net.Listen("tcp", held.Addr().String())
	if err == nil || !addrInUse(err) {
		t.Errorf("net.Listen on a taken port: %v, not recognised", err)
	}
	d, err := devnet.Start(testCtx(t), devnet.Config{ChainID: ChainID, Listen: held.Addr().String()})
	if err == nil {
		d.Close()
		t.Fatal("devnet started on a taken port")
	}
	if !addrInUse(err) {
		t.Errorf("devnet on a taken port: %v, not recognised", err)
	}
	if addrInUse(errors.New("devnet: listen address must be loopback")) {
		t.Error("another error taken for a taken port")
	}
	if portOf(held.Addr().String()) != held.Addr().(*net.TCPAddr).Port || portOf("nonsense") != 0 {
		t.Error("portOf")
	}
}
