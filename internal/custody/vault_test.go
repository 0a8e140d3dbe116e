package custody

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/keys/hd"
)

// importedVault seals a known (non-test) mnemonic so that expected keys can be computed
// independently.
func importedVault(t testing.TB) (*Vault, []byte) {
	t.Helper()
	fastKDF(t)
	ent := sha256.Sum256([]byte("fleetkey custody vault test"))
	words := mnemonicOf(t, ent[:])
	m, err := NewMnemonic([]byte(words))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := Init(InitRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase), Argon2: cheapArgon2, Import: m}); err != nil {
		t.Fatal(err)
	}
	v, err := Unseal(UnsealRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v, seedOf(words)
}

func mustPath(t testing.TB, s string) hd.Path {
	t.Helper()
	p, err := hd.ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVaultKeysMatchReference(t *testing.T) {
	v, seed := importedVault(t)
	agent, err := hd.AgentPath(1, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	paths := []hd.Path{agent, mustPath(t, "m/44'/60'/0'/0/0"), mustPath(t, "m/44'/60'/7'/3'/2'"), mustPath(t, "m")}
	for _, p := range paths {
		t.Run(p.String(), func(t *testing.T) {
			k, err := v.Key(p)
			if err != nil {
				t.Fatal(err)
			}
			priv, err := crypto.ToECDSA(refDerive(seed, p))
			if err != nil {
				t.Fatal(err)
			}
			if want := crypto.PubkeyToAddress(priv.PublicKey); k.Address() != want {
				t.Fatalf("address %s, want %s", k.Address().Hex(), want.Hex())
			}
			if !bytes.Equal(k.PublicKey(), crypto.CompressPubkey(&priv.PublicKey)) {
				t.Fatal("public key differs")
			}
			if k.Path().String() != p.String() {
				t.Fatalf("path %s", k.Path())
			}
			digest := sha256.Sum256([]byte("pay 1 USDC to the weather API"))
			sig, err := k.SignDigest(digest)
			if err != nil {
				t.Fatal(err)
			}
			if sig[64] > 1 {
				t.Fatalf("v = %d, want 0 or 1", sig[64])
			}
			pub, err := crypto.SigToPub(digest[:], sig[:])
			if err != nil || crypto.PubkeyToAddress(*pub) != k.Address() {
				t.Fatalf("signature recovers to another key (%v)", err)
			}
			// RFC 6979: the same digest gives the same signature.
			if sig2, _ := k.SignDigest(digest); sig2 != sig {
				t.Fatal("signature not deterministic")
			}
		})
	}
}

func TestKeyReturnsCopies(t *testing.T) {
	v, _ := importedVault(t)
	k, err := v.Key(mustPath(t, "m/44'/60'/1'/1'/0'"))
	if err != nil {
		t.Fatal(err)
	}
	pub := k.PublicKey()
	pub[0] ^= 0xff
	path := k.Path()
	path[0] = 0
	if bytes.Equal(pub, k.PublicKey()) || k.Path()[0] == 0 {
		t.Fatal("Key exposes its internal slices")
	}
}

func TestVaultClose(t *testing.T) {
	v, _ := importedVault(t)
	k, err := v.Key(mustPath(t, "m/44'/60'/1'/1'/0'"))
	if err != nil {
		t.Fatal(err)
	}
	seed := v.seed
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if seed.bytes() != nil {
		t.Fatal("seed memory not released")
	}
	if _, err := v.Key(mustPath(t, "m/44'/60'/1'/1'/1'")); !errors.Is(err, ErrSealed) {
		t.Fatalf("Key after Close: %v", err)
	}
	if _, err := k.SignDigest([32]byte{1}); !errors.Is(err, ErrSealed) {
		t.Fatalf("SignDigest after Close: %v", err)
	}
	if k.Address() == ([20]byte{}) {
		t.Fatal("public data lost on Close")
	}
}

// TestVaultConcurrent signs from many goroutines while the vault is closed under them (run
// with -race): every call either succeeds with a valid signature or returns ErrSealed.
func TestVaultConcurrent(t *testing.T) {
	v, _ := importedVault(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			p, _ := hd.AgentPath(1, uint32(g), 0)
			for i := 0; i < 20; i++ {
				k, err := v.Key(p)
				if errors.Is(err, ErrSealed) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				d := sha256.Sum256([]byte{byte(g), byte(i)})
				sig, err := k.SignDigest(d)
				if errors.Is(err, ErrSealed) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				if pub, err := crypto.SigToPub(d[:], sig[:]); err != nil || crypto.PubkeyToAddress(*pub) != k.Address() {
					errs <- errors.New("bad signature")
					return
				}
			}
		}(g)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = v.Key(mustPath(t, "m/1'"))
		v.Close()
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestVaultPrints(t *testing.T) {
	v, _ := importedVault(t)
	s := v.String()
	if !bytes.Contains([]byte(s), []byte(v.Info().SealID.String())) {
		t.Fatalf("String = %q", s)
	}
}

// TestVaultFromMnemonic checks the derivation-check entry point against the widely used vector
// "abandon ×11 about" → m/44'/60'/0'/0/0 = 0x9858EfFD232B4033E47d90003D41EC34EcaEda94.
func TestVaultFromMnemonic(t *testing.T) {
	m, err := NewMnemonic([]byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := VaultFromMnemonic(m, Passphrase{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	k, err := v.Key(mustPath(t, "m/44'/60'/0'/0/0"))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Address().Hex(); got != "0x9858EfFD232B4033E47d90003D41EC34EcaEda94" {
		t.Fatalf("address %s", got)
	}
	// A BIP-39 passphrase changes the seed.
	vp, err := VaultFromMnemonic(m, mustPassphrase(t, "TREZOR"))
	if err != nil {
		t.Fatal(err)
	}
	defer vp.Close()
	// BIP-39 English vector 1 (../shared/reference/vectors/bip39-vectors.json).
	if got := hex.EncodeToString(vp.seed.bytes()); got != "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04" {
		t.Fatalf("seed %s", got)
	}
	kp, _ := vp.Key(mustPath(t, "m/44'/60'/0'/0/0"))
	if kp.Address() == k.Address() {
		t.Fatal("passphrase ignored")
	}
	bad, _ := NewMnemonic([]byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"))
	if _, err := VaultFromMnemonic(bad, Passphrase{}); err == nil {
		t.Fatal("bad checksum accepted")
	}
}
