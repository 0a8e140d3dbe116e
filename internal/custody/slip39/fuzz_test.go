package slip39

import (
	"strings"
	"testing"
)

// normalize is what ParseShare accepts as equivalent input: words split on
// any whitespace, ASCII upper case folded.
func normalize(s string) string {
	f := strings.Fields(s)
	for i, w := range f {
		b := []byte(w)
		for j, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[j] = c + 'a' - 'A'
			}
		}
		f[i] = string(b)
	}
	return strings.Join(f, " ")
}

func FuzzParseShare(f *testing.F) {
	for _, v := range loadVectors(f) {
		for _, m := range v.mnemonics {
			f.Add(m)
			f.Add(strings.ToUpper(m))
		}
	}
	f.Add("")
	f.Add("academic")
	f.Add(strings.Repeat("academic ", 20))
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseShare(in)
		if err != nil {
			if s != nil {
				t.Fatal("share returned with an error")
			}
			return
		}
		if got, want := s.mnemonic(), normalize(in); got != want {
			t.Fatalf("re-encoding differs:\n got %q\nwant %q", got, want)
		}
		if strings.Contains(s.String(), "value: REDACTED") == false {
			t.Fatal("String does not redact")
		}
	})
}

// FuzzCombine feeds Combine both raw text (one mnemonic per line) and sets
// of structurally valid shares built from fuzz bytes with valid checksums,
// so that the fuzzer reaches the grouping and interpolation code. The
// iteration exponent of built shares is forced to 0 to keep runs short.
func FuzzCombine(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(strings.Join(v.mnemonics, "\n"), []byte(nil))
	}
	f.Add("", []byte{3, 0, 0x11, 0x22, 0x01, 0x10, 0x22, 0x02, 0x01, 0x22, 0x03})
	f.Add("", []byte{2, 1, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xff, 0xee})
	f.Fuzz(func(t *testing.T, text string, structured []byte) {
		if text != "" {
			_, _ = Combine(strings.Split(text, "\n"), []byte("TREZOR"))
		}
		if len(structured) < 2 {
			return
		}
		shares := sharesFromBytes(structured)
		if len(shares) == 0 {
			return
		}
		ms, err := Combine(shares, nil)
		if err == nil && len(ms) != 16 && len(ms) != 32 {
			t.Fatalf("recovered %d bytes", len(ms))
		}
	})
}

// sharesFromBytes builds up to 8 valid-checksum mnemonics. Byte 0: share
// count (mod 8, +1); byte 1: bit 0 picks 16- or 32-byte values, bit 1 the
// flag, the rest seeds the identifier; then per share three header bytes
// (group index|group threshold, group count|member index, member
// threshold|identifier tweak) and value bytes taken cyclically.
func sharesFromBytes(b []byte) []string {
	count := int(b[0])%8 + 1
	n := 16 + 16*int(b[1]&1)
	ext := b[1]&2 != 0
	rest := b[2:]
	if len(rest) == 0 {
		return nil
	}
	next := func() byte {
		c := rest[0]
		rest = append(rest[1:], c)
		return c
	}
	out := make([]string, count)
	for i := range out {
		h0, h1, h2 := next(), next(), next()
		s := Share{
			Identifier:        uint16(b[1]>>2) | uint16(h2&0x30)<<6,
			Extendable:        ext,
			GroupIndex:        int(h0 >> 4),
			GroupThreshold:    int(h0&0xf) + 1,
			GroupCount:        int(h1>>4) + 1,
			MemberIndex:       int(h1 & 0xf),
			MemberThreshold:   int(h2&0xf) + 1,
			IterationExponent: 0,
			value:             make([]byte, n),
		}
		if s.GroupThreshold > s.GroupCount {
			s.GroupCount = s.GroupThreshold
		}
		for j := range s.value {
			s.value[j] = next()
		}
		out[i] = s.mnemonic()
	}
	return out
}
