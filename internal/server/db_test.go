package server

import (
	"errors"
	"strings"
	"testing"
)

// TestValidateDB: db may be a postgres:// URL without a password; pool settings are
// checked; the start log shows a URL only by scheme and host.
func TestValidateDB(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(*Config)
		field string // "" when valid
	}{
		{"sqlite file", func(c *Config) { c.DB = "x.db" }, ""},
		{"postgres url", func(c *Config) { c.DB = "postgres://fleetkey@db.internal:5432/fleetkey?sslmode=verify-full" }, ""},
		{"password in url", func(c *Config) { c.DB = "postgresql://fleetkey:hunter2@db.internal/fleetkey" }, "db"},
		{"pool min above max", func(c *Config) { c.DBPool.MaxConns, c.DBPool.MinConns = 4, 8 }, "db_pool.min_conns"},
		{"negative pool setting", func(c *Config) { c.DBPool.ConnectTimeout = -1 }, "db_pool"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Default()
			cfg.Unseal.PassphraseFile = "pass"
			cfg.Complete()
			c.edit(&cfg)
			err := cfg.Validate()
			var ve *ValidationError
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.field == "":
			case !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != c.field:
				t.Fatalf("got %v, want one problem at %s", err, c.field)
			case strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
	if got := dbName("postgres://fleetkey@db.internal:5432/fleetkey?sslmode=disable"); got != "postgres://db.internal:5432/<redacted>" {
		t.Errorf("dbName = %q", got)
	}
	if got := dbName("/var/lib/fleetkey/fleetkey.db"); got != "/var/lib/fleetkey/fleetkey.db" {
		t.Errorf("dbName of a file = %q", got)
	}
}
