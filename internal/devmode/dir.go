package devmode

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/keys/entropy"
)

// Files of a development data directory, besides datadir.DB, datadir.AdminToken and the seal.
const (
	// MarkerFile marks a directory as a `fleetkey dev` data directory; --fresh wipes only a
	// directory that has it (or a ManifestFile).
	MarkerFile = ".fleetkey-dev"
	// ManifestFile is the manifest, present while the environment runs.
	ManifestFile = "dev.json"
	// PassphraseFile is the generated development passphrase that unseals the root (0600).
	PassphraseFile = "dev.passphrase"
	// ApproverTokenFile is the operator token of the demo approver (0600).
	ApproverTokenFile = "approver.token"
	// AgentsDir holds one NAME.token file per demo agent (0600).
	AgentsDir = "agents"
	// LogFile receives the daemon's JSON log, so that the terminal shows the summary.
	LogFile = "fleetkey.log"
)

const markerText = "This directory belongs to `fleetkey dev` (development only): its seal is unsealed by\n" +
	"dev.passphrase next to it. `fleetkey dev --fresh` deletes everything in it.\n"

// isDevDir reports whether dir holds the marker or the manifest of a development environment.
func isDevDir(dir string) bool {
	for _, name := range []string{MarkerFile, ManifestFile} {
		if st, err := os.Lstat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// prepareDir makes dir ready and locks it (see lockDir; close the returned file to unlock):
// it refuses a non-empty directory without the marker or a manifest, which could be a real
// deployment's; it creates dir (0700) and the marker; and with fresh it deletes everything else
// in it, under the lock, so that a running environment is never wiped.
func prepareDir(dir string, fresh bool) (lock *os.File, err error) {
	if dir == "" {
		return nil, errors.New("devmode: no data directory")
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("devmode: data directory: %w", err)
	case len(entries) > 0 && !isDevDir(dir):
		return nil, fmt.Errorf("devmode: %s is not empty and is not a fleetkey dev data directory (no %s or %s); "+
			"refusing to use or wipe it: choose another --data-dir", dir, MarkerFile, ManifestFile)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devmode: data directory: %w", err)
	}
	marker := filepath.Join(dir, MarkerFile)
	if _, err := os.Lstat(marker); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(marker, []byte(markerText), 0o600); err != nil {
			return nil, fmt.Errorf("devmode: %w", err)
		}
	}
	if lock, err = lockDir(dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && lock != nil {
			lock.Close()
		}
	}()
	if fresh {
		for _, e := range entries {
			if e.Name() == MarkerFile {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("devmode: --fresh: %w", err)
			}
		}
		// The marker keeps its inode (and the lock); its text is written anew.
		if err := os.WriteFile(marker, []byte(markerText), 0o600); err != nil {
			return nil, fmt.Errorf("devmode: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, AgentsDir), 0o700); err != nil {
		return nil, fmt.Errorf("devmode: data directory: %w", err)
	}
	if err := removeStaleManifest(dir); err != nil {
		return nil, err
	}
	return lock, nil
}

// removeStaleManifest removes a dev.json left by a run that did not stop cleanly: it names
// ports that are gone. The caller holds the directory's lock.
func removeStaleManifest(dir string) error {
	if err := os.Remove(filepath.Join(dir, ManifestFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("devmode: %w", err)
	}
	return nil
}

// sealed reports whether dir holds a seal.
func sealed(dir string) bool {
	_, err := custody.Inspect(dir)
	return err == nil
}

// unsealDev opens the seal of dir with its development passphrase, creating both (and the
// passphrase file, 0600) on first start. created reports a new seal.
func unsealDev(dir string) (v *custody.Vault, created bool, err error) {
	passPath := filepath.Join(dir, PassphraseFile)
	if !sealed(dir) {
		for _, name := range []string{datadir.DB, datadir.AdminToken} {
			if _, err := os.Lstat(datadir.Path(dir, name)); err == nil {
				return nil, false, fmt.Errorf("devmode: %s has %s but no seal; start over with --fresh", dir, name)
			}
		}
		if err := os.Remove(passPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, false, err
		}
		if err := writeDevPassphrase(passPath); err != nil {
			return nil, false, err
		}
		p, err := custody.ReadPassphraseFile(passPath)
		if err != nil {
			return nil, false, err
		}
		defer p.Wipe()
		if _, err := custody.Init(custody.InitRequest{DataDir: dir, Passphrase: p}); err != nil {
			return nil, false, fmt.Errorf("devmode: seal: %w", err)
		}
		created = true
	}
	p, err := custody.ReadPassphraseFile(passPath)
	if err != nil {
		return nil, false, fmt.Errorf("devmode: the development passphrase: %w (start over with --fresh)", err)
	}
	defer p.Wipe()
	v, err = custody.Unseal(custody.UnsealRequest{DataDir: dir, Passphrase: p})
	if err != nil {
		return nil, false, fmt.Errorf("devmode: unseal %s: %w", dir, err)
	}
	return v, created, nil
}

// writeDevPassphrase writes 32 random bytes, base64url-encoded, to a new 0600 file.
func writeDevPassphrase(path string) error {
	raw, err := entropy.Read(32)
	if err != nil {
		return err
	}
	defer clear(raw)
	enc := make([]byte, base64.RawURLEncoding.EncodedLen(len(raw))+1)
	defer clear(enc)
	base64.RawURLEncoding.Encode(enc, raw)
	enc[len(enc)-1] = '\n'
	return writeNewSecret(path, enc)
}

// writeNewSecret writes b to a new file of mode 0600; it never overwrites one.
func writeNewSecret(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// readToken reads a token file; the caller wipes nothing (tokens are strings in the SDK).
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	defer clear(b)
	t := string(bytes.TrimSpace(b))
	if t == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return t, nil
}

// writeFileAtomic writes b under a temporary name and renames it into place, so that a reader
// polling for path never sees it half written.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// agentTokenPath is the token file of a demo agent.
func agentTokenPath(dir, name string) string {
	return filepath.Join(dir, AgentsDir, strings.ToLower(name)+".token")
}
