package custody

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPassphraseRoundTrip(t *testing.T) {
	fastKDF(t)
	dir, res := initPassphrase(t, cheapArgon2)
	if res.Info.Kind != KEKPassphrase || res.Info.Argon2 != cheapArgon2 || res.Info.SealID.IsZero() {
		t.Fatalf("info = %+v", res.Info)
	}
	if res.Shares != nil || res.ShareFiles != nil {
		t.Fatal("passphrase seal returned shares")
	}
	fi, err := os.Stat(filepath.Join(dir, SealFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("seal mode %v, want 0600", fi.Mode().Perm())
	}
	// docs/custody.md §4: 202 bytes for a passphrase seal of 32 bytes of entropy.
	if b, _ := os.ReadFile(filepath.Join(dir, SealFileName)); len(b) != 202 || string(b[:8]) != "\x89FKSEAL\n" || b[9] != 1 || b[10] != 1 || b[37] != 25 {
		t.Errorf("seal layout differs from the documented one: % x", b)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", di.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the seal", len(entries))
	}
	info, err := Inspect(dir)
	if err != nil || info != res.Info {
		t.Fatalf("Inspect = %+v, %v; want %+v", info, err, res.Info)
	}
	if d := time.Since(info.Created); d < 0 || d > time.Minute {
		t.Errorf("created %v", info.Created)
	}

	v1, err := Unseal(UnsealRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	defer v1.Close()
	v2, err := Unseal(UnsealRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if !v1.seed.equal(v2.seed) || len(v1.seed.bytes()) != 64 {
		t.Fatal("two unseals gave different seeds")
	}
}

// TestDefaultParamsRoundTrip runs the real Argon2id parameters once.
func TestDefaultParamsRoundTrip(t *testing.T) {
	dir, res := initPassphrase(t, Argon2Params{})
	if res.Info.Argon2 != DefaultArgon2Params() {
		t.Fatalf("argon2 params %+v, want the defaults", res.Info.Argon2)
	}
	if _, err := Unseal(UnsealRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase+"!")}); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	v, err := Unseal(UnsealRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
}

func TestInitRequestValidation(t *testing.T) {
	fastKDF(t)
	tmp := t.TempDir()
	pass := mustPassphrase(t, testPassphrase)
	short := mustPassphrase(t, "short")
	tests := []struct {
		name string
		req  InitRequest
		want error // nil: any error
	}{
		{"no dir", InitRequest{Passphrase: pass}, nil},
		{"neither", InitRequest{DataDir: tmp}, nil},
		{"both", InitRequest{DataDir: tmp, Passphrase: pass, Shares: ShareSpec{2, 3}}, nil},
		{"share dir without split", InitRequest{DataDir: tmp, Passphrase: pass, SharesOut: tmp}, nil},
		{"short passphrase", InitRequest{DataDir: tmp, Passphrase: short}, nil},
		{"weak memory", InitRequest{DataDir: tmp, Passphrase: pass, Argon2: Argon2Params{MemoryKiB: 4, Time: 3, Threads: 1}}, ErrKDFTooWeak},
		{"weak time", InitRequest{DataDir: tmp, Passphrase: pass, Argon2: Argon2Params{MemoryKiB: 64, Time: 0, Threads: 1}}, ErrKDFTooWeak},
		{"huge memory", InitRequest{DataDir: tmp, Passphrase: pass, Argon2: Argon2Params{MemoryKiB: 1 << 31, Time: 3, Threads: 1}}, nil},
		{"threshold 1", InitRequest{DataDir: tmp, Shares: ShareSpec{1, 3}}, nil},
		{"threshold above count", InitRequest{DataDir: tmp, Shares: ShareSpec{4, 3}}, nil},
		{"17 shares", InitRequest{DataDir: tmp, Shares: ShareSpec{2, 17}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, tmp)
			_, err := Init(tt.req)
			if err == nil {
				t.Fatal("Init succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			sameSnapshot(t, before, snapshot(t, tmp))
		})
	}
}

func TestDefaultFloor(t *testing.T) {
	d, m := DefaultArgon2Params(), MinArgon2Params()
	if m.MemoryKiB < 64*1024 || d.MemoryKiB < m.MemoryKiB || d.Time < m.Time || d.Threads < m.Threads {
		t.Fatalf("defaults %+v below floor %+v, or floor below 64 MiB", d, m)
	}
}

func TestAlreadyInitialized(t *testing.T) {
	fastKDF(t)
	dir, _ := initPassphrase(t, cheapArgon2)
	before := snapshot(t, dir)
	_, err := Init(InitRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase), Argon2: cheapArgon2})
	if !errors.Is(err, ErrAlreadyInitialized) {
		t.Fatalf("second passphrase Init: %v", err)
	}
	_, err = Init(InitRequest{DataDir: dir, Shares: ShareSpec{2, 3}, SharesOut: filepath.Join(dir, "shares")})
	if !errors.Is(err, ErrAlreadyInitialized) {
		t.Fatalf("second shares Init: %v", err)
	}
	sameSnapshot(t, before, snapshot(t, dir))
}

func TestNotInitialized(t *testing.T) {
	dir := t.TempDir()
	if _, err := Unseal(UnsealRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase)}); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("Unseal: %v", err)
	}
	if _, err := Inspect(filepath.Join(dir, "missing")); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("Inspect: %v", err)
	}
}

func TestWrongPassphraseAndMethod(t *testing.T) {
	fastKDF(t)
	dir, _ := initPassphrase(t, cheapArgon2)
	_, sres := initShares(t, 2, 3)
	before := snapshot(t, dir)
	tests := []struct {
		name string
		req  UnsealRequest
		want error
	}{
		{"wrong passphrase", UnsealRequest{Passphrase: mustPassphrase(t, "correct horse battery stapler")}, ErrWrongPassphrase},
		{"prefix", UnsealRequest{Passphrase: mustPassphrase(t, "correct horse battery stapl")}, ErrWrongPassphrase},
		{"no passphrase", UnsealRequest{}, ErrWrongUnlockMethod},
		{"shares for passphrase seal", UnsealRequest{Shares: sres.Shares[:2]}, ErrWrongUnlockMethod},
		{"both", UnsealRequest{Passphrase: mustPassphrase(t, testPassphrase), Shares: sres.Shares[:2]}, ErrWrongUnlockMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.DataDir = dir
			v, err := Unseal(tt.req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if v != nil {
				t.Fatal("vault returned with an error")
			}
			if strings.Contains(err.Error(), testPassphrase) {
				t.Fatal("error mentions the passphrase")
			}
		})
	}
	sameSnapshot(t, before, snapshot(t, dir))
}

func TestKDFBelowFloorRefused(t *testing.T) {
	fastKDF(t)
	dir, _ := initPassphrase(t, cheapArgon2)
	// Back to the real floor (fastKDF's cleanup restores it either way): the seal's cheap
	// parameters are now below it.
	argon2Floor = Argon2Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 1}
	_, err := Unseal(UnsealRequest{DataDir: dir, Passphrase: mustPassphrase(t, testPassphrase)})
	if !errors.Is(err, ErrKDFTooWeak) {
		t.Fatalf("err = %v, want ErrKDFTooWeak", err)
	}
}

// sealKinds makes one seal of each kind and returns the directory and an unseal request for it.
func sealKinds(t *testing.T) map[string]struct {
	dir string
	req UnsealRequest
} {
	fastKDF(t)
	pdir, _ := initPassphrase(t, cheapArgon2)
	sdir, sres := initShares(t, 2, 3)
	return map[string]struct {
		dir string
		req UnsealRequest
	}{
		"passphrase": {pdir, UnsealRequest{DataDir: pdir, Passphrase: mustPassphrase(t, testPassphrase)}},
		"shares":     {sdir, UnsealRequest{DataDir: sdir, Shares: sres.Shares[1:]}},
	}
}

func rewriteSeal(t *testing.T, dir string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, SealFileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFlipEveryByte flips each byte of a sealed file in turn: each flip must be refused, never
// accepted, never panic; the checksum catches it before any key is derived.
func TestFlipEveryByte(t *testing.T) {
	for name, k := range sealKinds(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(k.dir, SealFileName)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := range orig {
				for _, mask := range []byte{0x01, 0x80, 0xff} {
					b := append([]byte(nil), orig...)
					b[i] ^= mask
					rewriteSeal(t, k.dir, b)
					v, err := Unseal(k.req)
					if err == nil {
						v.Close()
						t.Fatalf("byte %d ^ %#x: unseal succeeded", i, mask)
					}
					isVersion := i == offVersion || i == offVersion+1
					if !errors.Is(err, ErrCorruptSeal) && !(isVersion && errors.Is(err, ErrUnsupportedVersion)) {
						t.Fatalf("byte %d ^ %#x: err = %v", i, mask, err)
					}
					after, _ := os.ReadFile(path)
					if string(after) != string(b) {
						t.Fatalf("byte %d: unseal changed the file", i)
					}
				}
			}
			rewriteSeal(t, k.dir, orig)
			v, err := Unseal(k.req)
			if err != nil {
				t.Fatalf("original no longer opens: %v", err)
			}
			v.Close()
		})
	}
}

// TestTamperWithChecksum plays an attacker who edits the file and recomputes the unkeyed
// checksum: every single-byte change must still be refused. This is what the AEAD's additional
// data (the whole header) and the key check are for.
func TestTamperWithChecksum(t *testing.T) {
	for name, k := range sealKinds(t) {
		t.Run(name, func(t *testing.T) {
			orig, err := os.ReadFile(filepath.Join(k.dir, SealFileName))
			if err != nil {
				t.Fatal(err)
			}
			body := len(orig) - checksumLen
			for i := 0; i < body; i++ {
				b := append([]byte(nil), orig[:body]...)
				b[i] ^= 0x01
				sum := sha256.Sum256(b)
				rewriteSeal(t, k.dir, append(b, sum[:]...))
				v, err := Unseal(k.req)
				if err == nil {
					v.Close()
					t.Fatalf("byte %d: unseal succeeded", i)
				}
			}
		})
	}
}

// TestHeaderBoundAsAD changes a header field that feeds no key derivation (the creation time)
// and recomputes the checksum: the key check passes, so only the additional data can catch it.
func TestHeaderBoundAsAD(t *testing.T) {
	for name, k := range sealKinds(t) {
		t.Run(name, func(t *testing.T) {
			orig, _ := os.ReadFile(filepath.Join(k.dir, SealFileName))
			b := append([]byte(nil), orig[:len(orig)-checksumLen]...)
			b[offCreated+7] ^= 0x01 // one second later
			sum := sha256.Sum256(b)
			rewriteSeal(t, k.dir, append(b, sum[:]...))
			_, err := Unseal(k.req)
			if !errors.Is(err, ErrCorruptSeal) || !strings.Contains(err.Error(), "authentication") {
				t.Fatalf("err = %v, want an authentication failure", err)
			}
		})
	}
}

func TestTruncations(t *testing.T) {
	for name, k := range sealKinds(t) {
		t.Run(name, func(t *testing.T) {
			orig, _ := os.ReadFile(filepath.Join(k.dir, SealFileName))
			for n := 0; n < len(orig); n++ {
				rewriteSeal(t, k.dir, orig[:n])
				if _, err := Unseal(k.req); !errors.Is(err, ErrCorruptSeal) {
					t.Fatalf("truncated to %d: err = %v", n, err)
				}
			}
			rewriteSeal(t, k.dir, append(append([]byte(nil), orig...), 0))
			if _, err := Unseal(k.req); !errors.Is(err, ErrCorruptSeal) {
				t.Fatalf("trailing byte: err = %v", err)
			}
		})
	}
}

func TestUnsupportedVersion(t *testing.T) {
	k := sealKinds(t)["passphrase"]
	orig, _ := os.ReadFile(filepath.Join(k.dir, SealFileName))
	b := append([]byte(nil), orig...)
	b[offVersion+1] = 2
	rewriteSeal(t, k.dir, b)
	if _, err := Unseal(k.req); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Inspect(k.dir); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("Inspect err = %v", err)
	}
}

func TestImportMnemonic(t *testing.T) {
	fastKDF(t)
	// A valid mnemonic that is not a published test vector: the BIP-39 encoding of
	// SHA-256("fleetkey custody import test").
	ent := sha256.Sum256([]byte("fleetkey custody import test"))
	words := mnemonicOf(t, ent[:])
	m, err := NewMnemonic([]byte("  " + strings.ToUpper(words[:1]) + words[1:] + "\n"))
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
	defer v.Close()
	if want := seedOf(words); string(v.seed.bytes()) != string(want) {
		t.Fatal("imported seed differs from the BIP-39 seed of the mnemonic")
	}

	// The public test mnemonic is refused and nothing is written.
	abandon, _ := NewMnemonic([]byte(strings.Repeat("abandon ", 11) + "about"))
	dir2 := filepath.Join(t.TempDir(), "data")
	if _, err := Init(InitRequest{DataDir: dir2, Passphrase: mustPassphrase(t, testPassphrase), Argon2: cheapArgon2, Import: abandon}); err == nil {
		t.Fatal("test mnemonic imported")
	}
	if _, err := os.Stat(dir2); !os.IsNotExist(err) {
		t.Fatal("refused import left a directory")
	}
}

// TestInitLeavesNothingOnFailure fails Init while it writes the third share.
func TestInitLeavesNothingOnFailure(t *testing.T) {
	base := t.TempDir()
	dir, out := filepath.Join(base, "data"), filepath.Join(base, "shares", "alice")
	testHookBeforeShare = func(i int) error {
		if i == 2 {
			return errors.New("disk full")
		}
		return nil
	}
	defer func() { testHookBeforeShare = func(int) error { return nil } }()
	if _, err := Init(InitRequest{DataDir: dir, Shares: ShareSpec{2, 4}, SharesOut: out}); err == nil {
		t.Fatal("Init succeeded")
	}
	entries, _ := os.ReadDir(base)
	if len(entries) != 0 {
		t.Fatalf("left behind %v", entries)
	}

	// Pre-existing directories stay, and so do files that were there.
	os.MkdirAll(out, 0o700)
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(out, "note.txt"), []byte("x"), 0o600)
	before := snapshot(t, base)
	if _, err := Init(InitRequest{DataDir: dir, Shares: ShareSpec{2, 4}, SharesOut: out}); err == nil {
		t.Fatal("Init succeeded")
	}
	sameSnapshot(t, before, snapshot(t, base))
}
