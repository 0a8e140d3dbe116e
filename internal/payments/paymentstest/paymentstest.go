// Package paymentstest builds the real environment that fleetkey's payment tests run in: a
// SQLite store in a temporary directory, an unsealed custody vault, a trusted asset registry with
// Base Sepolia USDC (x402.md §3.1.1, a real asset with a real EIP-712 domain), an audit log, one
// fleet with one group, and helpers for policies and x402 demands. It does not import the
// payments package, so that package's own tests can use it; callers build the service from
// Env's parts.
package paymentstest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// Asset is Base Sepolia USDC, the registry's only asset.
var Asset = signer.Asset{
	Network: "eip155:84532", Address: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
	Symbol: "USDC", Decimals: 6, EIP712Name: "USDC", EIP712Version: "2",
}

const (
	// PayTo is the payee of Requirement.
	PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
	// ResourceURL is the resource of DemandV2.
	ResourceURL = "https://api.example.com/v2/data"
)

// Options adjusts New. The zero value is a random root, synchronous=NORMAL and fleet index 7.
type Options struct {
	SQLite sqlite.Options
	// Mnemonic is the vault's root; empty means a fresh random one.
	Mnemonic string
	// FleetIndex is the fleet's BIP-44 level (0 means 7).
	FleetIndex uint32
	// FullSync keeps SQLite's durable default (synchronous=FULL) instead of NORMAL.
	FullSync bool
}

// Env is one test environment; everything in it is closed when the test ends.
type Env struct {
	T        testing.TB
	Ctx      context.Context
	Store    *sqlite.Store
	Vault    *custody.Vault
	Registry *signer.Registry
	Audit    *audit.Log
	Fleet    store.Fleet
	Group    store.Group
}

// New builds an Env. Unless t is a benchmark, the audit chain is verified when the test ends.
func New(t testing.TB, opt Options) *Env {
	t.Helper()
	ctx := context.Background()
	so := opt.SQLite
	so.SynchronousNormal = !opt.FullSync
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "fleetkey.db"), so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	words := opt.Mnemonic
	if words == "" {
		entropy := make([]byte, 32)
		rand.Read(entropy)
		words, err = hd.EntropyToMnemonic(entropy)
		clear(entropy)
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := custody.NewMnemonic([]byte(words))
	if err != nil {
		t.Fatal(err)
	}
	vault, err := custody.VaultFromMnemonic(m, custody.Passphrase{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vault.Close() })
	reg, err := signer.NewRegistry([]signer.Asset{Asset})
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.New(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, Ctx: ctx, Store: st, Vault: vault, Registry: reg, Audit: alog}
	index := opt.FleetIndex
	if index == 0 {
		index = 7
	}
	err = st.Tx(ctx, func(tx store.Tx) error {
		var err error
		if e.Fleet, err = tx.CreateFleet(ctx, store.Fleet{Name: "research", Index: index}); err != nil {
			return err
		}
		e.Group, err = tx.CreateGroup(ctx, store.Group{FleetID: e.Fleet.ID, Name: "crawlers"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, bench := t.(*testing.B); !bench {
		t.Cleanup(e.VerifyAudit)
	}
	return e
}

// VerifyAudit checks the whole hash chain the test produced.
func (e *Env) VerifyAudit() {
	e.T.Helper()
	rep, err := audit.Verify(e.Ctx, e.Store, common.Address{})
	if err != nil {
		e.T.Fatal(err)
	}
	if rep.Problem != nil {
		e.T.Fatalf("audit chain broken: %v", rep.Problem)
	}
}

// PutPolicy parses src, attaches it at level to scope and returns its hash.
func (e *Env) PutPolicy(level store.Level, scope, src string) string {
	e.T.Helper()
	p, err := policy.Parse([]byte(src))
	if err != nil {
		e.T.Fatal(err)
	}
	err = e.Store.Tx(e.Ctx, func(tx store.Tx) error {
		_, err := tx.PutPolicy(e.Ctx, store.PutPolicyRequest{Level: level, ScopeID: scope, Name: p.Name(), Hash: p.Hash(), Source: src, Now: time.Now()})
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return p.Hash()
}

// Authorizations lists an agent's authorization records.
func (e *Env) Authorizations(agentID string) []store.Authorization {
	e.T.Helper()
	var as []store.Authorization
	err := e.Store.ReadTx(e.Ctx, func(rt store.ReadTx) (err error) {
		as, err = rt.Authorizations(e.Ctx, store.AuthorizationFilter{AgentID: agentID})
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return as
}

// Requirement is a v2 exact requirement for Asset paying amount (atomic units) to PayTo.
func Requirement(amount string) x402.PaymentRequirementsV2 {
	return x402.PaymentRequirementsV2{
		Scheme: "exact", Network: Asset.Network, Amount: amount,
		Asset: Asset.Address.Hex(), PayTo: PayTo, MaxTimeoutSeconds: 300,
		Extra: json.RawMessage(`{"name":"USDC","version":"2"}`),
	}
}

// DemandV2 is the PAYMENT-REQUIRED header value a server would send for ResourceURL, built with
// the x402 package's own encoder.
func DemandV2(t testing.TB, reqs ...x402.PaymentRequirementsV2) string {
	t.Helper()
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{
		X402Version: 2, Error: "Payment required",
		Resource: x402.ResourceInfo{URL: ResourceURL, Description: "data"},
		Accepts:  reqs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// CheckPaymentV2 decodes a v2 PAYMENT-SIGNATURE value as a facilitator would: accepted must be
// the demand's first requirement byte for byte, and the EIP-712 signature under Asset's domain
// must recover to the authorization's from. It returns the authorization for further checks.
func CheckPaymentV2(t testing.TB, demand, value string) *exact.Authorization {
	t.Helper()
	p, _, err := x402.DecodePaymentPayloadV2(value)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := x402.DecodePaymentRequired(demand)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(p.Accepted.Raw()), string(pr.Accepts[0].Raw()); got != want || got == "" {
		t.Errorf("accepted %s, demand's requirement %s", got, want)
	}
	ev, err := x402.DecodeExactEVMPayload(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	a, err := exact.ParseAuthorization(ev.Authorization)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := exact.DecodeSignature(ev.Signature)
	if err != nil {
		t.Fatal(err)
	}
	d := exact.Domain{Name: Asset.EIP712Name, Version: Asset.EIP712Version, ChainID: 84532, VerifyingContract: Asset.Address}
	signer, err := exact.RecoverSigner(exact.Hash(d, a).Digest, sig)
	if err != nil {
		t.Fatal(err)
	}
	if signer != a.From {
		t.Errorf("signed by %s, authorization from %s", signer, a.From)
	}
	return a
}
