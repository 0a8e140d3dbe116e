package hd

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/secp256k1"

	secp "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// PrivateKey is a secp256k1 private key derived along a BIP-32 path, without the metadata
// (public key, parent fingerprint, chain code) that extended-key serialisation needs. It is
// what signing needs, and it is cheap: DerivePrivate costs one HMAC-SHA512 per hardened level
// and no point multiplication, whereas ExtendedKey.Derive computes every intermediate public
// key for the BIP-32 fingerprints. A PrivateKey is not safe for concurrent use.
type PrivateKey struct {
	_     noCopy
	priv  *[32]byte
	wiped bool
}

// DerivePrivate derives the private key at path p (from the master) directly from a 16..64-byte
// BIP-32 seed. The result equals NewMaster(seed) followed by Derive(p) and is wiped by the
// caller. Hardened levels need no public key; a non-hardened level computes the parent's public
// key with libsecp256k1's constant-time multiplication, as Child does.
func DerivePrivate(seed []byte, p Path) (*PrivateKey, error) {
	if len(seed) < 16 || len(seed) > 64 {
		return nil, ErrSeedLength
	}
	if len(p) > MaxDepth {
		return nil, ErrMaxDepth
	}
	var I [64]byte
	defer clear(I[:])
	mac := hmac.New(sha512.New, masterKeyHMACKey)
	mac.Write(seed)
	mac.Sum(I[:0])

	var k, il secp.ModNScalar
	defer k.Zero()
	defer il.Zero()
	if k.SetBytes((*[32]byte)(I[:32])) != 0 || k.IsZero() {
		return nil, ErrInvalidMaster
	}
	var chainCode [32]byte
	defer clear(chainCode[:])
	copy(chainCode[:], I[32:])

	var data [37]byte
	defer clear(data[:])
	for level, i := range p {
		if i >= HardenedOffset {
			data[0] = 0
			k.PutBytesUnchecked(data[1:33])
		} else if err := compressedPublic(&k, (*[33]byte)(data[:33])); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(data[33:], i)
		mac := hmac.New(sha512.New, chainCode[:])
		mac.Write(data[:])
		mac.Sum(I[:0])
		if il.SetBytes((*[32]byte)(I[:32])) != 0 {
			return nil, fmt.Errorf("hd: derive %s, level %d: %w", p, level+1, ErrInvalidChild)
		}
		il.Add(&k)
		if il.IsZero() {
			return nil, fmt.Errorf("hd: derive %s, level %d: %w", p, level+1, ErrInvalidChild)
		}
		k.Set(&il)
		copy(chainCode[:], I[32:])
	}
	out := &PrivateKey{priv: new([32]byte)}
	k.PutBytes(out.priv)
	return out, nil
}

// compressedPublic writes the compressed public key of scalar k using the constant-time
// libsecp256k1 multiplication on a temporary byte copy that is wiped afterwards.
func compressedPublic(k *secp.ModNScalar, out *[33]byte) error {
	sk := make([]byte, 32)
	defer clear(sk)
	k.PutBytesUnchecked(sk)
	x, y := secp256k1.S256().ScalarBaseMult(sk)
	if x == nil {
		return ErrInvalidChild
	}
	out[0] = 0x02 | byte(y.Bit(0))
	x.FillBytes(out[1:])
	return nil
}

func (k *PrivateKey) usable() error {
	if k == nil || k.wiped || k.priv == nil {
		return ErrWiped
	}
	return nil
}

// SignDigest signs a 32-byte digest with ECDSA (libsecp256k1, RFC 6979 nonces, low-S) and
// returns r || s || v with v the recovery id 0 or 1.
func (k *PrivateKey) SignDigest(digest [32]byte) ([65]byte, error) {
	if err := k.usable(); err != nil {
		return [65]byte{}, err
	}
	return signDigest(k.priv, digest)
}

// publicXY returns the 64-byte uncompressed public key without the 0x04 prefix.
func (k *PrivateKey) publicXY() ([64]byte, error) {
	var xy [64]byte
	if err := k.usable(); err != nil {
		return xy, err
	}
	sk := make([]byte, 32)
	defer clear(sk)
	copy(sk, k.priv[:])
	x, y := secp256k1.S256().ScalarBaseMult(sk)
	if x == nil {
		return xy, ErrInvalidChild
	}
	x.FillBytes(xy[:32])
	y.FillBytes(xy[32:])
	return xy, nil
}

// PublicKey returns the 33-byte compressed public key (computed on each call).
func (k *PrivateKey) PublicKey() ([]byte, error) {
	xy, err := k.publicXY()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 33)
	out[0] = 0x02 | xy[63]&1
	copy(out[1:], xy[:32])
	return out, nil
}

// Address returns the Ethereum address of the key (computed on each call).
func (k *PrivateKey) Address() (common.Address, error) {
	xy, err := k.publicXY()
	if err != nil {
		return common.Address{}, err
	}
	return common.BytesToAddress(crypto.Keccak256(xy[:])[12:]), nil
}

// Wipe clears the key; it is idempotent and k is unusable afterwards.
func (k *PrivateKey) Wipe() {
	if k.priv != nil {
		clear(k.priv[:])
		k.priv = nil
	}
	k.wiped = true
}

const redactedPrivate = "hd.PrivateKey(redacted)"

// String, GoString, Format and LogValue never show key bytes.
func (k *PrivateKey) String() string             { return redactedPrivate }
func (k *PrivateKey) GoString() string           { return redactedPrivate }
func (k *PrivateKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedPrivate) }
func (k *PrivateKey) LogValue() slog.Value       { return slog.StringValue(redactedPrivate) }
