package replicas_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
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
	db, words := dbURL(t), mnemonic(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()

	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0", Accounts: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	tok := d.Token()

	bin := filepath.Join(dir, "fleetkey")
	build := exec.Command("go", "build", "-o", bin, "github.com/fleetkey/fleetkey/cmd/fleetkey")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	// One seal (of the test's mnemonic), copied to each replica's data directory.
	seedFile, passFile := filepath.Join(dir, "mnemonic"), filepath.Join(dir, "passphrase")
	if err := os.WriteFile(seedFile, words, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bin, "init", "--data-dir", filepath.Join(dir, "seal"), "--import-mnemonic-file", seedFile,
		"--passphrase-file", passFile, "--generate-passphrase").CombinedOutput(); err != nil {
		t.Fatalf("fleetkey init: %v\n%s", err, b)
	}
	seal, err := os.ReadFile(filepath.Join(dir, "seal", "custody.seal"))
	if err != nil {
		t.Fatal(err)
	}

	// The first admin, created in PostgreSQL the way fleetkey init does in SQLite.
	st, err := postgres.Open(ctx, db, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v := vault(t, words)
	p, _ := hd.ParsePath(audit.KeyPath)
	auditKey, err := v.Key(p)
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.New(audit.Options{Signer: auditKey})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := payments.BootstrapAdmin(ctx, st, alog, "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v.Close()

	procs := make([]*serveProc, 3)
	for i := range procs {
		dd := filepath.Join(dir, fmt.Sprintf("replica%d", i))
		if err := os.MkdirAll(dd, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dd, "custody.seal"), seal, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: %s
db: %q
rpc_url: %s
unseal:
  passphrase_file: %s
reconcile:
  interval: 200ms
assets:
  - network: %s
    address: %s
    symbol: %s
    decimals: %d
    eip712_name: %s
    eip712_version: %q
`, dd, db, d.RPCURL(), passFile, d.Network(), tok.Address.Hex(), tok.Symbol, tok.Decimals, tok.Name, tok.Version)
		cfgPath := filepath.Join(dir, fmt.Sprintf("replica%d.yaml", i))
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		procs[i] = startServe(t, bin, cfgPath)
	}

	admin, err := sdk.NewClient(procs[0].url, boot.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	fl, err := admin.CreateFleet(ctx, "killed", "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := admin.CreateGroup(ctx, fl.ID, "crawlers")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ApplyPolicy(ctx, "group", g.ID, "shared-budget", budgetPolicy(1_000_000)); err != nil {
		t.Fatal(err)
	}
	var na []sdk.NewAgent
	for i := range 12 {
		na = append(na, sdk.NewAgent{ExternalID: fmt.Sprintf("agent-%d", i), Name: "agent"})
	}
	made, err := admin.CreateAgents(ctx, sdk.CreateAgentsRequest{FleetID: fl.ID, GroupID: g.ID, Agents: na})
	if err != nil {
		t.Fatal(err)
	}

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
			left, err = rt.Authorizations(ctx, store.AuthorizationFilter{FleetID: fl.ID,
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
