package hd

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

type bip39Vector struct {
	Entropy  []byte
	Mnemonic string
	Seed     []byte
	XPrv     string
}

func loadBIP39Vectors(t testing.TB) (passphrase string, vs []bip39Vector) {
	t.Helper()
	var file struct {
		Passphrase string      `json:"passphrase"`
		English    [][4]string `json:"english"`
	}
	readJSON(t, "bip39-vectors.json", &file)
	if file.Passphrase == "" || len(file.English) == 0 {
		t.Fatal("bip39-vectors.json: missing passphrase or vectors")
	}
	for i, e := range file.English {
		ent, err1 := hex.DecodeString(e[0])
		seed, err2 := hex.DecodeString(e[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("vector %d: bad hex", i)
		}
		vs = append(vs, bip39Vector{ent, e[1], seed, e[3]})
	}
	return file.Passphrase, vs
}

type bip32File struct {
	Valid []struct {
		Vector int    `json:"vector"`
		Seed   string `json:"seed"`
		Chains []struct {
			Path string `json:"path"`
			XPub string `json:"xpub"`
			XPrv string `json:"xprv"`
		} `json:"chains"`
	} `json:"valid"`
	Invalid []struct {
		Key    string `json:"key"`
		Reason string `json:"reason"`
	} `json:"invalid"`
}

func loadBIP32Vectors(t testing.TB) bip32File {
	t.Helper()
	var f bip32File
	readJSON(t, "bip32-vectors.json", &f)
	return f
}

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestVectorFilesHash(t *testing.T) {
	want := map[string]string{
		"testdata/bip39-vectors.json": "a715a6c1947a255e81a908b97a6fb8b363c271e11db8e3bab8cd131c13cb04d9",
		"testdata/bip32-vectors.json": "1b86a3fec411b1c2071417e5270dfaa5b626f619ea7e6df4bf424e761a9bc398",
	}
	for name, sum := range want {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, want %s (update testdata/README.md if the file changed on purpose)", name, got, sum)
		}
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
