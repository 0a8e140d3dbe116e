package lifecycle

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
	"github.com/fleetkey/fleetkey/x402"
)

// env is a devnet with its TestUSD registered, a payments service and a Manager
// on one SQLite store, a treasury, a relayer (dev account 9) and a gas sponsor
// (dev account 8).
type env struct {
	t   testing.TB
	ctx context.Context
	st  store.Store
	// replica opens a second store on the same database, as another replica would.
	replica  func() store.Store
	vault    *custody.Vault
	log      *audit.Log
	fleet    store.Fleet
	group    store.Group
	d        *devnet.Devnet
	svc      *payments.Service
	m        *Manager
	usd      *bindings.TestUSD
	treasury common.Address
	asset    signer.Asset
}

const testPolicy = `version: 1
name: lifecycle-test
limits:
  per_payment: "0.50"
max_validity: 5m
`

func devSender(t testing.TB, d *devnet.Devnet, i int) *chain.Sender {
	t.Helper()
	k, err := d.Accounts()[i].PrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	id := new(big.Int).SetUint64(d.ChainID())
	s := types.LatestSignerForChainID(id)
	return chain.NewSender(d.Client(), crypto.PubkeyToAddress(k.PublicKey), func(_ common.Address, tx *types.Transaction) (*types.Transaction, error) {
		return types.SignTx(tx, s, k)
	}, id)
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "fleetkey.db")
	open := func() store.Store {
		st, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{SynchronousNormal: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	return newEnvOn(t, open)
}

// newEnvOn builds the environment on the stores open returns (each call one more
// replica of the same database).
func newEnvOn(t testing.TB, open func() store.Store) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	st := open()
	entropy := make([]byte, 32)
	rand.Read(entropy)
	words, err := hd.EntropyToMnemonic(entropy)
	if err != nil {
		t.Fatal(err)
	}
	mn, err := custody.NewMnemonic([]byte(words))
	if err != nil {
		t.Fatal(err)
	}
	vault, err := custody.VaultFromMnemonic(mn, custody.Passphrase{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vault.Close() })
	alog, err := audit.New(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := d.Token()
	asset := signer.Asset{Network: d.Network(), Address: tok.Address, Symbol: tok.Symbol, Decimals: tok.Decimals, EIP712Name: tok.Name, EIP712Version: tok.Version}
	reg, err := signer.NewRegistry([]signer.Asset{asset})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := payments.New(payments.Config{Store: st, Keys: vault, Registry: reg, Audit: alog})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Store: st, Keys: vault, Registry: reg, Audit: alog, Backend: d.Client(), ChainID: d.ChainID(),
		Relayer: devSender(t, d, 9), GasSponsor: devSender(t, d, 8)})
	if err != nil {
		t.Fatal(err)
	}
	usd, err := bindings.NewTestUSD(tok.Address, d.Client())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, st: st, replica: open, vault: vault, log: alog, d: d, svc: svc, m: m, usd: usd, asset: asset,
		treasury: common.HexToAddress("0x00000000000000000000000000000000007ea5e1")}
	if err := st.Tx(ctx, func(tx store.Tx) error {
		var err error
		if e.fleet, err = tx.CreateFleet(ctx, store.Fleet{Name: "research", Index: 7, Treasury: e.treasury.Hex()}); err != nil {
			return err
		}
		e.group, err = tx.CreateGroup(ctx, store.Group{FleetID: e.fleet.ID, Name: "crawlers"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ApplyPolicy(ctx, admin, store.LevelFleet, e.fleet.ID, "lifecycle-test", testPolicy); err != nil {
		t.Fatal(err)
	}
	if _, bench := t.(*testing.B); !bench {
		t.Cleanup(func() {
			if _, err := audit.Verify(context.Background(), st, common.Address{}); err != nil {
				t.Errorf("audit chain: %v", err)
			}
		})
	}
	return e
}

// provision creates agents in the fleet's group.
func (e *env) provision(ids ...string) []payments.Provisioned {
	e.t.Helper()
	req := payments.ProvisionRequest{FleetID: e.fleet.ID, GroupID: e.group.ID}
	for _, id := range ids {
		req.Agents = append(req.Agents, payments.NewAgent{ExternalID: id, Name: "agent " + id})
	}
	out, err := e.svc.ProvisionAgents(e.ctx, req)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// fund sends TestUSD from dev account 1 to addr.
func (e *env) fund(addr common.Address, amount int64) {
	e.t.Helper()
	s := devSender(e.t, e.d, 1)
	data, err := e.m.token.Pack("transfer", addr, big.NewInt(amount))
	if err != nil {
		e.t.Fatal(err)
	}
	to := e.asset.Address
	tx, err := s.Send(e.ctx, chain.Tx{To: &to, Data: data})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(e.ctx, e.d.Client(), tx.Hash()); err != nil {
		e.t.Fatal(err)
	}
}

// permitFrom gives spender an allowance of amount from the agent key with an
// EIP-2612 permit the key signs and dev account 2 submits: the key has no gas,
// so resetting the allowance needs the gas sponsor.
func (e *env) permitFrom(k store.Key, spender common.Address, amount int64) {
	e.t.Helper()
	h, err := e.m.handle(k)
	if err != nil {
		e.t.Fatal(err)
	}
	owner := h.Address()
	nonce, err := e.usd.Nonces(&bind.CallOpts{Context: e.ctx}, owner)
	if err != nil {
		e.t.Fatal(err)
	}
	deadline := big.NewInt(time.Now().Add(time.Hour).Unix())
	typeHash := crypto.Keccak256Hash([]byte("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"))
	word := func(v *big.Int) []byte { return common.LeftPadBytes(v.Bytes(), 32) }
	structHash := crypto.Keccak256Hash(typeHash[:], common.LeftPadBytes(owner[:], 32), common.LeftPadBytes(spender[:], 32),
		word(big.NewInt(amount)), word(nonce), word(deadline))
	sep := e.m.domain(e.asset).Separator()
	sig, err := h.SignDigest(crypto.Keccak256Hash([]byte{0x19, 0x01}, sep[:], structHash[:]))
	if err != nil {
		e.t.Fatal(err)
	}
	v, r, ss := vrs(sig)
	meth, err := bindings.MethodBySignature(e.m.token, "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)")
	if err != nil {
		e.t.Fatal(err)
	}
	args, err := meth.Inputs.Pack(owner, spender, big.NewInt(amount), deadline, v, r, ss)
	if err != nil {
		e.t.Fatal(err)
	}
	to := e.asset.Address
	tx, err := devSender(e.t, e.d, 2).Send(e.ctx, chain.Tx{To: &to, Data: append(append([]byte{}, meth.ID...), args...)})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(e.ctx, e.d.Client(), tx.Hash()); err != nil {
		e.t.Fatal(err)
	}
}

// pay has the agent sign a payment of amount atomic units to payTo; it is not settled.
func (e *env) pay(agentID, idem string, payTo common.Address, amount string) *payments.PayResult {
	e.t.Helper()
	res, err := e.tryPay(agentID, idem, payTo, amount)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) tryPay(agentID, idem string, payTo common.Address, amount string) (*payments.PayResult, error) {
	return e.payWith(e.svc, agentID, idem, payTo, amount)
}

func (e *env) payWith(svc *payments.Service, agentID, idem string, payTo common.Address, amount string) (*payments.PayResult, error) {
	e.t.Helper()
	tok := e.d.Token()
	r := x402.PaymentRequirementsV2{Scheme: "exact", Network: e.d.Network(), Amount: amount, Asset: tok.Address.Hex(),
		PayTo: payTo.Hex(), MaxTimeoutSeconds: 300, Extra: json.RawMessage(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`)}
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: paymentstest.ResourceURL}, Accepts: []x402.PaymentRequirementsV2{r}})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc.Pay(e.ctx, agentID, payments.PayRequest{Version: 2, Raw: []byte(h), ResourceURL: paymentstest.ResourceURL, Method: "GET", IdempotencyKey: idem})
}

func (e *env) balance(a common.Address) *big.Int {
	e.t.Helper()
	b, err := e.usd.BalanceOf(&bind.CallOpts{Context: e.ctx}, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) allowance(owner, spender common.Address) *big.Int {
	e.t.Helper()
	b, err := e.usd.Allowance(&bind.CallOpts{Context: e.ctx}, owner, spender)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) authState(from common.Address, nonce string) bool {
	e.t.Helper()
	used, err := e.usd.AuthorizationState(&bind.CallOpts{Context: e.ctx}, from, common.HexToHash(nonce))
	if err != nil {
		e.t.Fatal(err)
	}
	return used
}

func (e *env) agent(id string) store.Agent {
	e.t.Helper()
	var a store.Agent
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { a, err = rt.Agent(e.ctx, id); return err }); err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) keys(id string) []store.Key {
	e.t.Helper()
	var ks []store.Key
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { ks, err = rt.Keys(e.ctx, id); return err }); err != nil {
		e.t.Fatal(err)
	}
	return ks
}

var (
	operator = audit.OperatorActor("cred_test_operator")
	admin    = payments.OperatorIdentity{CredentialID: "cred_test_operator", Name: "test", Role: store.RoleAdmin}
)
