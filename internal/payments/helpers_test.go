package payments

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
	"github.com/fleetkey/fleetkey/x402"
)

// Base Sepolia USDC (x402.md §3.1.1): a real asset with a real EIP-712 domain.
var sepoliaUSDC = signer.Asset{
	Network: "eip155:84532", Address: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
	Symbol: "USDC", Decimals: 6, EIP712Name: "USDC", EIP712Version: "2",
}

const (
	payee       = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
	resourceURL = "https://api.example.com/v2/data"
	fleetIndex  = 7
)

type env struct {
	t     testing.TB
	ctx   context.Context
	st    *sqlite.Store
	vault *custody.Vault
	svc   *Service
	fleet store.Fleet
	group store.Group
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, sqlite.Options{SynchronousNormal: true})
}

func newEnvWith(t testing.TB, opt sqlite.Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "fleetkey.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := custody.NewMnemonic([]byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := custody.VaultFromMnemonic(m, custody.Passphrase{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	reg, err := signer.NewRegistry([]signer.Asset{sepoliaUSDC})
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{Store: st, Keys: v, Registry: reg, Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, st: st, vault: v, svc: svc}
	err = st.Tx(ctx, func(tx store.Tx) error {
		var err error
		if e.fleet, err = tx.CreateFleet(ctx, store.Fleet{Name: "research", Index: fleetIndex}); err != nil {
			return err
		}
		e.group, err = tx.CreateGroup(ctx, store.Group{FleetID: e.fleet.ID, Name: "crawlers"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, bench := t.(*testing.B); !bench {
		t.Cleanup(e.verifyAudit)
	}
	return e
}

// verifyAudit checks the whole hash chain the test produced.
func (e *env) verifyAudit() {
	e.t.Helper()
	rep, err := audit.Verify(e.ctx, e.st, common.Address{})
	if err != nil {
		e.t.Fatal(err)
	}
	if rep.Problem != nil {
		e.t.Fatalf("audit chain broken: %v", rep.Problem)
	}
}

func (e *env) auditCount() uint64 {
	e.t.Helper()
	var n uint64
	err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) error {
		h, err := rt.AuditHead(e.ctx)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		n = h.Seq
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) lastAudit() store.AuditRecord {
	e.t.Helper()
	var r store.AuditRecord
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { r, err = rt.AuditHead(e.ctx); return err }); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) provision(groupID string, ids ...string) []Provisioned {
	e.t.Helper()
	req := ProvisionRequest{FleetID: e.fleet.ID, GroupID: groupID}
	for _, id := range ids {
		req.Agents = append(req.Agents, NewAgent{ExternalID: id, Name: "agent " + id, Labels: map[string]string{"env": "test"}})
	}
	out, err := e.svc.ProvisionAgents(e.ctx, req)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// putPolicy parses and attaches a policy, returning its hash.
func (e *env) putPolicy(level store.Level, scope, src string) string {
	e.t.Helper()
	p, err := policy.Parse([]byte(src))
	if err != nil {
		e.t.Fatal(err)
	}
	err = e.st.Tx(e.ctx, func(tx store.Tx) error {
		_, err := tx.PutPolicy(e.ctx, store.PutPolicyRequest{Level: level, ScopeID: scope, Name: p.Name(), Hash: p.Hash(), Source: src, Now: time.Now()})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Hash()
}

func (e *env) authorizations(agentID string) []store.Authorization {
	e.t.Helper()
	var as []store.Authorization
	err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		as, err = rt.Authorizations(e.ctx, store.AuthorizationFilter{AgentID: agentID})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

// requirement is a v2 requirement for the registry's asset.
func requirement(amount string) x402.PaymentRequirementsV2 {
	return x402.PaymentRequirementsV2{
		Scheme: "exact", Network: sepoliaUSDC.Network, Amount: amount,
		Asset: sepoliaUSDC.Address.Hex(), PayTo: payee, MaxTimeoutSeconds: 300,
		Extra: json.RawMessage(`{"name":"USDC","version":"2"}`),
	}
}

// demandV2 is the PAYMENT-REQUIRED header value a server would send, built with the
// x402 package's own encoder.
func demandV2(t testing.TB, reqs ...x402.PaymentRequirementsV2) []byte {
	t.Helper()
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{
		X402Version: 2, Error: "Payment required",
		Resource: x402.ResourceInfo{URL: resourceURL, Description: "data"},
		Accepts:  reqs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(h)
}

func payReq(t testing.TB, key string, reqs ...x402.PaymentRequirementsV2) PayRequest {
	return PayRequest{Version: 2, Raw: demandV2(t, reqs...), ResourceURL: resourceURL, Method: "GET", IdempotencyKey: key}
}

const agentPolicy = `version: 1
name: agent-basic
limits:
  per_payment: "0.05"
  windows:
    - window: 1h
      max_count: 5
max_validity: 2m
`
