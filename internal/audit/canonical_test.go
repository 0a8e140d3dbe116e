package audit

import (
	"bytes"
	"encoding/json"
	"testing"
)

// slowCanonical is Canonical's general path: encode, decode, encode again.
func slowCanonical(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Canonical(json.RawMessage(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func plainSample(k, s string, n int64, b bool) map[string]any {
	return map[string]any{
		k: s, "n": n, "neg": -n, "b": b, "nil": nil, "int": int(n % 1000), "u": uint64(n) << 1,
		"list": []string{s, k, ""}, "none": []string(nil), "empty": map[string]any{},
		"nested": map[string]any{"z": s, k: n, "a": map[string]any{"deep": []string{s}}},
	}
}

// TestCanonicalPlainMatchesRoundTrip: Canonical's direct encoding of plain maps is
// byte for byte what the general path (encode, decode, encode) gives, for text
// with HTML characters, escapes, line and paragraph separators, control
// characters and non-ASCII; values that are not plain take the general path.
func TestCanonicalPlainMatchesRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "<a href=\"x\">&amp;</a>", "tab\tnl\ncr\rnul\x00bell\x07", "\u2028\u2029",
		"back\\slash/solidus", "é日本😀", "\x7f", "{\"json\":[1,2]}"} {
		v := plainSample("key <&> "+s, s, 1<<53+1, true)
		if !plain(v, 0) {
			t.Fatalf("sample with %q is not plain", s)
		}
		got, err := Canonical(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := slowCanonical(t, v); !bytes.Equal(got, want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
	type hashes struct {
		B string `json:"b"`
		A string `json:"a,omitempty"`
	}
	for name, v := range map[string]map[string]any{
		"invalid UTF-8 value": {"a": "\xff"},
		"invalid UTF-8 key":   {"\xfe": 1},
		"invalid in a list":   {"a": []string{"ok", "\xff"}},
		"struct":              {"h": hashes{B: "1", A: "2"}},
		"float":               {"f": 1.5},
		"too deep":            deep(20),
	} {
		if plain(v, 0) {
			t.Errorf("%s: taken as plain", name)
		}
		got, err := Canonical(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := slowCanonical(t, v); !bytes.Equal(got, want) {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

func deep(n int) map[string]any {
	m := map[string]any{"x": 1}
	for range n {
		m = map[string]any{"x": m}
	}
	return m
}

// FuzzCanonicalPlain: for any text, the direct encoding and the general path agree.
func FuzzCanonicalPlain(f *testing.F) {
	f.Add("k", "v", int64(1), true)
	f.Add("<", "&\u2028>", int64(-1), false)
	f.Add("\xff", "a", int64(0), true)
	f.Fuzz(func(t *testing.T, k, s string, n int64, b bool) {
		v := plainSample(k, s, n, b)
		got, err := Canonical(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := slowCanonical(t, v); !bytes.Equal(got, want) {
			t.Fatalf("%q %q: %s, want %s", k, s, got, want)
		}
	})
}
