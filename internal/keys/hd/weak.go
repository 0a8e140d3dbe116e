package hd

import (
	"crypto/sha256"
	_ "embed"
	"errors"
	"strings"
)

// Reason is the stable code of why an imported mnemonic is refused.
type Reason string

// Reasons returned by [CheckImportMnemonic], in the order the checks run.
const (
	// ReasonMalformed: not in canonical form (see NormalizeMnemonic), or a word count of 12 or
	// more that BIP-39 does not define.
	ReasonMalformed Reason = "malformed"
	// ReasonTooShort: fewer than 12 words, i.e. less than 128 bits of entropy.
	ReasonTooShort Reason = "too_short"
	// ReasonUnknownWord: a word outside the BIP-39 English list.
	ReasonUnknownWord Reason = "unknown_word"
	// ReasonChecksum: the BIP-39 checksum does not match.
	ReasonChecksum Reason = "checksum"
	// ReasonKnownTestMnemonic: a published test or development mnemonic.
	ReasonKnownTestMnemonic Reason = "known_test_mnemonic"
	// ReasonLowEntropy: the entropy follows a simple pattern; see CheckImportMnemonic.
	ReasonLowEntropy Reason = "low_entropy"
	// ReasonRepeatedWord: at most half of the words are distinct ("legal legal legal …").
	ReasonRepeatedWord Reason = "repeated_word"
)

// WeakMnemonicError is returned by [CheckImportMnemonic]. Its message names the reason and
// never contains the mnemonic or any of its words.
type WeakMnemonicError struct {
	Reason Reason
	err    error // the underlying cause, if any; also free of words
}

func (e *WeakMnemonicError) Error() string {
	msg := "hd: mnemonic refused: " + string(e.Reason)
	if e.err != nil {
		msg += " (" + strings.TrimPrefix(e.err.Error(), "hd: ") + ")"
	}
	return msg
}

func (e *WeakMnemonicError) Unwrap() error { return e.err }

func refuse(r Reason, err error) error { return &WeakMnemonicError{Reason: r, err: err} }

//go:embed known_test_mnemonics.txt
var knownTestText string

// knownTestHashes holds SHA-256 of each known test mnemonic, so lookups compare hashes only.
var knownTestHashes = func() map[[32]byte]struct{} {
	m := make(map[[32]byte]struct{})
	for _, line := range strings.Split(knownTestText, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[sha256.Sum256([]byte(line))] = struct{}{}
	}
	return m
}()

// CheckImportMnemonic decides whether a mnemonic an operator wants to import is acceptable as
// a root secret. It returns nil or a *WeakMnemonicError. The mnemonic must be normalized (see
// [NormalizeMnemonic]). Checks, in order:
//
//   - ReasonMalformed, ReasonTooShort, ReasonUnknownWord, ReasonChecksum: the mnemonic must be
//     a valid BIP-39 English mnemonic of 12 to 24 words.
//   - ReasonKnownTestMnemonic: it must not be one of the published mnemonics listed in
//     known_test_mnemonics.txt (all BIP-39 test vectors, the Hardhat/Foundry and Ganache
//     development mnemonics, the Trezor test mnemonic).
//   - ReasonLowEntropy, for entropy bytes e[0..L-1] (L = 16..32) and word indexes w[0..n-1]:
//     (1) the bytes e[i] must not form an arithmetic progression modulo 256 (this covers
//     all-zero and all-0xff entropy, any constant byte, and counting up or down by any
//     step); (2) there must be more than L/2 distinct byte values (this covers any pattern
//     repeating with a period of at most L/2 bytes); (3) the indexes w[0..n-2] must not form
//     an arithmetic progression modulo 2048 with a non-zero step ("abandon ability able
//     about …"; the last word is left out because its checksum bits are forced).
//   - ReasonRepeatedWord: more than half of the words must be distinct (this covers one word
//     repeated throughout, when the byte rules above have not already matched).
//
// For uniformly random entropy, rule (2) refuses with probability below 2^-33 at 128 bits
// and below 2^-48 at 256 bits (exact sums over Stirling numbers; the other rules are far
// rarer), so a properly generated mnemonic is in practice never refused.
func CheckImportMnemonic(mnemonic string) error {
	if !isCanonical(mnemonic) {
		return refuse(ReasonMalformed, ErrNotNormalized)
	}
	words := strings.Split(mnemonic, " ")
	if len(words) < 12 {
		return refuse(ReasonTooShort, ErrMnemonicLength)
	}
	entropy, err := MnemonicToEntropy(mnemonic)
	switch {
	case errors.Is(err, ErrUnknownWord):
		return refuse(ReasonUnknownWord, err)
	case errors.Is(err, ErrChecksum):
		return refuse(ReasonChecksum, err)
	case err != nil:
		return refuse(ReasonMalformed, err)
	}
	defer clear(entropy)

	sum := sha256.Sum256([]byte(mnemonic))
	_, known := knownTestHashes[sum]
	clear(sum[:])
	if known {
		return refuse(ReasonKnownTestMnemonic, nil)
	}

	if why := lowEntropyPattern(entropy); why != "" {
		return refuse(ReasonLowEntropy, errors.New(why))
	}

	distinct := make(map[string]struct{}, len(words))
	for _, w := range words {
		distinct[w] = struct{}{}
	}
	if len(distinct) <= len(words)/2 {
		return refuse(ReasonRepeatedWord, nil)
	}
	return nil
}

// lowEntropyPattern applies the ReasonLowEntropy rules to entropy and returns which one
// matched, or "".
func lowEntropyPattern(e []byte) string {
	step := e[1] - e[0]
	progression := true
	for i := 2; i < len(e); i++ {
		if e[i]-e[i-1] != step {
			progression = false
			break
		}
	}
	if progression {
		return "entropy bytes form an arithmetic progression"
	}

	var seen [256]bool
	distinct := 0
	for _, b := range e {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	clear(seen[:])
	if distinct <= len(e)/2 {
		return "too few distinct entropy bytes"
	}

	// Word indexes of the entropy-only words: the first n-1 words are fully determined by
	// the entropy (the last one also carries checksum bits).
	nWords := (len(e)*8 + len(e)/4) / 11
	padded := make([]byte, len(e)+1)
	defer clear(padded)
	copy(padded, e)
	w0, w1 := readBits11(padded, 0), readBits11(padded, 11)
	wstep := (w1 - w0) & 0x7ff
	if wstep == 0 {
		// One word repeated is reported as ReasonRepeatedWord.
		return ""
	}
	prev := w1
	for i := 2; i < nWords-1; i++ {
		w := readBits11(padded, i*11)
		if (w-prev)&0x7ff != wstep {
			return ""
		}
		prev = w
	}
	return "word indexes form an arithmetic progression"
}
