// Package storetest is the conformance suite of the store interfaces. Every backend
// runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
//	}
//
// open must return a new, empty, migrated store for every call and close it through
// t.Cleanup. The suite checks every method, every error callers branch on, and the
// ledger's budget guarantee under concurrency.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// Opener returns a fresh, empty store for one subtest.
type Opener func(t *testing.T) store.Store

// Run runs every conformance test against the backend.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"Fleets", testFleets},
		{"Groups", testGroups},
		{"AgentsBatchIdempotent", testAgentsBatch},
		{"AgentIndexNeverReused", testAgentIndexNeverReused},
		{"AgentFilterAndStatus", testAgentFilterAndStatus},
		{"Keys", testKeys},
		{"Credentials", testCredentials},
		{"Policies", testPolicies},
		{"Rollback", testRollback},
		{"ReserveLifecycle", testReserveLifecycle},
		{"ReserveValidation", testReserveValidation},
		{"ReserveIdempotency", testReserveIdempotency},
		{"ReserveNonceReused", testNonceReused},
		{"ReserveInactive", testReserveInactive},
		{"Windows", testWindows},
		{"WindowBoundary", testWindowBoundary},
		{"ExpiryReleasesBudget", testExpiryReleasesBudget},
		{"ReleaseReleasesBudget", testReleaseReleasesBudget},
		{"SpendMatchesRecords", testSpendMatchesRecords},
		{"SavepointBatch", testSavepointBatch},
		{"ConcurrentBudgets", testConcurrentBudgets},
		{"ConcurrentIdempotency", testConcurrentIdempotency},
		{"Approvals", testApprovals},
		{"ApprovalsFilter", testApprovalsFilter},
		{"ReserveDemand", testReserveDemand},
		{"ReserveSigned", testReserveSigned},
		{"AuditAppendsInOneTx", testAuditAppendsInOneTx},
		{"SpendInOneTx", testSpendInOneTx},
		{"AuditStorage", testAuditStorage},
		{"AuditConcurrentAppends", testAuditConcurrent},
		{"Anomaly", testAnomaly},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// t0 is the suite's clock origin; tests pass explicit times.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "0x" + hex.EncodeToString(b)
}

func randAddr() string  { return randHex(20) }
func randNonce() string { return randHex(32) }

func ctx() context.Context { return context.Background() }

// write runs fn in a Tx and fails the test on error.
func write(t testing.TB, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Tx(ctx(), fn); err != nil {
		t.Fatalf("tx: %v", err)
	}
}

// read runs fn in a ReadTx and fails the test on error.
func read(t testing.TB, s store.Store, fn func(store.ReadTx) error) {
	t.Helper()
	if err := s.ReadTx(ctx(), fn); err != nil {
		t.Fatalf("read tx: %v", err)
	}
}

// wantErr checks errors.Is(err, target).
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// wantConflict checks a ConflictError on the named constraint.
func wantConflict(t testing.TB, err error, constraint string) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("error = %v, want a conflict on %s", err, constraint)
	}
	if ce.Constraint != constraint {
		t.Fatalf("conflict on %q, want %q (%v)", ce.Constraint, constraint, err)
	}
}

// fixture is a fleet with two groups, agents with active keys.
type fixture struct {
	fleet  store.Fleet
	groups []store.Group
	agents []store.Agent
	keys   []store.Key
}

// newFixture creates a fleet with groups g0, g1 and n agents per group, each with an
// active key.
func newFixture(t testing.TB, s store.Store, perGroup int) fixture {
	t.Helper()
	var fx fixture
	write(t, s, func(tx store.Tx) error {
		var err error
		fx.fleet, err = tx.CreateFleet(ctx(), store.Fleet{Name: "fleet-" + randHex(4), Index: uint32(randIndex()), CreatedAt: t0})
		if err != nil {
			return err
		}
		for g := 0; g < 2; g++ {
			grp, err := tx.CreateGroup(ctx(), store.Group{FleetID: fx.fleet.ID, Name: fmt.Sprintf("g%d", g), CreatedAt: t0})
			if err != nil {
				return err
			}
			fx.groups = append(fx.groups, grp)
			var batch []store.NewAgent
			for i := 0; i < perGroup; i++ {
				batch = append(batch, store.NewAgent{GroupID: grp.ID, ExternalID: fmt.Sprintf("g%d-a%d", g, i), Name: fmt.Sprintf("agent %d/%d", g, i)})
			}
			res, err := tx.CreateAgents(ctx(), store.CreateAgentsRequest{FleetID: fx.fleet.ID, Agents: batch, Now: t0})
			if err != nil {
				return err
			}
			for _, r := range res {
				k, err := tx.CreateKey(ctx(), store.Key{AgentID: r.Agent.ID, Generation: 0,
					Path: fmt.Sprintf("m/44'/60'/%d'/%d'/0'", fx.fleet.Index, r.Agent.Index), Address: randAddr(), CreatedAt: t0})
				if err != nil {
					return err
				}
				fx.agents = append(fx.agents, r.Agent)
				fx.keys = append(fx.keys, k)
			}
		}
		return nil
	})
	return fx
}

func randIndex() uint32 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) % 1_000_000
}

// payment returns an authorization request for agent i of the fixture.
func (fx fixture) payment(i int, idem string, micro int64) store.Authorization {
	return store.Authorization{
		AgentID: fx.agents[i].ID, KeyID: fx.keys[i].ID, IdempotencyKey: idem,
		Network: "eip155:84532", Asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", PayTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
		Origin: "https://api.example.com", ResourceURL: "https://api.example.com/weather",
		AmountAtomic: fmt.Sprint(micro), AmountMicro: micro, Nonce: randNonce(),
		ValidAfter: t0.Add(-time.Minute), ValidBefore: t0.Add(5 * time.Minute), PolicyHash: "sha256:test",
	}
}

func reserve(s store.Store, a store.Authorization, at time.Time, windows ...store.WindowLimit) (store.Authorization, bool, error) {
	var (
		out      store.Authorization
		existing bool
	)
	err := s.Tx(ctx(), func(tx store.Tx) error {
		var err error
		out, existing, err = tx.ReserveAuthorization(ctx(), store.ReserveRequest{Authorization: a, Windows: windows, Now: at})
		return err
	})
	return out, existing, err
}

func spend(t testing.TB, s store.Store, level store.Level, scope string, w time.Duration, at time.Time) store.Spend {
	t.Helper()
	var sp store.Spend
	read(t, s, func(tx store.ReadTx) error {
		var err error
		sp, err = tx.Spend(ctx(), level, scope, w, at)
		return err
	})
	return sp
}

// recordsSpend recomputes a window total from the records themselves, independently
// of Spend, so that the two can be checked against each other.
func recordsSpend(t testing.TB, s store.Store, level store.Level, scope string, w time.Duration, at time.Time) store.Spend {
	t.Helper()
	return sumRecords(allAuths(t, s), level, scope, w, at)
}

func allAuths(t testing.TB, s store.Store) []store.Authorization {
	t.Helper()
	var all []store.Authorization
	read(t, s, func(tx store.ReadTx) error {
		var err error
		all, err = tx.Authorizations(ctx(), store.AuthorizationFilter{})
		return err
	})
	return all
}

// sumRecords is the reference window total: the records themselves.
func sumRecords(all []store.Authorization, level store.Level, scope string, w time.Duration, at time.Time) store.Spend {
	var sp store.Spend
	for _, a := range all {
		var id string
		switch level {
		case store.LevelAgent:
			id = a.AgentID
		case store.LevelGroup:
			id = a.GroupID
		case store.LevelFleet:
			id = a.FleetID
		}
		if id == scope && a.Status.Counts() && a.CreatedAt.After(at.Add(-w)) {
			sp.AmountMicro += a.AmountMicro
			sp.Count++
		}
	}
	return sp
}
