package hd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// HardenedOffset is added to a child index to select hardened derivation (BIP-32).
const HardenedOffset uint32 = 0x80000000

// MaxDepth is the deepest level an extended key can encode (its depth is one byte).
const MaxDepth = 255

// BIP-44 purpose and coin type (SLIP-44: 60 is Ether) of every agent key.
const (
	purposeBIP44 = 44
	coinTypeETH  = 60
)

// ErrInvalidPath reports a derivation path that cannot be parsed; the wrapping error says why.
var ErrInvalidPath = errors.New("hd: invalid derivation path")

// Path is a BIP-32 derivation path from the master key: one child index per level, hardened
// indexes carrying [HardenedOffset].
type Path []uint32

// ParsePath parses "m" followed by zero or more "/index" segments, where index is a decimal
// number below 2^31 without sign or leading zeros, optionally followed by ', h or H for hardened
// derivation. Example: "m/44'/60'/0'/0/0".
func ParsePath(s string) (Path, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidPath)
	}
	segs := strings.Split(s, "/")
	if segs[0] != "m" {
		return nil, fmt.Errorf("%w: must start with \"m\"", ErrInvalidPath)
	}
	segs = segs[1:]
	if len(segs) > MaxDepth {
		return nil, fmt.Errorf("%w: depth %d exceeds %d", ErrInvalidPath, len(segs), MaxDepth)
	}
	p := make(Path, len(segs))
	for i, seg := range segs {
		idx, err := parseSegment(seg)
		if err != nil {
			return nil, fmt.Errorf("%w: segment %d: %w", ErrInvalidPath, i+1, err)
		}
		p[i] = idx
	}
	return p, nil
}

func parseSegment(seg string) (uint32, error) {
	var hardened bool
	if n := len(seg); n > 0 {
		switch seg[n-1] {
		case '\'', 'h', 'H':
			hardened = true
			seg = seg[:n-1]
		}
	}
	if seg == "" {
		return 0, errors.New("missing index")
	}
	for i := 0; i < len(seg); i++ {
		if seg[i] < '0' || seg[i] > '9' {
			return 0, fmt.Errorf("%q is not a decimal index", seg)
		}
	}
	if len(seg) > 1 && seg[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", seg)
	}
	// Parse into 64 bits so that any value >= 2^31 is reported as out of range, not as a
	// syntax error.
	v, err := strconv.ParseUint(seg, 10, 64)
	if err != nil || v >= uint64(HardenedOffset) {
		return 0, fmt.Errorf("index %s is not below 2^31", seg)
	}
	if hardened {
		return uint32(v) + HardenedOffset, nil
	}
	return uint32(v), nil
}

// String formats p canonically: "m", then "/index" per level with ' marking hardened indexes.
func (p Path) String() string {
	var b strings.Builder
	b.WriteByte('m')
	for _, i := range p {
		b.WriteByte('/')
		if i >= HardenedOffset {
			b.WriteString(strconv.FormatUint(uint64(i-HardenedOffset), 10))
			b.WriteByte('\'')
		} else {
			b.WriteString(strconv.FormatUint(uint64(i), 10))
		}
	}
	return b.String()
}

// AgentPath returns m/44'/60'/{fleet}'/{agent}'/{generation}', the path of one key generation
// of one agent. Every level is hardened; see the package documentation for why.
func AgentPath(fleet, agent, generation uint32) (Path, error) {
	for _, f := range []struct {
		name string
		v    uint32
	}{{"fleet", fleet}, {"agent", agent}, {"generation", generation}} {
		if f.v >= HardenedOffset {
			return nil, fmt.Errorf("%w: %s %d is not below 2^31", ErrInvalidPath, f.name, f.v)
		}
	}
	return Path{
		purposeBIP44 + HardenedOffset,
		coinTypeETH + HardenedOffset,
		fleet + HardenedOffset,
		agent + HardenedOffset,
		generation + HardenedOffset,
	}, nil
}
