package policy

import (
	"strings"
	"testing"
	"time"
)

// TestOriginWildcards pins down exactly what an origins entry covers.
func TestOriginWildcards(t *testing.T) {
	tests := []struct {
		pattern, url string
		match        bool
	}{
		{"api.example.com", "https://api.example.com/x", true},
		{"api.example.com", "https://API.Example.COM/x", true},
		{"api.example.com", "https://api.example.com./x", true},
		{"api.example.com", "https://api.example.com:443/x", true},
		{"api.example.com", "https://api.example.com:8443/x", false}, // no port = default port only
		{"api.example.com", "https://example.com/x", false},
		{"api.example.com", "https://xapi.example.com/x", false},
		{"api.example.com", "https://api.example.com.evil.net/x", false},
		{"api.example.com", "http://api.example.com/x", true}, // scheme is checked by allow_http, not here
		{"api.example.com", "http://api.example.com:443/x", false},
		{"*.example.com", "https://api.example.com/", true},
		{"*.example.com", "https://a.b.example.com/", true}, // one or more labels
		{"*.example.com", "https://example.com/", false},    // never the domain itself
		{"*.example.com", "https://badexample.com/", false},
		{"*.example.com", "https://example.com.evil.net/", false},
		{"*.example.com", "https://api.example.com:8443/", false},
		{"*.example.com:8443", "https://api.example.com:8443/", true},
		{"*.example.com:8443", "https://api.example.com/", false},
		{"api.example.com:*", "https://api.example.com:9999/", true},
		{"api.example.com:*", "https://api.example.com/", true},
		{"tiles.example.net:8443", "https://tiles.example.net:8443/z/1", true},
		{"10.0.0.5:8080", "http://10.0.0.5:8080/", true},
		{"10.0.0.5", "https://10.0.0.5/", true},
		{"[::1]:8080", "http://[::1]:8080/", true},
		{"[::1]:8080", "http://[0:0:0:0:0:0:0:1]:8080/", true},
		{"[::1]", "https://[::1]:8443/", false},
	}
	for _, tt := range tests {
		p, err := parseOriginPattern(tt.pattern)
		if err != nil {
			t.Errorf("parseOriginPattern(%q): %v", tt.pattern, err)
			continue
		}
		tg, err := parseTarget(tt.url)
		if err != nil {
			t.Errorf("parseTarget(%q): %v", tt.url, err)
			continue
		}
		if got := p.match(tg.host, tg.port, tg.defaultPort); got != tt.match {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.url, got, tt.match)
		}
	}
}

func TestOriginPatternErrors(t *testing.T) {
	for _, s := range []string{
		"", "*", "*.", "*.com", "**.example.com", "api.*.com", "*example.com", "a*.example.com",
		"https://example.com", "example.com/path", "user@example.com", "example.com:", "example.com:0",
		"example.com:65536", "example.com:08", "-a.example.com", "a-.example.com", "a..example.com",
		"ex_ample.com", "bücher.de", "*.10.0.0.1", "1.2.3", "::1", "[::1", "[::1]x", "[10.0.0.1]",
		strings.Repeat("a", 64) + ".com",
	} {
		if p, err := parseOriginPattern(s); err == nil {
			t.Errorf("parseOriginPattern(%q) = %+v, want error", s, p)
		}
	}
}

func TestParseTargetErrors(t *testing.T) {
	for _, u := range []string{
		"", "api.example.com/x", "ftp://example.com/", "https://", "https:///x",
		"https://user:pw@example.com/", "https://bücher.de/", "https://xn--bcher-kva.de:0/",
		"https://example.com:/", "mailto:a@example.com", "https://ex ample.com/",
		"https://[fe80::1%25eth0]/", "https://1.2.3/",
	} {
		if tg, err := parseTarget(u); err == nil {
			t.Errorf("parseTarget(%q) = %+v, want error", u, tg)
		}
	}
	tg, err := parseTarget("https://xn--bcher-kva.de:8443/p?q#f")
	if err != nil || tg.origin != "xn--bcher-kva.de:8443" || tg.port != "8443" {
		t.Errorf("punycode host: %+v, %v", tg, err)
	}
}

func TestNetworks(t *testing.T) {
	tests := []struct {
		pattern, network string
		match            bool
	}{
		{"eip155:8453", "eip155:8453", true},
		{"eip155:8453", "eip155:84532", false},
		{"eip155:*", "eip155:1", true},
		{"eip155:*", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", false},
		{"solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", true},
	}
	for _, tt := range tests {
		p, err := parseNetwork(tt.pattern, true)
		if err != nil {
			t.Fatal(err)
		}
		n, err := parseNetwork(tt.network, false)
		if err != nil {
			t.Fatal(err)
		}
		if p.match(n) != tt.match {
			t.Errorf("%s matches %s = %v", tt.pattern, tt.network, !tt.match)
		}
	}
	for _, s := range []string{"base", "eip155", "eip155:", ":1", "EIP155:1", "eip155:*x", "ab:1", "toolongns:1", "eip155:" + strings.Repeat("1", 33)} {
		if _, err := parseNetwork(s, true); err == nil {
			t.Errorf("parseNetwork(%q) accepted", s)
		}
	}
	if _, err := parseNetwork("eip155:*", false); err == nil {
		t.Error("a request network cannot be a wildcard")
	}
}

func TestAddresses(t *testing.T) {
	good := map[string]string{
		"0x1111111111111111111111111111111111111111": "0x1111111111111111111111111111111111111111",
		"0x000000000000000000000000000000000000dead": "0x000000000000000000000000000000000000dead",
		"0X000000000000000000000000000000000000DEAD": "0x000000000000000000000000000000000000dead",
		"0x000000000000000000000000000000000000dEaD": "0x000000000000000000000000000000000000dead", // valid EIP-55
		"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913": "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", // USDC on Base
	}
	for in, want := range good {
		if got, err := normalizeAddress(in); err != nil || got != want {
			t.Errorf("normalizeAddress(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0x", "1111111111111111111111111111111111111111", "0x111111111111111111111111111111111111111",
		"0x11111111111111111111111111111111111111111", "0xg111111111111111111111111111111111111111",
		"0x000000000000000000000000000000000000DeAd", "0x833589fcD6eDb6E08f4c7C32D4f71b54bdA02913"} {
		if got, err := normalizeAddress(in); err == nil {
			t.Errorf("normalizeAddress(%q) = %q, want error", in, got)
		}
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1s": time.Second, "90s": 90 * time.Second, "1m": time.Minute, "1h": time.Hour, "1h30m": 90 * time.Minute,
		"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "31d": 31 * 24 * time.Hour,
	} {
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "1", "d", "1.5d", "-1h", "+1h", "1500ms", "1 h", "1w"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) accepted", in)
		}
	}
	for v, want := range map[time.Duration]string{
		time.Second: "1s", 90 * time.Second: "1m30s", time.Minute: "1m", time.Hour: "1h", 90 * time.Minute: "1h30m",
		24 * time.Hour: "24h", 7 * 24 * time.Hour: "168h", time.Hour + time.Second: "1h0m1s",
	} {
		if got := formatDuration(v); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", v, got, want)
		}
	}
}
