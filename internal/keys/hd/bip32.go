package hd

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"

	secp "github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/secp256k1"
	"golang.org/x/crypto/ripemd160" //nolint:staticcheck // BIP-32 fingerprints are defined with RIPEMD-160.
)

// BIP-32 errors a caller may branch on.
var (
	// ErrSeedLength reports a seed outside BIP-32's 128..512 bits.
	ErrSeedLength = errors.New("hd: seed must be 16 to 64 bytes")
	// ErrInvalidMaster reports a seed whose HMAC output is not a valid private key (probability
	// below 2^-127); BIP-32 says to use another seed.
	ErrInvalidMaster = errors.New("hd: seed yields an invalid master key")
	// ErrInvalidChild reports the BIP-32 case where a child index yields no valid key
	// (probability below 2^-127); BIP-32 says to proceed with the next index.
	ErrInvalidChild = errors.New("hd: child index yields an invalid key, use the next index")
	// ErrHardenedFromPublic reports an attempt to derive a hardened child from a public key.
	ErrHardenedFromPublic = errors.New("hd: hardened derivation needs a private key")
	// ErrNotPrivate reports an operation that needs a private key on a public key.
	ErrNotPrivate = errors.New("hd: operation needs a private key")
	// ErrMaxDepth reports derivation past depth 255.
	ErrMaxDepth = errors.New("hd: maximum derivation depth 255 reached")
	// ErrWiped reports use of a key after Wipe.
	ErrWiped = errors.New("hd: key has been wiped")
)

// masterKeyHMACKey is the HMAC key BIP-32 fixes for master key generation.
var masterKeyHMACKey = []byte("Bitcoin seed")

// noCopy makes `go vet` (copylocks) flag copies of the struct that embeds it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// ExtendedKey is a BIP-32 extended key: a secp256k1 key pair (or only its public half) with a
// chain code and its position in the tree. Use it through a pointer; it must not be copied.
type ExtendedKey struct {
	_ noCopy

	// priv is the private scalar in a fixed-size array of its own, nil for public keys. Keeping
	// it behind a pointer means an accidental copy or %v of the struct never shows key bytes.
	priv      *[32]byte
	wiped     bool
	pub       [33]byte // compressed public key
	pubXY     [64]byte // affine X || Y, kept for the address
	chainCode [32]byte
	depth     uint8
	parentFP  [4]byte
	childNum  uint32
}

// NewMaster derives the BIP-32 master key from a 16..64-byte seed.
func NewMaster(seed []byte) (*ExtendedKey, error) {
	if len(seed) < 16 || len(seed) > 64 {
		return nil, ErrSeedLength
	}
	mac := hmac.New(sha512.New, masterKeyHMACKey)
	mac.Write(seed)
	var I [64]byte
	mac.Sum(I[:0])
	defer clear(I[:])
	return masterFromI(&I)
}

// masterFromI builds the master key from I = HMAC-SHA512("Bitcoin seed", seed).
func masterFromI(I *[64]byte) (*ExtendedKey, error) {
	var il secp.ModNScalar
	defer il.Zero()
	if il.SetBytes((*[32]byte)(I[:32])) != 0 || il.IsZero() {
		return nil, ErrInvalidMaster
	}
	k := &ExtendedKey{priv: new([32]byte)}
	il.PutBytes(k.priv)
	copy(k.chainCode[:], I[32:])
	if err := k.setPublicFromPrivate(); err != nil {
		k.Wipe()
		return nil, err
	}
	return k, nil
}

// setPublicFromPrivate computes the public key with libsecp256k1's constant-time point
// multiplication, on a temporary copy of the scalar that is wiped afterwards.
func (k *ExtendedKey) setPublicFromPrivate() error {
	sk := make([]byte, 32)
	defer clear(sk)
	copy(sk, k.priv[:])
	x, y := secp256k1.S256().ScalarBaseMult(sk)
	if x == nil {
		return ErrInvalidChild
	}
	x.FillBytes(k.pubXY[:32])
	y.FillBytes(k.pubXY[32:])
	k.pub[0] = 0x02 | byte(y.Bit(0))
	copy(k.pub[1:], k.pubXY[:32])
	return nil
}

// setPublicPoint sets the public key from an affine point (public data only).
func (k *ExtendedKey) setPublicPoint(x, y *secp.FieldVal) {
	x.PutBytesUnchecked(k.pubXY[:32])
	y.PutBytesUnchecked(k.pubXY[32:])
	k.pub[0] = 0x02
	if y.IsOdd() {
		k.pub[0] = 0x03
	}
	copy(k.pub[1:], k.pubXY[:32])
}

// IsPrivate reports whether k holds a private key.
func (k *ExtendedKey) IsPrivate() bool { return k.priv != nil && !k.wiped }

// Depth returns the number of derivation steps from the master key.
func (k *ExtendedKey) Depth() uint8 { return k.depth }

// ChildNumber returns the index k was derived with (0 for a master key).
func (k *ExtendedKey) ChildNumber() uint32 { return k.childNum }

// Child derives child i (hardened if i >= HardenedOffset) as specified by BIP-32 CKDpriv, or
// CKDpub for a public k. It returns ErrInvalidChild in BIP-32's invalid-key case; the caller
// then moves on to the next index.
func (k *ExtendedKey) Child(i uint32) (*ExtendedKey, error) {
	if k.wiped {
		return nil, ErrWiped
	}
	if k.depth == MaxDepth {
		return nil, ErrMaxDepth
	}
	hardened := i >= HardenedOffset
	if hardened && k.priv == nil {
		return nil, ErrHardenedFromPublic
	}

	var data [37]byte
	defer clear(data[:])
	if hardened {
		copy(data[1:33], k.priv[:]) // 0x00 || ser256(k_par)
	} else {
		copy(data[:33], k.pub[:])
	}
	binary.BigEndian.PutUint32(data[33:], i)
	mac := hmac.New(sha512.New, k.chainCode[:])
	mac.Write(data[:])
	var I [64]byte
	mac.Sum(I[:0])
	defer clear(I[:])
	return k.childFromI(i, &I)
}

// childFromI finishes CKDpriv/CKDpub for index i given I = HMAC-SHA512(c_par, data).
func (k *ExtendedKey) childFromI(i uint32, I *[64]byte) (*ExtendedKey, error) {
	var il secp.ModNScalar
	defer il.Zero()
	if il.SetBytes((*[32]byte)(I[:32])) != 0 {
		return nil, ErrInvalidChild
	}

	child := &ExtendedKey{depth: k.depth + 1, childNum: i}
	copy(child.chainCode[:], I[32:])
	copy(child.parentFP[:], k.fingerprint())

	if k.priv != nil {
		// k_child = IL + k_par (mod n), in fixed-size constant-time arithmetic.
		var kp secp.ModNScalar
		kp.SetBytes(k.priv)
		il.Add(&kp)
		kp.Zero()
		if il.IsZero() {
			return nil, ErrInvalidChild
		}
		child.priv = new([32]byte)
		il.PutBytes(child.priv)
		if err := child.setPublicFromPrivate(); err != nil {
			child.Wipe()
			return nil, err
		}
		return child, nil
	}

	// K_child = IL·G + K_par. Everything here is public (derivable from the xpub), so decred's
	// variable-time point arithmetic is acceptable.
	var ilG, parent, sum secp.JacobianPoint
	secp.ScalarBaseMultNonConst(&il, &ilG)
	parent.X.SetByteSlice(k.pubXY[:32])
	parent.Y.SetByteSlice(k.pubXY[32:])
	parent.Z.SetInt(1)
	secp.AddNonConst(&ilG, &parent, &sum)
	if (sum.X.IsZero() && sum.Y.IsZero()) || sum.Z.IsZero() {
		return nil, ErrInvalidChild
	}
	sum.ToAffine()
	child.setPublicPoint(&sum.X, &sum.Y)
	return child, nil
}

// Derive follows p from k (p is relative to k; for a master key it is the full path). Every
// intermediate key is wiped; only the result remains and the caller wipes it.
func (k *ExtendedKey) Derive(p Path) (*ExtendedKey, error) {
	if k.wiped {
		return nil, ErrWiped
	}
	if int(k.depth)+len(p) > MaxDepth {
		return nil, ErrMaxDepth
	}
	cur := k.clone()
	for level, i := range p {
		next, err := cur.Child(i)
		cur.Wipe()
		if err != nil {
			return nil, fmt.Errorf("hd: derive %s, level %d: %w", p, level+1, err)
		}
		cur = next
	}
	return cur, nil
}

func (k *ExtendedKey) clone() *ExtendedKey {
	c := &ExtendedKey{
		wiped:     k.wiped,
		pub:       k.pub,
		pubXY:     k.pubXY,
		chainCode: k.chainCode,
		depth:     k.depth,
		parentFP:  k.parentFP,
		childNum:  k.childNum,
	}
	if k.priv != nil {
		c.priv = new([32]byte)
		*c.priv = *k.priv
	}
	return c
}

// Public returns the public (neutered) extended key of k; for a public k it returns a copy.
func (k *ExtendedKey) Public() *ExtendedKey {
	c := k.clone()
	if c.priv != nil {
		clear(c.priv[:])
		c.priv = nil
	}
	return c
}

// PublicKey returns the 33-byte compressed SEC1 public key.
func (k *ExtendedKey) PublicKey() []byte {
	out := make([]byte, 33)
	copy(out, k.pub[:])
	return out
}

// Address returns the Ethereum address of k's public key; Address().Hex() is EIP-55 mixed case.
func (k *ExtendedKey) Address() common.Address {
	return common.BytesToAddress(crypto.Keccak256(k.pubXY[:])[12:])
}

// SignDigest signs a 32-byte digest with ECDSA (libsecp256k1, RFC 6979 nonces, low-S) and
// returns r || s || v with v the recovery id 0 or 1.
func (k *ExtendedKey) SignDigest(digest [32]byte) ([65]byte, error) {
	if k.wiped {
		return [65]byte{}, ErrWiped
	}
	if k.priv == nil {
		return [65]byte{}, ErrNotPrivate
	}
	return signDigest(k.priv, digest)
}

// signDigest signs with libsecp256k1 from a temporary copy of the scalar that is wiped after.
func signDigest(priv *[32]byte, digest [32]byte) ([65]byte, error) {
	var out [65]byte
	sk := make([]byte, 32)
	defer clear(sk)
	copy(sk, priv[:])
	sig, err := secp256k1.Sign(digest[:], sk)
	if err != nil {
		return out, fmt.Errorf("hd: sign: %w", err)
	}
	copy(out[:], sig)
	return out, nil
}

// fingerprint returns the first 4 bytes of HASH160 of the public key (BIP-32 key identifier).
func (k *ExtendedKey) fingerprint() []byte {
	s := sha256.Sum256(k.pub[:])
	h := ripemd160.New()
	h.Write(s[:])
	return h.Sum(nil)[:4]
}

// Wipe clears the private key, chain code and every other field; k is unusable afterwards.
// Wipe is idempotent.
func (k *ExtendedKey) Wipe() {
	if k.priv != nil {
		clear(k.priv[:])
		k.priv = nil
	}
	clear(k.pub[:])
	clear(k.pubXY[:])
	clear(k.chainCode[:])
	clear(k.parentFP[:])
	k.depth, k.childNum = 0, 0
	k.wiped = true
}

const redacted = "hd.ExtendedKey(private, redacted)"

// String returns the xpub of a public key and a fixed redacted text for a private key.
func (k *ExtendedKey) String() string {
	switch {
	case k == nil:
		return "hd.ExtendedKey(nil)"
	case k.wiped:
		return "hd.ExtendedKey(wiped)"
	case k.priv != nil:
		return redacted
	default:
		return k.XPub()
	}
}

// GoString redacts like String, so %#v shows no key bytes.
func (k *ExtendedKey) GoString() string { return k.String() }

// Format makes every fmt verb (%x and %q included) print String's text.
func (k *ExtendedKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue makes log/slog record String's text.
func (k *ExtendedKey) LogValue() slog.Value { return slog.StringValue(k.String()) }
