package replicas_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/postgres"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// serveProc is one `fleetkey serve` process.
type serveProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	url    string
	done   chan struct{}
}

// startServe starts `fleetkey serve --config cfgPath` and waits for its start line.
func startServe(t *testing.T, bin, cfgPath string) *serveProc {
	t.Helper()
	p := &serveProc{cmd: exec.Command(bin, "serve", "--config", cfgPath), stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
		for sc.Scan() {
			var line struct{ Msg, Listen string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "fleetkey serving" && line.Listen != "" {
				p.url = "http://" + line.Listen
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("fleetkey serve exited:\n%s", p.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("fleetkey serve did not start:\n%s", p.stderr)
	return nil
}

// processCluster is n `fleetkey serve` processes on one PostgreSQL database, set up
// as an operator would: `fleetkey init --db` seals the root and creates the first
// admin in PostgreSQL, and every replica gets a copy of the seal.
type processCluster struct {
	procs []*serveProc
	admin *sdk.Client
	store *postgres.Store // the test's own connection, for checks
	words []byte
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// fleetkeyBinary builds cmd/fleetkey once per test binary.
func fleetkeyBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fleetkey-replicas-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fleetkey")
		if b, err := exec.Command("go", "build", "-o", binPath, "github.com/fleetkey/fleetkey/cmd/fleetkey").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, b)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// startProcesses starts n replicas; rpcURL and the asset come from d when d is not nil,
// else the payments test asset is trusted and no reconciler runs.
func startProcesses(t *testing.T, n int, d *devnet.Devnet) *processCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts fleetkey processes")
	}
	db, words := dbURL(t), mnemonic(t)
	ctx := context.Background()
	dir := t.TempDir()
	bin := fleetkeyBinary(t)
	seedFile, passFile := filepath.Join(dir, "mnemonic"), filepath.Join(dir, "passphrase")
	if err := os.WriteFile(seedFile, words, 0o600); err != nil {
		t.Fatal(err)
	}
	initDir := filepath.Join(dir, "init")
	if b, err := exec.Command(bin, "init", "--data-dir", initDir, "--db", db, "--import-mnemonic-file", seedFile,
		"--passphrase-file", passFile, "--generate-passphrase").CombinedOutput(); err != nil {
		t.Fatalf("fleetkey init: %v\n%s", err, b)
	}
	seal, err := os.ReadFile(filepath.Join(initDir, "custody.seal"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(filepath.Join(initDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, db, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	assets := func() string {
		a := paymentstest.Asset
		network, addr, symbol, decimals, name, version := a.Network, a.Address.Hex(), a.Symbol, a.Decimals, a.EIP712Name, a.EIP712Version
		if d != nil {
			tok := d.Token()
			network, addr, symbol, decimals, name, version = d.Network(), tok.Address.Hex(), tok.Symbol, tok.Decimals, tok.Name, tok.Version
		}
		return fmt.Sprintf("assets:\n  - network: %s\n    address: %s\n    symbol: %s\n    decimals: %d\n    eip712_name: %s\n    eip712_version: %q\n",
			network, addr, symbol, decimals, name, version)
	}()
	c := &processCluster{store: st, words: words}
	for i := range n {
		dd := filepath.Join(dir, fmt.Sprintf("replica%d", i))
		if err := os.MkdirAll(dd, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dd, "custody.seal"), seal, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf("listen: 127.0.0.1:0\ndata_dir: %s\ndb: %q\nunseal:\n  passphrase_file: %s\nreconcile:\n  interval: 200ms\n", dd, db, passFile) + assets
		if d != nil {
			cfg += "rpc_url: " + d.RPCURL() + "\n"
		}
		cfgPath := filepath.Join(dir, fmt.Sprintf("replica%d.yaml", i))
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		c.procs = append(c.procs, startServe(t, bin, cfgPath))
	}
	if c.admin, err = sdk.NewClient(c.procs[0].url, strings.TrimSpace(string(token))); err != nil {
		t.Fatal(err)
	}
	return c
}

// provision creates, through the API of replica 0, a fleet with one group under the
// group policy src and n agents; it returns their ids and tokens.
func (c *processCluster) provision(t *testing.T, n int, src string) (fleetID string, agents []sdk.ProvisionedAgent) {
	t.Helper()
	ctx := context.Background()
	fl, err := c.admin.CreateFleet(ctx, "replicated", "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.admin.CreateGroup(ctx, fl.ID, "crawlers")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.admin.ApplyPolicy(ctx, "group", g.ID, "shared-budget", src); err != nil {
		t.Fatal(err)
	}
	var na []sdk.NewAgent
	for i := range n {
		na = append(na, sdk.NewAgent{ExternalID: fmt.Sprintf("agent-%d", i), Name: "agent"})
	}
	made, err := c.admin.CreateAgents(ctx, sdk.CreateAgentsRequest{FleetID: fl.ID, GroupID: g.ID, Agents: na})
	if err != nil {
		t.Fatal(err)
	}
	return fl.ID, made
}

// payHTTP posts a payment with an agent token to a replica's URL.
func payHTTP(base, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/v1/payments", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// heldBudget counts the authorizations of a fleet that hold budget.
func heldBudget(t *testing.T, st store.Store, fleetID string, statuses ...store.AuthStatus) int {
	t.Helper()
	var n int
	err := st.ReadTx(context.Background(), func(rt store.ReadTx) error {
		as, err := rt.Authorizations(context.Background(), store.AuthorizationFilter{FleetID: fleetID, Statuses: statuses})
		n = len(as)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestProcessesGroupBudgetExact is the budget test with real processes: three
// `fleetkey serve` on one database, 600 concurrent payments for 20 agents sharing a
// group budget that admits exactly 100: exactly 100 are signed, whichever process
// served them, the rest are refused for the budget, and the one audit chain verifies.
// Then an agent frozen through one process is refused by all three.
func TestProcessesGroupBudgetExact(t *testing.T) {
	const (
		requests = 600
		admitted = 100
	)
	c := startProcesses(t, 3, nil)
	fleetID, agents := c.provision(t, 20, budgetPolicy(admitted))
	type result struct {
		replica, status int
		err             error
	}
	results := make([]result, requests)
	bodies := make([][]byte, requests)
	for i := range bodies {
		bodies[i] = payBody(t, key(t), "10000")
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range requests {
		wg.Go(func() {
			<-start
			r := i % len(c.procs)
			status, _, err := payHTTP(c.procs[r].url, agents[i%len(agents)].Token.Reveal(), bodies[i])
			results[i] = result{r, status, err}
		})
	}
	close(start)
	wg.Wait()
	signed, perReplica := 0, map[int]int{}
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Fatalf("request %d: %v", i, r.err)
		case r.status == http.StatusOK:
			signed++
			perReplica[r.replica]++
		case r.status != http.StatusForbidden:
			t.Fatalf("request %d on replica %d: status %d", i, r.replica, r.status)
		}
	}
	if signed != admitted {
		t.Fatalf("%d payments signed across processes, want exactly %d", signed, admitted)
	}
	if n := heldBudget(t, c.store, fleetID, store.AuthReserved, store.AuthSigned, store.AuthSettled); n != admitted {
		t.Fatalf("%d authorizations hold budget, want %d", n, admitted)
	}
	rep := verifyAudit(t, c.store, c.words)
	if rep.Records < requests {
		t.Fatalf("audit chain has %d records for %d payment requests", rep.Records, requests)
	}

	// A freeze through process 0 (over the API) is refused by every process.
	if _, err := c.admin.FreezeAgent(context.Background(), agents[0].Agent.ID); err != nil {
		t.Fatal(err)
	}
	for i, p := range c.procs {
		status, b, err := payHTTP(p.url, agents[0].Token.Reveal(), payBody(t, key(t), "1"))
		if err != nil || status == http.StatusOK {
			t.Fatalf("process %d after the freeze: %d %s %v", i, status, b, err)
		}
	}
	t.Logf("signed per process %v; audit chain of %d records verifies", perReplica, rep.Records)
}

// TestKillReplicaDuringLoad runs three `fleetkey serve` processes on one PostgreSQL
// database with a devnet for reconciliation, sends 300 payments across them, and kills
// one with SIGKILL a third of the way through: every request to the two others is
// signed, every signature any replica returned has its authorization and audit record
// in the database, the audit chain verifies, and once the authorizations' validBefore
// has passed the surviving replicas' reconcilers release every reservation, including
// those the killed replica signed but never returned.
func TestKillReplicaDuringLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts fleetkey processes")
	}
	requirePostgres(t)
	if testing.Short() {
		t.Skip("builds and starts fleetkey processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0", Accounts: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	tok := d.Token()
	c := startProcesses(t, 3, d)
	procs, st, words := c.procs, c.store, c.words
	fleetID, made := c.provision(t, 12, budgetPolicy(1_000_000))

	// Payments valid for 4 s, so that their reservations lapse during the test.
	demand, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Error: "Payment required",
		Resource: x402.ResourceInfo{URL: "https://api.example.com/data"},
		Accepts: []x402.PaymentRequirementsV2{{Scheme: "exact", Network: d.Network(), Amount: "1000", Asset: tok.Address.Hex(),
			PayTo: common.HexToAddress("0x00000000000000000000000000000000000a11ce").Hex(), MaxTimeoutSeconds: 4,
			Extra: json.RawMessage(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		replica, status int
		authID          string
		err             error
	}
	const requests = 300
	results := make([]result, requests)
	var (
		wg   sync.WaitGroup
		sent sync.WaitGroup
		once sync.Once
	)
	sent.Add(requests / 3)
	sem := make(chan struct{}, 24)
	for i := range requests {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if i < requests/3 {
				defer sent.Done()
			}
			r := i % 3
			body, _ := json.Marshal(map[string]any{"x402_version": 2, "payment_required": demand,
				"resource_url": "https://api.example.com/data", "method": "GET", "idempotency_key": key(t)})
			req, _ := http.NewRequest(http.MethodPost, procs[r].url+"/v1/payments", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+made[i%len(made)].Token.Reveal())
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			if err != nil {
				results[i] = result{replica: r, err: err}
				return
			}
			defer res.Body.Close()
			var out struct {
				AuthorizationID string `json:"authorization_id"`
			}
			json.NewDecoder(res.Body).Decode(&out)
			results[i] = result{replica: r, status: res.StatusCode, authID: out.AuthorizationID}
		}()
		if i == requests/3 {
			go once.Do(func() {
				sent.Wait()
				procs[1].cmd.Process.Kill() // SIGKILL: no shutdown, no last checkpoint
			})
		}
	}
	wg.Wait()
	<-procs[1].done

	var signedIDs []string
	lost := 0
	for i, r := range results {
		switch {
		case r.replica != 1 && (r.err != nil || r.status != http.StatusOK):
			t.Fatalf("request %d to surviving replica %d: %d %v", i, r.replica, r.status, r.err)
		case r.status == http.StatusOK:
			signedIDs = append(signedIDs, r.authID)
		case r.replica == 1:
			lost++
		}
	}
	if lost == 0 {
		t.Fatalf("every request to the killed replica was answered: the kill came too late")
	}
	err = st.ReadTx(ctx, func(rt store.ReadTx) error {
		for _, id := range signedIDs {
			a, err := rt.Authorization(ctx, id)
			if err != nil {
				return fmt.Errorf("returned signature %s: %w", id, err)
			}
			if a.Status != store.AuthSigned && a.Status != store.AuthExpired {
				return fmt.Errorf("returned signature %s is %s", id, a.Status)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyAudit(t, st, words)
	signedRecords := 0
	err = st.ReadTx(ctx, func(rt store.ReadTx) error {
		for after := uint64(0); ; {
			rs, err := rt.AuditRecords(ctx, after, 1000)
			if err != nil || len(rs) == 0 {
				return err
			}
			for _, r := range rs {
				if r.Action == "payment.signed" {
					signedRecords++
				}
			}
			after = rs[len(rs)-1].Seq
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if signedRecords < len(signedIDs) {
		t.Fatalf("%d payment.signed audit records for %d returned signatures", signedRecords, len(signedIDs))
	}

	// Reconciliation by the survivors releases every reservation after validBefore.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var left []store.Authorization
		err := st.ReadTx(ctx, func(rt store.ReadTx) error {
			var err error
			left, err = rt.Authorizations(ctx, store.AuthorizationFilter{FleetID: fleetID,
				Statuses: []store.AuthStatus{store.AuthReserved, store.AuthSigned}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reservations still held a minute after the load", len(left))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d signatures returned (%d requests lost with the killed replica), %d payment.signed records, audit chain of %d records verifies; every reservation released",
		len(signedIDs), lost, signedRecords, rep.Records)
}
