package facilitator

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

const redacted = "[REDACTED]"

// ErrKeyClosed is returned when a RelayerKey is used after Close.
var ErrKeyClosed = errors.New("facilitator: relayer key closed")

// ErrInsecureKeyFile reports a key file that group or others may access.
var ErrInsecureKeyFile = errors.New("facilitator: insecure key file permissions")

// RelayerKey is the secp256k1 key of the account that sends settlement transactions and pays
// their gas. It never prints, logs or marshals its value, offers no way to read it back, and
// wipes it on Close.
type RelayerKey struct {
	mu   sync.RWMutex
	key  *ecdsa.PrivateKey
	addr common.Address
}

// NewRelayerKey parses a hex private key (64 hex digits, optional 0x prefix, surrounding
// whitespace ignored). The caller keeps ownership of hexKey and should wipe it.
func NewRelayerKey(hexKey []byte) (*RelayerKey, error) {
	s := trimSpace(hexKey)
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	if len(s) != 64 {
		return nil, errors.New("facilitator: relayer key is not 64 hex digits")
	}
	raw := make([]byte, 32)
	defer clear(raw)
	if _, err := hex.Decode(raw, s); err != nil {
		return nil, errors.New("facilitator: relayer key is not hex")
	}
	k, err := crypto.ToECDSA(raw)
	if err != nil {
		return nil, errors.New("facilitator: relayer key is not a valid secp256k1 scalar")
	}
	return &RelayerKey{key: k, addr: crypto.PubkeyToAddress(k.PublicKey)}, nil
}

func trimSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// maxKeyFile bounds what ReadRelayerKeyFile reads: a hex key with a prefix and newline is 67
// bytes, so a larger file is the wrong file.
const maxKeyFile = 256

// ReadRelayerKeyFile reads a hex private key from a file that only its owner may access (mode
// 0600 or stricter, as ssh requires of private keys); a regular file readable or writable by
// group or others is refused with ErrInsecureKeyFile.
func ReadRelayerKeyFile(path string) (*RelayerKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("facilitator: relayer key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("facilitator: relayer key file: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("facilitator: relayer key file %s is a directory", path)
	}
	// Non-regular files (a pipe, /dev/fd/N from a shell) are read as they are.
	if perm := fi.Mode().Perm(); fi.Mode().IsRegular() && perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, run chmod 600 on it", ErrInsecureKeyFile, path, perm)
	}
	buf := make([]byte, maxKeyFile+1)
	defer clear(buf)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("facilitator: read relayer key file %s: %w", path, err)
	}
	if n > maxKeyFile {
		return nil, fmt.Errorf("facilitator: relayer key file %s is too large (more than %d bytes)", path, maxKeyFile)
	}
	k, err := NewRelayerKey(buf[:n])
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return k, nil
}

// Address returns the relayer's address.
func (k *RelayerKey) Address() common.Address { return k.addr }

// signTx signs tx for the signer's chain.
func (k *RelayerKey) signTx(tx *types.Transaction, signer types.Signer) (*types.Transaction, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.key == nil {
		return nil, ErrKeyClosed
	}
	return types.SignTx(tx, signer, k.key)
}

// Close wipes the key; signing fails afterwards. It is safe to call more than once.
func (k *RelayerKey) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		clear(k.key.D.Bits())
		k.key = nil
	}
	return nil
}

// String never shows the key.
func (k *RelayerKey) String() string {
	return "facilitator.RelayerKey(" + k.addr.Hex() + ", " + redacted + ")"
}

// GoString never shows the key.
func (k *RelayerKey) GoString() string { return k.String() }

// Format never shows the key, whatever the verb.
func (k *RelayerKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue never shows the key.
func (k *RelayerKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText never shows the key.
func (k *RelayerKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }
