package custody

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/custody/slip39"
)

// subsets calls fn with every subset of {0..n-1} of size k.
func subsets(n, k int, fn func([]int)) {
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == k {
			fn(cur)
			return
		}
		for i := start; i < n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, nil)
}

func pick(shares []*Share, idx []int) []*Share {
	out := make([]*Share, len(idx))
	for i, j := range idx {
		out[i] = shares[j]
	}
	return out
}

// TestSharesEveryKSubset unseals a 3-of-5 seal with every 3-subset (and every 4- and 5-subset)
// and fails with every 2-subset.
func TestSharesEveryKSubset(t *testing.T) {
	dir, res := initShares(t, 3, 5)
	if res.Info.Kind != KEKShares || res.Info.Threshold != 3 || res.Info.Count != 5 {
		t.Fatalf("info %+v", res.Info)
	}
	// docs/custody.md §4: 181 bytes for a shares seal.
	if b, _ := os.ReadFile(filepath.Join(dir, SealFileName)); len(b) != 181 || b[10] != 2 || b[37] != 4 || b[38] != 3 || b[39] != 5 {
		t.Errorf("seal layout differs from the documented one: % x", b)
	}
	var seed []byte
	for k := 1; k <= 5; k++ {
		subsets(5, k, func(idx []int) {
			v, err := Unseal(UnsealRequest{DataDir: dir, Shares: pick(res.Shares, idx)})
			if k < 3 {
				if !errors.Is(err, ErrInsufficientShares) {
					t.Fatalf("shares %v: err = %v, want ErrInsufficientShares", idx, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("shares %v: %v", idx, err)
			}
			defer v.Close()
			if seed == nil {
				seed = append([]byte(nil), v.seed.bytes()...)
			} else if !bytes.Equal(seed, v.seed.bytes()) {
				t.Fatalf("shares %v: different seed", idx)
			}
		})
	}
	// Duplicates count once.
	dup := []*Share{res.Shares[0], res.Shares[0], res.Shares[1]}
	if _, err := Unseal(UnsealRequest{DataDir: dir, Shares: dup}); !errors.Is(err, ErrInsufficientShares) {
		t.Fatalf("duplicate share: err = %v", err)
	}
}

func TestShareShapes(t *testing.T) {
	for _, spec := range []ShareSpec{{2, 2}, {2, 16}, {16, 16}, {5, 9}} {
		_, res := initShares(t, spec.Threshold, spec.Count)
		for i, s := range res.Shares {
			if s.Index != i+1 || s.Count != spec.Count || s.Threshold != spec.Threshold || s.SealID != res.Info.SealID || s.Identifier != res.Info.Identifier {
				t.Fatalf("%+v: share %d = %v", spec, i, s)
			}
			if n := len(strings.Fields(s.Mnemonic.s.view())); n != 33 {
				t.Fatalf("share has %d words, want 33 (256-bit secret)", n)
			}
		}
	}
}

func TestForeignAndBadShares(t *testing.T) {
	dir, res := initShares(t, 2, 3)
	_, other := initShares(t, 2, 3)
	for other.Info.Identifier == res.Info.Identifier { // 1 in 32768
		_, other = initShares(t, 2, 3)
	}
	fromWords := func(s *Share) *Share { // as if typed in: no seal id
		m, err := NewShareMnemonic([]byte(s.Mnemonic.s.view()))
		if err != nil {
			t.Fatal(err)
		}
		sh, err := ShareFromMnemonic(m)
		if err != nil {
			t.Fatal(err)
		}
		return sh
	}
	mistyped := func(s *Share) *Share {
		words := strings.Fields(s.Mnemonic.s.view())
		if words[10] == "academic" {
			words[10] = "acid"
		} else {
			words[10] = "academic"
		}
		m, _ := NewShareMnemonic([]byte(strings.Join(words, " ")))
		return &Share{Mnemonic: m}
	}
	sameIDOtherSeal := *other.Shares[0]
	sameIDOtherSeal.SealID = res.Info.SealID // a lying header: the identifier still differs
	tests := []struct {
		name   string
		shares []*Share
		want   error
		msg    string
	}{
		{"foreign share from file", []*Share{res.Shares[0], other.Shares[1]}, ErrShareMismatch, "seal"},
		{"foreign share typed in", []*Share{res.Shares[0], fromWords(other.Shares[1])}, ErrShareMismatch, "identifier"},
		{"foreign share with forged seal id", []*Share{res.Shares[0], &sameIDOtherSeal}, ErrShareMismatch, "identifier"},
		{"mistyped word", []*Share{res.Shares[0], mistyped(res.Shares[1])}, ErrInvalidShare, "checksum"},
		{"all foreign", other.Shares[:2], ErrShareMismatch, ""},
		{"empty share", []*Share{res.Shares[0], {}}, ErrInvalidShare, ""},
		{"nil share", []*Share{res.Shares[0], nil}, ErrInvalidShare, ""},
		{"one share", res.Shares[:1], ErrInsufficientShares, ""},
	}
	before := snapshot(t, dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Unseal(UnsealRequest{DataDir: dir, Shares: tt.shares})
			if !errors.Is(err, tt.want) || v != nil {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.msg)
			}
		})
	}
	sameSnapshot(t, before, snapshot(t, dir))

	// Typed-in shares of the right seal work.
	v, err := Unseal(UnsealRequest{DataDir: dir, Shares: []*Share{fromWords(res.Shares[2]), fromWords(res.Shares[0])}})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
}

// TestSameIdentifierOtherSeal covers the 1-in-32768 case where another split has the same
// SLIP-0039 identifier: the key check still names the shares as not belonging to the seal.
func TestSameIdentifierOtherSeal(t *testing.T) {
	dir, res := initShares(t, 2, 3)
	_, other := initShares(t, 2, 3)
	// Rewrite this seal's header to carry the other split's identifier.
	setSealIdentifier(t, dir, other.Info.Identifier)
	shares := []*Share{fromWordsNoID(t, other.Shares[0]), fromWordsNoID(t, other.Shares[1])}
	if _, err := Unseal(UnsealRequest{DataDir: dir, Shares: shares}); !errors.Is(err, ErrShareMismatch) {
		t.Fatalf("err = %v, want ErrShareMismatch", err)
	}
	_ = res
}

func fromWordsNoID(t *testing.T, s *Share) *Share {
	m, err := NewShareMnemonic([]byte(s.Mnemonic.s.view()))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := ShareFromMnemonic(m)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func TestShareFiles(t *testing.T) {
	base := t.TempDir()
	dir, out := filepath.Join(base, "data"), filepath.Join(base, "out", "shares")
	res, err := Init(InitRequest{DataDir: dir, Shares: ShareSpec{2, 3}, SharesOut: out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Shares != nil || len(res.ShareFiles) != 3 {
		t.Fatalf("shares %v, files %v", res.Shares, res.ShareFiles)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o700 {
		t.Errorf("share dir mode %v", fi.Mode().Perm())
	}
	var shares []*Share
	for i, p := range res.ShareFiles {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v", p, err, fi.Mode().Perm())
		}
		text, _ := os.ReadFile(p)
		for _, want := range []string{"SECRET", "seal-id: " + res.Info.SealID.String(), "threshold: 2", "share: " + string(rune('1'+i)) + " of 3"} {
			if !bytes.Contains(text, []byte(want)) {
				t.Fatalf("%s lacks %q:\n%s", p, want, text)
			}
		}
		sh, err := ReadShareFile(p)
		if err != nil {
			t.Fatalf("ReadShareFile: %v", err)
		}
		if sh.Index != i+1 || sh.SealID != res.Info.SealID || !sh.Created.Equal(res.Info.Created) {
			t.Fatalf("parsed %v", sh)
		}
		shares = append(shares, sh)
	}
	v, err := Unseal(UnsealRequest{DataDir: dir, Shares: []*Share{shares[2], shares[0]}})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()

	// A second Init into the same share directory (new data dir) writes new, differently named
	// files and leaves the old ones alone.
	before := snapshot(t, out)
	res2, err := Init(InitRequest{DataDir: filepath.Join(base, "data2"), Shares: ShareSpec{2, 3}, SharesOut: out})
	if err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, out)
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%s was overwritten", k)
		}
	}
	if len(after) != len(before)+3 || len(res2.ShareFiles) != 3 {
		t.Fatalf("second init wrote %d files", len(after)-len(before))
	}
}

// TestShareFileNeverOverwritten pre-creates the file the next share would go to.
func TestShareFileNeverOverwritten(t *testing.T) {
	base := t.TempDir()
	out := filepath.Join(base, "shares")
	// Learn the seal id the next Init will use by running it once with a failing hook.
	var name string
	testHookBeforeShare = func(i int) error { return errors.New("stop") }
	defer func() { testHookBeforeShare = func(int) error { return nil } }()
	_, err := Init(InitRequest{DataDir: filepath.Join(base, "data"), Shares: ShareSpec{2, 3}, SharesOut: out})
	if err == nil {
		t.Fatal("hook did not stop Init")
	}
	testHookBeforeShare = func(i int) error {
		if i == 1 { // before share 2 is written, plant a file at its name
			entries, _ := os.ReadDir(out)
			name = strings.Replace(entries[0].Name(), "-01-of-03", "-02-of-03", 1)
			return os.WriteFile(filepath.Join(out, name), []byte("precious"), 0o600)
		}
		return nil
	}
	_, err = Init(InitRequest{DataDir: filepath.Join(base, "data"), Shares: ShareSpec{2, 3}, SharesOut: out})
	if err == nil || !errors.Is(err, os.ErrExist) {
		t.Fatalf("err = %v, want a file-exists error", err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || entries[0].Name() != name {
		t.Fatalf("share dir holds %v, want only the planted file", entries)
	}
	if b, _ := os.ReadFile(filepath.Join(out, name)); string(b) != "precious" {
		t.Fatal("planted file overwritten")
	}
	if _, err := os.Stat(filepath.Join(base, "data")); !os.IsNotExist(err) {
		t.Fatal("failed Init left the data directory")
	}
}

func TestParseShareFileRejects(t *testing.T) {
	_, res := initShares(t, 2, 3)
	var buf bytes.Buffer
	if _, err := res.Shares[0].WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if _, err := ParseShareFile([]byte(good)); err != nil {
		t.Fatalf("good file: %v", err)
	}
	words1 := res.Shares[1].Mnemonic.s.view()
	header, words0, _ := strings.Cut(good, "\n\n")
	tests := map[string]string{
		"empty":                "",
		"no header":            words0,
		"no words":             header + "\n\n",
		"unknown header":       strings.Replace(good, "threshold:", "thresh:", 1),
		"duplicate header":     strings.Replace(good, "threshold: 2\n", "threshold: 2\nthreshold: 2\n", 1),
		"missing version":      strings.Replace(good, "fleetkey-share: 1\n", "", 1),
		"future version":       strings.Replace(good, "fleetkey-share: 1", "fleetkey-share: 2", 1),
		"bad seal id":          strings.Replace(good, "seal-id: ", "seal-id: zz", 1),
		"index out of range":   strings.Replace(good, "share: 1 of 3", "share: 4 of 3", 1),
		"wrong index":          strings.Replace(good, "share: 1 of 3", "share: 2 of 3", 1),
		"wrong threshold":      strings.Replace(good, "threshold: 2", "threshold: 3", 1),
		"wrong identifier":     strings.Replace(good, "identifier: ", "identifier: 1", 1),
		"words of other share": header + "\n\n" + words1 + "\n",
		"comment in words":     good + "# note\n",
		"mistyped word":        header + "\n\n" + "academic " + strings.SplitN(strings.TrimSpace(words0), " ", 2)[1],
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseShareFile([]byte(text)); !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("err = %v, want ErrInvalidShare", err)
			}
		})
	}
}

func TestShareFromMnemonicRejectsMultiGroup(t *testing.T) {
	groups, err := slip39.Split(bytes.Repeat([]byte{7}, 16), nil, 2, []slip39.GroupSpec{{MemberThreshold: 1, MemberCount: 1}, {MemberThreshold: 1, MemberCount: 1}}, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := NewShareMnemonic([]byte(groups[0][0]))
	if _, err := ShareFromMnemonic(m); !errors.Is(err, ErrInvalidShare) {
		t.Fatalf("err = %v", err)
	}
}

// TestHighIterationExponentRefused: a share whose identifier matches the seal but whose
// iteration exponent is not the one Init uses is refused before any PBKDF2 work. The crafted
// shares come from a split with exponent 5 (any value but 0 will do; 15 would make even this
// test take minutes, which is the attack); the seal header is rewritten
// to carry their identifier, so only the exponent check stands between them and Combine.
func TestHighIterationExponentRefused(t *testing.T) {
	dir, _ := initShares(t, 2, 3)
	groups, err := slip39.Split(bytes.Repeat([]byte{9}, 32), nil, 1, []slip39.GroupSpec{{MemberThreshold: 2, MemberCount: 3}}, true, 5)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := slip39.ParseShare(groups[0][0])
	if err != nil {
		t.Fatal(err)
	}
	setSealIdentifier(t, dir, parsed.Identifier)

	var shares []*Share
	for _, w := range groups[0][:2] {
		m, err := NewShareMnemonic([]byte(w))
		if err != nil {
			t.Fatal(err)
		}
		sh, err := ShareFromMnemonic(m)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, sh)
	}
	_, err = Unseal(UnsealRequest{DataDir: dir, Shares: shares})
	if !errors.Is(err, ErrShareMismatch) || !strings.Contains(err.Error(), "iteration exponent 5") {
		t.Fatalf("err = %v, want ErrShareMismatch naming the iteration exponent", err)
	}
}

// setSealIdentifier rewrites the SLIP-0039 identifier in the seal header of dir, recomputing
// the file checksum, as an attacker who can write the data directory could.
func setSealIdentifier(t *testing.T, dir string, id uint16) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, SealFileName))
	if err != nil {
		t.Fatal(err)
	}
	sf, err := parseSeal(b)
	if err != nil {
		t.Fatal(err)
	}
	sf.identifier = id
	ad := sf.header.marshal(len(sf.ct))
	file := append(append(ad, sf.ct...), make([]byte, checksumLen)...)
	copy(file[len(file)-checksumLen:], sha256Sum(file[:len(file)-checksumLen]))
	rewriteSeal(t, dir, file)
}
