package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRotation(t *testing.T) {
	p := mustParse(t, "version: 1\nname: r\nrotation:\n  max_key_age: 30d\n  max_signatures: 1000\n  outstanding: expire\n")
	r, ok := p.Rotation()
	if !ok || r.MaxKeyAge != 30*24*time.Hour || r.MaxSignatures != 1000 || r.Outstanding != OutstandingExpire {
		t.Fatalf("Rotation() = %+v, %v", r, ok)
	}
	if !strings.HasSuffix(string(p.Canonical()), `"rotation":{"max_key_age":"720h","max_signatures":1000,"outstanding":"expire"}}`) {
		t.Errorf("canonical %s", p.Canonical())
	}
	// The canonical form parses to the same policy; spellings do not change the hash.
	if q := mustParse(t, string(p.Canonical())); q.Hash() != p.Hash() {
		t.Errorf("canonical reparsed to %s, want %s", q.Hash(), p.Hash())
	}
	q := mustParse(t, "version: 1\nname: r\nrotation:\n  outstanding: expire\n  max_signatures: \"1000\"\n  max_key_age: 720h\n")
	if q.Hash() != p.Hash() {
		t.Errorf("equivalent rotation sections hash differently: %s %s", q.Hash(), p.Hash())
	}
	// Any change in meaning changes the hash, and the section does too.
	for _, src := range []string{
		"version: 1\nname: r\nrotation:\n  max_key_age: 30d\n  max_signatures: 1000\n",
		"version: 1\nname: r\nrotation:\n  max_key_age: 31d\n  max_signatures: 1000\n  outstanding: expire\n",
		"version: 1\nname: r\n",
	} {
		if mustParse(t, src).Hash() == p.Hash() {
			t.Errorf("%q hashes as the full rotation section", src)
		}
	}
	if _, ok := mustParse(t, "version: 1\nname: r\n").Rotation(); ok {
		t.Error("a policy without the section has a rotation rule")
	}
}

func TestParseRotationErrors(t *testing.T) {
	const head = "version: 1\nname: p\nrotation:\n" // lines 1-3
	tests := []struct {
		name string
		src  string
		line int
		want string
	}{
		{"unknown key", head + "  max_age: 1h\n", 4, `rotation: unknown key "max_age" (expected one of: max_key_age, max_signatures, outstanding)`},
		{"bad age", head + "  max_key_age: forever\n", 4, `rotation.max_key_age: "forever" is not a valid duration`},
		{"age too short", head + "  max_key_age: 30m\n", 4, `rotation.max_key_age: "30m" must be between 1h and 87600h`},
		{"age as number", head + "  max_key_age: 3600\n", 4, `rotation.max_key_age: must be a string`},
		{"zero signatures", head + "  max_signatures: 0\n", 4, `rotation.max_signatures: "0" must be at least 1`},
		{"negative signatures", head + "  max_signatures: -3\n", 4, `rotation.max_signatures: "-3" must not be negative`},
		{"bad outstanding", head + "  max_signatures: 5\n  outstanding: keep\n", 5, `rotation.outstanding: "keep" is not cancel or expire`},
		{"empty", head + "  {}\n", 4, `rotation: empty section`},
		{"not a mapping", "version: 1\nname: p\nrotation: 30d\n", 3, `rotation: must be a mapping`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			if list[0].Line != tt.line || !strings.Contains(list[0].Error(), tt.want) {
				t.Errorf("got %q (line %d), want line %d containing %q", list[0].Error(), list[0].Line, tt.line, tt.want)
			}
		})
	}
}

// TestSetRotation: the effective rule is, field by field, the strictest of the levels
// that set it.
func TestSetRotation(t *testing.T) {
	pol := func(body string) *Policy { return mustParse(t, "version: 1\nname: p\n"+body) }
	fleet := pol("rotation:\n  max_key_age: 90d\n  max_signatures: 100\n  outstanding: expire\n")
	group := pol("rotation:\n  max_key_age: 7d\n")
	agent := pol("rotation:\n  max_signatures: 500\n  outstanding: cancel\n")
	none := pol("limits:\n  per_payment: 1\n")
	day := 24 * time.Hour
	tests := []struct {
		name string
		set  Set
		want Rotation
	}{
		{"no policies", Set{}, Rotation{}},
		{"no section", Set{Fleet: none, Agent: none}, Rotation{}},
		{"fleet only", Set{Fleet: fleet, Group: none}, Rotation{90 * day, 100, OutstandingExpire}},
		{"group shortens age", Set{Fleet: fleet, Group: group}, Rotation{7 * day, 100, OutstandingExpire}},
		{"agent cannot loosen", Set{Fleet: fleet, Group: group, Agent: agent}, Rotation{7 * day, 100, OutstandingCancel}},
		{"agent alone", Set{Agent: agent}, Rotation{0, 500, OutstandingCancel}},
		{"cancel wins over expire", Set{Fleet: agent, Agent: fleet}, Rotation{90 * day, 100, OutstandingCancel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.Rotation(); got != tt.want {
				t.Errorf("Rotation() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
