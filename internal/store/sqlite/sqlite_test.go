package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "fleetkey.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var f store.Fleet
	if err := s.Tx(ctx, func(tx store.Tx) error {
		f, err = tx.CreateFleet(ctx, store.Fleet{Name: "kept", Index: 1})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != len(migrationFiles(t)) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrationFiles(t)))
	}
	if err := s.ReadTx(ctx, func(tx store.ReadTx) error { _, err := tx.Fleet(ctx, f.ID); return err }); err != nil {
		t.Fatalf("fleet lost across reopen: %v", err)
	}
}

func migrationFiles(t *testing.T) []string {
	t.Helper()
	m, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, path, Options{})
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open on a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

func TestReadTxCannotWrite(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	err := s.ReadTx(ctx, func(rtx store.ReadTx) error {
		tx, ok := rtx.(store.Tx)
		if !ok {
			return nil
		}
		_, err := tx.CreateFleet(ctx, store.Fleet{Name: "sneaky", Index: 1})
		return err
	})
	if err == nil {
		t.Fatal("a write through ReadTx succeeded")
	}
}

// TestSpendUsesCoveringIndex pins the property the ledger's speed rests on: a window
// total reads a range of a covering index and ranges of the bucket table's primary
// key, never a table scan.
func TestSpendUsesCoveringIndex(t *testing.T) {
	s := openTemp(t)
	for _, c := range []struct{ query, index string }{
		{qSpendAgent, "authorizations_spend_agent"},
		{qSpendGroup, "authorizations_spend_group"},
		{qSpendFleet, "authorizations_spend_fleet"},
	} {
		rows, err := s.r.Query("EXPLAIN QUERY PLAN "+c.query, spendArgs("x", 0)...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, "USING COVERING INDEX "+c.index) || !strings.Contains(joined, "counted=? AND created_at>? AND created_at<?") ||
			strings.Count(joined, "SEARCH spend_buckets USING PRIMARY KEY") != len(resolutions) || strings.Contains(joined, "SCAN authorizations") || strings.Contains(joined, "SCAN spend_buckets") {
			t.Errorf("plan for %s: %s", c.index, joined)
		}
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, p := range []string{"", "db?mode=memory", "a#b"} {
		if _, err := Open(context.Background(), p, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestPruneSpendBuckets(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	var f store.Fleet
	var a store.Agent
	var k store.Key
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.Tx(ctx, func(tx store.Tx) error {
		var err error
		if f, err = tx.CreateFleet(ctx, store.Fleet{Name: "f", Index: 1}); err != nil {
			return err
		}
		res, err := tx.CreateAgents(ctx, store.CreateAgentsRequest{FleetID: f.ID, Agents: []store.NewAgent{{Name: "a"}}})
		if err != nil {
			return err
		}
		a = res[0].Agent
		k, err = tx.CreateKey(ctx, store.Key{AgentID: a.ID, Path: "m/0", Address: randHex(20)})
		if err != nil {
			return err
		}
		for i, at := range []time.Time{t0, t0.Add(48 * time.Hour)} {
			_, _, err := tx.ReserveAuthorization(ctx, store.ReserveRequest{Now: at, Authorization: store.Authorization{
				AgentID: a.ID, KeyID: k.ID, IdempotencyKey: fmt.Sprint(i), Network: "eip155:1", Asset: randHex(20), PayTo: randHex(20),
				AmountAtomic: "5", AmountMicro: 5, Nonce: randHex(32), ValidAfter: at, ValidBefore: at.Add(time.Minute)}})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneSpendBuckets(ctx, t0.Add(24*time.Hour))
	if err != nil || n != 8 { // 4 resolutions x (agent, fleet) of the old record
		t.Fatalf("pruned %d, %v; want 8", n, err)
	}
	err = s.ReadTx(ctx, func(tx store.ReadTx) error {
		sp, err := tx.Spend(ctx, store.LevelFleet, f.ID, time.Hour, t0.Add(48*time.Hour+time.Second))
		if err == nil && sp != (store.Spend{AmountMicro: 5, Count: 1}) {
			err = fmt.Errorf("spend after prune = %+v", sp)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
