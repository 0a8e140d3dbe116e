package custody

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/keys/hd"
)

// testPassphrase is long enough for Init and never used outside tests.
const testPassphrase = "correct horse battery staple"

// cheapArgon2 is far below the real floor; fastKDF lets a test use it.
var cheapArgon2 = Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// fastKDF lowers the Argon2id floor for one test so that error paths that unseal many times run
// in milliseconds. Tests that call it must not run in parallel with others.
func fastKDF(t testing.TB) {
	t.Helper()
	old := argon2Floor
	argon2Floor = Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}
	t.Cleanup(func() { argon2Floor = old })
}

func mustPassphrase(t testing.TB, s string) Passphrase {
	t.Helper()
	p, err := NewPassphrase([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// initPassphrase seals a fresh root in a new directory with cheap (or given) Argon2 parameters.
func initPassphrase(t testing.TB, params Argon2Params) (dir string, res *InitResult) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	res, err := Init(InitRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase), Argon2: params})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return dir, res
}

// initShares seals a fresh root in a new directory with a k-of-n split returned in memory.
func initShares(t testing.TB, k, n int) (dir string, res *InitResult) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	res, err := Init(InitRequest{DataDir: dir, Shares: ShareSpec{Threshold: k, Count: n}})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	if len(res.Shares) != n {
		t.Fatalf("Init returned %d shares, want %d", len(res.Shares), n)
	}
	return dir, res
}

// snapshot records every file under dir (path → content) to show that a failure changed nothing.
func snapshot(t testing.TB, dirs ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, d := range dirs {
		err := filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if os.IsNotExist(err) && p == d {
				return filepath.SkipDir
			}
			if err != nil {
				return err
			}
			if fi.IsDir() {
				m[p+"/"] = fi.Mode().String()
				return nil
			}
			b, err := os.ReadFile(p)
			m[p] = fi.Mode().String() + string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func sameSnapshot(t testing.TB, before, after map[string]string) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%s changed", k)
		}
	}
}

// refDerive is an independent BIP-32 private derivation written from the BIP text with
// math/big, used to know which private key bytes must never appear anywhere.
func refDerive(seed []byte, path hd.Path) []byte {
	n := crypto.S256().Params().N
	mac := hmac.New(sha512.New, []byte("Bitcoin seed"))
	mac.Write(seed)
	I := mac.Sum(nil)
	k, c := new(big.Int).SetBytes(I[:32]), I[32:]
	for _, i := range path {
		var data []byte
		if i >= 1<<31 {
			data = append([]byte{0}, k.FillBytes(make([]byte, 32))...)
		} else {
			priv, err := crypto.ToECDSA(k.FillBytes(make([]byte, 32)))
			if err != nil {
				panic(err)
			}
			data = crypto.CompressPubkey(&priv.PublicKey)
		}
		data = binary.BigEndian.AppendUint32(data, i)
		mac := hmac.New(sha512.New, c)
		mac.Write(data)
		I = mac.Sum(nil)
		k.Add(k, new(big.Int).SetBytes(I[:32]))
		k.Mod(k, n)
		c = I[32:]
	}
	return k.FillBytes(make([]byte, 32))
}

func mnemonicOf(t testing.TB, ent []byte) string {
	t.Helper()
	m, err := hd.EntropyToMnemonic(ent)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func seedOf(mnemonic string) []byte { return hd.MnemonicToSeed(mnemonic, "") }

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
