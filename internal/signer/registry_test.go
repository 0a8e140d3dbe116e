package signer

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestNewRegistryValidation(t *testing.T) {
	mod := func(f func(*Asset)) Asset {
		a := baseUSDC
		f(&a)
		return a
	}
	tests := []struct {
		name   string
		assets []Asset
		want   string // substring of the error; "" means valid
	}{
		{"valid", []Asset{baseUSDC, baseSepoliaUSDC, localTestUSD}, ""},
		{"empty", nil, ""},
		{"same address on two chains", []Asset{baseUSDC, mod(func(a *Asset) { a.Network = "eip155:1" })}, ""},
		{"36 decimals", []Asset{mod(func(a *Asset) { a.Decimals = 36 })}, ""},
		{"v1 network name", []Asset{mod(func(a *Asset) { a.Network = "base" })}, "not CAIP-2"},
		{"non-EVM network", []Asset{mod(func(a *Asset) { a.Network = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" })}, "not an EVM chain"},
		{"non-canonical chain id", []Asset{mod(func(a *Asset) { a.Network = "eip155:08453" })}, "canonical"},
		{"empty network", []Asset{mod(func(a *Asset) { a.Network = "" })}, "not CAIP-2"},
		{"zero address", []Asset{mod(func(a *Asset) { a.Address = common.Address{} })}, "zero address"},
		{"37 decimals", []Asset{mod(func(a *Asset) { a.Decimals = 37 })}, "decimals 37"},
		{"empty name", []Asset{mod(func(a *Asset) { a.EIP712Name = "" })}, "EIP-712"},
		{"empty version", []Asset{mod(func(a *Asset) { a.EIP712Version = "" })}, "EIP-712"},
		{"duplicate", []Asset{baseUSDC, mod(func(a *Asset) { a.Symbol = "USDC2" })}, "registered twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRegistry(tt.assets)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewRegistry: %v", err)
				}
				if got := len(r.Assets()); got != len(tt.assets) {
					t.Fatalf("%d assets registered, want %d", got, len(tt.assets))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewRegistry error = %v, want one containing %q", err, tt.want)
			}
			if r != nil {
				t.Fatal("a registry was returned with the error")
			}
		})
	}
}

func TestNewRegistryReportsEveryBadAsset(t *testing.T) {
	bad1, bad2 := baseUSDC, localTestUSD
	bad1.Decimals, bad2.EIP712Name = 99, ""
	_, err := NewRegistry([]Asset{baseSepoliaUSDC, bad1, bad2})
	if err == nil || !strings.Contains(err.Error(), "asset 1") || !strings.Contains(err.Error(), "asset 2") {
		t.Fatalf("error = %v, want both asset 1 and asset 2 named", err)
	}
}

func TestLookup(t *testing.T) {
	r := testRegistry(t)
	lower := strings.ToLower(baseUSDC.Address.Hex())
	upper := "0x" + strings.ToUpper(lower[2:])
	tests := []struct {
		name    string
		chainID uint64
		addr    string
		want    bool
	}{
		{"checksummed", 8453, baseUSDC.Address.Hex(), true},
		{"lower case", 8453, lower, true},
		{"upper case", 8453, upper, true},
		{"0X prefix", 8453, "0X" + lower[2:], true},
		{"wrong chain", 84532, lower, false},
		{"unknown address", 8453, "0x" + strings.Repeat("ab", 20), false},
		{"short", 8453, lower[:41], false},
		{"no prefix", 8453, lower[2:] + "00", false},
		{"not hex", 8453, "0x" + strings.Repeat("zz", 20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := r.LookupHex(tt.chainID, tt.addr)
			if ok != tt.want {
				t.Fatalf("LookupHex(%d, %s) found = %v, want %v", tt.chainID, tt.addr, ok, tt.want)
			}
			if ok && a != baseUSDC {
				t.Fatalf("LookupHex returned %+v", a)
			}
		})
	}
	if a, ok := r.Lookup(84532, baseSepoliaUSDC.Address); !ok || a.EIP712Name != "USDC" {
		t.Fatalf("Lookup(base sepolia USDC) = %+v, %v", a, ok)
	}
}

func TestAssetsIsACopy(t *testing.T) {
	r := testRegistry(t)
	r.Assets()[0].EIP712Name = "Evil"
	if a, _ := r.Lookup(84532, baseSepoliaUSDC.Address); a.EIP712Name != "USDC" || r.Assets()[0].EIP712Name != "USDC" {
		t.Fatal("changing the slice from Assets changed the registry")
	}
}
