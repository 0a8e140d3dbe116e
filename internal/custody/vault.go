package custody

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/keys/hd"
)

// Vault is an unsealed root: the 64-byte BIP-39 seed in locked memory, from which keys are
// derived on demand. It is safe for concurrent use. No method returns the seed or a private key;
// Close wipes the seed, after which every use returns ErrSealed.
type Vault struct {
	mu     sync.RWMutex
	seed   *secretBytes // nil once closed
	locked bool
	info   SealInfo
}

func newVault(seed *secretBytes, info SealInfo) *Vault {
	return &Vault{seed: seed, locked: seed.locked, info: info}
}

// Info describes the seal the vault was opened from.
func (v *Vault) Info() SealInfo { return v.info }

// MemoryLocked reports whether the seed's memory is locked against swapping. It is false when
// the process may not lock memory (no CAP_IPC_LOCK and RLIMIT_MEMLOCK exhausted) or on systems
// other than Linux; the operator decides whether that is acceptable (e.g. no swap configured).
func (v *Vault) MemoryLocked() bool { return v.locked }

// Close wipes the seed and releases its memory. It is idempotent. Key handles from the vault
// stop working: their SignDigest returns ErrSealed.
func (v *Vault) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seed.wipe()
	v.seed = nil
	return nil
}

// derive runs fn on the private key at p, derived from the seed for this call only and wiped
// when fn returns. The read lock keeps Close from wiping the seed mid-derivation.
//
// Nothing derived is cached, not even the account node m/44'/60': hd keeps private keys on the
// Go heap, where they cannot be locked or excluded from dumps, so the only long-lived copy of
// key material is the seed in locked memory. hd.DerivePrivate makes that affordable: one
// HMAC-SHA512 per hardened level and no point multiplication (see docs/benchmarks.md).
func (v *Vault) derive(p hd.Path, fn func(*hd.PrivateKey) error) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.seed == nil {
		return ErrSealed
	}
	k, err := hd.DerivePrivate(v.seed.bytes(), p)
	if err != nil {
		return fmt.Errorf("custody: %w", err)
	}
	defer k.Wipe()
	return fn(k)
}

// Key derives the key at path p and returns a signing handle for it.
func (v *Vault) Key(p hd.Path) (*Key, error) {
	key := &Key{vault: v, path: slices.Clone(p)}
	err := v.derive(p, func(k *hd.PrivateKey) (err error) {
		if key.pub, err = k.PublicKey(); err != nil {
			return err
		}
		key.addr, err = k.Address()
		return err
	})
	if err != nil {
		return nil, err
	}
	return key, nil
}

func (v *Vault) String() string {
	v.mu.RLock()
	sealed := v.seed == nil
	v.mu.RUnlock()
	return fmt.Sprintf("custody.Vault{seal: %s, kek: %s, sealed: %t, memory locked: %t}", v.info.SealID, v.info.Kind, sealed, v.locked)
}
func (v *Vault) GoString() string           { return v.String() }
func (v *Vault) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, v.String()) }
func (v *Vault) LogValue() slog.Value {
	v.mu.RLock()
	sealed := v.seed == nil
	v.mu.RUnlock()
	return slog.GroupValue(
		slog.String("seal_id", v.info.SealID.String()),
		slog.String("kek", v.info.Kind.String()),
		slog.Bool("sealed", sealed),
		slog.Bool("memory_locked", v.locked),
	)
}

// Key is a signing handle for one derived key. It holds only public data (path, public key,
// address); each signature derives the private key from the vault's seed and wipes it again.
// It is safe for concurrent use.
type Key struct {
	vault *Vault
	path  hd.Path
	pub   []byte // 33-byte compressed
	addr  common.Address
}

// Path returns the derivation path of the key.
func (k *Key) Path() hd.Path { return slices.Clone(k.path) }

// PublicKey returns the 33-byte compressed secp256k1 public key.
func (k *Key) PublicKey() []byte { return bytes.Clone(k.pub) }

// Address returns the Ethereum address of the key.
func (k *Key) Address() common.Address { return k.addr }

// errSignatureCheck reports a signature that does not verify under the key's public key. With
// deterministic (RFC 6979) nonces a faulty signature can leak the private key, so it is never
// returned.
var errSignatureCheck = errors.New("custody: signature failed verification and was discarded")

// SignDigest signs a 32-byte digest with ECDSA over secp256k1 and returns r || s || v with the
// recovery id v in {0, 1}. Callers are responsible for what the digest commits to; the vault
// signs what it is given. The signature is verified before it is returned.
func (k *Key) SignDigest(digest [32]byte) ([65]byte, error) {
	var sig [65]byte
	err := k.vault.derive(k.path, func(x *hd.PrivateKey) (err error) {
		sig, err = x.SignDigest(digest)
		return err
	})
	if err != nil {
		return [65]byte{}, err
	}
	pub, err := crypto.SigToPub(digest[:], sig[:])
	if err != nil || !bytes.Equal(crypto.CompressPubkey(pub), k.pub) {
		return [65]byte{}, errSignatureCheck
	}
	return sig, nil
}

func (k *Key) String() string {
	return fmt.Sprintf("custody.Key{path: %s, address: %s}", k.path, k.addr.Hex())
}
func (k *Key) GoString() string           { return k.String() }
func (k *Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }
func (k *Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("path", k.path.String()), slog.String("address", k.addr.Hex()))
}
