package custody

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/custody/slip39"
)

// shareFileVersion is the value of the "fleetkey-share" line of a share file.
const shareFileVersion = "1"

// shareIterationExponent is the SLIP-0039 iteration exponent of every share Init makes. The
// shares wrap a random 256-bit key, not a human passphrase, so PBKDF2 stretching adds nothing
// and 0 (the minimum) is used; unseal refuses any other value.
const shareIterationExponent = 0

// ShareSpec asks Init for a k-of-n split of the key-encryption key.
type ShareSpec struct {
	Threshold int // k: shares needed to unseal, 2..Count
	Count     int // n: shares made, Threshold..16
}

func (s ShareSpec) validate() error {
	if s.Threshold < minShares || s.Threshold > s.Count || s.Count > maxShares {
		return fmt.Errorf("custody: need 2 ≤ threshold ≤ shares ≤ 16, got threshold %d of %d shares", s.Threshold, s.Count)
	}
	return nil
}

// Share is one operator's share of a seal's key-encryption key: a SLIP-0039 mnemonic and the
// public facts printed above it in a share file. Index is 1-based. A share typed in without its
// file (ShareFromMnemonic) has a zero SealID, Count and Created.
type Share struct {
	SealID     SealID
	Index      int // 1..Count
	Threshold  int
	Count      int
	Identifier uint16 // SLIP-0039 identifier, also stored in the seal
	Created    time.Time
	Mnemonic   ShareMnemonic
}

// Wipe clears the share's mnemonic.
func (s *Share) Wipe() { s.Mnemonic.Wipe() }

func (s *Share) String() string {
	return fmt.Sprintf("custody.Share{seal: %s, share: %d of %d, threshold: %d, identifier: %d, mnemonic: %s}",
		s.SealID, s.Index, s.Count, s.Threshold, s.Identifier, redacted)
}
func (s *Share) GoString() string           { return s.String() }
func (s *Share) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }
func (s *Share) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("seal_id", s.SealID.String()),
		slog.Int("index", s.Index),
		slog.Int("count", s.Count),
		slog.Int("threshold", s.Threshold),
		slog.String("mnemonic", redacted),
	)
}

// FileName is the name Init gives the share's file.
func (s *Share) FileName() string {
	return fmt.Sprintf("fleetkey-share-%s-%02d-of-%02d.txt", s.SealID.String()[:8], s.Index, s.Count)
}

// wordsPerLine splits the 33 words of a 256-bit share into three lines of 11, short enough to
// copy onto paper without losing one's place.
const wordsPerLine = 11

// WriteTo writes the share in the share-file format (docs/custody.md): a warning, the public
// header, a blank line, and the mnemonic. The mnemonic goes to w straight from protected memory.
func (s *Share) WriteTo(w io.Writer) (int64, error) {
	words := s.Mnemonic.s.bytes()
	if len(words) == 0 {
		return 0, errWiped
	}
	head := fmt.Sprintf(`# FLEETKEY CUSTODY SHARE: SECRET.
# Any %d of the %d shares of this seal unlock the fleetkey root key, and with it every agent's
# funds. Keep this share offline and apart from the other shares; do not copy, photograph or
# send it. Fewer than %d shares reveal nothing about the key.
fleetkey-share: %s
seal-id: %s
share: %d of %d
threshold: %d
identifier: %d
created: %s

`, s.Threshold, s.Count, s.Threshold, shareFileVersion, s.SealID, s.Index, s.Count, s.Threshold, s.Identifier,
		s.Created.UTC().Format(time.RFC3339))
	cw := &countWriter{w: w}
	if _, err := io.WriteString(cw, head); err != nil {
		return cw.n, err
	}
	n := 0
	for start := 0; start < len(words); {
		end := bytes.IndexByte(words[start:], ' ')
		if end < 0 {
			end = len(words)
		} else {
			end += start
		}
		n++
		sep := " "
		if n%wordsPerLine == 0 || end == len(words) {
			sep = "\n"
		}
		if _, err := cw.Write(words[start:end]); err != nil {
			return cw.n, err
		}
		if _, err := io.WriteString(cw, sep); err != nil {
			return cw.n, err
		}
		start = end + 1
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func invalidShare(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidShare}, args...)...)
}

// ParseShareFile parses the share-file format and checks that the header agrees with the
// mnemonic (index, threshold, identifier), so that a share file whose words were swapped with
// another's, or mistyped, is refused with ErrInvalidShare. data is not modified or retained; the
// returned share's mnemonic is a copy in protected memory.
func ParseShareFile(data []byte) (*Share, error) {
	var (
		sh         Share
		seen       = map[string]bool{}
		wordsStart = -1
		lineNo     = 0
	)
	// Header lines are handled as byte slices and only known keys become strings: if a wrong
	// file (say, a passphrase file) is given, its content is neither copied nor echoed in errors.
	for off := 0; off < len(data); {
		lineNo++
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off
		}
		line := bytes.TrimSpace(data[off:end])
		off = end + 1
		if len(line) == 0 {
			if len(seen) > 0 {
				wordsStart = off
				break
			}
			continue
		}
		if line[0] == '#' {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return nil, invalidShare("share file line %d: expected a \"key: value\" header line", lineNo)
		}
		k, v = bytes.TrimSpace(k), bytes.TrimSpace(v)
		var key string
		switch string(k) {
		case "fleetkey-share", "seal-id", "share", "threshold", "identifier", "created":
			key = string(k)
		default:
			return nil, invalidShare("share file line %d: unknown header", lineNo)
		}
		if seen[key] {
			return nil, invalidShare("share file line %d: duplicate header %q", lineNo, key)
		}
		seen[key] = true
		value := string(v)
		var err error
		switch key {
		case "fleetkey-share":
			if value != shareFileVersion {
				return nil, invalidShare("share file format %q, this build reads %q", value, shareFileVersion)
			}
		case "seal-id":
			sh.SealID, err = ParseSealID(value)
		case "share":
			i, n, ok := strings.Cut(value, " of ")
			if !ok {
				err = errors.New(`want "I of N"`)
				break
			}
			if sh.Index, err = strconv.Atoi(i); err == nil {
				sh.Count, err = strconv.Atoi(n)
			}
		case "threshold":
			sh.Threshold, err = strconv.Atoi(value)
		case "identifier":
			var id uint64
			id, err = strconv.ParseUint(value, 10, 15)
			sh.Identifier = uint16(id)
		case "created":
			sh.Created, err = time.Parse(time.RFC3339, value)
		}
		if err != nil {
			return nil, invalidShare("share file line %d: bad %q value", lineNo, key)
		}
	}
	if !seen["fleetkey-share"] {
		return nil, invalidShare("share file: no \"fleetkey-share\" line (not a fleetkey share file?)")
	}
	for _, k := range []string{"seal-id", "share", "threshold", "identifier", "created"} {
		if !seen[k] {
			return nil, invalidShare("share file: missing header %q", k)
		}
	}
	if wordsStart < 0 || wordsStart >= len(data) {
		return nil, invalidShare("share file: no mnemonic after the header")
	}
	if err := (ShareSpec{sh.Threshold, sh.Count}).validate(); err != nil {
		return nil, invalidShare("share file: %v", err)
	}
	if sh.Index < 1 || sh.Index > sh.Count {
		return nil, invalidShare("share file: share %d of %d", sh.Index, sh.Count)
	}
	// The words are copied (normalized) into protected memory; data belongs to the caller.
	s, err := newSecret(len(data) - wordsStart)
	if err != nil {
		return nil, err
	}
	for _, c := range data[wordsStart:] {
		if c == '#' {
			s.wipe()
			return nil, invalidShare("share file: comment inside the mnemonic")
		}
	}
	s.mem = s.mem[:normalizeWords(s.mem, data[wordsStart:])]
	if len(s.mem) == 0 {
		s.wipe()
		return nil, invalidShare("share file: no mnemonic after the header")
	}
	sh.Mnemonic = ShareMnemonic{s}
	fromWords, err := ShareFromMnemonic(sh.Mnemonic)
	if err != nil {
		s.wipe()
		return nil, err
	}
	if fromWords.Index != sh.Index || fromWords.Threshold != sh.Threshold || fromWords.Identifier != sh.Identifier {
		s.wipe()
		return nil, invalidShare("share file header (share %d, threshold %d, identifier %d) does not match its mnemonic (share %d, threshold %d, identifier %d)",
			sh.Index, sh.Threshold, sh.Identifier, fromWords.Index, fromWords.Threshold, fromWords.Identifier)
	}
	return &sh, nil
}

// ShareFromMnemonic checks a share typed in without its file (word list, RS1024 checksum,
// single-group SLIP-0039 share) and returns it with the facts the mnemonic carries. The share
// takes m over: wiping the share wipes m.
func ShareFromMnemonic(m ShareMnemonic) (*Share, error) {
	if m.IsZero() {
		return nil, invalidShare("empty mnemonic")
	}
	p, err := slip39.ParseShare(m.s.view())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidShare, err)
	}
	defer p.Wipe()
	if p.GroupCount != 1 || p.GroupThreshold != 1 {
		return nil, invalidShare("multi-group SLIP-0039 share (fleetkey uses one group)")
	}
	return &Share{
		Index:      p.MemberIndex + 1,
		Threshold:  p.MemberThreshold,
		Identifier: p.Identifier,
		Mnemonic:   m,
	}, nil
}

// splitKEK splits kek into spec.Count SLIP-0039 shares of one group with an empty SLIP-0039
// passphrase and iteration exponent 0: the KEK is uniformly random, so SLIP-0039's PBKDF2
// stretching would protect nothing and only slow down unsealing.
func splitKEK(kek []byte, spec ShareSpec, id SealID, created time.Time) ([]*Share, uint16, error) {
	groups, err := slip39.Split(kek, nil, 1, []slip39.GroupSpec{{MemberThreshold: spec.Threshold, MemberCount: spec.Count}}, true, shareIterationExponent)
	if err != nil {
		return nil, 0, fmt.Errorf("custody: split key-encryption key: %w", err)
	}
	if len(groups) != 1 || len(groups[0]) != spec.Count {
		return nil, 0, errors.New("custody: split key-encryption key: unexpected share layout")
	}
	shares := make([]*Share, 0, spec.Count)
	fail := func(err error) ([]*Share, uint16, error) {
		for _, s := range shares {
			s.Wipe()
		}
		for _, m := range groups[0] {
			wipeString(m)
		}
		return nil, 0, err
	}
	for _, words := range groups[0] {
		m, err := NewShareMnemonic([]byte(words))
		if err != nil {
			return fail(err)
		}
		sh, err := ShareFromMnemonic(m)
		if err != nil {
			m.Wipe()
			return fail(err)
		}
		sh.SealID, sh.Count, sh.Created = id, spec.Count, created
		shares = append(shares, sh)
	}
	for _, m := range groups[0] {
		wipeString(m)
	}
	for _, s := range shares[1:] {
		if s.Identifier != shares[0].Identifier {
			return fail(errors.New("custody: split key-encryption key: shares disagree on the identifier"))
		}
	}
	return shares, shares[0].Identifier, nil
}

// combineShares recovers a seal's KEK. Before any arithmetic it checks every share against the
// seal (seal id when the share came from a file, SLIP-0039 identifier, threshold), so a share
// from another seal is named as such instead of failing as a generic decryption error.
func combineShares(h *header, shares []*Share) (*secretBytes, error) {
	byIndex := map[int]*Share{}
	var order []int
	for i, s := range shares {
		if s == nil || s.Mnemonic.IsZero() {
			return nil, invalidShare("share %d is empty", i+1)
		}
		if !s.SealID.IsZero() && s.SealID != h.sealID {
			return nil, fmt.Errorf("%w: share %d is for seal %s, this seal is %s", ErrShareMismatch, i+1, s.SealID, h.sealID)
		}
		// Check the words themselves rather than trusting the Share's fields.
		p, err := slip39.ParseShare(s.Mnemonic.s.view())
		if err != nil {
			return nil, fmt.Errorf("%w: share %d: %w", ErrInvalidShare, i+1, err)
		}
		p.Wipe()
		if p.Identifier != h.identifier {
			return nil, fmt.Errorf("%w: share %d has identifier %d, this seal's shares have %d", ErrShareMismatch, i+1, p.Identifier, h.identifier)
		}
		if p.IterationExponent != shareIterationExponent {
			// Refused before Combine: SLIP-0039 allows exponents up to 15, i.e. 2^15 times the
			// PBKDF2 work, so a crafted share could otherwise stall an unseal for minutes.
			return nil, fmt.Errorf("%w: share %d has iteration exponent %d, this seal's shares have %d", ErrShareMismatch, i+1, p.IterationExponent, shareIterationExponent)
		}
		if p.GroupCount != 1 || p.MemberThreshold != int(h.threshold) {
			return nil, fmt.Errorf("%w: share %d is from a %d-of-n split, this seal needs %d", ErrShareMismatch, i+1, p.MemberThreshold, h.threshold)
		}
		if prev, dup := byIndex[p.MemberIndex]; dup {
			if !prev.Mnemonic.Equal(s.Mnemonic) {
				return nil, fmt.Errorf("%w: shares %d and another share both claim index %d", ErrShareMismatch, i+1, p.MemberIndex+1)
			}
			continue // the same share given twice counts once
		}
		byIndex[p.MemberIndex] = s
		order = append(order, p.MemberIndex)
	}
	if len(order) < int(h.threshold) {
		return nil, fmt.Errorf("%w: %d distinct of the %d needed", ErrInsufficientShares, len(order), h.threshold)
	}
	// Exactly threshold shares: SLIP-0039 recovery interpolates through threshold points.
	mnemonics := make([]string, h.threshold)
	for i := range mnemonics {
		mnemonics[i] = byIndex[order[i]].Mnemonic.s.view()
	}
	kek, err := slip39.Combine(mnemonics, nil)
	clear(mnemonics)
	switch {
	case err == nil:
	case errors.Is(err, slip39.ErrInsufficientShares):
		return nil, fmt.Errorf("%w: %w", ErrInsufficientShares, err)
	case errors.Is(err, slip39.ErrMismatchedShares), errors.Is(err, slip39.ErrInvalidDigest):
		return nil, fmt.Errorf("%w: %w", ErrShareMismatch, err)
	default:
		return nil, fmt.Errorf("%w: %w", ErrInvalidShare, err)
	}
	return newSecretFrom(kek)
}
