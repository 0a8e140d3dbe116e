package sdk

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Token is a bearer token the API issued (an agent's fka_… or an operator's fko_…). It prints
// as its prefix and a redaction marker in every fmt verb, in log/slog and in JSON; only Reveal
// gives the text, to write it once to a file its owner alone can read.
type Token string

const redacted = "[REDACTED]"

// Reveal returns the token's text.
func (t Token) Reveal() string { return string(t) }

// String returns the token's kind prefix and a redaction marker.
func (t Token) String() string {
	if t == "" {
		return ""
	}
	if p, _, ok := strings.Cut(string(t), "_"); ok && len(p) <= 4 {
		return p + "_" + redacted
	}
	return redacted
}

// Format makes every fmt verb print String.
func (t Token) Format(f fmt.State, _ rune) { io.WriteString(f, t.String()) }

// LogValue implements slog.LogValuer.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON encodes the redacted form: a token reaches JSON only through Reveal.
func (t Token) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.String() + `"`), nil
}
