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
	"github.com/ethereum/go-ethereum/crypto/secp256k1"
)

func TestBIP32Vectors(t *testing.T) {
	f := loadBIP32Vectors(t)
	if len(f.Valid) != 4 {
		t.Fatalf("got %d valid vectors, want 4", len(f.Valid))
	}
	chains := 0
	for _, v := range f.Valid {
		seed := mustHex(t, v.Seed)
		master, err := NewMaster(seed)
		if err != nil {
			t.Fatalf("vector %d: %v", v.Vector, err)
		}
		for ci, c := range v.Chains {
			chains++
			t.Run(fmt.Sprintf("vector%d/%s", v.Vector, c.Path), func(t *testing.T) {
				p, err := ParsePath(c.Path)
				if err != nil {
					t.Fatal(err)
				}
				if p.String() != c.Path {
					t.Errorf("path round trip %q -> %q", c.Path, p.String())
				}

				// From the seed, through Derive.
				k, err := master.Derive(p)
				if err != nil {
					t.Fatal(err)
				}
				defer k.Wipe()
				if got := k.XPub(); got != c.XPub {
					t.Errorf("Derive xpub = %s, want %s", got, c.XPub)
				}
				if got := k.xprv(); got != c.XPrv {
					t.Errorf("Derive xprv = %s, want %s", got, c.XPrv)
				}
				if got := k.Public().XPub(); got != c.XPub {
					t.Errorf("Public().XPub() = %s, want %s", got, c.XPub)
				}

				// Parse and re-serialise the vector's own keys.
				pub, err := ParseExtendedKey(c.XPub)
				if err != nil || pub.IsPrivate() || pub.XPub() != c.XPub {
					t.Errorf("ParseExtendedKey(xpub): %v", err)
				}
				prv, err := ParseExtendedKey(c.XPrv)
				if err != nil || !prv.IsPrivate() || prv.xprv() != c.XPrv || prv.XPub() != c.XPub {
					t.Errorf("ParseExtendedKey(xprv): %v", err)
				}

				if ci == 0 {
					return
				}
				// From the parsed parent: CKDpriv from the parent xprv, CKDpub from the
				// parent xpub where the last step is non-hardened.
				parent := v.Chains[ci-1]
				idx := p[len(p)-1]
				pprv, err := ParseExtendedKey(parent.XPrv)
				if err != nil {
					t.Fatal(err)
				}
				child, err := pprv.Child(idx)
				if err != nil {
					t.Fatal(err)
				}
				if child.xprv() != c.XPrv || child.XPub() != c.XPub {
					t.Errorf("child of parsed parent xprv = %s / %s", child.xprv(), child.XPub())
				}
				ppub, err := ParseExtendedKey(parent.XPub)
				if err != nil {
					t.Fatal(err)
				}
				pchild, err := ppub.Child(idx)
				if idx >= HardenedOffset {
					if !errors.Is(err, ErrHardenedFromPublic) {
						t.Errorf("hardened child of xpub: err = %v, want ErrHardenedFromPublic", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if pchild.XPub() != c.XPub {
					t.Errorf("child of parsed parent xpub = %s, want %s", pchild.XPub(), c.XPub)
				}
				if pchild.Address() != child.Address() {
					t.Errorf("public and private derivation give different addresses")
				}
			})
		}
	}
	if chains != 17 {
		t.Errorf("ran %d chains, want 17", chains)
	}
}

func TestAbandonAboutAddress(t *testing.T) {
	const (
		m    = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
		want = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
	)
	master, err := NewMaster(MnemonicToSeed(m, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer master.Wipe()
	p, err := ParsePath("m/44'/60'/0'/0/0")
	if err != nil {
		t.Fatal(err)
	}
	k, err := master.Derive(p)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Wipe()
	if got := k.Address().Hex(); got != want {
		t.Errorf("address = %s, want %s", got, want)
	}
	// The same address through the uncompressed key go-ethereum derives itself.
	ecpub, err := crypto.DecompressPubkey(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if got := crypto.PubkeyToAddress(*ecpub); got != k.Address() {
		t.Errorf("go-ethereum address = %s, ours %s", got.Hex(), k.Address().Hex())
	}
}

func testMaster(t testing.TB) *ExtendedKey {
	t.Helper()
	m, err := NewMaster(mustHex(t, "000102030405060708090a0b0c0d0e0f"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Wipe)
	return m
}

func TestSignDigest(t *testing.T) {
	master := testMaster(t)
	p, _ := AgentPath(1, 2, 3)
	k, err := master.Derive(p)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Wipe()
	for i := range 8 {
		var digest [32]byte
		if i > 0 {
			rand.Read(digest[:])
		}
		sig, err := k.SignDigest(digest)
		if err != nil {
			t.Fatal(err)
		}
		if sig[64] > 1 {
			t.Fatalf("v = %d, want 0 or 1", sig[64])
		}
		pub, err := secp256k1.RecoverPubkey(digest[:], sig[:])
		if err != nil {
			t.Fatal(err)
		}
		if got := crypto.Keccak256(pub[1:])[12:]; !bytes.Equal(got, k.Address().Bytes()) {
			t.Fatalf("recovered address %x, want %x", got, k.Address())
		}
		if !crypto.VerifySignature(k.PublicKey(), digest[:], sig[:64]) {
			t.Fatal("signature does not verify")
		}
		if s := new(big.Int).SetBytes(sig[32:64]); s.Cmp(new(big.Int).Rsh(secp256k1.S256().N, 1)) > 0 {
			t.Fatal("signature s is not low")
		}
		again, _ := k.SignDigest(digest)
		if again != sig {
			t.Fatal("RFC 6979 signatures differ for the same digest")
		}
	}
	if _, err := k.Public().SignDigest([32]byte{1}); !errors.Is(err, ErrNotPrivate) {
		t.Errorf("public SignDigest err = %v, want ErrNotPrivate", err)
	}
}

func TestNewMasterSeedLength(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 32, 64, 65, 128} {
		k, err := NewMaster(make([]byte, n))
		valid := n >= 16 && n <= 64
		if valid != (err == nil) {
			t.Errorf("seed of %d bytes: err = %v", n, err)
		}
		if !valid && !errors.Is(err, ErrSeedLength) {
			t.Errorf("seed of %d bytes: err = %v, want ErrSeedLength", n, err)
		}
		if k != nil {
			k.Wipe()
		}
	}
}

var curveOrder = secp256k1.S256().N

func scalarBytes(x *big.Int) []byte { return x.FillBytes(make([]byte, 32)) }

// TestInvalidMasterAndChild drives the BIP-32 invalid-key branches with chosen HMAC outputs
// (a real seed or index reaching them would need a 2^-127 event).
func TestInvalidMasterAndChild(t *testing.T) {
	var I [64]byte
	for name, il := range map[string]*big.Int{"IL=0": big.NewInt(0), "IL=n": curveOrder, "IL=2^256-1": new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))} {
		copy(I[:32], scalarBytes(il))
		if _, err := masterFromI(&I); !errors.Is(err, ErrInvalidMaster) {
			t.Errorf("master %s: err = %v, want ErrInvalidMaster", name, err)
		}
	}

	parent := testMaster(t)
	kpar := new(big.Int).SetBytes(parent.priv[:])
	tests := []struct {
		name string
		key  *ExtendedKey
		il   *big.Int
	}{
		{"private IL=n", parent, curveOrder},
		{"private IL+k=n", parent, new(big.Int).Sub(curveOrder, kpar)},
		{"public IL=n", parent.Public(), curveOrder},
		{"public IL*G+K=infinity", parent.Public(), new(big.Int).Sub(curveOrder, kpar)},
	}
	for _, tc := range tests {
		copy(I[:32], scalarBytes(tc.il))
		if _, err := tc.key.childFromI(7, &I); !errors.Is(err, ErrInvalidChild) {
			t.Errorf("%s: err = %v, want ErrInvalidChild", tc.name, err)
		}
	}
	// Just below the edge, both kinds of derivation succeed and agree.
	copy(I[:32], scalarBytes(new(big.Int).Sub(curveOrder, new(big.Int).Add(kpar, big.NewInt(1)))))
	priv, err1 := parent.childFromI(7, &I)
	pub, err2 := parent.Public().childFromI(7, &I)
	if err1 != nil || err2 != nil || priv.XPub() != pub.XPub() {
		t.Errorf("IL = n-k-1: %v, %v", err1, err2)
	}
	// n-1 is the private key, so its public key is -G: x(G) with odd y.
	if want := "0379be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"; hex.EncodeToString(priv.PublicKey()) != want {
		t.Errorf("public key of n-1 = %x, want %s", priv.PublicKey(), want)
	}
}

func TestChildErrors(t *testing.T) {
	master := testMaster(t)
	pub := master.Public()
	if _, err := pub.Child(HardenedOffset); !errors.Is(err, ErrHardenedFromPublic) {
		t.Errorf("hardened from public: err = %v", err)
	}
	if _, err := pub.Derive(Path{1, 2, HardenedOffset + 3}); !errors.Is(err, ErrHardenedFromPublic) {
		t.Errorf("Derive hardened from public: err = %v", err)
	}

	deep := make(Path, MaxDepth)
	k, err := pub.Derive(deep)
	if err != nil {
		t.Fatal(err)
	}
	if k.Depth() != MaxDepth {
		t.Fatalf("depth %d", k.Depth())
	}
	if _, err := k.Child(0); !errors.Is(err, ErrMaxDepth) {
		t.Errorf("child at depth 255: err = %v, want ErrMaxDepth", err)
	}
	if _, err := pub.Derive(make(Path, MaxDepth+1)); !errors.Is(err, ErrMaxDepth) {
		t.Errorf("Derive 256 levels: err = %v, want ErrMaxDepth", err)
	}
	if _, err := ParseExtendedKey(k.XPub()); err != nil {
		t.Errorf("depth-255 xpub does not parse: %v", err)
	}
}

func TestDeriveLeavesReceiverIntact(t *testing.T) {
	master := testMaster(t)
	before := master.xprv()
	p, _ := AgentPath(0, 0, 0)
	k, err := master.Derive(p)
	if err != nil {
		t.Fatal(err)
	}
	if master.xprv() != before || !master.IsPrivate() {
		t.Fatal("Derive changed its receiver")
	}
	empty, err := master.Derive(nil)
	if err != nil || empty == master || empty.xprv() != before {
		t.Fatalf("Derive(nil) = %p, %v; want an independent copy", empty, err)
	}
	empty.Wipe()
	if master.xprv() != before {
		t.Fatal("wiping the copy from Derive(nil) wiped the receiver")
	}
	k.Wipe()
}

func TestWipe(t *testing.T) {
	master := testMaster(t)
	p, _ := AgentPath(5, 6, 7)
	k, err := master.Derive(p)
	if err != nil {
		t.Fatal(err)
	}
	privArray := k.priv
	k.Wipe()
	if *privArray != [32]byte{} {
		t.Error("private key bytes not cleared")
	}
	if k.IsPrivate() || k.chainCode != [32]byte{} || k.pub != [33]byte{} {
		t.Error("key material left after Wipe")
	}
	if _, err := k.SignDigest([32]byte{}); !errors.Is(err, ErrWiped) {
		t.Errorf("SignDigest after Wipe: %v", err)
	}
	if _, err := k.Child(0); !errors.Is(err, ErrWiped) {
		t.Errorf("Child after Wipe: %v", err)
	}
	if _, err := k.Derive(Path{0}); !errors.Is(err, ErrWiped) {
		t.Errorf("Derive after Wipe: %v", err)
	}
	k.Wipe() // idempotent
	if k.String() != "hd.ExtendedKey(wiped)" {
		t.Errorf("String after Wipe = %q", k.String())
	}

	pub := master.Public()
	if pub.priv != nil || pub.IsPrivate() {
		t.Error("Public() kept the private key")
	}
}

func TestRedaction(t *testing.T) {
	master := testMaster(t)
	secretHex := hex.EncodeToString(master.priv[:])
	xprv := master.xprv()
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "k", master)
	outputs := []string{
		master.String(), master.GoString(), logged.String(),
		fmt.Sprintf("%v %+v %#v %s %x %X %q %d", master, master, master, master, master, master, master, master),
		fmt.Sprint(master), fmt.Sprint([]*ExtendedKey{master}),
		fmt.Sprintf("%+v", struct{ K *ExtendedKey }{master}),
	}
	decimal := strings.Trim(fmt.Sprint(master.priv[:]), "[]")
	for _, out := range outputs {
		if strings.Contains(strings.ToLower(out), secretHex) || strings.Contains(out, xprv) || strings.Contains(out, decimal) {
			t.Errorf("output leaks the private key: %q", out)
		}
	}
	if master.String() != redacted {
		t.Errorf("String() = %q, want %q", master.String(), redacted)
	}
	if !strings.Contains(logged.String(), redacted) {
		t.Errorf("slog output %q lacks the redacted text", logged.String())
	}
	pub := master.Public()
	if pub.String() != pub.XPub() || fmt.Sprintf("%v", pub) != pub.XPub() {
		t.Errorf("public key prints %q, want its xpub", pub.String())
	}
}

func TestChecksumAddress(t *testing.T) {
	const want = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
	for _, in := range []string{want, strings.ToLower(want), "0x" + strings.ToUpper(want[2:]), "0X" + want[2:]} {
		if got, err := ChecksumAddress(in); err != nil || got != want {
			t.Errorf("ChecksumAddress(%q) = %q, %v", in, got, err)
		}
	}
	bad := []string{
		"", "0x", "9858EfFD232B4033E47d90003D41EC34EcaEda94", want + "00", want[:40],
		"0x9858EfFD232B4033E47d90003D41EC34EcaEda9g",
		"0x9858efFD232B4033E47d90003D41EC34EcaEda94", // one letter's case flipped
		" " + want[1:],
	}
	for _, in := range bad {
		if _, err := ChecksumAddress(in); !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("ChecksumAddress(%q) err = %v, want ErrInvalidAddress", in, err)
		}
	}
}

// Fingerprints are HASH160; check one against the vector: the parent fingerprint of m/0' in
// BIP-32 vector 1 is 3442193e.
func TestFingerprint(t *testing.T) {
	master := testMaster(t)
	if got := hex.EncodeToString(master.fingerprint()); got != "3442193e" {
		t.Errorf("fingerprint = %s, want 3442193e", got)
	}
}
