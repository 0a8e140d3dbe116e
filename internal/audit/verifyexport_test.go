package audit_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/audit"
)

// exportOf exports c after tamper (if any) ran on the database.
func exportOf(t *testing.T, c *chain) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := audit.Export(ctx, c.s, &out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestVerifyExportMatchesVerify: for an intact chain and for each tampering that Verify
// detects in the database, verifying the chain's export reports the same.
func TestVerifyExportMatchesVerify(t *testing.T) {
	tampers := map[string][]string{
		"intact":                   nil,
		"edit data":                {`UPDATE audit_records SET data = '{"amount_micro":1}' WHERE seq = 17`},
		"delete a record":          {`DELETE FROM audit_records WHERE seq = 31`},
		"truncate the end":         {`DELETE FROM audit_records WHERE seq > 50`},
		"change a checkpoint hash": {`UPDATE audit_checkpoints SET hash = '0000000000000000000000000000000000000000000000000000000000000000' WHERE seq = 40`},
		"swap two records": {`UPDATE audit_records SET seq = 1000000 WHERE seq = 25`,
			`UPDATE audit_records SET seq = 25 WHERE seq = 26`, `UPDATE audit_records SET seq = 26 WHERE seq = 1000000`},
	}
	for name, qs := range tampers {
		t.Run(name, func(t *testing.T) {
			c := newChain(t, 60, 20)
			for _, q := range qs {
				c.raw(t, q)
			}
			want := c.verify(t)
			got, err := audit.VerifyExport(ctx, bytes.NewReader(exportOf(t, c)), c.signer.Address())
			if err != nil {
				t.Fatal(err)
			}
			if (qs == nil) != got.OK() {
				t.Fatalf("tampered %v, report %+v", qs != nil, got.Problem)
			}
			if got.Records != want.Records || got.Head != want.Head || got.Checkpoints != want.Checkpoints ||
				(got.Problem == nil) != (want.Problem == nil) || (got.Problem != nil && *got.Problem != *want.Problem) {
				t.Errorf("export report %+v (%v), store report %+v (%v)", got, got.Problem, want, want.Problem)
			}
		})
	}
}

// TestVerifyExportHTMLEscaped: a JSON encoder that escapes HTML in transit (json.Marshal does)
// changes the data's bytes but not its canonical form; the chain still verifies, and an edit
// of the escaped text is still caught.
func TestVerifyExportHTMLEscaped(t *testing.T) {
	c := newChain(t, 5, 0) // every record's data holds "<&>"
	var escaped bytes.Buffer
	for _, l := range bytes.Split(bytes.TrimSpace(exportOf(t, c)), []byte("\n")) {
		var v map[string]json.RawMessage
		if err := json.Unmarshal(l, &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v) // escapes < > & in data
		escaped.Write(append(b, '\n'))
	}
	if !strings.Contains(escaped.String(), `\u003c`) {
		t.Fatal("the re-encoding did not escape HTML")
	}
	text := escaped.String()
	rep, err := audit.VerifyExport(ctx, strings.NewReader(text), c.signer.Address())
	if err != nil || !rep.OK() || rep.Records != 5 {
		t.Fatalf("%+v %v %v", rep, rep.Problem, err)
	}
	edited := strings.Replace(text, `\u003c\u0026`, `\u003e\u0026`, 1)
	rep, err = audit.VerifyExport(ctx, strings.NewReader(edited), c.signer.Address())
	if err != nil || rep.OK() || rep.Problem.Seq != 1 || rep.Problem.Kind != audit.ProblemHashMismatch {
		t.Fatalf("edit: %+v %v %v", rep, rep.Problem, err)
	}
}

func TestVerifyExportRefusesMalformed(t *testing.T) {
	c := newChain(t, 3, 0)
	lines := strings.Split(strings.TrimSpace(string(exportOf(t, c))), "\n")
	for name, tc := range map[string]struct{ in, want string }{
		"not json":      {"x\n", "line 1: not an export line"},
		"unknown field": {strings.Replace(lines[0], `"seq"`, `"extra":1,"seq"`, 1), "unknown field"},
		"unknown type":  {strings.Replace(lines[0], `"record"`, `"note"`, 1), `type "note"`},
		"out of order":  {lines[1] + "\n" + lines[0], "line 2: record 1 follows record 2"},
		"bad hash":      {strings.Replace(lines[0], `"hash":"`, `"hash":"zz`, 1), "hash: not 32 bytes"},
		"bad time":      {strings.Replace(lines[0], `"time":"2026`, `"time":"x2026`, 1), "time"},
	} {
		_, err := audit.VerifyExport(ctx, strings.NewReader(tc.in), c.signer.Address())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzVerifyExport: any input is either refused with an error or verified to a report; it
// never panics, and a report that says OK covers records that really chain.
func FuzzVerifyExport(f *testing.F) {
	c := newChain(f, 4, 2)
	var out bytes.Buffer
	if err := audit.Export(ctx, c.s, &out); err != nil {
		f.Fatal(err)
	}
	f.Add(out.Bytes())
	f.Add([]byte(`{"type":"record","seq":1,"time":"2026-01-01T00:00:00Z","actor":"system","action":"a","subject":"s","data":{},"prev_hash":"` + strings.Repeat("0", 64) + `","hash":"` + strings.Repeat("1", 64) + `"}`))
	f.Add([]byte("{}\n\n{\"type\":\"checkpoint\"}"))
	signer := c.signer.Address()
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := audit.VerifyExport(ctx, bytes.NewReader(b), signer)
		if err == nil && rep.OK() && rep.Records > 0 && rep.Head != rep.Records {
			t.Fatalf("intact chain of %d records ends at %d", rep.Records, rep.Head)
		}
	})
}
