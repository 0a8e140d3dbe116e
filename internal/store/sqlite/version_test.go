package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// TestStateVersion: the version changes once a transaction that changed an agent,
// key, credential or policy has returned, never for a payment's ledger writes or a
// read, and after a commit by another connection to the file (another process) at
// this store's next write transaction.
func TestStateVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fleetkey.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var (
		agent store.Agent
		key   store.Key
	)
	write := func(fn func(tx store.Tx) error) {
		t.Helper()
		if err := s.Tx(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	write(func(tx store.Tx) error {
		f, err := tx.CreateFleet(ctx, store.Fleet{Name: "f", Index: 7})
		if err != nil {
			return err
		}
		res, err := tx.CreateAgents(ctx, store.CreateAgentsRequest{FleetID: f.ID, Agents: []store.NewAgent{{Name: "a"}}, Now: time.Now()})
		if err != nil {
			return err
		}
		agent = res[0].Agent
		key, err = tx.CreateKey(ctx, store.Key{AgentID: agent.ID, Path: "m/44'/60'/7'/0'/0'", Address: "0x1111111111111111111111111111111111111111"})
		return err
	})

	changes := func(what string, want bool, fn func()) {
		t.Helper()
		before := s.StateVersion()
		fn()
		if got := s.StateVersion() != before; got != want {
			t.Errorf("%s: version changed %v, want %v", what, got, want)
		}
	}
	now := time.Now().UTC()
	changes("a signed reservation", false, func() {
		write(func(tx store.Tx) error {
			_, _, err := tx.ReserveAuthorization(ctx, store.ReserveRequest{Now: now, Signed: store.PaymentHeader{Name: "X-PAYMENT", Value: "v"},
				Authorization: store.Authorization{AgentID: agent.ID, KeyID: key.ID, IdempotencyKey: "k", Network: "eip155:84532",
					Asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", PayTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
					AmountAtomic: "1", AmountMicro: 1, Nonce: "0x" + "ab" + "00000000000000000000000000000000000000000000000000000000000000",
					ValidAfter: now.Add(-time.Minute), ValidBefore: now.Add(time.Minute)}})
			return err
		})
	})
	changes("a read", false, func() {
		if err := s.ReadTx(ctx, func(rt store.ReadTx) error { _, err := rt.Agent(ctx, agent.ID); return err }); err != nil {
			t.Fatal(err)
		}
	})
	changes("freezing the agent", true, func() {
		write(func(tx store.Tx) error {
			_, err := tx.SetAgentStatus(ctx, agent.ID, store.AgentFrozen, time.Now())
			return err
		})
	})
	changes("revoking the key", true, func() {
		write(func(tx store.Tx) error { _, err := tx.SetKeyStatus(ctx, key.ID, store.KeyRevoked); return err })
	})
	changes("a policy", true, func() {
		write(func(tx store.Tx) error {
			_, err := tx.PutPolicy(ctx, store.PutPolicyRequest{Level: store.LevelAgent, ScopeID: agent.ID, Name: "p", Hash: "sha256:x", Source: "x", Now: time.Now()})
			return err
		})
	})
	changes("a rolled-back change", true, func() {
		_ = s.Tx(ctx, func(tx store.Tx) error {
			if _, err := tx.SetAgentStatus(ctx, agent.ID, store.AgentActive, time.Now()); err != nil {
				return err
			}
			return errors.New("undo")
		})
	})

	other, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	changes("another store's commit, before a write here", false, func() {
		if err := other.Tx(ctx, func(tx store.Tx) error { _, err := tx.CreateFleet(ctx, store.Fleet{Name: "g", Index: 8}); return err }); err != nil {
			t.Fatal(err)
		}
	})
	changes("this store's next write after another store's commit", true, func() {
		write(func(tx store.Tx) error { return nil })
	})
	changes("the write after that", false, func() {
		write(func(tx store.Tx) error { return nil })
	})
}

// TestStateWritesClassified: exactly the prepared statements that change a fleet,
// group, agent, key, credential or policy move the state version, and statements
// written in other ways are recognised too. A new statement that writes one of
// those tables is classified by its text; add it here.
func TestStateWritesClassified(t *testing.T) {
	want := map[string]bool{qFleetIns: true, qFleetTrea: true, qGroupIns: true, qAgentIns: true, qAgentStat: true,
		qKeyIns: true, qKeyStat: true, qCredIns: true, qCredRevoke: true, qCredRevAll: true, qPolicyOff: true, qPolicyIns: true}
	for _, q := range statements {
		if got := isStateWrite(q); got != want[q] {
			t.Errorf("state write %v, want %v: %s", got, want[q], q)
		}
	}
	for q, want := range map[string]bool{
		`insert or replace into keys(id) values (?)`:                                                true,
		`INSERT OR IGNORE INTO "agents" (id) VALUES (?)`:                                            true,
		`DELETE FROM policies WHERE id = ?`:                                                         true,
		"UPDATE `credentials` SET revoked_at = 1":                                                   true,
		`REPLACE INTO agent_groups (id) VALUES (?)`:                                                 true,
		`SELECT a.status FROM agents a, keys k`:                                                     false,
		`UPDATE authorizations SET status = 'x'`:                                                    false,
		`INSERT INTO spend_buckets (level) VALUES (?) ON CONFLICT (level) DO UPDATE SET amount = 1`: false,
	} {
		if got := isStateWrite(q); got != want {
			t.Errorf("state write %v, want %v: %s", got, want, q)
		}
	}
}
