package policy

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return p
}

func TestParseExample(t *testing.T) {
	src, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, string(src))
	if p.Name() != "research-fleet" || p.Description() == "" {
		t.Errorf("Name() = %q, Description() = %q", p.Name(), p.Description())
	}
	if !strings.HasPrefix(p.Hash(), "sha256:") || len(p.Hash()) != len("sha256:")+64 {
		t.Errorf("Hash() = %q", p.Hash())
	}
	if !p.hasPerPayment || p.perPayment != 500_000 {
		t.Errorf("per_payment = %d", p.perPayment)
	}
	if len(p.windows) != 3 || p.windows[1].label != "1h" || p.windows[1].maxAmount != 10_000_000 || p.windows[1].maxCount != 600 || p.windows[2].hasMaxCount {
		t.Errorf("windows = %+v", p.windows)
	}
	if len(p.cel) != 2 || p.approval == nil || p.approval.quorum != 2 || len(p.timeOfDay) != 1 {
		t.Errorf("cel/approval/time_of_day not decoded: %d %+v %d", len(p.cel), p.approval, len(p.timeOfDay))
	}
}

// TestParseErrors checks that each kind of mistake is refused with its line and a
// reason an operator can act on.
func TestParseErrors(t *testing.T) {
	const head = "version: 1\nname: p\n" // lines 1-2
	tests := []struct {
		name string
		src  string
		line int
		want string
	}{
		{"unknown top-level key", head + "limts:\n  per_payment: 1\n", 3, `unknown key "limts"`},
		{"unknown nested key", head + "limits:\n  per_paymnet: 1\n", 4, `limits: unknown key "per_paymnet"`},
		{"bad amount", head + "limits:\n  per_payment: abc\n", 4, `limits.per_payment: "abc" is not a decimal amount`},
		{"too many decimals", head + "limits:\n  per_payment: \"0.0000001\"\n", 4, `more than 6 decimal places`},
		{"negative amount", head + "limits:\n  per_payment: -1\n", 4, `limits.per_payment: "-1": amounts must not be negative`},
		{"negative count", head + "limits:\n  windows:\n    - window: 1h\n      max_count: -5\n", 6, `limits.windows[0].max_count: "-5" must not be negative`},
		{"negative rate", head + "rate:\n  max_requests_per_minute: -1\n", 4, `must not be negative`},
		{"float count", head + "rate:\n  max_requests_per_minute: 1.5\n", 4, `"1.5" is not an integer`},
		{"bad duration", head + "max_validity: 5 minutes\n", 3, `max_validity: "5 minutes" is not a valid duration`},
		{"negative duration", head + "max_validity: -5m\n", 3, `is not a valid duration`},
		{"sub-second duration", head + "max_validity: 1500ms\n", 3, `not a whole number of seconds`},
		{"window too long", head + "limits:\n  windows:\n    - window: 32d\n      max_count: 1\n", 5, `must be between 1s and 744h`},
		{"window without max", head + "limits:\n  windows:\n    - window: 1h\n", 5, `needs max_amount, max_count or both`},
		{"duplicate window", head + "limits:\n  windows:\n    - {window: 1h, max_count: 1}\n    - {window: 60m, max_count: 2}\n", 6, `a window of 1h is already defined`},
		{"bad address", head + "allow:\n  pay_to: [\"0x1234\"]\n", 4, `allow.pay_to[0]: "0x1234" is not an address`},
		{"bad address hex", head + "deny:\n  pay_to:\n    - \"0xZZ00000000000000000000000000000000000000\"\n", 5, `is not an address`},
		{"bad checksum", head + "deny:\n  pay_to:\n    - \"0x000000000000000000000000000000000000DeAd\"\n", 5, `invalid EIP-55 checksum`},
		{"short hex is a number", head + "allow:\n  assets: [0x10]\n", 4, `allow.assets[0]: must be a string`},
		{"bad wildcard in middle", head + "allow:\n  origins: [\"api.*.example.com\"]\n", 4, `the only wildcard form is a leading "*."`},
		{"wildcard too broad", head + "allow:\n  origins: [\"*.com\"]\n", 4, `needs at least two labels`},
		{"bare wildcard", head + "allow:\n  origins: [\"*\"]\n", 4, `not a valid origin pattern`},
		{"origin with scheme", head + "allow:\n  origins: [\"https://api.example.com\"]\n", 4, `write only the host`},
		{"origin bad port", head + "allow:\n  origins: [\"api.example.com:99999\"]\n", 4, `port "99999"`},
		{"origin IDN", head + "allow:\n  origins: [\"bücher.example\"]\n", 4, `not allowed in a host name`},
		{"bad network", head + "allow:\n  networks: [base]\n", 4, `"base" is not a CAIP-2 network id`},
		{"bad asset", head + "allow:\n  assets: [\"US DC\"]\n", 4, `is not an asset address or symbol`},
		{"duplicate entry", head + "allow:\n  pay_to:\n    - \"0x1111111111111111111111111111111111111111\"\n    - \"0X1111111111111111111111111111111111111111\"\n", 6, `repeats entry 0`},
		{"empty list", head + "allow:\n  pay_to: []\n", 4, `empty list`},
		{"quorum above approvers", head + "approval:\n  above: 5\n  quorum: 3\n  approvers: [alice, bob]\n", 5, `quorum 3 is larger than the 2 approvers listed`},
		{"quorum zero", head + "approval:\n  above: 5\n  quorum: 0\n  approvers: [alice]\n", 5, `must be at least 1`},
		{"approval missing approvers", head + "approval:\n  above: 5\n  quorum: 1\n", 4, `missing required key "approvers"`},
		{"duplicate approver", head + "approval:\n  above: 5\n  quorum: 1\n  approvers: [alice, alice]\n", 6, `"alice" is listed twice`},
		{"bad tz", head + "time_of_day:\n  - {from: \"08:00\", to: \"20:00\", tz: Mars/Olympus}\n", 4, `"Mars/Olympus" is not an IANA time zone`},
		{"bad clock", head + "time_of_day:\n  - from: \"8am\"\n    to: \"20:00\"\n", 4, `"8am" is not a time of day`},
		{"bad day", head + "time_of_day:\n  - days: [mon, funday]\n    from: \"08:00\"\n    to: \"20:00\"\n", 4, `"funday" is not a day`},
		{"empty time window", head + "time_of_day:\n  - from: \"08:00\"\n    to: \"08:00\"\n", 4, `from and to are equal`},
		{"missing version", "name: p\n", 1, `missing required key "version"`},
		{"wrong version", "version: 2\nname: p\n", 1, `unsupported version 2`},
		{"bad name", "version: 1\nname: \"my policy\"\n", 2, `may contain only letters`},
		{"duplicate key", head + "max_validity: 1m\nmax_validity: 2m\n", 4, `max_validity: duplicate key`},
		{"alias", head + "limits: &l\n  per_payment: 1\ndeny: *l\n", 5, `aliases are not supported`},
		{"wrong type", head + "limits: 5\n", 3, `limits: must be a mapping`},
		{"bool as string", head + "allow_http: \"yes\"\n", 3, `allow_http: must be true or false`},
		{"yaml syntax", head + "limits:\n  per_payment: [1\n", 3, `invalid YAML`},
		{"two documents", head + "---\nversion: 1\n", 3, `single YAML document`},
		{"not a mapping", "- 1\n", 1, `must be a mapping`},
		{"CEL type error", head + "cel:\n  - name: r\n    expr: request.amount + 1\n", 5, `expression must be a boolean, not int`},
		{"CEL unknown field", head + "cel:\n  - name: r\n    expr: request.amout > 1\n", 5, `undefined field 'amout'`},
		{"CEL error in block", head + "cel:\n  - name: r\n    expr: |\n      request.amount > 1 &&\n      agent.nmae == \"x\"\n", 7, `undefined field 'nmae'`},
		{"CEL syntax", head + "cel:\n  - name: r\n    expr: \"request.amount >\"\n", 5, `CEL`},
		{"CEL non-canonical window", head + "cel:\n  - name: r\n    expr: |\n      request.amount > 0 &&\n        spend.agent[\"60m\"].count < 5\n", 7, `spend.agent["60m"]: write the window as "1h"`},
		{"CEL bad window", head + "cel:\n  - name: r\n    expr: spend.group[\"week\"].count < 5\n", 5, `not a window`},
		{"CEL duplicate name", head + "cel:\n  - {name: r, expr: \"true\"}\n  - {name: r, expr: \"true\"}\n", 5, `a rule named "r" is already defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.src)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *policy.Error", err)
			}
			found := false
			for _, e := range err.(ErrorList) {
				if e.Line == tt.line && strings.Contains(e.Error(), tt.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("want an error at line %d containing %q, got:\n%v", tt.line, tt.want, err)
			}
			if !strings.HasPrefix(err.Error(), "policy: line ") {
				t.Errorf("error %q does not start with \"policy: line \"", err)
			}
		})
	}
}

func TestParseErrorFormat(t *testing.T) {
	_, err := Parse([]byte("version: 1\nname: p\n\n\n\n\n\n\n\n\n\nlimits:\n  per_payment: abc\n"))
	const want = `policy: line 13: limits.per_payment: "abc" is not a decimal amount`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	var pe *Error
	if errors.As(err, &pe); pe == nil || pe.Line != 13 || pe.Column != 16 || pe.Path != "limits.per_payment" {
		t.Errorf("located error = %+v", pe)
	}
}

func TestParseCollectsAllErrors(t *testing.T) {
	_, err := Parse([]byte("version: 1\nname: p\nlimits:\n  per_payment: x\nmax_validity: y\nbogus: 1\n"))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	for i, line := range []int{4, 5, 6} {
		if list[i].Line != line {
			t.Errorf("error %d at line %d, want %d", i, list[i].Line, line)
		}
	}
}

func TestParseSizeLimit(t *testing.T) {
	src := "version: 1\nname: p\ndescription: \"" + strings.Repeat("x", MaxDocumentSize) + "\"\n"
	if _, err := Parse([]byte(src)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized document: %v", err)
	}
}

const hashBase = `
version: 1
name: p
limits:
  per_payment: "0.25"
  windows:
    - {window: 1h, max_amount: "10"}
    - {window: 24h, max_amount: "50", max_count: 100}
allow:
  pay_to: ["0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222"]
  origins: ["api.example.com", "*.example.org"]
approval: {above: 5, quorum: 1, approvers: [bob, alice]}
cel:
  - name: a
    expr: request.amount > 0
`

func TestHashStability(t *testing.T) {
	base := mustParse(t, hashBase)
	same := []string{
		// Reformatted: comments, flow vs block style, key order, quoting, spellings
		// of equal values, order of set-like lists and of windows.
		`# a comment
name: p
version: 1
approval:
  approvers: [alice, bob]   # order of approvers is irrelevant
  quorum: 1
  above: "$5.00"
  expires_after: 15m        # the default, written out
allow:
  origins:
    - "*.EXAMPLE.org"
    - api.example.com.
  pay_to:
    - "0x2222222222222222222222222222222222222222"
    - "0x1111111111111111111111111111111111111111"
limits:
  windows:
    - max_count: 100
      max_amount: 50.000
      window: 1440m
    - window: 60m
      max_amount: "$10"
  per_payment: 0.250
cel:
  - expr: |
      request.amount > 0
    name: a
allow_http: false
`,
	}
	for i, src := range same {
		if p := mustParse(t, src); p.Hash() != base.Hash() {
			t.Errorf("reformatted variant %d: hash %s != %s\n%s\n%s", i, p.Hash(), base.Hash(), p.Canonical(), base.Canonical())
		}
	}
	// The canonical form is itself a policy with the same hash.
	if p := mustParse(t, string(base.Canonical())); p.Hash() != base.Hash() {
		t.Errorf("canonical round trip changed the hash")
	}
	changed := map[string][2]string{
		"per_payment":   {`per_payment: "0.25"`, `per_payment: "0.26"`},
		"window amount": {`max_amount: "10"}`, `max_amount: "10.000001"}`},
		"window length": {`{window: 1h,`, `{window: 2h,`},
		"pay_to":        {`0x2222222222222222222222222222222222222222`, `0x3333333333333333333333333333333333333333`},
		"origin":        {`"*.example.org"`, `"example.org"`},
		"quorum":        {`approvers: [bob, alice]}`, `approvers: [bob, alice, carol]}`},
		"cel":           {`request.amount > 0`, `request.amount > 1`},
		"name":          {`name: p`, `name: q`},
	}
	for name, c := range changed {
		if !strings.Contains(hashBase, c[0]) {
			t.Fatalf("%s: %q not in the base policy", name, c[0])
		}
		p := mustParse(t, strings.Replace(hashBase, c[0], c[1], 1))
		if p.Hash() == base.Hash() {
			t.Errorf("%s changed but the hash did not", name)
		}
	}
}
