package slip39

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
)

type vector struct {
	description string
	mnemonics   []string
	secret      string // hex; "" means the set must be rejected
	xprv        string
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw [][]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	out := make([]vector, len(raw))
	for i, r := range raw {
		if len(r) != 4 {
			t.Fatalf("entry %d has %d fields, want 4", i, len(r))
		}
		v := &out[i]
		for j, dst := range []any{&v.description, &v.mnemonics, &v.secret, &v.xprv} {
			if err := json.Unmarshal(r[j], dst); err != nil {
				t.Fatalf("entry %d field %d: %v", i, j, err)
			}
		}
	}
	return out
}

// vectorPassphrase is the passphrase of every valid official vector.
var vectorPassphrase = []byte("TREZOR")

// expectedError maps the descriptions of the invalid official vectors to
// the sentinel each must produce; a description missing here fails the test.
func expectedError(description string) error {
	for _, c := range []struct {
		contains string
		err      error
	}{
		{"invalid checksum", ErrChecksum},
		{"invalid padding", ErrInvalidPadding},
		{"Basic sharing 2-of-3", ErrInsufficientShares},
		{"different identifiers", ErrMismatchedShares},
		{"different iteration exponents", ErrMismatchedShares},
		{"mismatching group thresholds", ErrMismatchedShares},
		{"mismatching group counts", ErrMismatchedShares},
		{"greater group threshold than group counts", ErrInvalidShare},
		{"duplicate member indices", ErrMismatchedShares},
		{"mismatching member thresholds", ErrMismatchedShares},
		{"invalid digest", ErrInvalidDigest},
		{"Insufficient number of groups", ErrInsufficientShares},
		{"insufficient number of members", ErrInsufficientShares},
		{"insufficient length", ErrInvalidLength},
		{"invalid master secret length", ErrInvalidLength},
	} {
		if strings.Contains(description, c.contains) {
			return c.err
		}
	}
	return nil
}

func TestVectors(t *testing.T) {
	vectors := loadVectors(t)
	if len(vectors) != 45 {
		t.Fatalf("got %d vectors, want 45", len(vectors))
	}
	for _, v := range vectors {
		t.Run(v.description, func(t *testing.T) {
			got, err := Combine(v.mnemonics, vectorPassphrase)
			if v.secret == "" {
				if err == nil {
					t.Fatalf("Combine succeeded; the vector must be rejected")
				}
				want := expectedError(v.description)
				if want == nil {
					t.Fatalf("no expected error recorded for this invalid vector (got %v)", err)
				}
				if !errors.Is(err, want) {
					t.Fatalf("Combine error = %v; want %v", err, want)
				}
				assertNoLeak(t, err, v.mnemonics)
				return
			}
			if err != nil {
				t.Fatalf("Combine: %v", err)
			}
			want, _ := hex.DecodeString(v.secret)
			if !bytes.Equal(got, want) {
				t.Fatalf("master secret = %x, want %s", got, v.secret)
			}
			if x := bip32MasterXprv(got); x != v.xprv {
				t.Errorf("BIP-32 master xprv = %s, want %s", x, v.xprv)
			}
			// Order does not matter.
			rev := make([]string, len(v.mnemonics))
			for i, m := range v.mnemonics {
				rev[len(rev)-1-i] = m
			}
			got2, err := Combine(rev, vectorPassphrase)
			if err != nil || !bytes.Equal(got2, want) {
				t.Errorf("Combine(reversed) = %x, %v; want %s", got2, err, v.secret)
			}
			// The encoder reproduces every official share word for word.
			for i, m := range v.mnemonics {
				s, err := ParseShare(m)
				if err != nil {
					t.Fatalf("ParseShare(mnemonic %d): %v", i+1, err)
				}
				if enc := s.mnemonic(); enc != m {
					t.Errorf("mnemonic %d re-encodes differently", i+1)
				}
			}
		})
	}
}

// TestVectorsWrongPassphrase: a wrong passphrase is not an error, it gives a
// different secret (SLIP-0039 "Passphrase").
func TestVectorsWrongPassphrase(t *testing.T) {
	v := loadVectors(t)[3] // 4. Basic sharing 2-of-3 (128 bits)
	want, _ := hex.DecodeString(v.secret)
	got, err := Combine(v.mnemonics, []byte("TREZOR "))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) || len(got) != len(want) {
		t.Fatalf("wrong passphrase gave %x", got)
	}
}

// assertNoLeak fails if err's message repeats two consecutive words of any
// mnemonic: errors must name positions, never share content.
func assertNoLeak(t *testing.T, err error, mnemonics []string) {
	t.Helper()
	msg := err.Error()
	for _, m := range mnemonics {
		w := strings.Fields(m)
		for i := 0; i+1 < len(w); i++ {
			if strings.Contains(msg, w[i]+" "+w[i+1]) {
				t.Fatalf("error message %q contains share words", msg)
			}
		}
	}
}

// bip32MasterXprv serializes the BIP-32 master private key of seed (the
// SLIP-0039 master secret is the BIP-32 seed). Written here from BIP-32 so
// that this package needs no other fleetkey package.
func bip32MasterXprv(seed []byte) string {
	m := hmac.New(sha512.New, []byte("Bitcoin seed"))
	m.Write(seed)
	i := m.Sum(nil)
	var b []byte
	b = append(b, 0x04, 0x88, 0xad, 0xe4) // mainnet private version
	b = append(b, 0)                      // depth
	b = append(b, 0, 0, 0, 0)             // parent fingerprint
	b = append(b, 0, 0, 0, 0)             // child number
	b = append(b, i[32:]...)              // chain code
	b = append(b, 0)
	b = append(b, i[:32]...) // key
	h1 := sha256.Sum256(b)
	h2 := sha256.Sum256(h1[:])
	b = append(b, h2[:4]...)
	return base58(b)
}

func base58(b []byte) string {
	const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	n := new(big.Int).SetBytes(b)
	radix := big.NewInt(58)
	mod := new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append(out, alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, alphabet[0])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func TestWordlistDigest(t *testing.T) {
	const want = "bcc4555340332d169718aed8bf31dd9d5248cb7da6e5d355140ef4f1e601eec3"
	sum := sha256.Sum256([]byte(wordlistText))
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("embedded wordlist.txt sha256 = %s, want %s", got, want)
	}
}

// TestWordlist checks the properties the specification lists and the
// constant-time lookup in both directions.
func TestWordlist(t *testing.T) {
	words := strings.Fields(wordlistText)
	if len(words) != wordCount {
		t.Fatalf("%d words", len(words))
	}
	prefixes := map[string]bool{}
	for i, w := range words {
		if len(w) < 4 || len(w) > 8 {
			t.Errorf("word %d has length %d", i, len(w))
		}
		if prefixes[w[:4]] {
			t.Errorf("word %d repeats a 4-letter prefix", i)
		}
		prefixes[w[:4]] = true
		idx, ok := wordIndex(w)
		if !ok || int(idx) != i {
			t.Fatalf("wordIndex(word %d) = %d, %t", i, idx, ok)
		}
		if idx, ok := wordIndex(strings.ToUpper(w)); !ok || int(idx) != i {
			t.Fatalf("wordIndex(upper-case word %d) = %d, %t", i, idx, ok)
		}
		if got := string(appendWord(nil, uint16(i))); got != w {
			t.Fatalf("appendWord(%d) = %q", i, got)
		}
	}
	for _, bad := range []string{"", "acad", "academicx", "academi", "acade\x00ic", "académic", "academic1", "aaaaaaaaaaaaaaaaaaa"} {
		if _, ok := wordIndex(bad); ok {
			t.Errorf("wordIndex(%q) succeeded", bad)
		}
	}
}
