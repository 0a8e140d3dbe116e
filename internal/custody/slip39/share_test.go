package slip39

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestShareRedacted(t *testing.T) {
	g, err := Split(randomSecret(t, 32), nil, 2, []GroupSpec{{2, 3}, {1, 1}}, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseShare(g[0][1])
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("slip39.Share{id: %d, extendable: true, iteration exponent: 0, group index: 0, group threshold: 2 of 2, member index: 1, member threshold: 2, value: REDACTED}", s.Identifier)
	if s.String() != want {
		t.Fatalf("String() = %q\nwant %q", s.String(), want)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b"} {
		for _, arg := range []any{s, *s} {
			if out := fmt.Sprintf(verb, arg); out != want {
				t.Errorf("Sprintf(%q, %T) = %q", verb, arg, out)
			}
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("share", "share", s)
	out := buf.String()
	if !strings.Contains(out, `"value":"REDACTED"`) || strings.Contains(out, hex.EncodeToString(s.value)) {
		t.Errorf("slog output %s", out)
	}
	s.Wipe()
	if !bytes.Equal(s.value, make([]byte, len(s.value))) {
		t.Error("Wipe left the value")
	}
}
