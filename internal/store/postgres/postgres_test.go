package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/storetest"
)

// testURL returns FLEETKEY_TEST_POSTGRES or skips the test.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("FLEETKEY_TEST_POSTGRES")
	if u == "" {
		t.Skip("FLEETKEY_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); skipping PostgreSQL tests")
	}
	return u
}

// tempSchema returns a fresh random schema name that is dropped when the test ends,
// so parallel runs on one database never meet.
func tempSchema(t testing.TB, url string) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "fleetkey_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

func openTemp(t testing.TB) *Store {
	t.Helper()
	url := testURL(t)
	s, err := Open(context.Background(), url, Options{Schema: tempSchema(t, url)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	testURL(t) // skip once, not in every subtest
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
	storetest.RunJobs(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	url := testURL(t)
	schema := tempSchema(t, url)
	s, err := Open(ctx, url, Options{Schema: schema})
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
	s, err = Open(ctx, url, Options{Schema: schema})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	ms, err := migrationFS.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(ms) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(ms))
	}
	if err := s.ReadTx(ctx, func(tx store.ReadTx) error { _, err := tx.Fleet(ctx, f.ID); return err }); err != nil {
		t.Fatalf("fleet lost across reopen: %v", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := testURL(t)
	schema := tempSchema(t, url)
	s, err := Open(ctx, url, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, url, Options{Schema: schema}); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                            `SELECT 1`,
		`a = ? AND b = ?`:                     `a = $1 AND b = $2`,
		`a = ?1 AND b = ?12 AND c = ?1`:       `a = $1 AND b = $12 AND c = $1`,
		`INSERT INTO t VALUES (?, ?, ?), (?)`: `INSERT INTO t VALUES ($1, $2, $3), ($4)`,
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}
