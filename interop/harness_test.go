package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
)

// Time limits. The first npm ci downloads ~530 packages; everything else is local.
const (
	npmTimeout   = 10 * time.Minute
	readyTimeout = 60 * time.Second
	runTimeout   = 90 * time.Second
)

// stampFile, inside node_modules, records the sha256 of the package-lock.json that node_modules
// was installed from; npm ci deletes node_modules first, so a stale stamp cannot survive.
const stampFile = "node_modules/.fleetkey-package-lock.sha256"

var (
	nodeOnce sync.Once
	nodeErr  error
	nodeSkip string
)

// requireNode skips the test when node or npm is missing, fails it when node is older than
// 20, and installs the pinned packages when node_modules is missing or was installed from
// another package-lock.json.
func requireNode(t testing.TB) {
	t.Helper()
	nodeOnce.Do(func() { nodeSkip, nodeErr = prepareNode() })
	if nodeSkip != "" {
		t.Skip(nodeSkip)
	}
	if nodeErr != nil {
		t.Fatal(nodeErr)
	}
}

func prepareNode() (skip string, err error) {
	const skipMsg = "node not found: interop tests need Node 20 and npm (CI installs them)"
	node, err := exec.LookPath("node")
	if err != nil {
		return skipMsg, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return skipMsg, nil
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("node --version: %w", err)
	}
	version := strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if err != nil || major < 20 {
		return "", fmt.Errorf("node %s found: the interop tests need Node 20 or later", version)
	}

	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	dirSum := sha256.Sum256([]byte(dir))
	unlock, err := lockFile(filepath.Join(os.TempDir(), "fleetkey-interop-npm-"+hex.EncodeToString(dirSum[:8])+".lock"))
	if err != nil {
		return "", fmt.Errorf("lock for npm ci: %w", err)
	}
	defer unlock()

	lock, err := os.ReadFile("package-lock.json")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	if got, err := os.ReadFile(stampFile); err == nil && strings.TrimSpace(string(got)) == want {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	// The lockfile pins every tarball by integrity hash, so cached registry metadata is good
	// enough: --prefer-offline saves a revalidation round trip per package when npm's cache
	// is warm.
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--prefer-offline")
	ownProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm ci in interop/: %w\n%s", err, output.String())
	}
	if err := os.WriteFile(stampFile, []byte(want+"\n"), 0o644); err != nil {
		return "", err
	}
	return "", nil
}

// nodeProc is a running Node script. Its stdout is a stream of JSON lines.
type nodeProc struct {
	name   string
	cmd    *exec.Cmd
	lines  chan json.RawMessage
	done   chan struct{} // closed when the process has exited
	err    error         // exit error, valid after done
	stderr syncBuffer

	mu  sync.Mutex
	all []json.RawMessage // every stdout line, for events and failure logs
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

// startNode starts `node script` with env added to the environment. The process is killed
// (with its process group) when the test ends; its output is logged if the test failed.
func startNode(t testing.TB, script string, env map[string]string) *nodeProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", script)
	ownProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &nodeProc{name: script, cmd: cmd, lines: make(chan json.RawMessage, 1024), done: make(chan struct{})}
	cmd.Stderr = &p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start node %s: %v", script, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			line := json.RawMessage(bytes.Clone(sc.Bytes()))
			if !json.Valid(line) {
				line, _ = json.Marshal(map[string]string{"text": sc.Text()})
			}
			p.mu.Lock()
			p.all = append(p.all, line)
			p.mu.Unlock()
			select {
			case p.lines <- line:
			default: // nobody reads events of this process; they stay in p.all
			}
		}
		p.err = cmd.Wait()
		close(p.lines)
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if t.Failed() {
			t.Logf("%s stdout:\n%s", script, p.output())
			t.Logf("%s stderr:\n%s", script, p.stderr.String())
		}
	})
	return p
}

func (p *nodeProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.all {
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// events returns the stdout lines that carry "event": name, in order.
func (p *nodeProc) events(name string) []json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []json.RawMessage
	for _, l := range p.all {
		var e struct {
			Event string `json:"event"`
		}
		if json.Unmarshal(l, &e) == nil && e.Event == name {
			out = append(out, l)
		}
	}
	return out
}

// ready is the first line a server script prints.
type ready struct {
	Ready   bool   `json:"ready"`
	URL     string `json:"url"`
	Address string `json:"address"`
}

// startServer starts a server script and waits for its ready line.
func startServer(t testing.TB, script string, env map[string]string) (*nodeProc, ready) {
	t.Helper()
	p := startNode(t, script, env)
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.done
				t.Fatalf("%s exited before it was ready: %v\n%s", script, p.err, p.stderr.String())
			}
			var r ready
			if json.Unmarshal(line, &r) == nil && r.Ready {
				if !strings.HasPrefix(r.URL, "http://127.0.0.1:") {
					t.Fatalf("%s listens on %q, not on loopback", script, r.URL)
				}
				return p, r
			}
		case <-timer.C:
			t.Fatalf("%s not ready after %s", script, readyTimeout)
		}
	}
}

// runScript runs a client script to completion and decodes its last stdout line into result.
// A non-zero exit fails the test.
func runScript(t *testing.T, script string, env map[string]string, result any) {
	t.Helper()
	p := startNode(t, script, env)
	select {
	case <-p.done:
	case <-time.After(runTimeout):
		t.Fatalf("%s still running after %s", script, runTimeout)
	}
	if p.err != nil {
		t.Fatalf("%s failed: %v\nstdout:\n%s\nstderr:\n%s", script, p.err, p.output(), p.stderr.String())
	}
	p.mu.Lock()
	n := len(p.all)
	var last json.RawMessage
	if n > 0 {
		last = p.all[n-1]
	}
	p.mu.Unlock()
	if last == nil {
		t.Fatalf("%s printed nothing", script)
	}
	if err := json.Unmarshal(last, result); err != nil {
		t.Fatalf("%s result %s: %v", script, last, err)
	}
}

// chainEnv is one devnet shared by the flows that use its chain id.
type chainEnv struct {
	dn    *devnet.Devnet
	token *bindings.TestUSD
}

var (
	chainsMu sync.Mutex
	chains   = map[uint64]*chainEnv{}
)

// devnetFor returns the devnet with the given chain id, starting it on first use. It lives
// until the test binary exits (see TestMain).
func devnetFor(t testing.TB, chainID uint64) *chainEnv {
	t.Helper()
	chainsMu.Lock()
	defer chainsMu.Unlock()
	if c, ok := chains[chainID]; ok {
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dn, err := devnet.Start(ctx, devnet.Config{ChainID: chainID, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("devnet %d: %v", chainID, err)
	}
	token, err := bindings.NewTestUSD(dn.Token().Address, dn.Client())
	if err != nil {
		dn.Close()
		t.Fatal(err)
	}
	c := &chainEnv{dn: dn, token: token}
	chains[chainID] = c
	return c
}

func closeDevnets() {
	chainsMu.Lock()
	defer chainsMu.Unlock()
	for id, c := range chains {
		c.dn.Close()
		delete(chains, id)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	closeDevnets()
	os.Exit(code)
}

// Dev accounts by role, so that no two senders of transactions share an account nonce.
const (
	accGoPayer        = 1 // our Go client (LocalKeyPayer)
	accTSPayer        = 2 // the reference TypeScript clients
	accTSFacilitator  = 8 // sends the reference facilitator's settlements
	accOurFacilitator = 9 // sends our facilitator's settlements
)

func (c *chainEnv) account(i int) devnet.DevAccount { return c.dn.Accounts()[i] }

func (c *chainEnv) balance(t *testing.T, who common.Address) *big.Int {
	t.Helper()
	b, err := c.token.BalanceOf(&bind.CallOpts{Context: context.Background()}, who)
	if err != nil {
		t.Fatalf("balanceOf %s: %v", who.Hex(), err)
	}
	return b
}

// usedNonce reports the token's authorizationState(from, nonce).
func (c *chainEnv) usedNonce(t *testing.T, from common.Address, nonce string) bool {
	t.Helper()
	n := common.HexToHash(nonce)
	used, err := c.token.AuthorizationState(&bind.CallOpts{Context: context.Background()}, from, n)
	if err != nil {
		t.Fatalf("authorizationState: %v", err)
	}
	return used
}

// checkSettlementTx checks that tx succeeded and emitted exactly one token Transfer of value
// from → to.
func (c *chainEnv) checkSettlementTx(t *testing.T, tx string, from, to common.Address, value *big.Int) *types.Receipt {
	t.Helper()
	if len(tx) != 66 || !strings.HasPrefix(tx, "0x") {
		t.Fatalf("settlement transaction %q is not a 32-byte hash", tx)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := chain.WaitSuccess(ctx, c.dn.Client(), common.HexToHash(tx))
	if err != nil {
		t.Fatalf("settlement transaction: %v", err)
	}
	var transfers int
	for _, l := range r.Logs {
		if l.Address != c.dn.Token().Address {
			continue
		}
		ev, err := c.token.ParseTransfer(*l)
		if err != nil {
			continue // AuthorizationUsed
		}
		transfers++
		if ev.From != from || ev.To != to || ev.Value.Cmp(value) != 0 {
			t.Errorf("Transfer(%s, %s, %s), want Transfer(%s, %s, %s)", ev.From.Hex(), ev.To.Hex(), ev.Value, from.Hex(), to.Hex(), value)
		}
	}
	if transfers != 1 {
		t.Errorf("settlement transaction emitted %d token Transfer events, want 1", transfers)
	}
	return r
}

// newPayee returns a fresh address with no tokens, so that a flow's payee balance starts at 0.
func newPayee(t testing.TB) common.Address {
	t.Helper()
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return common.BytesToAddress(b[:])
}

// waitEvents waits until p has printed at least n events with the given name and returns
// them. Servers print an event when a response is finished, which can be after the client
// has read it.
func waitEvents(t *testing.T, p *nodeProc, name string, n int) []json.RawMessage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev := p.events(name)
		if len(ev) >= n {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s printed %d %q events, want %d", filepath.Base(p.name), len(ev), name, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
