package lifecycle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/postgres"
)

// TestRevokeOnPostgres is TestRevokeOnDevnet on PostgreSQL (its jobs and its replicas):
// a second replica on the same database refuses the revoked agent's payment. It needs
// FLEETKEY_TEST_POSTGRES and skips without it.
func TestRevokeOnPostgres(t *testing.T) {
	checkRevoke(t, newEnvOn(t, postgresOpener(t)))
}

// TestLeaseOnPostgres is TestLeaseTwoProcesses with two replicas on PostgreSQL.
func TestLeaseOnPostgres(t *testing.T) {
	checkLease(t, newEnvOn(t, postgresOpener(t)))
}

// postgresOpener returns a function that opens one more replica on a fresh schema
// of FLEETKEY_TEST_POSTGRES (dropped at the end), and skips the test without it.
func postgresOpener(t *testing.T) func() store.Store {
	t.Helper()
	raw := os.Getenv("FLEETKEY_TEST_POSTGRES")
	if raw == "" {
		t.Skip("FLEETKEY_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	var b [8]byte
	rand.Read(b[:])
	schema := "fleetkey_lifecycle_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, raw)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	open := func() store.Store {
		st, err := postgres.Open(context.Background(), raw, postgres.Options{Schema: schema, MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	return open
}
