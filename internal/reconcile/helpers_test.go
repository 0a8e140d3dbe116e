package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/reconcile"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

const resourceURL = "https://api.example.com/v2/data"

// merchant is the payee of every test payment.
var merchant = common.HexToAddress("0x00000000000000000000000000000000000a11ce")

// agentPolicy signs payments up to 0.02 at once and holds bigger ones (up to 0.05)
// for an approval that lapses after a minute.
const agentPolicy = `version: 1
name: reconcile-agent
limits:
  per_payment: "0.05"
  windows:
    - window: 1h
      max_count: 2000
max_validity: 2m
approval:
  above: "0.02"
  quorum: 1
  approvers: [alice]
  expires_after: 1m
`

// env is a devnet, an in-process facilitator, the payments service on a real SQLite
// store with the devnet's TestUSD registered, one funded agent and a reconciler whose
// clock runs skew ahead of the wall clock.
type env struct {
	*paymentstest.Env
	t     testing.TB
	ctx   context.Context
	dev   *devnet.Devnet
	fac   *facilitator.Facilitator
	svc   *payments.Service
	reg   *signer.Registry
	agent payments.Provisioned
	skew  atomic.Int64 // nanoseconds
	rec   *reconcile.Reconciler
	n     int
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0", Accounts: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	relayer, err := facilitator.NewRelayerKey([]byte(d.Accounts()[9].PrivateKeyHex))
	if err != nil {
		t.Fatal(err)
	}
	fac, err := facilitator.New(ctx, facilitator.Config{Chains: []facilitator.Chain{{ChainID: d.ChainID(), Backend: d.Client()}}, Relayer: relayer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fac.Close() })
	tok := d.Token()
	reg, err := signer.NewRegistry([]signer.Asset{{Network: d.Network(), Address: tok.Address, Symbol: tok.Symbol,
		Decimals: tok.Decimals, EIP712Name: tok.Name, EIP712Version: tok.Version}})
	if err != nil {
		t.Fatal(err)
	}
	pe := paymentstest.New(t, paymentstest.Options{})
	pe.Registry = reg
	svc, err := payments.New(payments.Config{Store: pe.Store, Keys: pe.Vault, Registry: reg, Audit: pe.Audit})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(ctx, payments.ProvisionRequest{FleetID: pe.Fleet.ID, GroupID: pe.Group.ID,
		Agents: []payments.NewAgent{{ExternalID: "reconciled", Name: "reconciled agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{Env: pe, t: t, ctx: ctx, dev: d, fac: fac, svc: svc, reg: reg, agent: ps[0]}
	pe.PutPolicy(store.LevelAgent, e.agent.Agent.ID, agentPolicy)
	e.rec = e.newReconciler(reconcile.Config{})
	e.fund()
	return e
}

// newReconciler builds a reconciler on the env with cfg's tuning and the env's clock.
func (e *env) newReconciler(cfg reconcile.Config) *reconcile.Reconciler {
	e.t.Helper()
	cfg.Store, cfg.Audit, cfg.RPC, cfg.Registry = e.Store, e.Audit, e.dev.Client(), e.reg
	if cfg.Now == nil {
		cfg.Now = e.now
	}
	r, err := reconcile.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }

// demand is a v2 demand for amount atomic TestUSD to the merchant.
func (e *env) demand(payTo common.Address, amount string) (x402.PaymentRequirementsV2, []byte) {
	e.t.Helper()
	tok := e.dev.Token()
	r := x402.PaymentRequirementsV2{Scheme: "exact", Network: e.dev.Network(), Amount: amount, Asset: tok.Address.Hex(),
		PayTo: payTo.Hex(), MaxTimeoutSeconds: 300, Extra: json.RawMessage(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`)}
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: resourceURL}, Accepts: []x402.PaymentRequirementsV2{r}})
	if err != nil {
		e.t.Fatal(err)
	}
	return r, []byte(h)
}

// fund gives the agent 1 TestUSD from dev account 1 through an authorization that
// account signs itself (it is not in the ledger).
func (e *env) fund() {
	e.t.Helper()
	devKey, err := e.dev.Accounts()[1].PrivateKey()
	if err != nil {
		e.t.Fatal(err)
	}
	funder := exact.NewLocalKeyPayer(devKey)
	defer funder.Destroy()
	req, raw := e.demand(common.HexToAddress(e.agent.Key.Address), "1000000")
	pr, err := x402.DecodePaymentRequired(string(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := funder.Pay(e.ctx, &x402.PaymentRequest{URL: resourceURL, Method: "GET", Version: 2, V2: pr, Raw: raw})
	if err != nil {
		e.t.Fatal(err)
	}
	e.settle(payment{value: p.Value, req: req})
}

// payment is one signed payment of the agent.
type payment struct {
	id    string
	value string
	req   x402.PaymentRequirementsV2
	res   *payments.PayResult
}

// pay has the agent pay amount (atomic TestUSD) to the merchant.
func (e *env) pay(amount string) payment {
	e.t.Helper()
	e.n++
	req, raw := e.demand(merchant, amount)
	res, err := e.svc.Pay(e.ctx, e.agent.Agent.ID, payments.PayRequest{Version: 2, Raw: raw, ResourceURL: resourceURL,
		Method: "GET", IdempotencyKey: fmt.Sprintf("pay-%d", e.n)})
	if err != nil {
		e.t.Fatal(err)
	}
	return payment{id: res.AuthorizationID, value: res.Value, req: req, res: res}
}

// settle submits a signed payment through the facilitator and returns the transaction hash.
func (e *env) settle(p payment) string {
	e.t.Helper()
	payload, err := x402.DecodeHeaderJSON(p.value)
	if err != nil {
		e.t.Fatal(err)
	}
	vr, err := x402.NewVerifyRequest(payload, p.req)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := e.fac.Settle(e.ctx, vr)
	if err != nil {
		e.t.Fatal(err)
	}
	if !s.Success {
		e.t.Fatalf("settlement refused: %s %s", s.ErrorReason, s.ErrorMessage)
	}
	return s.Transaction
}

// cancelOnChain cancels the authorization with EIP-3009 cancelAuthorization, signed by the
// agent's custody key (through the vault, as the agent's own key would sign) and
// submitted by dev account 2.
func (e *env) cancelOnChain(id string) string {
	e.t.Helper()
	a := e.authorization(id)
	tok := e.dev.Token()
	usd, err := bindings.NewTestUSD(tok.Address, e.dev.Client())
	if err != nil {
		e.t.Fatal(err)
	}
	call := &bind.CallOpts{Context: e.ctx}
	domain, err := usd.DOMAINSEPARATOR(call)
	if err != nil {
		e.t.Fatal(err)
	}
	typeHash, err := usd.CANCELAUTHORIZATIONTYPEHASH(call)
	if err != nil {
		e.t.Fatal(err)
	}
	authorizer := common.HexToAddress(a.From)
	nonce := common.HexToHash(a.Nonce)
	structHash := crypto.Keccak256(typeHash[:], common.LeftPadBytes(authorizer.Bytes(), 32), nonce[:])
	digest := crypto.Keccak256Hash([]byte{0x19, 0x01}, domain[:], structHash)
	path, err := hd.ParsePath(e.agent.Key.Path)
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := e.Vault.Key(path)
	if err != nil {
		e.t.Fatal(err)
	}
	sig, err := key.SignDigest(digest)
	if err != nil {
		e.t.Fatal(err)
	}
	sig[64] += 27
	sender, err := e.dev.Accounts()[2].PrivateKey()
	if err != nil {
		e.t.Fatal(err)
	}
	opts, err := bind.NewKeyedTransactorWithChainID(sender, new(big.Int).SetUint64(e.dev.ChainID()))
	if err != nil {
		e.t.Fatal(err)
	}
	opts.Context = e.ctx
	tx, err := usd.CancelAuthorization0(opts, authorizer, nonce, sig[:])
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(e.ctx, e.dev.Client(), tx.Hash()); err != nil {
		e.t.Fatal(err)
	}
	return tx.Hash().Hex()
}

func (e *env) authorization(id string) store.Authorization {
	e.t.Helper()
	var a store.Authorization
	err := e.Store.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		a, err = rt.Authorization(e.ctx, id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// once runs one pass that must succeed.
func (e *env) once() reconcile.Report {
	e.t.Helper()
	rep, err := e.rec.Once(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// spend is the agent's 1h total at the wall clock.
func (e *env) spend() store.Spend {
	e.t.Helper()
	var s store.Spend
	err := e.Store.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		s, err = rt.Spend(e.ctx, store.LevelAgent, e.agent.Agent.ID, time.Hour, time.Now())
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// auditTail returns the records after seq.
func (e *env) auditTail(seq uint64) []store.AuditRecord {
	e.t.Helper()
	var rs []store.AuditRecord
	err := e.Store.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		rs, err = rt.AuditRecords(e.ctx, seq, 1000)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

func (e *env) auditSeq() uint64 {
	e.t.Helper()
	var seq uint64
	err := e.Store.ReadTx(e.ctx, func(rt store.ReadTx) error {
		h, err := rt.AuditHead(e.ctx)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		seq = h.Seq
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return seq
}

// checkWindows verifies the ledger invariant at time at: every scope's window total
// from Spend equals the sum recomputed from the authorization records.
func (e *env) checkWindows(at time.Time) {
	e.t.Helper()
	err := e.Store.ReadTx(e.ctx, func(rt store.ReadTx) error {
		all, err := rt.Authorizations(e.ctx, store.AuthorizationFilter{FleetID: e.Fleet.ID})
		if err != nil {
			return err
		}
		scopes := []struct {
			level store.Level
			id    string
			of    func(store.Authorization) string
		}{
			{store.LevelAgent, e.agent.Agent.ID, func(a store.Authorization) string { return a.AgentID }},
			{store.LevelGroup, e.Group.ID, func(a store.Authorization) string { return a.GroupID }},
			{store.LevelFleet, e.Fleet.ID, func(a store.Authorization) string { return a.FleetID }},
		}
		for _, sc := range scopes {
			for _, w := range []time.Duration{time.Second, time.Minute, time.Hour, 24 * time.Hour} {
				var want store.Spend
				for _, a := range all {
					if sc.of(a) == sc.id && a.Status.Counts() && a.CreatedAt.After(at.Add(-w)) {
						want.AmountMicro += a.AmountMicro
						want.Count++
					}
				}
				got, err := rt.Spend(e.ctx, sc.level, sc.id, w, at)
				if err != nil {
					return err
				}
				if got != want {
					e.t.Errorf("%s %s window %s at %s: Spend %+v, records %+v", sc.level, sc.id, w, at.Format(time.RFC3339Nano), got, want)
				}
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// findAudit returns the records of action about subject.
func findAudit(rs []store.AuditRecord, action, subject string) []store.AuditRecord {
	var out []store.AuditRecord
	for _, r := range rs {
		if r.Action == action && r.Subject == subject {
			out = append(out, r)
		}
	}
	return out
}

// errorCounter is a slog handler that signals every error record.
type errorCounter struct {
	errs chan string
}

func (h *errorCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *errorCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		var msg strings.Builder
		msg.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			msg.WriteString(" " + a.String())
			return true
		})
		select {
		case h.errs <- msg.String():
		default:
		}
	}
	return nil
}
func (h *errorCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorCounter) WithGroup(string) slog.Handler      { return h }
