package hd

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"unicode"
)

func mnemonicOf(t *testing.T, entropy []byte) string {
	t.Helper()
	m, err := EntropyToMnemonic(entropy)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mnemonicFromIndexes builds a valid mnemonic whose first len(idx) words have the given
// indexes (len(idx) = words-1); the last word is whatever the checksum makes it.
func mnemonicFromIndexes(t *testing.T, entBytes int, idx []uint64) string {
	t.Helper()
	buf := make([]byte, entBytes+1)
	for i, v := range idx {
		writeBits11(buf, i*11, v)
	}
	return mnemonicOf(t, buf[:entBytes])
}

// withValidLastWord completes 11 or 23 words with the first last word that makes a valid
// mnemonic.
func withValidLastWord(t *testing.T, first []string) string {
	t.Helper()
	for i := range englishPacked {
		var b strings.Builder
		unpackWord(englishPacked[i], &b)
		m := strings.Join(append(first, b.String()), " ")
		if _, err := MnemonicToEntropy(m); err == nil {
			return m
		}
	}
	t.Fatal("no valid last word")
	return ""
}

func seq(start, step, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(start + i*step)
	}
	return b
}

func TestCheckImportMnemonic(t *testing.T) {
	randomHalf := make([]byte, 16)
	rand.Read(randomHalf)
	periodic := append(append([]byte(nil), randomHalf...), randomHalf...)
	wordAP := make([]uint64, 11)
	for i := range wordAP {
		wordAP[i] = uint64(1000 + 37*i)
	}
	rep := strings.Fields(strings.Repeat("legal ", 11))
	var pairs []string
	for i := 0; i < 23; i++ {
		pairs = append(pairs, []string{"cable", "quiz", "orbit", "velvet", "dragon", "mercy", "tunnel", "hybrid", "spare", "elbow", "garlic"}[i%11])
	}

	tests := []struct {
		name     string
		mnemonic string
		reason   Reason
		detail   string
	}{
		{"not normalized: uppercase", strings.ToUpper(mnemonicOf(t, seq(7, 91, 16))), ReasonMalformed, ""},
		{"not normalized: double space", strings.Replace(mnemonicOf(t, seq(7, 91, 16)), " ", "  ", 1), ReasonMalformed, ""},
		{"13 words", mnemonicOf(t, seq(7, 91, 16)) + " legal", ReasonMalformed, ""},
		{"empty", "", ReasonMalformed, ""},
		{"one word", "legal", ReasonTooShort, ""},
		{"9 words", "legal winner thank year wave sausage worth useful legal", ReasonTooShort, ""},
		{"unknown word", "legal winner thank year wave sausage worth useful legal winner thank bitcoin", ReasonUnknownWord, "word 12"},
		{"checksum", "legal winner thank year wave sausage worth useful legal winner thank year", ReasonChecksum, ""},
		{"hardhat/foundry", "test test test test test test test test test test test junk", ReasonKnownTestMnemonic, ""},
		{"ganache", "myth like bonus scare over problem client lizard pioneer submit female collect", ReasonKnownTestMnemonic, ""},
		{"abandon x11 about", "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", ReasonKnownTestMnemonic, ""},
		{"trezor all x12", strings.TrimSpace(strings.Repeat("all ", 12)), ReasonKnownTestMnemonic, ""},
		{"one word repeated", withValidLastWord(t, rep), ReasonRepeatedWord, ""},
		{"half the words distinct", withValidLastWord(t, pairs), ReasonRepeatedWord, ""},
		{"sequential bytes", mnemonicOf(t, seq(0, 1, 16)), ReasonLowEntropy, "arithmetic progression"},
		{"descending bytes", mnemonicOf(t, seq(0xff, -1, 32)), ReasonLowEntropy, "arithmetic progression"},
		{"step 3 bytes", mnemonicOf(t, seq(0x10, 3, 24)), ReasonLowEntropy, "arithmetic progression"},
		{"constant byte", mnemonicOf(t, bytes.Repeat([]byte{0x3c}, 20)), ReasonLowEntropy, "arithmetic progression"},
		{"all ones", mnemonicOf(t, bytes.Repeat([]byte{0xff}, 28)), ReasonLowEntropy, "arithmetic progression"},
		{"repeating deadbeef", mnemonicOf(t, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 4)), ReasonLowEntropy, "distinct"},
		{"two alternating bytes", mnemonicOf(t, bytes.Repeat([]byte{0x13, 0xf7}, 12)), ReasonLowEntropy, "distinct"},
		{"16 random bytes twice", mnemonicOf(t, periodic), ReasonLowEntropy, "distinct"},
		{"word indexes in progression", mnemonicFromIndexes(t, 16, wordAP), ReasonLowEntropy, "word indexes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckImportMnemonic(tc.mnemonic)
			var weak *WeakMnemonicError
			if !errors.As(err, &weak) {
				t.Fatalf("err = %v, want *WeakMnemonicError", err)
			}
			if weak.Reason != tc.reason {
				t.Fatalf("reason = %s (%v), want %s", weak.Reason, err, tc.reason)
			}
			msg := err.Error()
			if !strings.Contains(msg, string(tc.reason)) || !strings.Contains(msg, tc.detail) {
				t.Errorf("message %q lacks reason %s or detail %q", msg, tc.reason, tc.detail)
			}
			checkNoWords(t, msg)
		})
	}
}

// messageVocabulary is every word the refusal messages may use; a message token outside it
// would be text taken from the mnemonic.
var messageVocabulary = strings.Fields(`hd mnemonic refused malformed too short unknown word
	checksum known test repeated low entropy not in the bip english list must have or words
	got is normalized lowercase separated by single spaces mismatch bytes form an arithmetic
	progression few distinct indexes`)

func checkNoWords(t *testing.T, msg string) {
	t.Helper()
	tokens := strings.FieldsFunc(strings.ToLower(msg), func(r rune) bool { return !unicode.IsLetter(r) })
	for _, tok := range tokens {
		found := false
		for _, v := range messageVocabulary {
			if tok == v {
				found = true
			}
		}
		if !found {
			t.Errorf("message %q contains %q, which is not part of any fixed message", msg, tok)
		}
	}
}

func TestKnownTestMnemonics(t *testing.T) {
	_, vectors := loadBIP39Vectors(t)
	listed := 0
	for _, line := range strings.Split(knownTestText, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		listed++
		if _, err := MnemonicToEntropy(line); err != nil {
			t.Errorf("listed known mnemonic is not valid BIP-39: %v", err)
		}
	}
	if listed != len(knownTestHashes) || listed != 27 {
		t.Errorf("%d listed, %d hashed, want 27", listed, len(knownTestHashes))
	}
	for i, v := range vectors {
		var weak *WeakMnemonicError
		if err := CheckImportMnemonic(v.Mnemonic); !errors.As(err, &weak) || weak.Reason != ReasonKnownTestMnemonic {
			t.Errorf("BIP-39 vector %d: err = %v, want %s", i, err, ReasonKnownTestMnemonic)
		}
	}
}

func TestCheckImportMnemonicAcceptsRandom(t *testing.T) {
	for _, n := range []int{16, 20, 24, 28, 32} {
		for range 50 {
			ent := make([]byte, n)
			rand.Read(ent)
			m := mnemonicOf(t, ent)
			if err := CheckImportMnemonic(m); err != nil {
				t.Fatalf("random %d-byte entropy refused: %v", n, err)
			}
		}
	}
}
