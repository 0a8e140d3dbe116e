package hd

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The well-known SHA-256 of bitcoin/bips bip-0039/english.txt.
const englishListSHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"

func TestWordlistHash(t *testing.T) {
	sum := sha256.Sum256([]byte(englishText))
	if got := hex.EncodeToString(sum[:]); got != englishListSHA256 {
		t.Fatalf("wordlists/english.txt sha256 = %s, want %s", got, englishListSHA256)
	}
	words := strings.Split(strings.TrimSuffix(englishText, "\n"), "\n")
	for i := 1; i < len(words); i++ {
		if words[i-1] >= words[i] {
			t.Fatalf("word list not strictly sorted at line %d", i+1)
		}
	}
	for i, w := range words {
		idx, found := indexOf(englishPacked[i])
		if found != 1 || idx != uint64(i) {
			t.Fatalf("indexOf(%q) = %d, %d; want %d, 1", w, idx, found, i)
		}
		var b strings.Builder
		unpackWord(wordAt(uint64(i)), &b)
		if b.String() != w {
			t.Fatalf("wordAt(%d) = %q, want %q", i, b.String(), w)
		}
	}
}

func TestBIP39Vectors(t *testing.T) {
	passphrase, vectors := loadBIP39Vectors(t)
	if len(vectors) != 24 {
		t.Fatalf("got %d BIP-39 vectors, want 24", len(vectors))
	}
	for i, v := range vectors {
		t.Run(fmt.Sprintf("%02d_%x", i, v.Entropy), func(t *testing.T) {
			m, err := EntropyToMnemonic(v.Entropy)
			if err != nil || m != v.Mnemonic {
				t.Errorf("EntropyToMnemonic = %q, %v; want %q", m, err, v.Mnemonic)
			}
			ent, err := MnemonicToEntropy(v.Mnemonic)
			if err != nil || !bytes.Equal(ent, v.Entropy) {
				t.Errorf("MnemonicToEntropy = %x, %v; want %x", ent, err, v.Entropy)
			}
			seed := MnemonicToSeed(v.Mnemonic, passphrase)
			if !bytes.Equal(seed, v.Seed) {
				t.Errorf("MnemonicToSeed = %x, want %x", seed, v.Seed)
			}
			master, err := NewMaster(seed)
			if err != nil {
				t.Fatal(err)
			}
			defer master.Wipe()
			if got := master.xprv(); got != v.XPrv {
				t.Errorf("root xprv = %s, want %s", got, v.XPrv)
			}
		})
	}
}

func TestEntropyToMnemonicLength(t *testing.T) {
	for n := 0; n <= 40; n++ {
		_, err := EntropyToMnemonic(make([]byte, n))
		valid := n >= 16 && n <= 32 && n%4 == 0
		if valid != (err == nil) {
			t.Errorf("%d bytes: err = %v, want valid=%v", n, err, valid)
		}
		if !valid && !errors.Is(err, ErrEntropyLength) {
			t.Errorf("%d bytes: err = %v, want ErrEntropyLength", n, err)
		}
	}
}

func TestMnemonicRoundTrip(t *testing.T) {
	for _, n := range []int{16, 20, 24, 28, 32} {
		for range 20 {
			ent := make([]byte, n)
			rand.Read(ent)
			m, err := EntropyToMnemonic(ent)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(strings.Fields(m)); got != (n*8+n/4)/11 {
				t.Fatalf("%d bytes gave %d words", n, got)
			}
			back, err := MnemonicToEntropy(m)
			if err != nil || !bytes.Equal(back, ent) {
				t.Fatalf("round trip of %x: %x, %v", ent, back, err)
			}
		}
	}
}

func TestMnemonicToEntropyErrors(t *testing.T) {
	valid := "legal winner thank year wave sausage worth useful legal winner thank yellow"
	words := strings.Fields(valid)
	replace := func(pos int, w string) string {
		c := append([]string(nil), words...)
		c[pos] = w
		return strings.Join(c, " ")
	}
	tests := []struct {
		name      string
		mnemonic  string
		want      error
		wantInMsg string
	}{
		{"empty", "", ErrNotNormalized, ""},
		{"leading space", " " + valid, ErrNotNormalized, ""},
		{"trailing newline", valid + "\n", ErrNotNormalized, ""},
		{"double space", strings.Replace(valid, " ", "  ", 1), ErrNotNormalized, ""},
		{"tab", strings.Replace(valid, " ", "\t", 1), ErrNotNormalized, ""},
		{"uppercase", strings.ToUpper(valid), ErrNotNormalized, ""},
		{"non-ASCII", replace(0, "légal"), ErrNotNormalized, ""},
		{"11 words", strings.Join(words[:11], " "), ErrMnemonicLength, "got 11"},
		{"13 words", valid + " legal", ErrMnemonicLength, "got 13"},
		{"27 words", valid + " " + valid + " legal winner thank", ErrMnemonicLength, "got 27"},
		{"unknown word 3", replace(2, "thanks"), ErrUnknownWord, "word 3"},
		{"unknown words 1 and 12", "bitcoin winner thank year wave sausage worth useful legal winner thank yellowish", ErrUnknownWord, "word 1, 12"},
		{"word longer than 8 letters", replace(4, "wavesausage"), ErrUnknownWord, "word 5"},
		{"checksum", replace(11, "year"), ErrChecksum, ""},
		{"swapped words", "winner legal thank year wave sausage worth useful legal winner thank yellow", ErrChecksum, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ent, err := MnemonicToEntropy(tc.mnemonic)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if ent != nil {
				t.Errorf("entropy returned with error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantInMsg) {
				t.Errorf("message %q does not contain %q", msg, tc.wantInMsg)
			}
			for _, w := range []string{"thanks", "bitcoin", "yellowish", "wavesausage", "legal", "winner"} {
				if strings.Contains(msg, w) {
					t.Errorf("message %q leaks a word", msg)
				}
			}
		})
	}
}

func TestNormalizeMnemonic(t *testing.T) {
	want := "legal winner thank year wave sausage worth useful legal winner thank yellow"
	for _, in := range []string{
		want,
		"  Legal WINNER thank year wave sausage worth useful legal winner thank yellow\n",
		"legal\twinner\r\nthank year wave sausage worth useful legal   winner thank yellow",
		"legal\u00a0winner thank year wave sausage worth useful legal winner thank yellow", // NBSP
	} {
		if got := NormalizeMnemonic(in); got != want {
			t.Errorf("NormalizeMnemonic(%q) = %q", in, got)
		} else if _, err := MnemonicToEntropy(got); err != nil {
			t.Errorf("normalized %q not accepted: %v", in, err)
		}
	}
}

// TestMnemonicToSeedNFKD checks that passphrases are NFKD-normalised as BIP-39 requires, and
// cross-checks the package's PBKDF2 against crypto/pbkdf2 on non-ASCII input.
func TestMnemonicToSeedNFKD(t *testing.T) {
	const m = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	tests := []struct{ a, b string }{
		{"caf\u00e9", "cafe\u0301"},                        // composed vs decomposed é
		{"\u338d", "\u03bcg"},                              // ㎍ compatibility character vs μg
		{"\u30d1\u30b9", "\u30cf\u309a\u30b9"},             // パス composed vs decomposed
		{"\uff34\uff32\uff25\uff3a\uff2f\uff32", "TREZOR"}, // full-width letters
	}
	for _, tc := range tests {
		sa, sb := MnemonicToSeed(m, tc.a), MnemonicToSeed(m, tc.b)
		if !bytes.Equal(sa, sb) {
			t.Errorf("%q and %q give different seeds", tc.a, tc.b)
		}
		ref, err := pbkdf2.Key(sha512.New, m, []byte("mnemonic"+tc.b), 2048, 64)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sa, ref) {
			t.Errorf("%q: seed %x, crypto/pbkdf2 gives %x", tc.a, sa, ref)
		}
	}
	if bytes.Equal(MnemonicToSeed(m, "cafe"), MnemonicToSeed(m, "caf\u00e9")) {
		t.Error("different passphrases give the same seed")
	}
	if bytes.Equal(MnemonicToSeed(m, ""), MnemonicToSeed(m, "TREZOR")) {
		t.Error("empty passphrase and TREZOR give the same seed")
	}
}
