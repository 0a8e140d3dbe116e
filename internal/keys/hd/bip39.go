package hd

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// BIP-39 errors a caller may branch on. Messages never contain mnemonic words.
var (
	// ErrEntropyLength reports entropy that is not 16..32 bytes in steps of 4.
	ErrEntropyLength = errors.New("hd: entropy must be 16, 20, 24, 28 or 32 bytes")
	// ErrMnemonicLength reports a mnemonic whose word count is not 12, 15, 18, 21 or 24.
	ErrMnemonicLength = errors.New("hd: mnemonic must have 12, 15, 18, 21 or 24 words")
	// ErrNotNormalized reports a mnemonic that is not in the canonical form (lowercase words
	// separated by single ASCII spaces, nothing else); see [NormalizeMnemonic].
	ErrNotNormalized = errors.New("hd: mnemonic is not normalized (lowercase words separated by single spaces)")
	// ErrUnknownWord reports a word that is not in the BIP-39 English list; the wrapping error
	// names the word's position, never the word.
	ErrUnknownWord = errors.New("hd: word not in the BIP-39 English list")
	// ErrChecksum reports a mnemonic whose checksum bits do not match its entropy.
	ErrChecksum = errors.New("hd: mnemonic checksum mismatch")
)

const (
	wordCount = 2048
	// maxWordLen is the longest English BIP-39 word; every word fits one uint64, which makes a
	// constant-time scan of the list cheap.
	maxWordLen = 8
	pbkdf2Iter = 2048
	seedLen    = 64
)

//go:embed wordlists/english.txt
var englishText string

// englishPacked holds each word as up to 8 ASCII bytes, big-endian, zero padded.
var englishPacked = mustPackWordlist(englishText)

func mustPackWordlist(text string) *[wordCount]uint64 {
	words := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(words) != wordCount {
		panic(fmt.Sprintf("hd: embedded word list has %d words, want %d", len(words), wordCount))
	}
	var out [wordCount]uint64
	for i, w := range words {
		v, ok := packWord(w)
		if !ok || len(w) < 3 {
			panic(fmt.Sprintf("hd: embedded word list line %d is malformed", i+1))
		}
		out[i] = v
	}
	return &out
}

// packWord packs a lowercase ASCII word of at most 8 letters into a uint64.
func packWord(w string) (uint64, bool) {
	if len(w) == 0 || len(w) > maxWordLen {
		return 0, false
	}
	var v uint64
	for i := 0; i < maxWordLen; i++ {
		v <<= 8
		if i < len(w) {
			c := w[i]
			if c < 'a' || c > 'z' {
				return 0, false
			}
			v |= uint64(c)
		}
	}
	return v, true
}

func unpackWord(v uint64, b *strings.Builder) {
	for i := maxWordLen - 1; i >= 0; i-- {
		if c := byte(v >> (8 * i)); c != 0 {
			b.WriteByte(c)
		}
	}
}

// ctEq64 returns 1 if a == b and 0 otherwise, without branching on the values.
func ctEq64(a, b uint64) uint64 {
	x := a ^ b
	return ((x | -x) >> 63) ^ 1
}

// wordAt returns the packed word at index idx (< 2048), touching every entry so that memory
// access does not depend on idx.
func wordAt(idx uint64) uint64 {
	var out uint64
	for i := range englishPacked {
		out |= englishPacked[i] & -ctEq64(uint64(i), idx)
	}
	return out
}

// indexOf returns the index of packed word w and 1, or 0 and 0 if w is not in the list. It
// scans the whole list regardless of where (or whether) w occurs.
func indexOf(w uint64) (idx uint64, found uint64) {
	for i := range englishPacked {
		eq := ctEq64(englishPacked[i], w)
		idx |= uint64(i) & -eq
		found |= eq
	}
	return idx, found
}

// EntropyToMnemonic encodes 16, 20, 24, 28 or 32 bytes of entropy as a BIP-39 English mnemonic
// of 12..24 words in canonical form.
func EntropyToMnemonic(entropy []byte) (string, error) {
	n := len(entropy)
	if n < 16 || n > 32 || n%4 != 0 {
		return "", ErrEntropyLength
	}
	csBits := n / 4
	words := (n*8 + csBits) / 11

	// entropy || checksum byte; the checksum is the top csBits of SHA-256(entropy), and
	// csBits <= 8 so one byte is enough.
	buf := make([]byte, n+1)
	defer clear(buf)
	copy(buf, entropy)
	sum := sha256.Sum256(entropy)
	buf[n] = sum[0]
	clear(sum[:])

	var b strings.Builder
	b.Grow(words * (maxWordLen + 1))
	for w := 0; w < words; w++ {
		idx := readBits11(buf, w*11)
		if w > 0 {
			b.WriteByte(' ')
		}
		unpackWord(wordAt(idx), &b)
	}
	return b.String(), nil
}

// readBits11 reads the 11-bit big-endian group starting at bit offset off.
func readBits11(buf []byte, off int) uint64 {
	byteOff := off / 8
	var v uint64
	for i := 0; i < 3; i++ {
		v <<= 8
		if byteOff+i < len(buf) {
			v |= uint64(buf[byteOff+i])
		}
	}
	shift := 24 - 11 - off%8
	return (v >> shift) & 0x7ff
}

// MnemonicToEntropy validates a canonical BIP-39 English mnemonic and returns its entropy. The
// mnemonic must be normalized (see [NormalizeMnemonic]): accepting other spellings would let a
// mnemonic pass validation and still produce a different seed from the one every other wallet
// computes, because BIP-39 hashes the exact sentence.
func MnemonicToEntropy(mnemonic string) ([]byte, error) {
	if !isCanonical(mnemonic) {
		return nil, ErrNotNormalized
	}
	words := strings.Split(mnemonic, " ")
	nw := len(words)
	if nw < 12 || nw > 24 || nw%3 != 0 {
		return nil, fmt.Errorf("%w: got %d", ErrMnemonicLength, nw)
	}
	totalBits := nw * 11
	csBits := totalBits / 33
	entLen := (totalBits - csBits) / 8

	buf := make([]byte, entLen+1)
	defer clear(buf)
	var unknown []int
	for i, w := range words {
		packed, ok := packWord(w)
		idx, found := indexOf(packed)
		if !ok || found == 0 {
			unknown = append(unknown, i+1)
			continue
		}
		writeBits11(buf, i*11, idx)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: word %s", ErrUnknownWord, positions(unknown))
	}

	entropy := make([]byte, entLen)
	copy(entropy, buf[:entLen])
	sum := sha256.Sum256(entropy)
	mask := byte(0xff) << (8 - csBits)
	ok := subtle.ConstantTimeByteEq(sum[0]&mask, buf[entLen]&mask)
	clear(sum[:])
	if ok != 1 {
		clear(entropy)
		return nil, ErrChecksum
	}
	return entropy, nil
}

func positions(p []int) string {
	s := make([]string, len(p))
	for i, v := range p {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

// writeBits11 ORs the 11-bit value v into buf at bit offset off (big-endian).
func writeBits11(buf []byte, off int, v uint64) {
	byteOff := off / 8
	shift := 24 - 11 - off%8
	x := v << shift
	for i := 0; i < 3; i++ {
		if byteOff+i < len(buf) {
			buf[byteOff+i] |= byte(x >> (16 - 8*i))
		}
	}
}

// isCanonical reports whether s is lowercase ASCII words separated by single spaces.
func isCanonical(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
		case c >= 'a' && c <= 'z':
			prevSpace = false
		default:
			return false
		}
	}
	return true
}

// NormalizeMnemonic brings user input to the canonical form [MnemonicToEntropy] accepts:
// Unicode NFKD, lowercase, words separated by single spaces, no surrounding whitespace. It does
// not validate the words.
func NormalizeMnemonic(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(norm.NFKD.String(s))), " ")
}

// MnemonicToSeed derives the 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512 with 2048 iterations over
// the mnemonic, salted with "mnemonic" followed by the passphrase, both in Unicode NFKD as
// BIP-39 requires. NFKD is applied (via golang.org/x/text) rather than restricting passphrases
// to ASCII, so a passphrase typed with composed or decomposed accents, or with compatibility
// characters, gives the same seed as in other BIP-39 wallets.
//
// The mnemonic is hashed as given, exactly as BIP-39 specifies; it is not validated here.
// Callers pass a mnemonic accepted by [MnemonicToEntropy], which guarantees the canonical
// spelling every other wallet hashes.
func MnemonicToSeed(mnemonic string, passphrase string) []byte {
	password := []byte(norm.NFKD.String(mnemonic))
	defer clear(password)
	salt := []byte("mnemonic" + norm.NFKD.String(passphrase))
	defer clear(salt)
	return pbkdf2SHA512(password, salt, pbkdf2Iter, seedLen)
}

// pbkdf2SHA512 is PBKDF2 (RFC 8018 §5.2) with HMAC-SHA512. It is written here instead of using
// crypto/pbkdf2 because that package refuses BIP-39's 8-byte salt in FIPS 140-only mode, which
// would force a panic behind this package's error-free seed API, and because here every
// intermediate block is wiped.
func pbkdf2SHA512(password, salt []byte, iter, keyLen int) []byte {
	prf := hmac.New(sha512.New, password)
	hLen := prf.Size()
	blocks := (keyLen + hLen - 1) / hLen
	out := make([]byte, 0, blocks*hLen)
	u := make([]byte, 0, hLen)
	t := make([]byte, hLen)
	defer clear(u[:hLen])
	defer clear(t)
	var ctr [4]byte
	for block := 1; block <= blocks; block++ {
		binary.BigEndian.PutUint32(ctr[:], uint32(block))
		prf.Reset()
		prf.Write(salt)
		prf.Write(ctr[:])
		u = prf.Sum(u[:0])
		copy(t, u)
		for n := 1; n < iter; n++ {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			subtle.XORBytes(t, t, u)
		}
		out = append(out, t...)
	}
	prf.Reset()
	return out[:keyLen]
}
