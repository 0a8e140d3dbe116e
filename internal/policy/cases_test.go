package policy

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestCheckCasesExample(t *testing.T) {
	src, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, string(src))
	cases, err := os.ReadFile("testdata/example-cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	results, err := CheckCases(p, cases)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 19 {
		t.Errorf("%d results, want 19", len(results))
	}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("line %d %q: %s", r.Line, r.Name, r.Failure)
		}
	}
}

func TestCheckCasesReportsFailures(t *testing.T) {
	p := policyAt(t, "limits:\n  per_payment: \"0.25\"\n")
	const req = `  request: {amount: "0.30", pay_to: "0x1111111111111111111111111111111111111111", asset: "0x2222222222222222222222222222222222222222", network: "eip155:8453", url: "https://a.example.com/"}
`
	cases := "- name: wrong outcome\n  now: 2026-03-04T09:00:00Z\n" + req + "  expect: allow\n" +
		"- name: wrong reason\n  now: 2026-03-04T09:00:00Z\n" + req + "  expect: deny\n  reason: rate_limited\n" +
		"- name: wrong rule\n  now: 2026-03-04T09:00:00Z\n  level: group\n" + req + "  expect: deny\n  rule: agent:limits.per_payment\n" +
		"- name: right\n  now: 2026-03-04T09:00:00Z\n  level: group\n" + req + "  expect: deny\n  reason: amount_above_per_payment_limit\n  rule: group:limits.per_payment\n"
	results, err := CheckCases(p, []byte(cases))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		pass    bool
		failure string
	}{
		{false, "expected allow, got deny (amount_above_per_payment_limit at agent:limits.per_payment: limit 0.25, observed 0.3)"},
		{false, "expected reason rate_limited, got amount_above_per_payment_limit"},
		{false, "expected rule agent:limits.per_payment, got group:limits.per_payment"},
		{true, ""},
	}
	for i, w := range want {
		r := results[i]
		if r.Pass != w.pass || !strings.HasPrefix(r.Failure, w.failure) || (w.failure == "" && r.Failure != "") {
			t.Errorf("case %d: pass=%v failure=%q, want %v %q", i, r.Pass, r.Failure, w.pass, w.failure)
		}
	}
	if results[1].Line != 5 {
		t.Errorf("case 1 at line %d, want 5", results[1].Line)
	}
}

func TestCheckCasesErrors(t *testing.T) {
	p := policyAt(t, "max_validity: 1m\n")
	tests := []struct {
		src  string
		line int
		want string
	}{
		{"- name: x\n  expect: allow\n", 1, `missing required key "now"`},
		{"- name: x\n  now: yesterday\n  request: {amount: 1, pay_to: a, asset: b, network: c, url: d}\n  expect: allow\n", 2, `not an RFC 3339 time`},
		{"- name: x\n  now: 2026-03-04T09:00:00Z\n  request: {amount: 1, pay_to: a, asset: b, network: c, url: d}\n  expect: maybe\n", 4, `not an outcome`},
		{"- name: x\n  now: 2026-03-04T09:00:00Z\n  request: {amount: 1, pay_to: a, asset: b, network: c, url: d}\n  expect: deny\n  reason: nope\n", 5, `not a known reason code`},
		{"- name: x\n  now: 2026-03-04T09:00:00Z\n  request: {amount: 1, pay_to: a, asset: b, network: c, url: d}\n  expect: allow\n  reason: rate_limited\n", 1, `only be expected with expect: deny`},
		{"- name: x\n  now: 2026-03-04T09:00:00Z\n  request: {amount: 1, pay_to: a, asset: b, network: c, url: d, colour: red}\n  expect: allow\n", 3, `unknown key "colour"`},
		{"- name: x\n  now: 2026-03-04T09:00:00Z\n  level: org\n  request: {amount: 1, pay_to: a, asset: b, network: c, url: d}\n  expect: allow\n", 3, `not a level`},
		{"- name: x\n  now: 2026-03-04T09:00:00Z\n  request: {amount: 1, pay_to: a, asset: b, network: c, url: d}\n  spend: {agent: {1 hour: {amount: 1}}}\n  expect: allow\n", 4, `not a valid duration`},
		{"name: x\n", 1, `must be a list`},
	}
	for _, tt := range tests {
		_, err := CheckCases(p, []byte(tt.src))
		var list ErrorList
		if !errors.As(err, &list) {
			t.Errorf("%q: error %v", tt.src, err)
			continue
		}
		found := false
		for _, e := range list {
			if e.Line == tt.line && strings.Contains(e.Msg, tt.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("want line %d %q, got %v", tt.line, tt.want, err)
		}
	}
	if _, err := CheckCases(nil, []byte("[]")); err == nil {
		t.Error("nil policy accepted")
	}
}
