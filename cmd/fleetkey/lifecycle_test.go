package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// runCLI runs the CLI in-process and returns its exit code, stdout and stderr.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(&cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// TestLifecycleCommandsOnDevnet: a data directory made by "fleetkey init", a devnet, an
// agent with funds and an outstanding payment; "fleetkey deps" shows it, "fleetkey agent
// revoke" cancels the payment on chain and sweeps the funds to the treasury, and a second
// revoke is refused.
func TestLifecycleCommandsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	dir := t.TempDir()
	data, pass := filepath.Join(dir, "data"), filepath.Join(dir, "pass")
	if code, _, stderr := runCLI("init", "--data-dir", data, "--passphrase-file", pass, "--generate-passphrase"); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	tok := d.Token()
	cfgPath := filepath.Join(dir, "fleetkey.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
rpc_url: %s
unseal:
  passphrase_file: %s
assets:
  - network: %s
    address: %s
    symbol: %s
    decimals: %d
    eip712_name: %s
    eip712_version: "%s"
`, data, d.RPCURL(), pass, d.Network(), tok.Address.Hex(), tok.Symbol, tok.Decimals, tok.Name, tok.Version)
	writeFile := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(cfgPath, cfg)
	relayer, sponsor := filepath.Join(dir, "relayer.key"), filepath.Join(dir, "sponsor.key")
	writeFile(relayer, d.Accounts()[9].PrivateKeyHex)
	writeFile(sponsor, d.Accounts()[8].PrivateKeyHex)

	// The operator's side: a fleet with a treasury and an agent that signs a payment.
	p, err := custody.ReadPassphraseFile(pass)
	if err != nil {
		t.Fatal(err)
	}
	vault, err := custody.Unseal(custody.UnsealRequest{DataDir: data, Passphrase: p})
	p.Wipe()
	if err != nil {
		t.Fatal(err)
	}
	defer vault.Close()
	st, err := sqlite.Open(ctx, datadir.Path(data, datadir.DB), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	asset := signer.Asset{Network: d.Network(), Address: tok.Address, Symbol: tok.Symbol, Decimals: tok.Decimals, EIP712Name: tok.Name, EIP712Version: tok.Version}
	reg, err := signer.NewRegistry([]signer.Asset{asset})
	if err != nil {
		t.Fatal(err)
	}
	alog, _ := audit.New(audit.Options{})
	svc, err := payments.New(payments.Config{Store: st, Keys: vault, Registry: reg, Audit: alog})
	if err != nil {
		t.Fatal(err)
	}
	admin := payments.OperatorIdentity{CredentialID: "cred_cli_test", Name: "admin", Role: store.RoleAdmin}
	treasury := common.HexToAddress("0x00000000000000000000000000000000007ea5e1")
	fleet, err := svc.CreateFleet(ctx, admin, "research", treasury.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ApplyPolicy(ctx, admin, store.LevelFleet, fleet.ID, "basic", "version: 1\nname: basic\nlimits:\n  per_payment: \"1\"\nmax_validity: 5m\n"); err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, Agents: []payments.NewAgent{{ExternalID: "crawler-1", Name: "crawler 1"}}})
	if err != nil {
		t.Fatal(err)
	}
	ag := ps[0]
	agentAddr := common.HexToAddress(ag.Key.Address)
	k1, _ := d.Accounts()[1].PrivateKey()
	opts, _ := bind.NewKeyedTransactorWithChainID(k1, new(big.Int).SetUint64(d.ChainID()))
	usd, err := bindings.NewTestUSD(tok.Address, d.Client())
	if err != nil {
		t.Fatal(err)
	}
	ftx, err := usd.Transfer(opts, agentAddr, big.NewInt(250_000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(ctx, d.Client(), ftx.Hash()); err != nil {
		t.Fatal(err)
	}
	// An allowance granted by an EIP-2612 permit the agent key signed (the key has no gas).
	spender := common.HexToAddress("0x000000000000000000000000000000000005bed0")
	path, _ := hd.ParsePath(ag.Key.Path)
	h, err := vault.Key(path)
	if err != nil {
		t.Fatal(err)
	}
	deadline := big.NewInt(time.Now().Add(time.Hour).Unix())
	word := func(v *big.Int) []byte { return common.LeftPadBytes(v.Bytes(), 32) }
	permitType := crypto.Keccak256([]byte("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"))
	structHash := crypto.Keccak256(permitType, common.LeftPadBytes(agentAddr[:], 32), common.LeftPadBytes(spender[:], 32), word(big.NewInt(5000)), word(big.NewInt(0)), word(deadline))
	sep := exact.Domain{Name: tok.Name, Version: tok.Version, ChainID: d.ChainID(), VerifyingContract: tok.Address}.Separator()
	sig, err := h.SignDigest(crypto.Keccak256Hash([]byte{0x19, 0x01}, sep[:], structHash))
	if err != nil {
		t.Fatal(err)
	}
	var r, sv [32]byte
	copy(r[:], sig[:32])
	copy(sv[:], sig[32:64])
	k2, _ := d.Accounts()[2].PrivateKey()
	opts2, _ := bind.NewKeyedTransactorWithChainID(k2, new(big.Int).SetUint64(d.ChainID()))
	ptx, err := usd.Permit0(opts2, agentAddr, spender, big.NewInt(5000), deadline, sig[64]+27, r, sv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(ctx, d.Client(), ptx.Hash()); err != nil {
		t.Fatal(err)
	}
	req := x402.PaymentRequirementsV2{Scheme: "exact", Network: d.Network(), Amount: "1500", Asset: tok.Address.Hex(),
		PayTo: "0x00000000000000000000000000000000000a11ce", MaxTimeoutSeconds: 300,
		Extra: json.RawMessage(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`)}
	hdr, _ := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: "https://api.example.com/x"}, Accepts: []x402.PaymentRequirementsV2{req}})
	payReq := payments.PayRequest{Version: 2, Raw: []byte(hdr), ResourceURL: "https://api.example.com/x", Method: "GET", IdempotencyKey: "one"}
	paid, err := svc.Pay(ctx, ag.Agent.ID, payReq)
	if err != nil {
		t.Fatal(err)
	}

	code, out, stderr := runCLI("deps", ag.Agent.ID, "--config", cfgPath)
	if code != 0 || !strings.Contains(out, paid.AuthorizationID) || !strings.Contains(out, "250000 "+tok.Symbol) {
		t.Fatalf("deps: %d %s %s", code, out, stderr)
	}
	code, out, _ = runCLI("deps", ag.Agent.ID, "--config", cfgPath, "--dot")
	if code != 0 || !strings.HasPrefix(out, "digraph deps {") {
		t.Errorf("deps --dot: %d %s", code, out)
	}
	code, out, stderr = runCLI("agent", "revoke", "--fleet", fleet.ID, "--dry-run", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "cancel 1 authorizations") || !strings.Contains(out, "sweep 250000") {
		t.Errorf("revoke --dry-run: %d %s %s", code, out, stderr)
	}
	if code, _, stderr := runCLI("agent", "revoke", ag.Agent.ID, "--config", cfgPath); code != 1 || !strings.Contains(stderr, "--relayer-key-file") {
		t.Errorf("revoke without relayer key: %d %s", code, stderr)
	}

	code, out, stderr = runCLI("agent", "revoke", ag.Agent.ID, "--config", cfgPath, "--relayer-key-file", relayer, "--gas-sponsor-key-file", sponsor, "--actor", "alice")
	if code != 0 {
		t.Fatalf("revoke: %d\n%s\n%s", code, out, stderr)
	}
	if path := os.Getenv("FLEETKEY_LIFECYCLE_REPORT"); path != "" {
		_ = os.WriteFile(path, []byte(out), 0o644)
	}
	for _, want := range []string{"revoke job job_", ": done", "revoke_credential", "revoke_key", "cancel_authorization " + paid.AuthorizationID,
		"fund_gas", "approve_zero", spender.Hex(), "sweep_token", " tx 0x"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if al, _ := usd.Allowance(&bind.CallOpts{Context: ctx}, agentAddr, spender); al.Sign() != 0 {
		t.Errorf("allowance after revoke %v", al)
	}
	bal, _ := usd.BalanceOf(&bind.CallOpts{Context: ctx}, treasury)
	if bal.Int64() != 250_000 {
		t.Errorf("treasury holds %v", bal)
	}
	var a store.Authorization
	st.ReadTx(ctx, func(rt store.ReadTx) (err error) { a, err = rt.Authorization(ctx, paid.AuthorizationID); return err })
	used, _ := usd.AuthorizationState(&bind.CallOpts{Context: ctx}, agentAddr, common.HexToHash(a.Nonce))
	if a.Status != store.AuthCancelled || !used {
		t.Errorf("authorization %s, used on chain %v", a.Status, used)
	}
	payReq.IdempotencyKey = "two"
	if _, err := svc.Pay(ctx, ag.Agent.ID, payReq); err == nil {
		t.Error("a payment was signed after the revocation")
	}
	code, _, stderr = runCLI("agent", "revoke", ag.Agent.ID, "--config", cfgPath, "--relayer-key-file", relayer, "--gas-sponsor-key-file", sponsor)
	if code != 1 || !strings.Contains(stderr, "already revoked") {
		t.Errorf("second revoke: %d %s", code, stderr)
	}
	code, out, _ = runCLI("agent", "rotate", "--due", "--max-signatures", "1", "--dry-run", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "0 agents due") {
		t.Errorf("rotate --due: %d %s", code, out)
	}
	code, out, _ = runCLI("orphans", "list", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "no orphaned wallet") {
		t.Errorf("orphans list: %d %s", code, out)
	}

	// Rotation of another agent, then the orphan sweep retires the drained generation and
	// the revoked key (neither holds a token).
	ps, err = svc.ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: fleet.ID, Agents: []payments.NewAgent{{ExternalID: "crawler-2", Name: "crawler 2"}}})
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI("agent", "rotate", ps[0].Agent.ID, "--config", cfgPath, "--relayer-key-file", relayer)
	if code != 0 || !strings.Contains(out, "rotate job job_") || !strings.Contains(out, "rotate_key") {
		t.Fatalf("rotate: %d %s %s", code, out, stderr)
	}
	code, out, stderr = runCLI("orphans", "sweep", "--config", cfgPath, "--relayer-key-file", relayer)
	if code != 0 || !strings.Contains(out, "retired 2 keys") {
		t.Errorf("orphans sweep: %d %s %s", code, out, stderr)
	}

	// --due without limits applies the policy's rotation rule: none yet, then max_signatures 1.
	code, out, stderr = runCLI("agent", "rotate", "--due", "--dry-run", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "0 agents due") {
		t.Errorf("rotate --due by policy, no rule: %d %s %s", code, out, stderr)
	}
	if _, _, err := svc.ApplyPolicy(ctx, admin, store.LevelFleet, fleet.ID, "basic", "version: 1\nname: basic\nlimits:\n  per_payment: \"1\"\nmax_validity: 5m\nrotation:\n  max_signatures: 1\n"); err != nil {
		t.Fatal(err)
	}
	payReq.IdempotencyKey = "three"
	if _, err := svc.Pay(ctx, ps[0].Agent.ID, payReq); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI("agent", "rotate", "--due", "--dry-run", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "due "+ps[0].Agent.ID) || !strings.Contains(out, "(maximum 1) (policy)") || !strings.Contains(out, "1 agents due") {
		t.Errorf("rotate --due by policy: %d %s %s", code, out, stderr)
	}
}
