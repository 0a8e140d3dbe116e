package credential

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, k := range []Kind{Agent, Operator} {
		tok, err := New(k)
		if err != nil {
			t.Fatal(err)
		}
		text := tok.Reveal()
		if len(text) != TextLen || !strings.HasPrefix(text, k.prefix()) {
			t.Fatalf("%s: text %d chars, prefix %q", k, len(text), text[:4])
		}
		back, err := Parse(text + "\n")
		if err != nil {
			t.Fatalf("%s: parse own text: %v", k, err)
		}
		if back.Kind() != k || back.Reveal() != text || back.Hash() != tok.Hash() {
			t.Fatalf("%s: round trip changed the token", k)
		}
		if !back.Matches(tok.Hash()) {
			t.Fatalf("%s: parsed token does not match its hash", k)
		}
	}
}

func TestTokensDifferAndHashesSeparateKinds(t *testing.T) {
	a, _ := New(Agent)
	b, _ := New(Agent)
	if a.Reveal() == b.Reveal() || a.Matches(b.Hash()) {
		t.Fatal("two new tokens are equal")
	}
	// Same secret, other kind: another hash, so an agent token is never an operator token.
	op := Token{kind: Operator, secret: a.secret}
	if op.Hash() == a.Hash() || op.Matches(a.Hash()) {
		t.Fatal("the kind is not bound into the hash")
	}
}

func TestParseErrors(t *testing.T) {
	good, _ := New(Agent)
	text := good.Reveal()
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", errPrefix},
		{"unknown prefix", "fkx_" + text[4:], errPrefix},
		{"no prefix", text[4:], errPrefix},
		{"truncated", text[:len(text)-1], errLength},
		{"extended", text + "A", errLength},
		{"not base64url", text[:10] + "+" + text[11:], errEncoding},
		{"kind swapped", operatorPrefix + text[4:], errChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
			if len(tt.in) > 8 && strings.Contains(err.Error(), tt.in[4:12]) {
				t.Fatalf("error quotes the input: %v", err)
			}
		})
	}
}

// TestEverySingleTypoCaught changes each character of the body to every other base64url
// character: the checksum (CRC-32 detects every burst of up to 32 bits) must refuse each one.
func TestEverySingleTypoCaught(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	tok, _ := New(Operator)
	text := []byte(tok.Reveal())
	tried := 0
	for i := len(operatorPrefix); i < len(text); i++ {
		orig := text[i]
		for j := range len(alphabet) {
			if alphabet[j] == orig {
				continue
			}
			text[i] = alphabet[j]
			if _, err := Parse(string(text)); !errors.Is(err, errChecksum) {
				t.Fatalf("position %d changed to %q: Parse = %v, want checksum error", i, alphabet[j], err)
			}
			tried++
		}
		text[i] = orig
	}
	if want := 48 * 63; tried != want {
		t.Fatalf("tried %d typos, want %d", tried, want)
	}
}

func TestRedaction(t *testing.T) {
	tok, _ := New(Agent)
	text := tok.Reveal()
	secretHex := hex.EncodeToString(tok.secret[:])
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		fmt.Fprintf(&out, verb+"\n", tok)
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("issued", "token", tok)
	j, _ := json.Marshal(map[string]any{"token": tok})
	out.Write(j)
	got := out.String()
	if strings.Contains(got, text[4:]) || strings.Contains(strings.ToLower(got), secretHex) {
		t.Fatalf("token leaked: %s", got)
	}
	if !strings.Contains(got, "fka_REDACTED") {
		t.Fatalf("no redacted marker: %s", got)
	}
}

func TestWipeAndZero(t *testing.T) {
	tok, _ := New(Agent)
	h := tok.Hash()
	cp := tok
	tok.Wipe()
	if cp.Valid() || cp.Matches(h) || cp.Reveal() != "" {
		t.Fatal("a wiped token (via a copy) still works")
	}
	var zero Token
	if zero.Valid() || zero.Matches(Hash{}) || zero.Reveal() != "" || zero.String() != "credential.Token(invalid)" {
		t.Fatal("zero token is usable")
	}
	if _, err := New(Kind(9)); err == nil {
		t.Fatal("New accepted an unknown kind")
	}
}

func FuzzParse(f *testing.F) {
	a, _ := New(Agent)
	o, _ := New(Operator)
	f.Add(a.Reveal())
	f.Add(o.Reveal() + "\n")
	f.Add("fka_")
	f.Add("fko_" + strings.Repeat("A", 48))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if tok.Reveal() != strings.TrimSpace(s) || !tok.Matches(tok.Hash()) {
			t.Fatalf("parsed token does not round-trip")
		}
	})
}

func BenchmarkParseAndMatch(b *testing.B) {
	tok, _ := New(Agent)
	text, h := tok.Reveal(), tok.Hash()
	for b.Loop() {
		t, err := Parse(text)
		if err != nil || !t.Matches(h) {
			b.Fatal("no match")
		}
	}
}
