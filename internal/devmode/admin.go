package devmode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

// adminName names the first admin credential of a development data directory.
const adminName = "dev-admin"

// bootstrapAdmin does what `fleetkey init` does after sealing: it creates the database with the
// first admin credential, checkpoints the audit chain with the audit key and writes the admin
// token to DATA_DIR/admin.token (0600, created before the credential so that a token is never
// made that cannot be written). It does nothing when the token file exists.
func bootstrapAdmin(ctx context.Context, dir string, vault *custody.Vault) error {
	tokenPath := datadir.Path(dir, datadir.AdminToken)
	if _, err := os.Lstat(tokenPath); err == nil {
		return nil
	}
	p, err := hd.ParsePath(audit.KeyPath)
	if err != nil {
		return err
	}
	auditKey, err := vault.Key(p)
	if err != nil {
		return fmt.Errorf("devmode: derive the audit key: %w", err)
	}
	log, err := audit.New(audit.Options{Signer: auditKey})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(tokenPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("devmode: admin token: %w", err)
	}
	written := false
	defer func() {
		if !written {
			f.Close()
			os.Remove(tokenPath)
		}
	}()
	st, err := sqlite.Open(ctx, datadir.Path(dir, datadir.DB), sqlite.Options{})
	if err != nil {
		return fmt.Errorf("devmode: database: %w", err)
	}
	defer st.Close()
	ic, err := payments.BootstrapAdmin(ctx, st, log, adminName, time.Now())
	if errors.Is(err, payments.ErrAlreadyInitialized) {
		return fmt.Errorf("devmode: the database of %s has operators but %s is missing; start over with --fresh", dir, tokenPath)
	}
	if err != nil {
		return fmt.Errorf("devmode: first admin: %w", err)
	}
	defer ic.Token.Wipe()
	if err := st.Tx(ctx, func(tx store.Tx) error {
		_, err := log.Checkpoint(ctx, tx)
		return err
	}); err != nil {
		return fmt.Errorf("devmode: audit checkpoint: %w", err)
	}
	text := []byte(ic.Token.Reveal() + "\n")
	defer clear(text)
	if _, err := f.Write(text); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	written = true
	return nil
}
