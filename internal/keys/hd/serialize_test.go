package hd

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// vector5Reasons maps the reason text of BIP-32 test vector 5 to the rule ParseExtendedKey must
// report. Matching is by prefix because the BIP appends details ("prefix 04", "pubkey 0200…07").
var vector5Reasons = []struct {
	prefix string
	want   error
}{
	{"pubkey version / prvkey mismatch", errKeyPubVersionPrvKey},
	{"prvkey version / pubkey mismatch", errKeyPrvVersionPubKey},
	{"invalid pubkey prefix", errKeyPubPrefix},
	{"invalid prvkey prefix", errKeyPrvPrefix},
	{"zero depth with non-zero parent fingerprint", errKeyZeroDepthParent},
	{"zero depth with non-zero index", errKeyZeroDepthIndex},
	{"unknown extended key version", errKeyVersion},
	{"private key 0 not in 1..n-1", errKeyPrvRange},
	{"private key n not in 1..n-1", errKeyPrvRange},
	{"invalid pubkey 02", errKeyPubPoint},
	{"invalid checksum", errKeyChecksum},
}

func TestBIP32Vector5Invalid(t *testing.T) {
	f := loadBIP32Vectors(t)
	if len(f.Invalid) != 16 {
		t.Fatalf("got %d invalid keys, want 16", len(f.Invalid))
	}
	for _, v := range f.Invalid {
		t.Run(v.Reason, func(t *testing.T) {
			var want error
			for _, r := range vector5Reasons {
				if strings.HasPrefix(v.Reason, r.prefix) {
					want = r.want
					break
				}
			}
			if want == nil {
				t.Fatalf("no expected error for reason %q", v.Reason)
			}
			k, err := ParseExtendedKey(v.Key)
			if k != nil {
				t.Fatal("invalid key accepted")
			}
			if !errors.Is(err, ErrInvalidExtendedKey) || !errors.Is(err, want) {
				t.Fatalf("err = %v, want %v", err, want)
			}
		})
	}
}

func TestParseExtendedKeyErrors(t *testing.T) {
	const valid = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8"
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", errKeyLength},
		{"not base58 0", "0" + valid[1:], errKeyBase58},
		{"not base58 l", valid[:10] + "l" + valid[11:], errKeyBase58},
		{"space", valid + " ", errKeyBase58},
		{"truncated", valid[:len(valid)-1], errKeyLength},
		{"extended", valid + "1", errKeyLength},
		{"too long", strings.Repeat("z", maxExtendedKeyChars+1), errKeyLength},
		{"78 bytes without checksum", base58Encode(mustDecode(t, valid)[:78]), errKeyLength},
		{"testnet version", reencode(t, valid, func(b []byte) { copy(b, []byte{0x04, 0x35, 0x87, 0xCF}) }), errKeyVersion},
		{"off-curve x", reencode(t, valid, func(b []byte) { copy(b[46:], bytes.Repeat([]byte{0xff}, 32)) }), errKeyPubPoint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseExtendedKey(tc.in)
			if !errors.Is(err, ErrInvalidExtendedKey) || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}

	// Any single-character substitution must be rejected (almost always by the checksum).
	for i := 0; i < len(valid); i++ {
		for _, c := range []byte{'2', 'z'} {
			if valid[i] == c {
				continue
			}
			mutated := valid[:i] + string(c) + valid[i+1:]
			if _, err := ParseExtendedKey(mutated); err == nil {
				t.Fatalf("mutation at %d accepted", i)
			}
		}
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, ok := base58Decode(s)
	if !ok {
		t.Fatalf("base58Decode(%q) failed", s)
	}
	return b
}

// reencode decodes a valid key, edits its 78-byte payload and re-encodes it with a correct
// checksum, so only the edited rule is broken.
func reencode(t *testing.T, s string, edit func([]byte)) string {
	t.Helper()
	b := mustDecode(t, s)[:serializedLen]
	edit(b)
	return base58CheckEncode(b)
}

func TestBase58RoundTrip(t *testing.T) {
	cases := [][]byte{{}, {0}, {0, 0, 1}, {0xff}, {0, 0, 0, 0xff, 0xfe}, bytes.Repeat([]byte{0xff}, 82)}
	for range 50 {
		b := make([]byte, 1+len(cases)%90)
		rand.Read(b)
		cases = append(cases, b)
	}
	for _, c := range cases {
		s := base58Encode(c)
		back, ok := base58Decode(s)
		if !ok || !bytes.Equal(back, c) {
			t.Fatalf("round trip of %x via %q gave %x", c, s, back)
		}
	}
	// Known encodings (Bitcoin base58 alphabet).
	if got := base58Encode([]byte("hello world")); got != "StV1DL6CwTryKyV" {
		t.Errorf("base58(hello world) = %s", got)
	}
	if got := base58Encode([]byte{0, 0, 0x28, 0x7f, 0xb4, 0xcd}); got != "11233QC4" {
		t.Errorf("base58(00 00 28 7f b4 cd) = %s", got)
	}
}

func TestParsedXPrvHasMatchingPublicKey(t *testing.T) {
	master := testMaster(t)
	k, err := ParseExtendedKey(master.xprv())
	if err != nil {
		t.Fatal(err)
	}
	defer k.Wipe()
	if !bytes.Equal(k.PublicKey(), master.PublicKey()) || k.Address() != master.Address() {
		t.Error("parsed xprv has a different public key")
	}
}
