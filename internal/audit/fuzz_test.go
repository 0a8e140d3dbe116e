package audit_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/fleetkey/fleetkey/internal/audit"
)

// FuzzCanonical: record data can carry agent-supplied text. Canonical must accept any
// JSON, refuse anything else, and be idempotent, so that a record's data hashes the
// same however often it is re-encoded.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{}`, `{"b":1,"a":[true,null,"x"]}`, ` {"a" : 1e400} `, `"<\u0026>"`, `[1, 2.50, -0]`,
		`{"a":{"b":{"c":"\ud83d\ude00"}}}`, `{"a":1}{"b":2}`, `{"a":`, `nul`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := audit.Canonical(json.RawMessage(in))
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Canonical(%q) = %q is not JSON", in, out)
		}
		again, err := audit.Canonical(json.RawMessage(out))
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", in, out, again, err)
		}
	})
}
