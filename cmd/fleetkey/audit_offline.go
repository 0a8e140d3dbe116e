package main

// This file is the one client-command file that reads the database: "audit verify
// --data-dir" checks a data directory without a daemon. It is left out of the client
// files' import ban on purpose (see clientdeps_test.go).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

// verifyDataDir verifies DIR/fleetkey.db without writing to it: a read-only connection copies
// a consistent snapshot (VACUUM INTO, which works while the daemon writes) into a temporary
// directory, and the store opens the copy (where it may apply migrations).
func verifyDataDir(ctx context.Context, dir string, signer common.Address) (audit.Report, error) {
	path := datadir.Path(dir, datadir.DB)
	if _, err := os.Stat(path); err != nil {
		return audit.Report{}, fmt.Errorf("no database in %s: %w", dir, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return audit.Report{}, err
	}
	if strings.ContainsAny(abs, "?#") {
		return audit.Report{}, fmt.Errorf("database path %q holds '?' or '#'", abs)
	}
	tmp, err := os.MkdirTemp("", "fleetkey-audit-")
	if err != nil {
		return audit.Report{}, err
	}
	defer os.RemoveAll(tmp)
	snapshot := filepath.Join(tmp, datadir.DB)

	src, err := sql.Open("sqlite", "file:"+abs+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return audit.Report{}, err
	}
	_, err = src.ExecContext(ctx, "VACUUM INTO ?", snapshot)
	src.Close()
	if err != nil {
		return audit.Report{}, fmt.Errorf("read %s: %w", path, err)
	}
	st, err := sqlite.Open(ctx, snapshot, sqlite.Options{})
	if err != nil {
		return audit.Report{}, fmt.Errorf("open a snapshot of %s: %w", path, err)
	}
	defer st.Close()
	rep, err := audit.Verify(ctx, st, signer)
	if err != nil && signer == (common.Address{}) {
		return audit.Report{}, errors.Join(err, errors.New("hint: pass --signer ADDRESS, the audit key's address (GET /v1/audit/key of the daemon, or \"fleetkey keys address --path \\\"m/44'/60'/2147483646'/0'/0'\\\"\" on the sealed data dir)"))
	}
	return rep, err
}
