package x402

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// NamespaceEIP155 is the CAIP-2 namespace of EVM chains.
const NamespaceEIP155 = "eip155"

// v1Networks is @x402/evm 2.27's EVM_NETWORK_CHAIN_ID_MAP: the v1 network
// names and their chain ids. Any other v1 name is refused by the reference.
var v1Networks = map[string]uint64{
	"ethereum":           1,
	"sepolia":            11155111,
	"abstract":           2741,
	"abstract-testnet":   11124,
	"base-sepolia":       84532,
	"base":               8453,
	"avalanche-fuji":     43113,
	"avalanche":          43114,
	"iotex":              4689,
	"sei":                1329,
	"sei-testnet":        1328,
	"polygon":            137,
	"polygon-amoy":       80002,
	"peaq":               3338,
	"story":              1514,
	"educhain":           41923,
	"skale-base-sepolia": 324705682,
	"megaeth":            4326,
	"monad":              143,
	"stable":             988,
	"stable-testnet":     2201,
	"celo":               42220,
	"flare":              14,
}

var v1NetworkByChainID = func() map[uint64]string {
	m := make(map[uint64]string, len(v1Networks))
	for name, id := range v1Networks {
		m[id] = name
	}
	return m
}()

// V1Networks returns the known v1 network names, sorted.
func V1Networks() []string {
	names := make([]string, 0, len(v1Networks))
	for name := range v1Networks {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// V1ChainID returns the chain id of a v1 network name.
func V1ChainID(name string) (uint64, bool) {
	id, ok := v1Networks[name]
	return id, ok
}

// V1NetworkName returns the v1 name of an EVM chain id.
func V1NetworkName(chainID uint64) (string, bool) {
	name, ok := v1NetworkByChainID[chainID]
	return name, ok
}

// CAIP2 is a CAIP-2 blockchain id, "<namespace>:<reference>".
type CAIP2 struct {
	Namespace string
	Reference string
}

// String formats the id.
func (c CAIP2) String() string { return c.Namespace + ":" + c.Reference }

// ParseCAIP2 parses a CAIP-2 id: namespace [-a-z0-9]{3,8}, reference
// [-_a-zA-Z0-9]{1,32}.
func ParseCAIP2(s string) (CAIP2, error) {
	ns, ref, ok := strings.Cut(s, ":")
	if !ok {
		return CAIP2{}, fmt.Errorf("x402: network %q is not CAIP-2", s)
	}
	if len(ns) < 3 || len(ns) > 8 || !allBytes(ns, func(c byte) bool { return c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }) {
		return CAIP2{}, fmt.Errorf("x402: network %q: bad CAIP-2 namespace", s)
	}
	if len(ref) < 1 || len(ref) > 32 || !allBytes(ref, func(c byte) bool {
		return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}) {
		return CAIP2{}, fmt.Errorf("x402: network %q: bad CAIP-2 reference", s)
	}
	return CAIP2{Namespace: ns, Reference: ref}, nil
}

// EVMNetwork formats the v2 network id of an EVM chain, "eip155:<chainId>".
func EVMNetwork(chainID uint64) string {
	return NamespaceEIP155 + ":" + strconv.FormatUint(chainID, 10)
}

// EVMChainID returns the chain id of an EVM network given either as a v2
// CAIP-2 id ("eip155:84532") or a v1 name ("base-sepolia"). The CAIP-2
// reference must be the canonical decimal spelling, so that one chain has one
// network string.
func EVMChainID(network string) (uint64, error) {
	if !strings.Contains(network, ":") {
		id, ok := V1ChainID(network)
		if !ok {
			return 0, fmt.Errorf("x402: unknown v1 network %q", network)
		}
		return id, nil
	}
	c, err := ParseCAIP2(network)
	if err != nil {
		return 0, err
	}
	if c.Namespace != NamespaceEIP155 {
		return 0, fmt.Errorf("x402: network %q is not an EVM chain", network)
	}
	if !allBytes(c.Reference, func(c byte) bool { return c >= '0' && c <= '9' }) || c.Reference[0] == '0' {
		return 0, fmt.Errorf("x402: network %q: chain id is not a canonical decimal", network)
	}
	id, err := strconv.ParseUint(c.Reference, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("x402: network %q: chain id out of range", network)
	}
	return id, nil
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
