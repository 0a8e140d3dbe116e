package custody

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Size limits for secret files: far above any real content, low enough that a wrong path (a log
// file, a device) is refused instead of read into locked memory.
const (
	maxPassphraseFile = 4 << 10
	maxMnemonicFile   = 4 << 10
	maxShareFile      = 16 << 10
)

// MinPassphraseLen is the shortest passphrase Init accepts (bytes). Argon2id slows guessing but
// cannot rescue a short passphrase; Unseal accepts any non-empty passphrase.
const MinPassphraseLen = 12

// readSecretFile reads a small secret file straight into protected memory, without heap
// copies. A regular file that group or others may access is refused (like ssh refuses private
// keys): the passphrase or share in it is already exposed to other local users. Non-regular files
// (a pipe, /dev/fd/N from a shell here-document) are read as they are.
func readSecretFile(path string, limit int) (*secretBytes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	if fi.Mode().IsRegular() {
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return nil, fmt.Errorf("%w: %s has mode %04o, run chmod 600 on it", ErrInsecurePermissions, path, perm)
		}
		if fi.Size() > int64(limit) {
			return nil, fmt.Errorf("custody: %s is too large for a secret file (%d bytes, at most %d)", path, fi.Size(), limit)
		}
	}
	s, err := newSecret(limit + 1)
	if err != nil {
		return nil, err
	}
	n := 0
	for n < len(s.mem) {
		m, err := f.Read(s.mem[n:])
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.wipe()
			return nil, fmt.Errorf("custody: read %s: %w", path, err)
		}
	}
	if n > limit {
		s.wipe()
		return nil, fmt.Errorf("custody: %s is too large for a secret file (more than %d bytes)", path, limit)
	}
	s.mem = s.mem[:n]
	return s, nil
}

// ReadPassphraseFile reads a passphrase from a file that only its owner may access (mode 0600
// or stricter; see ErrInsecurePermissions). One trailing newline ("\n" or "\r\n") is removed,
// since editors add one; anything else, spaces included, is part of the passphrase. An empty
// passphrase is refused. The bytes are used as they are, without Unicode normalization.
func ReadPassphraseFile(path string) (Passphrase, error) {
	s, err := readSecretFile(path, maxPassphraseFile)
	if err != nil {
		return Passphrase{}, err
	}
	b := s.mem
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	if len(b) == 0 {
		s.wipe()
		return Passphrase{}, fmt.Errorf("custody: %s: empty passphrase", path)
	}
	s.mem = b
	return Passphrase{s}, nil
}

// ReadMnemonicFile reads a BIP-39 mnemonic to import (same permission rule as
// ReadPassphraseFile). Init checks it with hd.CheckImportMnemonic.
func ReadMnemonicFile(path string) (Mnemonic, error) {
	s, err := readSecretFile(path, maxMnemonicFile)
	if err != nil {
		return Mnemonic{}, err
	}
	defer s.wipe()
	m, err := NewMnemonic(s.mem)
	if err != nil {
		return Mnemonic{}, fmt.Errorf("%w (%s)", err, path)
	}
	return m, nil
}

// ReadShareFile reads a share file written by Init (same permission rule as
// ReadPassphraseFile) and checks that its header matches its mnemonic; see ParseShareFile.
func ReadShareFile(path string) (*Share, error) {
	s, err := readSecretFile(path, maxShareFile)
	if err != nil {
		return nil, err
	}
	defer s.wipe()
	sh, err := ParseShareFile(s.mem)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return sh, nil
}

// writeTemp writes data to a new temporary file in dir with mode 0600 and syncs it.
func writeTemp(dir, pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("custody: %w", err)
	}
	name := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return "", fmt.Errorf("custody: write %s: %w", name, err)
	}
	return name, nil
}

// writeNewFile creates path (which must not exist) with mode 0600 and writes data through fn.
func writeNewFile(path string, fn func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("custody: %w", err)
	}
	err = fn(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("custody: write %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename or file creation in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("custody: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("custody: sync %s: %w", dir, err)
	}
	return nil
}

// mkdirOwned creates dir, and any missing parents, with mode 0700 and returns the directories it
// created, deepest first, so that a failed Init can remove exactly those.
func mkdirOwned(dir string) (created []string, err error) {
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return nil, fmt.Errorf("custody: %s is not a directory", dir)
		}
		return nil, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("custody: %w", err)
	}
	for p := dir; ; {
		created = append(created, p)
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		if _, err := os.Stat(parent); err == nil {
			break
		}
		p = parent
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	return created, nil
}

// removeDirs removes the (empty) directories mkdirOwned created.
func removeDirs(dirs []string) {
	for _, d := range dirs {
		_ = os.Remove(d)
	}
}
