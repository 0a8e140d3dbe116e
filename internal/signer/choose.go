package signer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// Reasons a requirement is refused. Each RequirementError wraps one of them.
var (
	// ErrUnsupportedScheme: not the exact scheme with an EIP-3009 transfer.
	ErrUnsupportedScheme = errors.New("signer: unsupported scheme")
	// ErrUnsupportedNetwork: not an EVM network in the form the protocol
	// version uses (CAIP-2 for v2, a known name for v1).
	ErrUnsupportedNetwork = errors.New("signer: unsupported network")
	// ErrUnknownAsset: the asset is not in the trusted registry.
	ErrUnknownAsset = errors.New("signer: unknown asset")
	// ErrChainMismatch: the asset is registered, but on another chain.
	ErrChainMismatch = errors.New("signer: asset registered on another chain")
	// ErrDomainMismatch: extra.name/extra.version are missing or differ from
	// the registry's EIP-712 domain for the asset.
	ErrDomainMismatch = errors.New("signer: EIP-712 domain differs from the registry")
	// ErrBadAmount: the amount is not a positive canonical decimal integer
	// below 2^256, or too large for policy accounting.
	ErrBadAmount = errors.New("signer: bad amount")
	// ErrBadPayTo: payTo is not a 20-byte hex address, has a bad EIP-55
	// checksum, or is the zero address.
	ErrBadPayTo = errors.New("signer: bad payTo")
	// ErrBadTimeout: maxTimeoutSeconds is not positive.
	ErrBadTimeout = errors.New("signer: bad maxTimeoutSeconds")
	// ErrNotAccepted: the caller's Accept function (policy) rejected the
	// requirement; the caller's error is wrapped too.
	ErrNotAccepted = errors.New("signer: not accepted")
	// ErrNoSuchRequirement: the preferred index is outside accepts.
	ErrNoSuchRequirement = errors.New("signer: no such requirement")
)

// ErrNoAcceptableRequirement means Choose found no requirement to pay. The
// error wraps every requirement's RequirementError.
var ErrNoAcceptableRequirement = errors.New("signer: no acceptable payment requirement")

// RequirementError says why one entry of accepts was not chosen.
type RequirementError struct {
	Index int
	Err   error
}

func (e *RequirementError) Error() string {
	return fmt.Sprintf("requirement %d: %v", e.Index, e.Err)
}

func (e *RequirementError) Unwrap() error { return e.Err }

// Candidate is a requirement that passed every check against the registry,
// in the terms policy works with.
type Candidate struct {
	// Index is the position in the demand's accepts.
	Index   int
	Version int
	// Network is the CAIP-2 id, also for a v1 demand whose wire network is
	// a name.
	Network string
	ChainID uint64
	// Asset is the registry's entry, never the server's claim.
	Asset Asset
	PayTo common.Address
	// Amount is in atomic units; AmountMicro in policy micro-units of the
	// asset (rounded up, see policy.AtomicToMicro).
	Amount            *big.Int
	AmountMicro       int64
	MaxTimeoutSeconds int64
	// Resource is the paid URL as the server named it: v2 resource.url, v1
	// requirement.resource.
	Resource string
}

// PolicyRequest fills the fields of a policy request that the candidate
// determines; the caller adds the agent and the HTTP method.
func (c *Candidate) PolicyRequest() policy.Request {
	return policy.Request{
		PayTo:        c.PayTo.Hex(),
		Asset:        c.Asset.Address.Hex(),
		AssetSymbol:  c.Asset.Symbol,
		Network:      c.Network,
		URL:          c.Resource,
		Amount:       c.AmountMicro,
		AmountAtomic: c.Amount.String(),
		Validity:     time.Duration(c.MaxTimeoutSeconds) * time.Second,
	}
}

func (c *Candidate) clone() Candidate {
	cc := *c
	cc.Amount = new(big.Int).Set(c.Amount)
	return cc
}

// ChooseOptions steer Choose.
type ChooseOptions struct {
	// Preferred, when set, is the only index tried: if it is refused, Choose
	// fails rather than silently paying something else.
	Preferred *int
	// Accept is the caller's policy check; a non-nil error rejects the
	// candidate and Choose moves on to the next. Nil accepts everything.
	Accept func(Candidate) error
}

// Choice is the requirement Choose selected, with what building the
// authorization and the payload needs.
type Choice struct {
	Candidate
	domain exact.Domain
	// v2 holds the resource, extensions and the chosen requirement only (as
	// accepts[0]), so that later changes to the Demand cannot alter the echo.
	v2 *x402.PaymentRequiredV2
	v1 *x402.PaymentRequirementsV1
}

// Domain returns the EIP-712 domain the authorization will be signed under,
// taken from the registry.
func (c *Choice) Domain() exact.Domain { return c.domain }

// Choose picks the first requirement of the demand (or only the preferred
// one) that is exact-on-EVM for a registered asset with the registry's
// EIP-712 domain, a positive amount, a valid payTo and a positive timeout, and
// that Accept admits. If none qualifies the error wraps
// ErrNoAcceptableRequirement and every requirement's reason.
func Choose(d *Demand, reg *Registry, opts ChooseOptions) (*Choice, error) {
	if d == nil || (d.V1 == nil) == (d.V2 == nil) {
		return nil, errors.New("signer: choose: demand is not parsed")
	}
	if reg == nil {
		return nil, errors.New("signer: choose: no asset registry")
	}
	try := func(i int) (*Choice, error) {
		c, err := check(d, reg, i)
		if err != nil {
			return nil, &RequirementError{Index: i, Err: err}
		}
		if opts.Accept != nil {
			if err := opts.Accept(c.Candidate.clone()); err != nil {
				return nil, &RequirementError{Index: i, Err: fmt.Errorf("%w: %w", ErrNotAccepted, err)}
			}
		}
		return c, nil
	}
	if opts.Preferred != nil {
		i := *opts.Preferred
		if i < 0 || i >= d.Len() {
			return nil, fmt.Errorf("%w: preferred %w", ErrNoAcceptableRequirement,
				&RequirementError{Index: i, Err: fmt.Errorf("%w: %d entries", ErrNoSuchRequirement, d.Len())})
		}
		c, err := try(i)
		if err != nil {
			return nil, fmt.Errorf("%w: preferred %w", ErrNoAcceptableRequirement, err)
		}
		return c, nil
	}
	var errs []error
	for i := 0; i < d.Len(); i++ {
		c, err := try(i)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w:\n%w", ErrNoAcceptableRequirement, errors.Join(errs...))
}

// fields are the wire fields of a requirement common to both versions.
type fields struct {
	scheme, network, amount, asset, payTo string
	maxTimeout                            int64
	extra                                 json.RawMessage
	resource                              string
}

// extraStrings decodes extra once. Keys match exactly (as JavaScript reads
// extra.name), a repeated key keeps its last value (as JSON.parse does), and
// a key whose value is not a string is absent.
func extraStrings(extra json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if len(extra) == 0 || json.Unmarshal(extra, &m) != nil {
		return nil
	}
	out := make(map[string]string, 3)
	for _, k := range []string{"name", "version", "assetTransferMethod"} {
		var s string
		if v, ok := m[k]; ok && json.Unmarshal(v, &s) == nil {
			out[k] = s
		}
	}
	return out
}

func check(d *Demand, reg *Registry, i int) (*Choice, error) {
	var f fields
	if d.V2 != nil {
		r := &d.V2.Accepts[i]
		f = fields{r.Scheme, r.Network, r.Amount, r.Asset, r.PayTo, r.MaxTimeoutSeconds, r.Extra, d.V2.Resource.URL}
	} else {
		r := &d.V1.Accepts[i]
		f = fields{r.Scheme, r.Network, r.MaxAmountRequired, r.Asset, r.PayTo, r.MaxTimeoutSeconds, r.Extra, r.Resource}
	}

	if f.scheme != x402.SchemeExact {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedScheme, f.scheme)
	}
	// Only EIP-3009 can be built here; a Permit2 requirement needs another
	// message and spender, so it must not be signed as a transfer.
	extra := extraStrings(f.extra)
	if m, ok := extra["assetTransferMethod"]; ok && m != "eip3009" {
		return nil, fmt.Errorf("%w: asset transfer method %q", ErrUnsupportedScheme, m)
	}

	// The network form must match the version: a v2 server that says
	// "base" or a v1 server that says "eip155:8453" is not speaking x402.
	if isCAIP2 := strings.Contains(f.network, ":"); isCAIP2 != (d.Version == x402.V2) {
		return nil, fmt.Errorf("%w: %q in a version %d demand", ErrUnsupportedNetwork, f.network, d.Version)
	}
	chainID, err := x402.EVMChainID(f.network)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedNetwork, err)
	}

	assetAddr, err := exact.ParseAddress(f.asset)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownAsset, err)
	}
	asset, ok := reg.Lookup(chainID, assetAddr)
	if !ok {
		if other := reg.chainsOf(assetAddr); len(other) > 0 {
			return nil, fmt.Errorf("%w: %s is registered on chain %d, not %d", ErrChainMismatch, assetAddr.Hex(), other[0], chainID)
		}
		return nil, fmt.Errorf("%w: %s on chain %d", ErrUnknownAsset, assetAddr.Hex(), chainID)
	}

	name, nok := extra["name"]
	version, vok := extra["version"]
	if !nok || !vok {
		return nil, fmt.Errorf("%w: extra lacks name or version", ErrDomainMismatch)
	}
	if name != asset.EIP712Name || version != asset.EIP712Version {
		return nil, fmt.Errorf("%w: %s has domain (%q, %q), the demand says (%q, %q)",
			ErrDomainMismatch, asset.Symbol, asset.EIP712Name, asset.EIP712Version, name, version)
	}

	amount, err := exact.ParseUint256(f.amount)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAmount, err)
	}
	if amount.Sign() == 0 {
		return nil, fmt.Errorf("%w: zero", ErrBadAmount)
	}
	micro, err := policy.AtomicToMicro(f.amount, int(asset.Decimals))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAmount, err)
	}

	payTo, err := exact.ParseAddress(f.payTo)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPayTo, err)
	}
	if payTo == (common.Address{}) {
		return nil, fmt.Errorf("%w: zero address", ErrBadPayTo)
	}

	if f.maxTimeout <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrBadTimeout, f.maxTimeout)
	}

	c := &Choice{
		Candidate: Candidate{
			Index:             i,
			Version:           d.Version,
			Network:           x402.EVMNetwork(chainID),
			ChainID:           chainID,
			Asset:             asset,
			PayTo:             payTo,
			Amount:            amount,
			AmountMicro:       micro,
			MaxTimeoutSeconds: f.maxTimeout,
			Resource:          f.resource,
		},
		domain: exact.Domain{Name: asset.EIP712Name, Version: asset.EIP712Version, ChainID: chainID, VerifyingContract: asset.Address},
	}
	if d.V2 != nil {
		c.v2 = &x402.PaymentRequiredV2{
			X402Version: x402.V2,
			Resource:    d.V2.Resource,
			Accepts:     []x402.PaymentRequirementsV2{d.V2.Accepts[i]},
			Extensions:  d.V2.Extensions,
		}
	} else {
		r := d.V1.Accepts[i]
		c.v1 = &r
	}
	return c, nil
}
