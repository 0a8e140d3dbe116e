package hd

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"m", "m/0", "m/44'/60'/0'/0/0", "m/44h/60H/1'/2h/3", "m/2147483647'", "m/2147483648",
		"", "m/", "m//1", "M/1", "m/01", "m/1''", "m/-1", "m/4294967296", "m" + strings.Repeat("/0", 256),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) || p != nil {
				t.Fatalf("error %v does not wrap ErrInvalidPath, or path returned", err)
			}
			return
		}
		if len(p) > MaxDepth {
			t.Fatalf("depth %d accepted", len(p))
		}
		canon := p.String()
		if want := strings.NewReplacer("h", "'", "H", "'").Replace(s); canon != want {
			t.Fatalf("String() = %q, want %q", canon, want)
		}
		back, err := ParsePath(canon)
		if err != nil || !slices.Equal(back, p) {
			t.Fatalf("canonical %q does not round-trip: %v", canon, err)
		}
	})
}

func FuzzParseExtendedKey(f *testing.F) {
	v := loadBIP32Vectors(f)
	for _, vec := range v.Valid {
		for _, c := range vec.Chains {
			f.Add(c.XPub)
			f.Add(c.XPrv)
		}
	}
	for _, inv := range v.Invalid {
		f.Add(inv.Key)
	}
	f.Add("")
	f.Add("1111111111")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseExtendedKey(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidExtendedKey) || k != nil {
				t.Fatalf("error %v does not wrap ErrInvalidExtendedKey, or key returned", err)
			}
			return
		}
		defer k.Wipe()
		out := k.XPub()
		if k.IsPrivate() {
			out = k.xprv()
		}
		if out != s {
			t.Fatalf("re-serialised %q as %q", s, out)
		}
		if pub, err := ParseExtendedKey(k.XPub()); err != nil || pub.Address() != k.Address() {
			t.Fatalf("xpub of an accepted key does not parse to the same key: %v", err)
		}
	})
}

func FuzzMnemonicToEntropy(f *testing.F) {
	_, vectors := loadBIP39Vectors(f)
	for _, v := range vectors {
		f.Add(v.Mnemonic)
	}
	for _, s := range []string{"", "abandon", "zoo zoo zoo", " legal", "légal winner", "abandon  abandon",
		"legal winner thank year wave sausage worth useful legal winner thank year"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ent, err := MnemonicToEntropy(s)
		checkErr := CheckImportMnemonic(s)
		if err != nil {
			known := []error{ErrNotNormalized, ErrMnemonicLength, ErrUnknownWord, ErrChecksum}
			if !slices.ContainsFunc(known, func(e error) bool { return errors.Is(err, e) }) {
				t.Fatalf("unexpected error %v", err)
			}
			if checkErr == nil {
				t.Fatal("CheckImportMnemonic accepted an invalid mnemonic")
			}
			return
		}
		back, err := EntropyToMnemonic(ent)
		if err != nil || back != s {
			t.Fatalf("entropy %x gives %q, %v", ent, back, err)
		}
		var weak *WeakMnemonicError
		if checkErr != nil && !errors.As(checkErr, &weak) {
			t.Fatalf("CheckImportMnemonic error %v is not a *WeakMnemonicError", checkErr)
		}
	})
}
