package policy

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// FuzzParse: Parse never panics, and a policy that parses has a canonical form that
// parses again to the same hash and the same canonical bytes.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/example.yaml"} {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		"version: 1\nname: p\n",
		hashBase,
		"version: 1\nname: p\nlimits: {per_payment: $0.25, windows: [{window: 1h, max_amount: 10, max_count: 5}]}\n",
		"version: 1\nname: p\nallow: {origins: ['*.example.com:8443', '[::1]:80', '10.0.0.1'], networks: ['eip155:*'], assets: [usdc]}\n",
		"version: 1\nname: p\ntime_of_day: [{days: [fri], from: '22:00', to: '06:00', tz: Europe/Berlin}]\n",
		"version: 1\nname: p\napproval: {above: 1, quorum: 2, approvers: [a, b]}\n",
		"version: 1\nname: p\ncel: [{name: r, expr: 'spend.agent[\"1h\"].amount < micro(\"1\")'}]\n",
		"version: 1\nname: p\nrotation: {max_key_age: 30d, max_signatures: 100, outstanding: expire}\n",
		"version: 1\nname: p\ndescription: \"tab\\there \\u00e9 <&>\"\n",
		"version: 1\nname: p\nlimits: &a {per_payment: 1}\nrate: *a\n",
		"{\"version\": 1, \"name\": \"p\", \"max_validity\": \"7d\"}",
		"",
		"---\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse(src)
		if err != nil {
			if p != nil {
				t.Fatal("policy returned with an error")
			}
			return
		}
		q, err := Parse(p.Canonical())
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, p.Canonical())
		}
		if q.Hash() != p.Hash() || !bytes.Equal(q.Canonical(), p.Canonical()) {
			t.Fatalf("canonical form is not stable:\n%s\n%s", p.Canonical(), q.Canonical())
		}
	})
}

// FuzzCheckCases: a hostile cases file never panics the checker.
func FuzzCheckCases(f *testing.F) {
	cases, err := os.ReadFile("testdata/example-cases.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cases)
	f.Add([]byte("- {name: x, now: 2026-03-04T09:00:00Z, request: {amount: 1, pay_to: a, asset: b, network: c, url: d}, expect: allow}"))
	f.Add([]byte("[]"))
	src, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	p := mustParse(f, string(src))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := CheckCases(p, b)
		if err != nil && res != nil {
			t.Fatal("results returned with an error")
		}
	})
}

// FuzzEvaluateURL: any resource URL either is refused as invalid_request or is
// evaluated; a URL whose own host is listed is never reported as not allowed.
func FuzzEvaluateURL(f *testing.F) {
	for _, s := range []string{
		"https://api.example.com/x", "http://[::1]:8080/", "https://a.b.example.com.:443/?q#f",
		"https://user@host/", "https://ｅｘａｍｐｌｅ.com/", "HTTPS://API.EXAMPLE.COM", "https://1.2.3/",
		"https://%65xample.com/", "https://example.com:0/", "//example.com", "https://[fe80::1%25en0]/",
	} {
		f.Add(s)
	}
	p := mustParse(f, "version: 1\nname: p\nallow_http: true\ndeny:\n  origins: [\"*.evil.example\"]\n")
	f.Fuzz(func(t *testing.T, raw string) {
		req := baseRequest()
		req.URL = raw
		d := Evaluate(Set{Agent: p}, req, Snapshot{}, time.Unix(0, 0))
		switch d.Outcome {
		case Allow:
			tg, err := parseTarget(raw)
			if err != nil {
				t.Fatalf("allowed a URL that does not parse: %v", err)
			}
			pat, err := parseOriginPattern("*.evil.example:*")
			if err != nil {
				t.Fatal(err)
			}
			if pat.match(tg.host, tg.port, tg.defaultPort) {
				t.Fatalf("allowed %q on a denied host", raw)
			}
		case Deny:
			if d.Reason != ReasonInvalidRequest && d.Reason != ReasonOriginDenied {
				t.Fatalf("unexpected reason %s", d.Reason)
			}
		default:
			t.Fatalf("outcome %s", d.Outcome)
		}
	})
}
