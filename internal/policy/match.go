package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
)

// normalizeAddress validates an EVM address (0x + 40 hex digits) and returns it in
// lower case. A mixed-case address must carry a valid EIP-55 checksum: a typo in a
// payee allowlist is exactly the mistake the checksum exists to catch.
func normalizeAddress(s string) (string, error) {
	if len(s) != 42 || (s[:2] != "0x" && s[:2] != "0X") {
		return "", fmt.Errorf("%q is not an address (0x followed by 40 hex digits)", s)
	}
	hasUpper, hasLower := false, false
	for i := 2; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f':
			hasLower = true
		case c >= 'A' && c <= 'F':
			hasUpper = true
		default:
			return "", fmt.Errorf("%q is not an address (0x followed by 40 hex digits)", s)
		}
	}
	if hasUpper && hasLower && common.HexToAddress(s).Hex()[2:] != s[2:] {
		return "", fmt.Errorf("%q has an invalid EIP-55 checksum (write it all lower case to skip the check)", s)
	}
	return "0x" + strings.ToLower(s[2:]), nil
}

// requestAddress validates and lower-cases an address from a payment request. Unlike
// policy entries it is not checksum-verified: the signer compares and signs the 20
// bytes, which case does not change, and hashing every address per payment would cost
// more than the rest of the evaluation.
func requestAddress(s string) (string, error) {
	if len(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return "", fmt.Errorf("%q is not an address (0x followed by 40 hex digits)", s)
	}
	lower := true
	for i := 2; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			lower = false
		default:
			return "", fmt.Errorf("%q is not an address (0x followed by 40 hex digits)", s)
		}
	}
	if lower && s[1] == 'x' {
		return s, nil
	}
	return strings.ToLower(s), nil
}

// originPattern is one entry of an origins list: a host name, "*." + a domain, or an
// IP literal, with an optional port ("" = the scheme's default port, "*" = any port).
type originPattern struct {
	text     string // canonical spelling
	wildcard bool
	host     string // without the "*." of a wildcard
	port     string
}

func parseOriginPattern(s string) (originPattern, error) {
	bad := func(why string) (originPattern, error) {
		return originPattern{}, fmt.Errorf("%q is not a valid origin pattern: %s", s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/?#@") {
		return bad("write only the host with an optional :port, like api.example.com or *.example.com:8443")
	}
	host, port := s, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return bad("unterminated IPv6 literal")
		}
		host, port = s[:end+1], s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return bad("unexpected text after the IPv6 literal")
			}
			port = port[1:]
			if port == "" {
				return bad("empty port")
			}
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if port == "" {
			return bad("empty port")
		}
	}
	if port != "" && port != "*" {
		p, err := parsePort(port)
		if err != nil {
			return bad(err.Error())
		}
		port = p
	}
	p := originPattern{port: port}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		name, err := normalizeHost(rest)
		if err != nil {
			return bad(err.Error())
		}
		if strings.HasPrefix(name, "[") || isIPv4(name) {
			return bad("a wildcard cannot be applied to an IP address")
		}
		if strings.Count(name, ".") < 1 {
			return bad("a wildcard needs at least two labels after \"*.\" (\"*.com\" would match a whole top-level domain)")
		}
		p.wildcard, p.host = true, name
	} else {
		if strings.Contains(host, "*") {
			return bad("the only wildcard form is a leading \"*.\" covering whole labels")
		}
		name, err := normalizeHost(host)
		if err != nil {
			return bad(err.Error())
		}
		p.host = name
	}
	p.text = p.host
	if p.wildcard {
		p.text = "*." + p.host
	}
	if p.port != "" {
		p.text += ":" + p.port
	}
	return p, nil
}

func isIPv4(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.Is4()
}

func parsePort(s string) (string, error) {
	if !allDigits(s) || s == "" || (len(s) > 1 && s[0] == '0') {
		return "", fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return s, nil
}

// normalizeHost validates a host (DNS name in ASCII, IPv4 literal, or bracketed IPv6
// literal) and returns its canonical lower-case form with no trailing dot. Non-ASCII
// (IDN) names are refused: an HTTP client maps them to ASCII with rules of its own,
// and a policy must compare exactly what will be connected to.
func normalizeHost(h string) (string, error) {
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") {
			return "", errors.New("bad IPv6 literal")
		}
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", errors.New("bad IPv6 literal")
		}
		return "[" + a.String() + "]", nil
	}
	if strings.Trim(h, "0123456789.") == "" || strings.Contains(h, ":") {
		a, err := netip.ParseAddr(h)
		if err == nil && !a.Is4() {
			return "", errors.New("IPv6 literals must be written in brackets")
		}
		if err == nil {
			return a.String(), nil
		}
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return "", errors.New("bad host name length")
	}
	var last string
	for rest := h; ; {
		l, tail, more := strings.Cut(rest, ".")
		if l == "" || len(l) > 63 {
			return "", errors.New("empty or over-long label")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", errors.New("a label cannot start or end with '-'")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				r, _ := utf8.DecodeRuneInString(l[i:])
				return "", fmt.Errorf("character %q is not allowed in a host name", r)
			}
		}
		last = l
		if !more {
			break
		}
		rest = tail
	}
	h = strings.ToLower(h)
	if allDigits(last) {
		// "1.2.3" or "010.0.0.1" are not host names and not canonical IPv4.
		return "", errors.New("not a host name or IPv4 address")
	}
	return h, nil
}

// match reports whether host (canonical) and port (the effective port, explicit or
// the scheme default) are covered by the pattern.
func (p originPattern) match(host, port, defaultPort string) bool {
	switch p.port {
	case "*":
	case "":
		if port != defaultPort {
			return false
		}
	default:
		if port != p.port {
			return false
		}
	}
	if !p.wildcard {
		return host == p.host
	}
	// "*.example.com" covers one or more labels below example.com, never example.com.
	return len(host) > len(p.host)+1 && strings.HasSuffix(host, p.host) && host[len(host)-len(p.host)-1] == '.'
}

// target is a request's resource URL reduced to what origin rules compare.
type target struct {
	scheme      string
	host        string // canonical
	port        string // effective
	defaultPort string
	origin      string // host, plus ":port" when not the default
}

func parseTarget(raw string) (target, error) {
	if raw == "" {
		return target{}, errors.New("missing resource URL")
	}
	if len(raw) > 8192 {
		return target{}, errors.New("resource URL is too long")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, errors.New("resource URL does not parse")
	}
	var t target
	switch u.Scheme {
	case "https":
		t.defaultPort = "443"
	case "http":
		t.defaultPort = "80"
	default:
		return target{}, fmt.Errorf("resource URL scheme %q is not http or https", u.Scheme)
	}
	t.scheme = u.Scheme
	if u.User != nil {
		return target{}, errors.New("resource URL must not carry user information")
	}
	if u.Opaque != "" || u.Host == "" {
		return target{}, errors.New("resource URL has no host")
	}
	h := u.Hostname()
	if strings.Contains(u.Host, "[") {
		h = "[" + h + "]"
	}
	t.host, err = normalizeHost(h)
	if err != nil {
		return target{}, fmt.Errorf("resource URL host: %v", err)
	}
	t.port = t.defaultPort
	t.origin = t.host
	if p := u.Port(); p != "" {
		if _, err := parsePort(p); err != nil {
			return target{}, fmt.Errorf("resource URL: %v", err)
		}
		t.port = p
		if p != t.defaultPort {
			t.origin += ":" + p
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return target{}, errors.New("resource URL has an empty port")
	}
	return t, nil
}

// network is a CAIP-2 chain id "namespace:reference"; in a pattern the reference may
// be "*".
type network struct{ namespace, reference string }

func parseNetwork(s string, pattern bool) (network, error) {
	ns, ref, ok := strings.Cut(s, ":")
	bad := errBadNetwork{s}
	if !ok || len(ns) < 3 || len(ns) > 8 || ref == "" || len(ref) > 32 {
		return network{}, bad
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return network{}, bad
		}
	}
	if pattern && ref == "*" {
		return network{ns, ref}, nil
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return network{}, bad
		}
	}
	return network{ns, ref}, nil
}

type errBadNetwork struct{ s string }

func (e errBadNetwork) Error() string {
	return fmt.Sprintf("%q is not a CAIP-2 network id like eip155:8453", e.s)
}

func (n network) String() string { return n.namespace + ":" + n.reference }

func (n network) match(req network) bool {
	return n.namespace == req.namespace && (n.reference == "*" || n.reference == req.reference)
}

// normalizeSymbol validates an asset symbol from the trusted registry ("USDC",
// "USDC.e") and returns its canonical upper-case form: symbols compare
// case-insensitively.
func normalizeSymbol(s string) (string, error) {
	if s == "" || len(s) > 32 {
		return "", fmt.Errorf("%q is not an asset address or symbol", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && (c == '.' || c == '_' || c == '-'))) {
			return "", fmt.Errorf("%q is not an asset address or symbol", s)
		}
	}
	return strings.ToUpper(s), nil
}

// matchList is one allow or deny list section. A nil slice means the key was absent.
type matchList struct {
	payTo    []string // canonical addresses
	origins  []originPattern
	assets   []string // canonical addresses and symbols
	networks []network
}

func (m *matchList) empty() bool {
	return m.payTo == nil && m.origins == nil && m.assets == nil && m.networks == nil
}

func findString(list []string, v string) (string, bool) {
	for _, s := range list {
		if s == v {
			return s, true
		}
	}
	return "", false
}

func (m *matchList) matchPayTo(addr string) (string, bool) { return findString(m.payTo, addr) }

func (m *matchList) matchAsset(addr, symbol string) (string, bool) {
	if s, ok := findString(m.assets, addr); ok {
		return s, true
	}
	if symbol == "" {
		return "", false
	}
	return findString(m.assets, symbol)
}

func (m *matchList) matchNetwork(n network) (network, bool) {
	for _, p := range m.networks {
		if p.match(n) {
			return p, true
		}
	}
	return network{}, false
}

func (m *matchList) matchOrigin(t *target) (string, bool) {
	for _, p := range m.origins {
		if p.match(t.host, t.port, t.defaultPort) {
			return p.text, true
		}
	}
	return "", false
}
