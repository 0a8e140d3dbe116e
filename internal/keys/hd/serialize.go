package hd

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	secp "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// Mainnet version bytes of BIP-32 serialisation. Testnet (tpub/tprv) and SLIP-132 variants are
// refused as unknown versions: fleetkey only exchanges mainnet-style keys.
var (
	versionXPub = [4]byte{0x04, 0x88, 0xB2, 0x1E}
	versionXPrv = [4]byte{0x04, 0x88, 0xAD, 0xE4}
)

const (
	serializedLen = 78
	checksumLen   = 4
	// maxExtendedKeyChars bounds the input before any base58 arithmetic; 82 bytes encode to
	// at most 112 characters.
	maxExtendedKeyChars = 120
)

// ErrInvalidExtendedKey reports a string that is not a valid BIP-32 extended key; the wrapped
// reason says which rule it breaks.
var ErrInvalidExtendedKey = errors.New("hd: invalid extended key")

// Reasons for ErrInvalidExtendedKey, one per rule of BIP-32's serialisation format and its
// test vector 5. They never contain key material.
var (
	errKeyBase58           = errors.New("not base58")
	errKeyLength           = errors.New("wrong length")
	errKeyChecksum         = errors.New("invalid checksum")
	errKeyVersion          = errors.New("unknown version")
	errKeyZeroDepthParent  = errors.New("zero depth with non-zero parent fingerprint")
	errKeyZeroDepthIndex   = errors.New("zero depth with non-zero child index")
	errKeyPubVersionPrvKey = errors.New("public version with private key data")
	errKeyPrvVersionPubKey = errors.New("private version with public key data")
	errKeyPubPrefix        = errors.New("invalid public key prefix")
	errKeyPrvPrefix        = errors.New("invalid private key prefix")
	errKeyPrvRange         = errors.New("private key not in 1..n-1")
	errKeyPubPoint         = errors.New("public key is not a curve point")
)

// XPub returns the base58check "xpub" serialisation of k's public extended key.
func (k *ExtendedKey) XPub() string {
	var b [serializedLen]byte
	k.header(&b, versionXPub)
	copy(b[45:], k.pub[:])
	return base58CheckEncode(b[:])
}

// xprv returns the base58check "xprv" serialisation of a private k. It stays unexported: only
// the in-package vector tests need it, and no exported API may hand out private keys.
func (k *ExtendedKey) xprv() string {
	if k.priv == nil {
		return ""
	}
	var b [serializedLen]byte
	defer clear(b[:])
	k.header(&b, versionXPrv)
	copy(b[46:], k.priv[:]) // b[45] stays 0x00
	return base58CheckEncode(b[:])
}

func (k *ExtendedKey) header(b *[serializedLen]byte, version [4]byte) {
	copy(b[0:4], version[:])
	b[4] = k.depth
	copy(b[5:9], k.parentFP[:])
	binary.BigEndian.PutUint32(b[9:13], k.childNum)
	copy(b[13:45], k.chainCode[:])
}

// ParseExtendedKey parses a BIP-32 serialised extended key (mainnet xpub or xprv) and checks it
// strictly: checksum, version, the depth-0 invariants, the key-data prefix matching the
// version, a private key in 1..n-1 and a public key on the curve. Every rejection wraps
// ErrInvalidExtendedKey and names the rule, never key material. A valid xprv gives a private
// key; its base58 decoding is not constant time, so xprv input is for tests and one-time
// imports, not for a hot path.
func ParseExtendedKey(s string) (*ExtendedKey, error) {
	k, err := parseExtendedKey(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidExtendedKey, err)
	}
	return k, nil
}

func parseExtendedKey(s string) (*ExtendedKey, error) {
	if len(s) > maxExtendedKeyChars {
		return nil, errKeyLength
	}
	raw, ok := base58Decode(s)
	defer clear(raw)
	if !ok {
		return nil, errKeyBase58
	}
	if len(raw) != serializedLen+checksumLen {
		return nil, errKeyLength
	}
	payload := raw[:serializedLen]
	if !bytes.Equal(checksum(payload), raw[serializedLen:]) {
		return nil, errKeyChecksum
	}

	var version [4]byte
	copy(version[:], payload[0:4])
	isPrivate := version == versionXPrv
	if !isPrivate && version != versionXPub {
		return nil, errKeyVersion
	}
	k := &ExtendedKey{depth: payload[4], childNum: binary.BigEndian.Uint32(payload[9:13])}
	copy(k.parentFP[:], payload[5:9])
	copy(k.chainCode[:], payload[13:45])
	if k.depth == 0 {
		if k.parentFP != [4]byte{} {
			return nil, errKeyZeroDepthParent
		}
		if k.childNum != 0 {
			return nil, errKeyZeroDepthIndex
		}
	}

	keyData := payload[45:]
	prefix := keyData[0]
	if isPrivate {
		switch prefix {
		case 0x00:
		case 0x02, 0x03:
			return nil, errKeyPrvVersionPubKey
		default:
			return nil, errKeyPrvPrefix
		}
		var sk [32]byte
		defer clear(sk[:])
		copy(sk[:], keyData[1:])
		var s secp.ModNScalar
		overflow := s.SetBytes(&sk)
		zero := s.IsZero()
		s.Zero()
		if overflow != 0 || zero {
			return nil, errKeyPrvRange
		}
		k.priv = new([32]byte)
		*k.priv = sk
		if err := k.setPublicFromPrivate(); err != nil {
			k.Wipe()
			return nil, errKeyPrvRange
		}
		return k, nil
	}

	switch prefix {
	case 0x02, 0x03:
	case 0x00:
		return nil, errKeyPubVersionPrvKey
	default:
		return nil, errKeyPubPrefix
	}
	pk, err := secp.ParsePubKey(keyData)
	if err != nil {
		return nil, errKeyPubPoint
	}
	var p secp.JacobianPoint
	pk.AsJacobian(&p)
	k.setPublicPoint(&p.X, &p.Y)
	return k, nil
}

func checksum(b []byte) []byte {
	h := sha256.Sum256(b)
	h = sha256.Sum256(h[:])
	return h[:checksumLen]
}

func base58CheckEncode(payload []byte) string {
	buf := make([]byte, 0, len(payload)+checksumLen)
	buf = append(buf, payload...)
	buf = append(buf, checksum(payload)...)
	defer clear(buf)
	return base58Encode(buf)
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() [256]int8 {
	var t [256]int8
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

// base58Encode converts big-endian bytes to base 58, each leading zero byte becoming '1'.
func base58Encode(in []byte) string {
	zeros := 0
	for zeros < len(in) && in[zeros] == 0 {
		zeros++
	}
	// log(256)/log(58) < 1.37, so this many base-58 digits always suffice.
	digits := make([]byte, (len(in)-zeros)*137/100+1)
	defer clear(digits)
	n := 0
	for _, b := range in[zeros:] {
		carry := int(b)
		for j := 0; j < n; j++ {
			carry += int(digits[j]) << 8
			digits[j] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits[n] = byte(carry % 58)
			carry /= 58
			n++
		}
	}
	out := make([]byte, zeros+n)
	for i := 0; i < zeros; i++ {
		out[i] = '1'
	}
	for i := 0; i < n; i++ {
		out[zeros+i] = base58Alphabet[digits[n-1-i]]
	}
	return string(out)
}

// base58Decode is the inverse of base58Encode; it reports false on a character outside the
// alphabet.
func base58Decode(s string) ([]byte, bool) {
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	// log(58)/log(256) < 0.733.
	bytesLE := make([]byte, (len(s)-zeros)*733/1000+1)
	defer clear(bytesLE)
	n := 0
	for i := zeros; i < len(s); i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, false
		}
		carry := int(d)
		for j := 0; j < n; j++ {
			carry += int(bytesLE[j]) * 58
			bytesLE[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			bytesLE[n] = byte(carry)
			carry >>= 8
			n++
		}
	}
	out := make([]byte, zeros+n)
	for i := 0; i < n; i++ {
		out[zeros+i] = bytesLE[n-1-i]
	}
	return out, true
}
