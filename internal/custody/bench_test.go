package custody

import (
	"crypto/sha256"
	"testing"

	"github.com/fleetkey/fleetkey/internal/keys/hd"
)

// BenchmarkUnsealPassphrase opens a seal made with DefaultArgon2Params; Argon2id dominates.
func BenchmarkUnsealPassphrase(b *testing.B) {
	dir, _ := initPassphrase(b, Argon2Params{})
	pass := mustPassphrase(b, testPassphrase)
	for b.Loop() {
		v, err := Unseal(UnsealRequest{DataDir: dir, Passphrase: pass})
		if err != nil {
			b.Fatal(err)
		}
		v.Close()
	}
}

// BenchmarkUnsealShares3of5 opens a 3-of-5 seal: SLIP-0039 recovery plus BIP-39 PBKDF2.
func BenchmarkUnsealShares3of5(b *testing.B) {
	dir, res := initShares(b, 3, 5)
	for b.Loop() {
		v, err := Unseal(UnsealRequest{DataDir: dir, Shares: res.Shares[1:4]})
		if err != nil {
			b.Fatal(err)
		}
		v.Close()
	}
}

// BenchmarkDeriveAgentKey derives a fresh agent key (m/44'/60'/1'/n'/0', all hardened) and its
// address from an unsealed vault.
func BenchmarkDeriveAgentKey(b *testing.B) {
	v, _ := importedVault(b)
	var n uint32
	for b.Loop() {
		p, _ := hd.AgentPath(1, n, 0)
		n++
		k, err := v.Key(p)
		if err != nil {
			b.Fatal(err)
		}
		_ = k.Address()
	}
}

// BenchmarkSignDigest signs with an agent key handle: derivation from the seed, ECDSA, wipe and
// the verification of the signature.
func BenchmarkSignDigest(b *testing.B) {
	v, _ := importedVault(b)
	p, _ := hd.AgentPath(1, 1, 0)
	k, err := v.Key(p)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("payment"))
	for b.Loop() {
		if _, err := k.SignDigest(d); err != nil {
			b.Fatal(err)
		}
	}
}
