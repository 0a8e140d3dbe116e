package slip39

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

func randomSecret(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// combinations returns every k-subset of 0..n-1 in lexicographic order.
func combinations(n, k int) [][]int {
	var out [][]int
	cur := make([]int, 0, k)
	var rec func(start int)
	rec = func(start int) {
		if len(cur) == k {
			out = append(out, append([]int(nil), cur...))
			return
		}
		for i := start; i < n; i++ {
			cur = append(cur, i)
			rec(i + 1)
			cur = cur[:len(cur)-1]
		}
	}
	rec(0)
	return out
}

func pick(shares []string, idx []int) []string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = shares[j]
	}
	return out
}

// subsetsFor returns every k-subset when n <= 6, otherwise a sample of
// random k-subsets (in random order) from a fixed-seed generator.
func subsetsFor(rng *mrand.Rand, n, k, samples int) [][]int {
	if n <= 6 {
		return combinations(n, k)
	}
	out := make([][]int, samples)
	for i := range out {
		out[i] = rng.Perm(n)[:k]
	}
	return out
}

func TestRoundTripSingleGroup(t *testing.T) {
	cases := []struct{ k, n int }{
		{2, 2}, {2, 3}, {3, 3}, {3, 5}, {2, 6}, {3, 6}, {4, 6}, {6, 6},
		{4, 9}, {8, 12}, {5, 16}, {15, 16}, {16, 16},
	}
	rng := mrand.New(mrand.NewPCG(39, 1))
	// Every row runs with a 128-bit and a 256-bit secret; the extendable
	// flag alternates so that each (size, flag) pair meets several rows
	// (PBKDF2 dominates the run time, especially under -race).
	for row, c := range cases {
		for _, size := range []int{16, 32} {
			for _, ext := range []bool{(row+size/16)%2 == 0} {
				name := fmt.Sprintf("%d-of-%d/%d-bit/extendable=%t", c.k, c.n, size*8, ext)
				t.Run(name, func(t *testing.T) {
					secret := randomSecret(t, size)
					pass := []byte("operator passphrase")
					groups, err := Split(secret, pass, 1, []GroupSpec{{c.k, c.n}}, ext, 0)
					if err != nil {
						t.Fatal(err)
					}
					if len(groups) != 1 || len(groups[0]) != c.n {
						t.Fatalf("got %d groups, %d shares", len(groups), len(groups[0]))
					}
					shares := groups[0]
					checkHeaders(t, shares, ext, c.k)
					for _, sub := range subsetsFor(rng, c.n, c.k, 6) {
						got, err := Combine(pick(shares, sub), pass)
						if err != nil {
							t.Fatalf("Combine(shares %v): %v", sub, err)
						}
						if !bytes.Equal(got, secret) {
							t.Fatalf("Combine(shares %v) recovered a different secret", sub)
						}
					}
					for _, sub := range subsetsFor(rng, c.n, c.k-1, 6) {
						_, err := Combine(pick(shares, sub), pass)
						if !errors.Is(err, ErrInsufficientShares) {
							t.Fatalf("Combine(%d shares %v) error = %v; want ErrInsufficientShares", len(sub), sub, err)
						}
					}
					// All N at once: the extras must agree.
					got, err := Combine(shares, pass)
					if err != nil || !bytes.Equal(got, secret) {
						t.Fatalf("Combine(all %d shares) = %v", c.n, err)
					}
				})
			}
		}
	}
}

// checkHeaders checks the metadata every share of a 1-group split carries.
func checkHeaders(t *testing.T, shares []string, ext bool, k int) {
	t.Helper()
	var id uint16
	for i, m := range shares {
		s, err := ParseShare(m)
		if err != nil {
			t.Fatalf("ParseShare(share %d): %v", i, err)
		}
		if i == 0 {
			id = s.Identifier
		}
		if s.Identifier != id || s.Extendable != ext || s.IterationExponent != 0 ||
			s.GroupIndex != 0 || s.GroupThreshold != 1 || s.GroupCount != 1 ||
			s.MemberIndex != i || s.MemberThreshold != k || s.Identifier >= 1<<15 {
			t.Fatalf("share %d has header %v", i, s)
		}
		if enc := s.mnemonic(); enc != m {
			t.Fatalf("share %d does not re-encode to itself", i)
		}
	}
}

func TestRoundTripGroups(t *testing.T) {
	secret := randomSecret(t, 32)
	pass := []byte("")
	specs := []GroupSpec{{2, 3}, {3, 5}, {1, 1}, {4, 4}}
	groups, err := Split(secret, pass, 2, specs, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	for gi, g := range groups {
		if len(g) != specs[gi].MemberCount {
			t.Fatalf("group %d has %d shares", gi, len(g))
		}
	}
	// member subsets per group: the first T members, and the last T.
	enough := func(gi int, last bool) []string {
		g, tt := groups[gi], specs[gi].MemberThreshold
		if last {
			return g[len(g)-tt:]
		}
		return g[:tt]
	}
	for _, pair := range combinations(len(groups), 2) {
		for _, last := range []bool{false, true} {
			var in []string
			for _, gi := range pair {
				in = append(in, enough(gi, last)...)
			}
			got, err := Combine(in, pass)
			if err != nil || !bytes.Equal(got, secret) {
				t.Fatalf("groups %v (last=%t): %v", pair, last, err)
			}
		}
	}
	// Every share at once: extra groups and extra members must agree.
	var all []string
	for _, g := range groups {
		all = append(all, g...)
	}
	if got, err := Combine(all, pass); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("all shares: %v", err)
	}
	// Extra incomplete groups are ignored when enough groups are complete.
	in := append(append(append([]string{}, enough(0, false)...), enough(1, false)...), groups[3][0])
	if got, err := Combine(in, pass); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("complete groups plus a partial one: %v", err)
	}

	for name, in := range map[string][]string{
		"one complete group":                     enough(1, false),
		"two groups, one short a member":         append(append([]string{}, enough(0, false)...), groups[1][:2]...),
		"one member from each of four groups":    {groups[0][0], groups[1][0], groups[3][0], groups[3][1]},
		"threshold members but a single group":   groups[1],
		"group threshold met by duplicate share": {groups[2][0], groups[2][0]},
	} {
		if _, err := Combine(in, pass); !errors.Is(err, ErrInsufficientShares) {
			t.Errorf("%s: error = %v; want ErrInsufficientShares", name, err)
		}
	}
}

// TestTwoLevelThreeOfFive recovers from every 3-subset of five 2-of-2 groups.
func TestTwoLevelThreeOfFive(t *testing.T) {
	secret := randomSecret(t, 16)
	specs := []GroupSpec{{2, 2}, {2, 2}, {2, 2}, {2, 2}, {2, 2}}
	groups, err := Split(secret, nil, 3, specs, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range combinations(5, 3) {
		var in []string
		for _, gi := range sub {
			in = append(in, groups[gi]...)
		}
		if got, err := Combine(in, nil); err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("groups %v: %v", sub, err)
		}
	}
	for _, sub := range combinations(5, 2) {
		var in []string
		for _, gi := range sub {
			in = append(in, groups[gi]...)
		}
		if _, err := Combine(in, nil); !errors.Is(err, ErrInsufficientShares) {
			t.Fatalf("groups %v: error = %v; want ErrInsufficientShares", sub, err)
		}
	}
}

func TestCorruptedShareRejected(t *testing.T) {
	for _, ext := range []bool{false, true} {
		groups, err := Split(randomSecret(t, 32), nil, 1, []GroupSpec{{3, 5}}, ext, 0)
		if err != nil {
			t.Fatal(err)
		}
		shares := groups[0]
		rng := mrand.New(mrand.NewPCG(39, 2))
		for si, m := range shares {
			words := splitWords(m)
			// RS1024 detects every error in up to three words.
			for errs := 1; errs <= 3; errs++ {
				for pos := range words {
					bad := append([]string(nil), words...)
					for e := range errs {
						p := (pos + e*7) % len(words)
						bad[p] = otherWord(rng, bad[p])
					}
					if _, err := ParseShare(joinWords(bad)); !errors.Is(err, ErrChecksum) {
						t.Fatalf("ext=%t share %d: %d changed words from word %d: error = %v; want ErrChecksum", ext, si, errs, pos+1, err)
					}
				}
			}
			// Two adjacent words swapped.
			for pos := 0; pos+1 < len(words); pos++ {
				if words[pos] == words[pos+1] {
					continue
				}
				bad := append([]string(nil), words...)
				bad[pos], bad[pos+1] = bad[pos+1], bad[pos]
				if _, err := ParseShare(joinWords(bad)); !errors.Is(err, ErrChecksum) {
					t.Fatalf("share %d: words %d and %d swapped: error = %v", si, pos+1, pos+2, err)
				}
			}
		}
		// And through Combine, with the position of the bad share named.
		bad := splitWords(shares[1])
		bad[5] = otherWord(rng, bad[5])
		_, err = Combine([]string{shares[0], joinWords(bad), shares[2]}, nil)
		if !errors.Is(err, ErrChecksum) {
			t.Fatalf("Combine with a corrupted share: %v; want ErrChecksum", err)
		}
		if want := "slip39: share 2: invalid checksum"; err.Error() != want {
			t.Fatalf("error message %q; want %q", err, want)
		}
	}
}

func TestForeignShareRejected(t *testing.T) {
	secret := randomSecret(t, 32)
	split := func(ext bool) ([]string, uint16) {
		g, err := Split(secret, nil, 1, []GroupSpec{{3, 5}}, ext, 0)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseShare(g[0][0])
		if err != nil {
			t.Fatal(err)
		}
		return g[0], s.Identifier
	}
	a, idA := split(true)
	b, idB := split(true)
	for idB == idA { // 1 in 2^15: draw again so the test is deterministic
		b, idB = split(true)
	}
	c, _ := split(false)
	for name, in := range map[string][]string{
		"foreign identifier":      {a[0], a[1], b[2]},
		"foreign first":           {b[0], a[1], a[2]},
		"foreign extendable flag": {a[0], a[1], c[2]},
	} {
		_, err := Combine(in, nil)
		if !errors.Is(err, ErrMismatchedShares) {
			t.Errorf("%s: error = %v; want ErrMismatchedShares", name, err)
		}
	}
}

// reencode parses m, lets f change the share, and encodes it again with a
// valid checksum: a forged share that only the digest can catch.
func reencode(t *testing.T, m string, f func(*Share)) string {
	t.Helper()
	s, err := ParseShare(m)
	if err != nil {
		t.Fatal(err)
	}
	f(s)
	return s.mnemonic()
}

func TestForgedShareRejected(t *testing.T) {
	secret := randomSecret(t, 16)
	groups, err := Split(secret, nil, 1, []GroupSpec{{2, 3}}, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := groups[0]
	forged := reencode(t, s[2], func(sh *Share) { sh.value[0] ^= 1 })
	if _, err := Combine([]string{s[0], forged}, nil); !errors.Is(err, ErrInvalidDigest) {
		t.Errorf("threshold set with a forged share: %v; want ErrInvalidDigest", err)
	}
	if _, err := Combine([]string{s[0], s[1], forged}, nil); !errors.Is(err, ErrInvalidDigest) {
		t.Errorf("forged extra share: %v; want ErrInvalidDigest", err)
	}
	// Same index, different value: cannot come from one split.
	dup := reencode(t, s[0], func(sh *Share) { sh.value[3] ^= 0x80 })
	if _, err := Combine([]string{s[0], dup, s[1]}, nil); !errors.Is(err, ErrMismatchedShares) {
		t.Errorf("conflicting duplicate index: %v; want ErrMismatchedShares", err)
	}
	// The same share twice is harmless.
	if got, err := Combine([]string{s[1], s[1], s[2]}, nil); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("repeated share: %v", err)
	}
	// A member-threshold change in one share.
	other := reencode(t, s[1], func(sh *Share) { sh.MemberThreshold = 3 })
	if _, err := Combine([]string{s[0], other}, nil); !errors.Is(err, ErrMismatchedShares) {
		t.Errorf("member threshold mismatch: %v; want ErrMismatchedShares", err)
	}
}

func TestIterationExponent(t *testing.T) {
	secret := randomSecret(t, 16)
	for _, e := range []int{0, 1, 3} {
		g, err := Split(secret, []byte("x"), 1, []GroupSpec{{2, 2}}, true, e)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := ParseShare(g[0][0])
		if s.IterationExponent != e {
			t.Fatalf("exponent %d encoded as %d", e, s.IterationExponent)
		}
		if got, err := Combine(g[0], []byte("x")); err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("e=%d: %v", e, err)
		}
	}
}

// TestFeistelInverse: decryption inverts encryption for both flags, and the
// identifier is bound into the non-extendable cipher only.
func TestFeistelInverse(t *testing.T) {
	ms := randomSecret(t, 32)
	for _, ext := range []bool{false, true} {
		ems, err := feistel(ms, []byte("pw"), 0, 1234, ext, false)
		if err != nil {
			t.Fatal(err)
		}
		back, err := feistel(ems, []byte("pw"), 0, 1234, ext, true)
		if err != nil || !bytes.Equal(back, ms) {
			t.Fatalf("ext=%t: decrypt(encrypt(ms)) != ms", ext)
		}
		other, _ := feistel(ms, []byte("pw"), 0, 4321, ext, false)
		if bytes.Equal(other, ems) == !ext {
			t.Fatalf("ext=%t: identifier dependence wrong", ext)
		}
	}
}

func TestSplitRejectsBadParameters(t *testing.T) {
	ok := randomSecret(t, 32)
	cases := []struct {
		name   string
		secret []byte
		pass   []byte
		gt     int
		groups []GroupSpec
		e      int
	}{
		{"empty secret", nil, nil, 1, []GroupSpec{{2, 3}}, 0},
		{"15-byte secret", ok[:15], nil, 1, []GroupSpec{{2, 3}}, 0},
		{"odd-length secret", ok[:17], nil, 1, []GroupSpec{{2, 3}}, 0},
		{"34-byte secret", append(ok, 1, 2), nil, 1, []GroupSpec{{2, 3}}, 0},
		{"non-ASCII passphrase", ok, []byte("pässword"), 1, []GroupSpec{{2, 3}}, 0},
		{"control character in passphrase", ok, []byte("a\nb"), 1, []GroupSpec{{2, 3}}, 0},
		{"negative exponent", ok, nil, 1, []GroupSpec{{2, 3}}, -1},
		{"exponent 16", ok, nil, 1, []GroupSpec{{2, 3}}, 16},
		{"no groups", ok, nil, 1, nil, 0},
		{"17 groups", ok, nil, 1, make([]GroupSpec, 17), 0},
		{"group threshold 0", ok, nil, 0, []GroupSpec{{2, 3}}, 0},
		{"group threshold above count", ok, nil, 2, []GroupSpec{{2, 3}}, 0},
		{"member threshold 0", ok, nil, 1, []GroupSpec{{0, 3}}, 0},
		{"member threshold above count", ok, nil, 1, []GroupSpec{{4, 3}}, 0},
		{"17 members", ok, nil, 1, []GroupSpec{{2, 17}}, 0},
		{"1-of-2 group", ok, nil, 1, []GroupSpec{{1, 2}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Split(c.secret, c.pass, c.gt, c.groups, true, c.e); err == nil {
				t.Fatal("Split succeeded")
			}
		})
	}
}

func TestCombineRejectsBadInput(t *testing.T) {
	g, err := Split(randomSecret(t, 16), nil, 1, []GroupSpec{{1, 1}}, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Combine(nil, nil); !errors.Is(err, ErrInsufficientShares) {
		t.Errorf("no shares: %v", err)
	}
	if _, err := Combine(g[0], []byte("\x7f")); err == nil {
		t.Errorf("non-printable passphrase accepted")
	}
	words := splitWords(g[0][0])
	bad := append([]string(nil), words...)
	bad[4] = "bitcoin"
	if _, err := Combine([]string{joinWords(bad)}, nil); !errors.Is(err, ErrInvalidWord) || err.Error() != "slip39: share 1: word not in the word list: word 5" {
		t.Errorf("unknown word: %v", err)
	}
	if _, err := ParseShare(joinWords(words[:19])); !errors.Is(err, ErrInvalidLength) {
		t.Errorf("19 words: %v", err)
	}
	if _, err := ParseShare(joinWords(append(words, words[:5]...))); !errors.Is(err, ErrInvalidLength) && !errors.Is(err, ErrChecksum) {
		t.Errorf("25 words: %v", err)
	}
	long := make([]string, 2000)
	for i := range long {
		long[i] = "academic"
	}
	if _, err := ParseShare(joinWords(long)); !errors.Is(err, ErrInvalidLength) {
		t.Errorf("2000 words: %v", err)
	}
	// Case and spacing are normalized.
	up := "  " + joinWords(words[:3]) + "\t\n" + string(bytes.ToUpper([]byte(joinWords(words[3:])))) + " "
	if s, err := ParseShare(up); err != nil || s.mnemonic() != g[0][0] {
		t.Errorf("upper case and extra spaces: %v", err)
	}
}

// TestRandomnessHook: all randomness comes through randReader, and a failing
// source fails Split instead of producing shares.
func TestRandomnessHook(t *testing.T) {
	saved := randReader
	t.Cleanup(func() { randReader = saved })
	secret := randomSecret(t, 32)
	spec := []GroupSpec{{3, 5}, {2, 2}}

	randReader = mrand.NewChaCha8([32]byte{1})
	a, err := Split(secret, nil, 2, spec, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	randReader = mrand.NewChaCha8([32]byte{1})
	b, _ := Split(secret, nil, 2, spec, true, 0)
	randReader = mrand.NewChaCha8([32]byte{2})
	c, _ := Split(secret, nil, 2, spec, true, 0)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("same random stream gave different shares: randomness from elsewhere")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("different random streams gave the same shares")
	}

	// 2 bytes of identifier, then per level-split the n−4 digest-key bytes
	// and T−2 random shares: 28 (groups, 2-of-2) + 28+32 (3-of-5) + 28.
	const needed = 2 + 28 + 28 + 32 + 28
	errSource := errors.New("entropy source failed")
	for _, n := range []int{0, 1, 2, 3, 29, 30, 31, 58, 59, 60, 89, 90, 91, needed - 1} {
		randReader = &failingReader{left: n, err: errSource}
		got, err := Split(secret, nil, 2, spec, true, 0)
		if !errors.Is(err, errSource) || got != nil {
			t.Fatalf("source failing after %d bytes: error %v, %d groups", n, err, len(got))
		}
	}
	randReader = &failingReader{left: needed, err: errSource}
	if _, err := Split(secret, nil, 2, spec, true, 0); err != nil {
		t.Fatalf("source with exactly %d bytes: %v", needed, err)
	}
}

type failingReader struct {
	left int
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, r.err
	}
	n := min(len(p), r.left)
	clear(p[:n])
	r.left -= n
	return n, nil
}

func splitWords(m string) []string { return strings.Fields(m) }

func joinWords(w []string) string { return strings.Join(w, " ") }

// otherWord returns a random list word different from w.
func otherWord(rng *mrand.Rand, w string) string {
	list := strings.Fields(wordlistText)
	for {
		if o := list[rng.IntN(len(list))]; o != w {
			return o
		}
	}
}
