package custody

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// SealFileName is the name of the seal inside the data directory.
const SealFileName = "custody.seal"

// Format version 1 (docs/custody.md has the table):
//
//	magic[8] version[2] kind[1] reserved[1] sealID[16] created[8] paramsLen[2] params[paramsLen]
//	keyCheck[32] nonce[24] ctLen[2] ciphertext[ctLen] sha256[32]
//
// The AEAD's additional data is every byte before the ciphertext; the trailing SHA-256 covers
// every byte before it.
const formatVersion = 1

// sealMagic starts with a byte that is not 7-bit ASCII and ends with a newline, so transfers
// that strip the high bit or rewrite line endings break the magic instead of the ciphertext.
var sealMagic = [8]byte{0x89, 'F', 'K', 'S', 'E', 'A', 'L', '\n'}

// KEKKind says how a seal's key-encryption key is held.
type KEKKind uint8

const (
	// KEKPassphrase: the KEK is Argon2id(passphrase, salt).
	KEKPassphrase KEKKind = 1
	// KEKShares: the KEK is random and split into SLIP-0039 shares.
	KEKShares KEKKind = 2
)

func (k KEKKind) String() string {
	switch k {
	case KEKPassphrase:
		return "passphrase"
	case KEKShares:
		return "shares"
	}
	return fmt.Sprintf("kek-kind-%d", uint8(k))
}

// MarshalText encodes the kind by name.
func (k KEKKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Fixed sizes of the v1 layout.
const (
	offVersion   = 8
	offKind      = 10
	offReserved  = 11
	offSealID    = 12
	offCreated   = 28
	offParamsLen = 36
	offParams    = 38

	saltLen         = 16
	keyCheckLen     = 32
	nonceLen        = chacha20poly1305.NonceSizeX
	checksumLen     = sha256.Size
	argonParamsLen  = 4 + 4 + 1 + saltLen
	sharesParamsLen = 1 + 1 + 2

	secretTypeBIP39 = 1 // plaintext[0]: the rest is BIP-39 entropy
	maxEntropyLen   = 32
	minEntropyLen   = 16
	// The smallest file: passphrase-free kinds have at least sharesParamsLen of params, and the
	// ciphertext holds at least the type byte, 16 bytes of entropy and the tag.
	minSealLen = offParams + sharesParamsLen + keyCheckLen + nonceLen + 2 + 1 + minEntropyLen + chacha20poly1305.Overhead + checksumLen
	maxSealLen = offParams + argonParamsLen + keyCheckLen + nonceLen + 2 + 1 + maxEntropyLen + chacha20poly1305.Overhead + checksumLen
)

// Share limits: SLIP-0039 encodes member counts in 4 bits.
const (
	minShares = 2
	maxShares = 16
)

// HKDF labels: the KEK is never used directly; each use gets its own key, and the version in the
// label keeps a future format from reusing a key for another purpose.
const (
	labelSealKey  = "fleetkey custody v1 seal key"
	labelKeyCheck = "fleetkey custody v1 key check"
)

// SealID identifies one seal; it is random, printed on every share file and bound into the KEK
// derivations as the HKDF salt.
type SealID [16]byte

func (id SealID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText encodes the id as hex, so logs and JSON show what share files show.
func (id SealID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// IsZero reports whether id is unset (a share typed in without its file header).
func (id SealID) IsZero() bool { return id == SealID{} }

// ParseSealID parses the 32 hex digits String produces.
func ParseSealID(s string) (SealID, error) {
	var id SealID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("custody: seal id must be %d hex digits", 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return SealID{}, fmt.Errorf("custody: seal id: %w", err)
	}
	return id, nil
}

// Argon2Params are the Argon2id cost parameters of a passphrase seal.
type Argon2Params struct {
	MemoryKiB uint32 // m, in KiB
	Time      uint32 // t, passes
	Threads   uint8  // p, lanes
}

// DefaultArgon2Params returns the parameters Init uses unless told otherwise: RFC 9106's second
// recommended option (§4), m = 64 MiB, t = 3 passes, p = 4 lanes. The seal is opened once per
// daemon start, so most of a second is acceptable, and 64 MiB fits the small containers the
// daemon runs in; operators with more memory raise the cost at init (the parameters live in the
// seal). docs/custody.md gives the reasoning and the figures.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 4}
}

// MinArgon2Params returns the floor: Init refuses to create, and Unseal to open, a passphrase
// seal with less memory or fewer passes, so that a planted or downgraded seal cannot make an
// operator's passphrase go through a cheap KDF. Fewer lanes are allowed: they cost an attacker
// nothing and only slow the defender down.
func MinArgon2Params() Argon2Params { return argon2Floor }

// argon2Floor is a variable only so tests can use cheap parameters; see argon2Floor.
var argon2Floor = Argon2Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 1}

// maxArgon2Params is the ceiling: a hostile seal must not make the daemon allocate terabytes or
// spin for hours.
var maxArgon2Params = Argon2Params{MemoryKiB: 4 * 1024 * 1024, Time: 64, Threads: 64}

func (p Argon2Params) check() error {
	if p.MemoryKiB < argon2Floor.MemoryKiB || p.Time < argon2Floor.Time || p.Threads < argon2Floor.Threads {
		return fmt.Errorf("%w: m=%d KiB t=%d p=%d, minimum m=%d KiB t=%d p=%d", ErrKDFTooWeak,
			p.MemoryKiB, p.Time, p.Threads, argon2Floor.MemoryKiB, argon2Floor.Time, argon2Floor.Threads)
	}
	if p.MemoryKiB > maxArgon2Params.MemoryKiB || p.Time > maxArgon2Params.Time || p.Threads > maxArgon2Params.Threads {
		return fmt.Errorf("custody: argon2id parameters above the maximum m=%d KiB t=%d p=%d",
			maxArgon2Params.MemoryKiB, maxArgon2Params.Time, maxArgon2Params.Threads)
	}
	return nil
}

// header is the parsed, authenticated-as-additional-data part of a seal.
type header struct {
	kind    KEKKind
	sealID  SealID
	created int64 // Unix seconds

	argon Argon2Params // KEKPassphrase
	salt  [saltLen]byte

	threshold, count uint8  // KEKShares
	identifier       uint16 // SLIP-0039 identifier of the split (15 bits)

	keyCheck [keyCheckLen]byte
	nonce    [nonceLen]byte
}

// marshal encodes h followed by the ciphertext length: exactly the additional data.
func (h *header) marshal(ctLen int) []byte {
	b := make([]byte, 0, maxSealLen)
	b = append(b, sealMagic[:]...)
	b = binary.BigEndian.AppendUint16(b, formatVersion)
	b = append(b, byte(h.kind), 0)
	b = append(b, h.sealID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.created))
	switch h.kind {
	case KEKPassphrase:
		b = binary.BigEndian.AppendUint16(b, argonParamsLen)
		b = binary.BigEndian.AppendUint32(b, h.argon.MemoryKiB)
		b = binary.BigEndian.AppendUint32(b, h.argon.Time)
		b = append(b, h.argon.Threads)
		b = append(b, h.salt[:]...)
	case KEKShares:
		b = binary.BigEndian.AppendUint16(b, sharesParamsLen)
		b = append(b, h.threshold, h.count)
		b = binary.BigEndian.AppendUint16(b, h.identifier)
	default:
		panic("custody: marshal of unknown kek kind")
	}
	b = append(b, h.keyCheck[:]...)
	b = append(b, h.nonce[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(ctLen))
	return b
}

// sealFile is a parsed seal: the header, the exact bytes authenticated as additional data, and
// the ciphertext.
type sealFile struct {
	header
	ad, ct []byte
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptSeal}, args...)...)
}

// parseSeal checks the structure and checksum of a seal file. It authenticates nothing: the
// checksum only tells accidental damage apart from a wrong passphrase; the AEAD and the key
// check do the authentication.
func parseSeal(b []byte) (*sealFile, error) {
	if len(b) < offVersion+2 {
		return nil, corrupt("truncated (%d bytes)", len(b))
	}
	if subtle.ConstantTimeCompare(b[:len(sealMagic)], sealMagic[:]) != 1 {
		return nil, corrupt("not a fleetkey seal (bad magic)")
	}
	if v := binary.BigEndian.Uint16(b[offVersion:]); v != formatVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d", ErrUnsupportedVersion, v, formatVersion)
	}
	if len(b) < minSealLen {
		return nil, corrupt("truncated (%d bytes)", len(b))
	}
	if len(b) > maxSealLen {
		return nil, corrupt("trailing data (%d bytes)", len(b))
	}
	body, sum := b[:len(b)-checksumLen], b[len(b)-checksumLen:]
	want := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(want[:], sum) != 1 {
		return nil, corrupt("checksum mismatch (file damaged or truncated)")
	}
	sf := &sealFile{}
	h := &sf.header
	h.kind = KEKKind(b[offKind])
	if b[offReserved] != 0 {
		return nil, corrupt("reserved byte is not zero")
	}
	copy(h.sealID[:], b[offSealID:])
	h.created = int64(binary.BigEndian.Uint64(b[offCreated:]))
	paramsLen := int(binary.BigEndian.Uint16(b[offParamsLen:]))
	p := b[offParams:]
	switch h.kind {
	case KEKPassphrase:
		if paramsLen != argonParamsLen {
			return nil, corrupt("argon2id parameters length %d", paramsLen)
		}
		h.argon.MemoryKiB = binary.BigEndian.Uint32(p)
		h.argon.Time = binary.BigEndian.Uint32(p[4:])
		h.argon.Threads = p[8]
		copy(h.salt[:], p[9:])
	case KEKShares:
		if paramsLen != sharesParamsLen {
			return nil, corrupt("shares parameters length %d", paramsLen)
		}
		h.threshold, h.count = p[0], p[1]
		h.identifier = binary.BigEndian.Uint16(p[2:])
		if h.threshold < 2 || h.threshold > h.count || h.count > maxShares {
			return nil, corrupt("impossible share parameters %d of %d", h.threshold, h.count)
		}
		if h.identifier >= 1<<15 {
			return nil, corrupt("share identifier out of range")
		}
	default:
		return nil, corrupt("unknown kek kind %d", b[offKind])
	}
	off := offParams + paramsLen
	rest := body[off:]
	if len(rest) < keyCheckLen+nonceLen+2 {
		return nil, corrupt("truncated")
	}
	copy(h.keyCheck[:], rest)
	copy(h.nonce[:], rest[keyCheckLen:])
	ctLen := int(binary.BigEndian.Uint16(rest[keyCheckLen+nonceLen:]))
	adLen := off + keyCheckLen + nonceLen + 2
	if len(body) != adLen+ctLen {
		return nil, corrupt("ciphertext length %d does not match the file", ctLen)
	}
	if ctLen < 1+minEntropyLen+chacha20poly1305.Overhead || ctLen > 1+maxEntropyLen+chacha20poly1305.Overhead {
		return nil, corrupt("ciphertext length %d out of range", ctLen)
	}
	sf.ad = b[:adLen]
	sf.ct = b[adLen : adLen+ctLen]
	return sf, nil
}

// sealKeys derives the AEAD key and the key-check value from the KEK. The caller clears both.
func sealKeys(kek []byte, id SealID) (aeadKey, check []byte) {
	aeadKey, err := hkdf.Key(sha256.New, kek, id[:], labelSealKey, chacha20poly1305.KeySize)
	if err != nil {
		panic("custody: hkdf: " + err.Error()) // only possible for absurd output lengths
	}
	check, err = hkdf.Key(sha256.New, kek, id[:], labelKeyCheck, keyCheckLen)
	if err != nil {
		panic("custody: hkdf: " + err.Error())
	}
	return aeadKey, check
}

// encodeSeal encrypts the root entropy under kek and returns the complete file. h.kind, sealID,
// created and the kind's parameters must be set; the nonce and key check are filled in here.
func encodeSeal(h *header, kek []byte, entropy []byte, nonce [nonceLen]byte) ([]byte, error) {
	if len(entropy) < minEntropyLen || len(entropy) > maxEntropyLen {
		return nil, fmt.Errorf("custody: root entropy of %d bytes", len(entropy))
	}
	aeadKey, check := sealKeys(kek, h.sealID)
	defer clear(aeadKey)
	copy(h.keyCheck[:], check)
	h.nonce = nonce
	aead, err := chacha20poly1305.NewX(aeadKey)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	pt, err := newSecret(1 + len(entropy))
	if err != nil {
		return nil, err
	}
	defer pt.wipe()
	pt.mem[0] = secretTypeBIP39
	copy(pt.mem[1:], entropy)
	ad := h.marshal(len(pt.mem) + aead.Overhead())
	// The additional data is also the start of the file; Seal may not write over it, so the
	// output starts as a copy.
	out := aead.Seal(append(make([]byte, 0, maxSealLen), ad...), h.nonce[:], pt.mem, ad)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...), nil
}

// errKeyCheck means the KEK is not the one the seal was made with: a wrong passphrase or a wrong
// set of shares. The caller maps it to the specific error.
var errKeyCheck = errors.New("custody: key check failed")

// open decrypts the seal with kek and returns the root entropy in protected memory.
func (sf *sealFile) open(kek []byte) (*secretBytes, error) {
	aeadKey, check := sealKeys(kek, sf.sealID)
	defer clear(aeadKey)
	ok := subtle.ConstantTimeCompare(check, sf.keyCheck[:]) == 1
	clear(check)
	if !ok {
		return nil, errKeyCheck
	}
	aead, err := chacha20poly1305.NewX(aeadKey)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	pt, err := newSecret(len(sf.ct) - aead.Overhead())
	if err != nil {
		return nil, err
	}
	if _, err := aead.Open(pt.mem[:0], sf.nonce[:], sf.ct, sf.ad); err != nil {
		pt.wipe()
		// The key is right (it passed the key check), so the header or ciphertext changed.
		return nil, corrupt("authentication failed")
	}
	if pt.mem[0] != secretTypeBIP39 || (len(pt.mem)-1)%4 != 0 {
		pt.wipe()
		return nil, corrupt("unknown secret type")
	}
	ent, err := newSecret(len(pt.mem) - 1)
	if err != nil {
		pt.wipe()
		return nil, err
	}
	copy(ent.mem, pt.mem[1:])
	pt.wipe()
	return ent, nil
}

func (h *header) createdTime() time.Time { return time.Unix(h.created, 0).UTC() }
