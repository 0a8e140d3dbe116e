package payments

import (
	"context"
	"errors"
	"testing"

	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
	"github.com/fleetkey/fleetkey/x402"
)

var sepoliaUSDC = paymentstest.Asset

const (
	payee       = paymentstest.PayTo
	resourceURL = paymentstest.ResourceURL
	fleetIndex  = 7
)

// env is the shared payments test environment (paymentstest) with the service built on it.
type env struct {
	*paymentstest.Env
	ctx   context.Context
	st    *sqlite.Store
	vault *custody.Vault
	svc   *Service
	fleet store.Fleet
	group store.Group
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, false)
}

// newEnvWith builds the environment; fullSync keeps SQLite's durable synchronous=FULL.
func newEnvWith(t testing.TB, fullSync bool) *env {
	t.Helper()
	pe := paymentstest.New(t, paymentstest.Options{FleetIndex: fleetIndex, FullSync: fullSync})
	svc, err := New(Config{Store: pe.Store, Keys: pe.Vault, Registry: pe.Registry, Audit: pe.Audit})
	if err != nil {
		t.Fatal(err)
	}
	return &env{Env: pe, ctx: pe.Ctx, st: pe.Store, vault: pe.Vault, svc: svc, fleet: pe.Fleet, group: pe.Group}
}

func (e *env) auditCount() uint64 {
	e.T.Helper()
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
		e.T.Fatal(err)
	}
	return n
}

func (e *env) lastAudit() store.AuditRecord {
	e.T.Helper()
	var r store.AuditRecord
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { r, err = rt.AuditHead(e.ctx); return err }); err != nil {
		e.T.Fatal(err)
	}
	return r
}

func (e *env) provision(groupID string, ids ...string) []Provisioned {
	e.T.Helper()
	req := ProvisionRequest{FleetID: e.fleet.ID, GroupID: groupID}
	for _, id := range ids {
		req.Agents = append(req.Agents, NewAgent{ExternalID: id, Name: "agent " + id, Labels: map[string]string{"env": "test"}})
	}
	out, err := e.svc.ProvisionAgents(e.ctx, req)
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

func (e *env) putPolicy(level store.Level, scope, src string) string {
	e.T.Helper()
	return e.PutPolicy(level, scope, src)
}

func (e *env) authorizations(agentID string) []store.Authorization {
	e.T.Helper()
	return e.Authorizations(agentID)
}

var requirement = paymentstest.Requirement

func demandV2(t testing.TB, reqs ...x402.PaymentRequirementsV2) []byte {
	t.Helper()
	return []byte(paymentstest.DemandV2(t, reqs...))
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
