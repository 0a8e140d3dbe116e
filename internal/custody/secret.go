package custody

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"unsafe"
)

// redacted is what every secret type prints instead of its value, whatever the verb.
const redacted = "REDACTED"

// errWiped is returned when a wiped secret is used; it is a programming error in the caller.
var errWiped = errors.New("custody: secret used after Wipe")

// secretBytes is a byte string kept outside the Go heap (see mapSecret), so the garbage collector
// never leaves stray copies of it, and cleared before its memory is released.
type secretBytes struct {
	mem     []byte
	locked  bool
	cleanup runtime.Cleanup
}

type mapping struct {
	mem    []byte
	locked bool
}

func newSecret(n int) (*secretBytes, error) {
	mem, locked, err := mapSecret(n)
	if err != nil {
		return nil, err
	}
	s := &secretBytes{mem: mem, locked: locked}
	// A secret that is dropped without Wipe is still cleared and unmapped eventually; Wipe
	// stops this cleanup so a mapping is never released twice.
	s.cleanup = runtime.AddCleanup(s, func(m mapping) { unmapSecret(m.mem, m.locked) }, mapping{mem, locked})
	return s, nil
}

// newSecretFrom copies src into protected memory and clears src.
func newSecretFrom(src []byte) (*secretBytes, error) {
	defer clear(src)
	s, err := newSecret(len(src))
	if err != nil {
		return nil, err
	}
	copy(s.mem, src)
	return s, nil
}

// bytes returns the secret in place; nil once wiped. Callers must not retain it.
func (s *secretBytes) bytes() []byte {
	if s == nil {
		return nil
	}
	return s.mem
}

// view returns the secret as a string that shares its memory, for APIs that take strings
// (BIP-39 and SLIP-0039 parsing), so that no immutable, unwipeable copy is made. The string is
// valid only until wipe and must not outlive the call it is passed to.
func (s *secretBytes) view() string {
	b := s.bytes()
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (s *secretBytes) wipe() {
	if s == nil || s.mem == nil {
		return
	}
	s.cleanup.Stop()
	unmapSecret(s.mem, s.locked)
	s.mem = nil
}

// Even the internal type redacts itself, so a stray %v in this package cannot print a secret.
func (s *secretBytes) String() string             { return redacted }
func (s *secretBytes) GoString() string           { return redacted }
func (s *secretBytes) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }
func (s *secretBytes) LogValue() slog.Value       { return slog.StringValue(redacted) }

func (s *secretBytes) equal(o *secretBytes) bool {
	a, b := s.bytes(), o.bytes()
	return subtle.ConstantTimeCompare(a, b) == 1
}

// wipeString overwrites the bytes of a string that was built at run time on the heap (never a
// literal: those live in read-only memory). Go strings are immutable by contract; this is used
// only on the mnemonic that hd.EntropyToMnemonic builds for us and that nothing else references,
// so that the seed's mnemonic does not linger in the heap until the collector reuses it.
func wipeString(s string) {
	if len(s) == 0 {
		return
	}
	clear(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Passphrase is an operator passphrase. Its zero value is "no passphrase". Copies share the same
// memory: Wipe on one wipes all of them.
type Passphrase struct{ s *secretBytes }

// NewPassphrase copies b into protected memory and clears b. It refuses an empty passphrase.
func NewPassphrase(b []byte) (Passphrase, error) {
	if len(b) == 0 {
		return Passphrase{}, errors.New("custody: empty passphrase")
	}
	s, err := newSecretFrom(b)
	if err != nil {
		return Passphrase{}, err
	}
	return Passphrase{s}, nil
}

// IsZero reports whether p holds no passphrase (zero value or wiped).
func (p Passphrase) IsZero() bool { return len(p.s.bytes()) == 0 }

// Equal compares two passphrases in constant time (the length is not hidden).
func (p Passphrase) Equal(o Passphrase) bool { return p.s.equal(o.s) }

// Wipe clears the passphrase and releases its memory.
func (p Passphrase) Wipe() { p.s.wipe() }

func (p Passphrase) String() string                  { return "custody.Passphrase(" + redacted + ")" }
func (p Passphrase) GoString() string                { return p.String() }
func (p Passphrase) Format(f fmt.State, _ rune)      { _, _ = f.Write([]byte(p.String())) }
func (p Passphrase) LogValue() slog.Value            { return slog.StringValue(redacted) }
func (p Passphrase) MarshalText() ([]byte, error)    { return []byte(redacted), nil }
func (m Mnemonic) MarshalText() ([]byte, error)      { return []byte(redacted), nil }
func (m ShareMnemonic) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Mnemonic is a BIP-39 mnemonic given to Init to import an existing root secret.
type Mnemonic struct{ s *secretBytes }

// NewMnemonic normalizes the words in b (ASCII lower case, single spaces, as BIP-39's English
// list is written) into protected memory and clears b.
func NewMnemonic(b []byte) (Mnemonic, error) {
	defer clear(b)
	s, err := newSecret(len(b))
	if err != nil {
		return Mnemonic{}, err
	}
	s.mem = s.mem[:normalizeWords(s.mem, b)]
	if len(s.mem) == 0 {
		s.wipe()
		return Mnemonic{}, errors.New("custody: empty mnemonic")
	}
	return Mnemonic{s}, nil
}

// IsZero reports whether m holds no mnemonic.
func (m Mnemonic) IsZero() bool { return len(m.s.bytes()) == 0 }

// Equal compares two mnemonics in constant time (the length is not hidden).
func (m Mnemonic) Equal(o Mnemonic) bool { return m.s.equal(o.s) }

// Wipe clears the mnemonic and releases its memory.
func (m Mnemonic) Wipe() { m.s.wipe() }

func (m Mnemonic) String() string             { return "custody.Mnemonic(" + redacted + ")" }
func (m Mnemonic) GoString() string           { return m.String() }
func (m Mnemonic) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(m.String())) }
func (m Mnemonic) LogValue() slog.Value       { return slog.StringValue(redacted) }

// ShareMnemonic is the word list of one SLIP-0039 share, normalized to lower-case words separated
// by single spaces.
type ShareMnemonic struct{ s *secretBytes }

// NewShareMnemonic normalizes the words in b into protected memory and clears b. It does not
// check the words; see ShareFromMnemonic.
func NewShareMnemonic(b []byte) (ShareMnemonic, error) {
	defer clear(b)
	s, err := newSecret(len(b))
	if err != nil {
		return ShareMnemonic{}, err
	}
	n := normalizeWords(s.mem, b)
	if n == 0 {
		s.wipe()
		return ShareMnemonic{}, errors.New("custody: empty share mnemonic")
	}
	s.mem = s.mem[:n]
	return ShareMnemonic{s}, nil
}

// IsZero reports whether m holds no share.
func (m ShareMnemonic) IsZero() bool { return len(m.s.bytes()) == 0 }

// Equal compares two share mnemonics in constant time (the length is not hidden).
func (m ShareMnemonic) Equal(o ShareMnemonic) bool { return m.s.equal(o.s) }

// Wipe clears the share and releases its memory.
func (m ShareMnemonic) Wipe() { m.s.wipe() }

func (m ShareMnemonic) String() string             { return "custody.ShareMnemonic(" + redacted + ")" }
func (m ShareMnemonic) GoString() string           { return m.String() }
func (m ShareMnemonic) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(m.String())) }
func (m ShareMnemonic) LogValue() slog.Value       { return slog.StringValue(redacted) }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// normalizeWords writes the words of src into dst (len(dst) ≥ len(src)) in ASCII lower case,
// separated by single spaces, and returns the length written. It works in place on secret
// memory, unlike strings.Fields and strings.ToLower, which would leave heap copies.
func normalizeWords(dst, src []byte) int {
	n := 0
	inWord := false
	for _, c := range src {
		if isSpace(c) {
			inWord = false
			continue
		}
		if !inWord && n > 0 {
			dst[n] = ' '
			n++
		}
		inWord = true
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[n] = c
		n++
	}
	return n
}
