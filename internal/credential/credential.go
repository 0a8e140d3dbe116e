// Package credential implements fleetkey's bearer credentials: random 256-bit tokens with a type
// prefix that says what they are for ("fka_" for an agent, "fko_" for an operator), a CRC-32
// checksum that catches a mistyped or truncated token before any lookup, and a SHA-256 hash that
// is the only form ever stored.
//
// The text form is PREFIX || base64url(secret || crc32(prefix || secret)), 4 + 48 characters.
// The prefix lets secret scanners and humans recognise a leaked token and tells an agent token
// from an operator token without a database; the checksum is not a security measure (anyone can
// compute it), only a guard against typos.
//
// A Token prints as its prefix and a redacted marker in every fmt verb, in log/slog and in JSON;
// the full text is available only from Reveal, which exists to hand the token to its owner once
// (a file written with mode 0600). Tokens are compared only through their hashes, in constant
// time.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"strings"
)

// Kind is what a credential may be used for.
type Kind int

const (
	// Agent credentials act for exactly one agent and can only ask for payments.
	Agent Kind = iota + 1
	// Operator credentials reach the operator API with a role.
	Operator
)

const (
	agentPrefix    = "fka_"
	operatorPrefix = "fko_"
	secretLen      = 32
	checksumLen    = 4
	// TextLen is the length of a token's text form.
	TextLen = 4 + (secretLen+checksumLen)*4/3
)

// hashDomain separates credential hashes from any other SHA-256 use of the same bytes.
const hashDomain = "fleetkey credential v1\x00"

func (k Kind) prefix() string {
	switch k {
	case Agent:
		return agentPrefix
	case Operator:
		return operatorPrefix
	}
	return ""
}

func (k Kind) String() string {
	switch k {
	case Agent:
		return "agent"
	case Operator:
		return "operator"
	}
	return fmt.Sprintf("credential.Kind(%d)", int(k))
}

// Errors from Parse; all wrap ErrMalformed.
var (
	ErrMalformed = errors.New("credential: malformed token")
	errPrefix    = fmt.Errorf("%w: unknown prefix (want %s or %s)", ErrMalformed, agentPrefix, operatorPrefix)
	errLength    = fmt.Errorf("%w: wrong length (want %d characters)", ErrMalformed, TextLen)
	errEncoding  = fmt.Errorf("%w: not base64url", ErrMalformed)
	errChecksum  = fmt.Errorf("%w: checksum mismatch (mistyped or truncated)", ErrMalformed)
)

// Token is one credential. The zero Token is invalid.
type Token struct {
	kind   Kind
	secret *[secretLen]byte
}

// Hash is the stored form of a token.
type Hash [sha256.Size]byte

// New returns a fresh token of kind k from crypto/rand.
func New(k Kind) (Token, error) {
	if k.prefix() == "" {
		return Token{}, fmt.Errorf("credential: unknown kind %d", int(k))
	}
	t := Token{kind: k, secret: new([secretLen]byte)}
	if _, err := io.ReadFull(rand.Reader, t.secret[:]); err != nil {
		return Token{}, fmt.Errorf("credential: %w", err)
	}
	return t, nil
}

func checksum(prefix string, secret []byte) uint32 {
	c := crc32.NewIEEE()
	io.WriteString(c, prefix)
	c.Write(secret)
	return c.Sum32()
}

// Parse reads a token's text form. Surrounding white space (a trailing newline in a token file)
// is ignored; anything else wrong is an error wrapping ErrMalformed that never quotes the input.
func Parse(s string) (Token, error) {
	s = strings.TrimSpace(s)
	var k Kind
	switch {
	case strings.HasPrefix(s, agentPrefix):
		k = Agent
	case strings.HasPrefix(s, operatorPrefix):
		k = Operator
	default:
		return Token{}, errPrefix
	}
	if len(s) != TextLen {
		return Token{}, errLength
	}
	var raw [secretLen + checksumLen]byte
	n, err := base64.RawURLEncoding.Decode(raw[:], []byte(s[len(k.prefix()):]))
	defer clear(raw[:])
	if err != nil || n != len(raw) {
		return Token{}, errEncoding
	}
	want := binary.BigEndian.Uint32(raw[secretLen:])
	if subtle.ConstantTimeEq(int32(checksum(k.prefix(), raw[:secretLen])), int32(want)) != 1 {
		return Token{}, errChecksum
	}
	t := Token{kind: k, secret: new([secretLen]byte)}
	copy(t.secret[:], raw[:secretLen])
	return t, nil
}

// Kind reports what the token is for.
func (t Token) Kind() Kind { return t.kind }

var zeroSecret [secretLen]byte

// Valid reports whether t holds a secret (not the zero Token, not wiped). A wiped token is all
// zeros, which crypto/rand produces with probability 2^-256.
func (t Token) Valid() bool {
	return t.secret != nil && t.kind.prefix() != "" && subtle.ConstantTimeCompare(t.secret[:], zeroSecret[:]) == 0
}

// Hash returns SHA-256(domain || kind prefix || secret): what the store keeps and looks up.
func (t Token) Hash() Hash {
	h := sha256.New()
	io.WriteString(h, hashDomain)
	io.WriteString(h, t.kind.prefix())
	if t.secret != nil {
		h.Write(t.secret[:])
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// Matches reports, in constant time, whether t hashes to stored.
func (t Token) Matches(stored Hash) bool {
	if !t.Valid() {
		return false
	}
	h := t.Hash()
	return subtle.ConstantTimeCompare(h[:], stored[:]) == 1
}

// Reveal returns the full text form, for handing the token to its owner exactly once. Never log
// it; every other way of printing a Token redacts.
func (t Token) Reveal() string {
	if !t.Valid() {
		return ""
	}
	var raw [secretLen + checksumLen]byte
	defer clear(raw[:])
	copy(raw[:], t.secret[:])
	binary.BigEndian.PutUint32(raw[secretLen:], checksum(t.kind.prefix(), t.secret[:]))
	return t.kind.prefix() + base64.RawURLEncoding.EncodeToString(raw[:])
}

// Wipe clears the secret; copies of t share it and are wiped too.
func (t Token) Wipe() {
	if t.secret != nil {
		clear(t.secret[:])
	}
}

const redacted = "REDACTED"

func (t Token) String() string {
	if p := t.kind.prefix(); p != "" {
		return p + redacted
	}
	return "credential.Token(invalid)"
}

// GoString, Format, LogValue and MarshalText redact like String.
func (t Token) GoString() string             { return t.String() }
func (t Token) Format(f fmt.State, _ rune)   { io.WriteString(f, t.String()) }
func (t Token) LogValue() slog.Value         { return slog.StringValue(t.String()) }
func (t Token) MarshalText() ([]byte, error) { return []byte(t.String()), nil }
