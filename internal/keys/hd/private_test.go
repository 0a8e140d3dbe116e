package hd

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// comparePrivate checks that DerivePrivate(seed, p) is the key that NewMaster+Derive reach.
func comparePrivate(t *testing.T, seed []byte, p Path) {
	t.Helper()
	master, err := NewMaster(seed)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Wipe()
	full, err := master.Derive(p)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Wipe()
	lean, err := DerivePrivate(seed, p)
	if err != nil {
		t.Fatal(err)
	}
	defer lean.Wipe()
	if !bytes.Equal(lean.priv[:], full.priv[:]) {
		t.Fatalf("%s: private keys differ", p)
	}
	addr, err := lean.Address()
	if err != nil || addr != full.Address() {
		t.Fatalf("%s: address %s, want %s (err %v)", p, addr.Hex(), full.Address().Hex(), err)
	}
	pub, err := lean.PublicKey()
	if err != nil || !bytes.Equal(pub, full.PublicKey()) {
		t.Fatalf("%s: public key differs (err %v)", p, err)
	}
	digest := [32]byte{0xfe, 0xed}
	s1, err1 := lean.SignDigest(digest)
	s2, err2 := full.SignDigest(digest)
	if err1 != nil || err2 != nil || s1 != s2 {
		t.Fatalf("%s: signatures differ (%v, %v)", p, err1, err2)
	}
}

// TestDerivePrivateMatchesVectors runs every chain of BIP-32 vectors 1-4 through DerivePrivate
// and also checks the resulting private key against the vector's xprv.
func TestDerivePrivateMatchesVectors(t *testing.T) {
	f := loadBIP32Vectors(t)
	n := 0
	for _, v := range f.Valid {
		seed := mustHex(t, v.Seed)
		for _, c := range v.Chains {
			p, err := ParsePath(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("vector%d/%s", v.Vector, c.Path), func(t *testing.T) {
				comparePrivate(t, seed, p)
				want, err := ParseExtendedKey(c.XPrv)
				if err != nil {
					t.Fatal(err)
				}
				defer want.Wipe()
				got, err := DerivePrivate(seed, p)
				if err != nil {
					t.Fatal(err)
				}
				defer got.Wipe()
				if !bytes.Equal(got.priv[:], want.priv[:]) {
					t.Fatalf("private key differs from the vector's xprv")
				}
			})
			n++
		}
	}
	if n != 17 {
		t.Fatalf("ran %d chains, want 17", n)
	}
}

func TestDerivePrivateRandomPaths(t *testing.T) {
	for range 40 {
		seed := make([]byte, 64)
		rand.Read(seed)
		var p Path
		depth, _ := rand.Int(rand.Reader, big.NewInt(7))
		for range depth.Int64() {
			var b [4]byte
			rand.Read(b[:])
			i := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			p = append(p, i) // about half hardened, half not
		}
		comparePrivate(t, seed, p)
	}
	p, _ := AgentPath(3, 99, 1)
	seed := make([]byte, 32)
	rand.Read(seed)
	comparePrivate(t, seed, p)
}

func TestDerivePrivateErrors(t *testing.T) {
	if _, err := DerivePrivate(make([]byte, 15), nil); !errors.Is(err, ErrSeedLength) {
		t.Fatalf("short seed: %v", err)
	}
	if _, err := DerivePrivate(make([]byte, 65), nil); !errors.Is(err, ErrSeedLength) {
		t.Fatalf("long seed: %v", err)
	}
	if _, err := DerivePrivate(make([]byte, 32), make(Path, 256)); !errors.Is(err, ErrMaxDepth) {
		t.Fatalf("deep path: %v", err)
	}
	seed := make([]byte, 32)
	rand.Read(seed)
	k, err := DerivePrivate(seed, Path{HardenedOffset})
	if err != nil {
		t.Fatal(err)
	}
	k.Wipe()
	k.Wipe()
	if _, err := k.SignDigest([32]byte{}); !errors.Is(err, ErrWiped) {
		t.Fatalf("sign after wipe: %v", err)
	}
	if _, err := k.Address(); !errors.Is(err, ErrWiped) {
		t.Fatalf("address after wipe: %v", err)
	}
}

func TestPrivateKeyRedacts(t *testing.T) {
	seed := make([]byte, 32)
	rand.Read(seed)
	k, err := DerivePrivate(seed, Path{HardenedOffset + 1})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Wipe()
	secretHex := hex.EncodeToString(k.priv[:])
	var out strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		fmt.Fprintf(&out, verb+"\n", k)
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("key", "k", k)
	s := strings.ToLower(out.String())
	if strings.Contains(s, secretHex) || !strings.Contains(out.String(), redactedPrivate) {
		t.Fatalf("private key leaked or not redacted: %s", out.String())
	}
	// The signature recovers to the key's address: it is a real key, not a placeholder.
	digest := [32]byte{7}
	sig, err := k.SignDigest(digest)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := crypto.SigToPub(digest[:], sig[:])
	if err != nil {
		t.Fatal(err)
	}
	if addr, _ := k.Address(); crypto.PubkeyToAddress(*pub) != addr {
		t.Fatal("signature does not recover to the key's address")
	}
}

func BenchmarkDerivePrivateAgentPath(b *testing.B) {
	seed := mustHex(b, "000102030405060708090a0b0c0d0e0f")
	p, _ := AgentPath(7, 1234, 2)
	for b.Loop() {
		k, err := DerivePrivate(seed, p)
		if err != nil {
			b.Fatal(err)
		}
		k.Wipe()
	}
}
