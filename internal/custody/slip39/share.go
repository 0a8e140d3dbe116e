package slip39

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Errors a caller can branch on. Messages name positions and counts, never
// the words or bytes of a share.
var (
	// ErrInvalidWord: a word is not in the SLIP-0039 word list.
	ErrInvalidWord = errors.New("slip39: word not in the word list")
	// ErrInvalidLength: the number of words cannot be a share.
	ErrInvalidLength = errors.New("slip39: invalid mnemonic length")
	// ErrChecksum: the RS1024 checksum fails, typically a mistyped word.
	ErrChecksum = errors.New("slip39: invalid checksum")
	// ErrInvalidPadding: the padding bits of the share value are not zero.
	ErrInvalidPadding = errors.New("slip39: invalid padding")
	// ErrInvalidShare: the share's parameters are impossible (for example
	// a group threshold above the group count).
	ErrInvalidShare = errors.New("slip39: invalid share parameters")
	// ErrInsufficientShares: too few groups, or too few members in a
	// group, to reach the thresholds.
	ErrInsufficientShares = errors.New("slip39: insufficient shares")
	// ErrMismatchedShares: the shares cannot come from one split (their
	// identifier, flags, thresholds, counts or lengths differ, or two shares
	// claim the same index with different values).
	ErrMismatchedShares = errors.New("slip39: shares do not belong together")
	// ErrInvalidDigest: the recovered secret fails its digest check (or an
	// extra share disagrees with the others): a share is corrupt or forged.
	ErrInvalidDigest = errors.New("slip39: invalid digest of the shared secret")
)

const (
	idBits          = 15
	maxIterationExp = 15
	maxCount        = 16 // groups, members: 4-bit fields
	headerWords     = 4  // id, ext, e, GI, Gt, g, I, t = 40 bits
	minSecretBytes  = 16
	minWords        = headerWords + (minSecretBytes*8+radixBits-1)/radixBits + checksumLen
	// maxWords bounds the work spent on hostile input: RS1024 is a code of
	// length 1023 over GF(1024), beyond which its detection guarantees end.
	maxWords = wordCount - 1
)

// Share is one parsed SLIP-0039 mnemonic. The exported fields are public
// metadata (they are printed on every share); the share value is kept
// unexported and never printed. GroupIndex and MemberIndex are the 0-based
// x coordinates as encoded; thresholds and counts are actual values (1..16).
type Share struct {
	Identifier        uint16
	Extendable        bool
	IterationExponent int
	GroupIndex        int
	GroupThreshold    int
	GroupCount        int
	MemberIndex       int
	MemberThreshold   int

	value []byte
}

// String describes the share by identifiers and indices only.
func (s Share) String() string {
	return fmt.Sprintf("slip39.Share{id: %d, extendable: %t, iteration exponent: %d, group index: %d, group threshold: %d of %d, member index: %d, member threshold: %d, value: REDACTED}",
		s.Identifier, s.Extendable, s.IterationExponent, s.GroupIndex, s.GroupThreshold, s.GroupCount, s.MemberIndex, s.MemberThreshold)
}

// GoString redacts like String, so %#v cannot reveal the share value.
func (s Share) GoString() string { return s.String() }

// Format redacts for every verb, including %x and %d, which would otherwise
// print the unexported value field.
func (s Share) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue redacts the share for log/slog.
func (s Share) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("id", int(s.Identifier)),
		slog.Bool("extendable", s.Extendable),
		slog.Int("group_index", s.GroupIndex),
		slog.Int("member_index", s.MemberIndex),
		slog.String("value", "REDACTED"),
	)
}

// Wipe zeroes the share value. The mnemonic string it came from cannot be
// wiped (Go strings are immutable); callers should drop it promptly.
func (s *Share) Wipe() { clear(s.value) }

// ParseShare decodes one mnemonic: it checks that every word is in the
// list (case-insensitive, any whitespace between words), the length, the
// RS1024 checksum (customization string "shamir" or "shamir_extendable"
// according to the share's flag), the padding and the parameters.
func ParseShare(mnemonic string) (*Share, error) {
	fields := strings.Fields(mnemonic)
	if len(fields) > maxWords {
		return nil, fmt.Errorf("%w: %d words, at most %d", ErrInvalidLength, len(fields), maxWords)
	}
	words := make([]uint16, len(fields))
	defer clear(words)
	for i, f := range fields {
		idx, ok := wordIndex(f)
		if !ok {
			return nil, fmt.Errorf("%w: word %d", ErrInvalidWord, i+1)
		}
		words[i] = idx
	}
	if len(words) < minWords {
		return nil, fmt.Errorf("%w: %d words, at least %d", ErrInvalidLength, len(words), minWords)
	}
	valueWords := len(words) - headerWords - checksumLen
	padding := radixBits * valueWords % 16
	if padding > 8 {
		return nil, fmt.Errorf("%w: %d words", ErrInvalidLength, len(words))
	}

	s := &Share{
		Identifier:        words[0]<<5 | words[1]>>5,
		Extendable:        words[1]>>4&1 == 1,
		IterationExponent: int(words[1] & 0xf),
		GroupIndex:        int(words[2] >> 6),
		GroupThreshold:    int(words[2]>>2&0xf) + 1,
		GroupCount:        int((words[2]&3)<<2|words[3]>>8) + 1,
		MemberIndex:       int(words[3] >> 4 & 0xf),
		MemberThreshold:   int(words[3]&0xf) + 1,
	}
	if !rs1024Verify(s.Extendable, words) {
		return nil, ErrChecksum
	}
	value, ok := decodeValue(words[headerWords:len(words)-checksumLen], padding)
	if !ok {
		return nil, ErrInvalidPadding
	}
	s.value = value
	if s.GroupThreshold > s.GroupCount {
		s.Wipe()
		return nil, fmt.Errorf("%w: group threshold %d exceeds group count %d", ErrInvalidShare, s.GroupThreshold, s.GroupCount)
	}
	return s, nil
}

// decodeValue turns 10-bit words into bytes after skipping padding leading
// zero bits (fewer than 10, so all within the first word).
func decodeValue(words []uint16, padding int) ([]byte, bool) {
	out := make([]byte, 0, (len(words)*radixBits-padding)/8)
	var acc uint32
	bits := 0
	var padBits uint32
	for i, w := range words {
		acc = acc<<radixBits | uint32(w)
		bits += radixBits
		if i == 0 {
			bits -= padding
			padBits = acc >> bits
			acc &= 1<<bits - 1
		}
		for bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	if padBits != 0 {
		clear(out)
		return nil, false
	}
	return out, true
}

// encodeValue turns bytes into 10-bit words, left-padding with zero bits.
func encodeValue(dst []uint16, value []byte) []uint16 {
	n := (len(value)*8 + radixBits - 1) / radixBits
	bits := n*radixBits - len(value)*8 // leading zero bits
	var acc uint32
	for _, b := range value {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= radixBits {
			bits -= radixBits
			dst = append(dst, uint16(acc>>bits&(1<<radixBits-1)))
			acc &= 1<<bits - 1
		}
	}
	return dst
}

// words returns the share as word indices, checksum included. The caller
// must clear the result. Fields are assumed to be in range.
func (s *Share) words() []uint16 {
	ext := uint16(0)
	if s.Extendable {
		ext = 1
	}
	g := uint16(s.GroupCount - 1)
	w := make([]uint16, 0, minWords+len(s.value))
	w = append(w,
		s.Identifier>>5&0x3ff,
		(s.Identifier&0x1f)<<5|ext<<4|uint16(s.IterationExponent),
		uint16(s.GroupIndex)<<6|uint16(s.GroupThreshold-1)<<2|g>>2,
		(g&3)<<8|uint16(s.MemberIndex)<<4|uint16(s.MemberThreshold-1),
	)
	w = encodeValue(w, s.value)
	cs := rs1024Checksum(s.Extendable, w)
	return append(w, cs[:]...)
}

// mnemonic encodes the share as lowercase words separated by single spaces.
func (s *Share) mnemonic() string {
	w := s.words()
	defer clear(w)
	buf := make([]byte, 0, len(w)*(maxWordSize+1))
	for i, idx := range w {
		if i > 0 {
			buf = append(buf, ' ')
		}
		buf = appendWord(buf, idx)
	}
	m := string(buf)
	clear(buf)
	return m
}
