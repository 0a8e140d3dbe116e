package payments

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/store"
)

var errInjected = errors.New("injected failure")

// signedAuditFails is a store that fails to append the payment.signed audit record,
// the last write of a payment, after its reservation was made.
type signedAuditFails struct{ store.Store }

func (s signedAuditFails) Tx(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Tx(ctx, func(tx store.Tx) error { return fn(failingTx{tx}) })
}

type failingTx struct{ store.Tx }

func (t failingTx) AppendAudit(ctx context.Context, r store.AuditRecord) error {
	if r.Action == audit.ActionPaymentSigned {
		return errInjected
	}
	return t.Tx.AppendAudit(ctx, r)
}

func (t failingTx) Savepoint(ctx context.Context, fn func(store.Tx) error) error {
	return t.Tx.Savepoint(ctx, func(tx store.Tx) error { return fn(failingTx{tx}) })
}

// wrongKeys derives every key one generation off, as a vault other than the one
// the agents were provisioned from would.
type wrongKeys struct{ v *custody.Vault }

func (w wrongKeys) Key(p hd.Path) (*custody.Key, error) {
	q := append(hd.Path(nil), p...)
	q[len(q)-1]++
	return w.v.Key(q)
}

func TestFailuresLeaveNoReservation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   func(e *env, c *Config)
		error string
	}{
		{"store fails after reserving", func(e *env, c *Config) { c.Store = signedAuditFails{e.st} }, errInjected.Error()},
		{"custody derives another address", func(e *env, c *Config) { c.Keys = wrongKeys{e.vault} }, "custody derives"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ag := e.provision("", "a")[0]
			e.putPolicy(store.LevelAgent, ag.Agent.ID, agentPolicy)
			log, err := audit.New(audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Store: e.st, Keys: e.vault, Registry: e.svc.reg, Audit: log}
			tc.cfg(e, &cfg)
			svc, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			before := e.auditCount()
			res, err := svc.Pay(e.ctx, ag.Agent.ID, payReq(t, "k", requirement("10000")))
			if err == nil || res != nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("got %+v, %v; want an error naming %q", res, err, tc.error)
			}
			if as := e.authorizations(ag.Agent.ID); len(as) != 0 {
				t.Errorf("failure left %d authorizations", len(as))
			}
			var sp store.Spend
			if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
				sp, err = rt.Spend(e.ctx, store.LevelAgent, ag.Agent.ID, time.Hour, time.Now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if sp.Count != 0 {
				t.Errorf("failure left %d counted in the window", sp.Count)
			}
			if rec := e.lastAudit(); e.auditCount() != before+1 || rec.Action != audit.ActionPaymentFailed {
				t.Errorf("%d records, last %s", e.auditCount()-before, rec.Action)
			}
		})
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	e := newEnv(t)
	good := Config{Store: e.st, Keys: e.vault, Registry: e.svc.reg, Audit: e.svc.log}
	for name, mod := range map[string]func(*Config){
		"no store":    func(c *Config) { c.Store = nil },
		"no keys":     func(c *Config) { c.Keys = nil },
		"no registry": func(c *Config) { c.Registry = nil },
		"no audit":    func(c *Config) { c.Audit = nil },
	} {
		c := good
		mod(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(good); err != nil {
		t.Fatal(err)
	}
}
