package x402

import "testing"

func TestV1Networks(t *testing.T) {
	// @x402/evm 2.27 EVM_NETWORK_CHAIN_ID_MAP, reference/x402.md §2.2.
	want := map[string]uint64{
		"ethereum": 1, "sepolia": 11155111, "abstract": 2741, "abstract-testnet": 11124,
		"base-sepolia": 84532, "base": 8453, "avalanche-fuji": 43113, "avalanche": 43114,
		"iotex": 4689, "sei": 1329, "sei-testnet": 1328, "polygon": 137, "polygon-amoy": 80002,
		"peaq": 3338, "story": 1514, "educhain": 41923, "skale-base-sepolia": 324705682,
		"megaeth": 4326, "monad": 143, "stable": 988, "stable-testnet": 2201, "celo": 42220, "flare": 14,
	}
	if n := len(V1Networks()); n != len(want) {
		t.Fatalf("%d v1 networks, want %d", n, len(want))
	}
	for name, id := range want {
		if got, ok := V1ChainID(name); !ok || got != id {
			t.Errorf("V1ChainID(%q) = %d, %v; want %d", name, got, ok, id)
		}
		if got, ok := V1NetworkName(id); !ok || got != name {
			t.Errorf("V1NetworkName(%d) = %q, %v; want %q", id, got, ok, name)
		}
		if got, err := EVMChainID(name); err != nil || got != id {
			t.Errorf("EVMChainID(%q) = %d, %v", name, got, err)
		}
	}
	if _, ok := V1ChainID("solana"); ok {
		t.Error("solana has no EVM chain id")
	}
}

func TestEVMChainID(t *testing.T) {
	good := map[string]uint64{"eip155:1337": 1337, "eip155:84532": 84532, "eip155:1": 1, "eip155:18446744073709551615": 1<<64 - 1}
	for s, id := range good {
		got, err := EVMChainID(s)
		if err != nil || got != id {
			t.Errorf("EVMChainID(%q) = %d, %v; want %d", s, got, err, id)
		}
		if EVMNetwork(id) != s {
			t.Errorf("EVMNetwork(%d) = %q", id, EVMNetwork(id))
		}
	}
	for _, s := range []string{"eip155:", "eip155:0x14a34", "eip155:01337", "eip155:0", "eip155:*", "eip155:-1",
		"eip155:18446744073709551616", "EIP155:1", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "base-goerli", "", ":1", "eip155:1:2"} {
		if id, err := EVMChainID(s); err == nil {
			t.Errorf("EVMChainID(%q) = %d, want an error", s, id)
		}
	}
}

func TestParseCAIP2(t *testing.T) {
	for _, s := range []string{"eip155:1", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "aptos:2", "stellar:testnet", "algorand:wGHE2Pwdvd7S12BL5FaOP20EGYesN73k"} {
		c, err := ParseCAIP2(s)
		if err != nil || c.String() != s {
			t.Errorf("ParseCAIP2(%q) = %v, %v", s, c, err)
		}
	}
	for _, s := range []string{"base", "ei:1", "toolongns:1", "eip155:", "eip155:a.b", "Eip155:1", "eip155:" + "123456789012345678901234567890123"} {
		if _, err := ParseCAIP2(s); err == nil {
			t.Errorf("ParseCAIP2(%q) accepted", s)
		}
	}
}
