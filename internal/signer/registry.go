package signer

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/x402"
)

// MaxDecimals bounds an asset's decimals: 36 is far above any real token and
// keeps amount conversions cheap.
const MaxDecimals = 36

// Asset is a token the operator trusts, with the EIP-712 domain its
// EIP-3009 signatures are made under.
type Asset struct {
	// Network is the CAIP-2 id of the EVM chain, e.g. "eip155:8453".
	Network string
	// Address is the token contract (the EIP-712 verifyingContract).
	Address common.Address
	// Symbol names the asset in policies and reports.
	Symbol   string
	Decimals uint8
	// EIP712Name and EIP712Version are the token's domain name and version
	// ("USD Coin" and "2" for USDC on Base).
	EIP712Name, EIP712Version string
}

type assetKey struct {
	chainID uint64
	addr    common.Address
}

// Registry is an immutable set of trusted assets, safe for concurrent use.
type Registry struct {
	byKey map[assetKey]Asset
	// chains lists, per address, the chains it is registered on, so that a
	// known token named on the wrong chain is reported as such.
	chains map[common.Address][]uint64
	assets []Asset
}

// NewRegistry validates the assets and indexes them. Every network must be a
// canonical CAIP-2 EVM id, every address non-zero, decimals at most
// MaxDecimals, the EIP-712 name and version non-empty, and no (network,
// address) pair may appear twice.
func NewRegistry(assets []Asset) (*Registry, error) {
	r := &Registry{
		byKey:  make(map[assetKey]Asset, len(assets)),
		chains: make(map[common.Address][]uint64, len(assets)),
		assets: make([]Asset, 0, len(assets)),
	}
	var errs []error
	for i, a := range assets {
		if err := r.add(a); err != nil {
			errs = append(errs, fmt.Errorf("signer: asset %d (%s %s): %w", i, a.Network, a.Address.Hex(), err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func (r *Registry) add(a Asset) error {
	if !strings.Contains(a.Network, ":") {
		return fmt.Errorf("network %q is not CAIP-2", a.Network)
	}
	chainID, err := x402.EVMChainID(a.Network)
	if err != nil {
		return err
	}
	if a.Address == (common.Address{}) {
		return errors.New("zero address")
	}
	if a.Decimals > MaxDecimals {
		return fmt.Errorf("decimals %d above %d", a.Decimals, MaxDecimals)
	}
	if a.EIP712Name == "" || a.EIP712Version == "" {
		return errors.New("empty EIP-712 name or version")
	}
	k := assetKey{chainID, a.Address}
	if _, dup := r.byKey[k]; dup {
		return errors.New("registered twice")
	}
	r.byKey[k] = a
	r.chains[a.Address] = append(r.chains[a.Address], chainID)
	r.assets = append(r.assets, a)
	return nil
}

// Lookup returns the asset registered at address on the chain.
func (r *Registry) Lookup(chainID uint64, address common.Address) (Asset, bool) {
	a, ok := r.byKey[assetKey{chainID, address}]
	return a, ok
}

// LookupHex is Lookup for a 0x-prefixed hex address in any letter case.
func (r *Registry) LookupHex(chainID uint64, address string) (Asset, bool) {
	if len(address) != 42 || address[0] != '0' || (address[1] != 'x' && address[1] != 'X') {
		return Asset{}, false
	}
	b, err := hex.DecodeString(address[2:])
	if err != nil {
		return Asset{}, false
	}
	return r.Lookup(chainID, common.BytesToAddress(b))
}

// Assets returns the registered assets in registration order.
func (r *Registry) Assets() []Asset { return append([]Asset(nil), r.assets...) }

// chainsOf returns the chains the address is registered on.
func (r *Registry) chainsOf(address common.Address) []uint64 { return r.chains[address] }
