// Package exact implements the x402 "exact" payment scheme on EVM chains with
// EIP-3009 TransferWithAuthorization signed as EIP-712 typed data, as the
// reference @x402/evm 2.27 and x402 1.2.0 packages do: building the typed data
// from a payment requirement, hashing it, assembling v1/v2 payment payloads,
// and verifying signatures (ECDSA for accounts without code, EIP-1271 for
// contract wallets).
//
// The signing key is not this package's business: fleetkey signs inside its
// custody boundary. LocalKeyPayer, which holds a key in memory, exists only
// for tests and examples.
package exact

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/fleetkey/fleetkey/x402"
)

// Type strings of EIP-712 (domain with exactly these four fields, no salt)
// and EIP-3009.
const (
	DomainType                    = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
	TransferWithAuthorizationType = "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
	primaryType                   = "TransferWithAuthorization"
)

var (
	domainTypeHash = crypto.Keccak256Hash([]byte(DomainType))
	// TransferWithAuthorizationTypeHash is
	// 0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267.
	TransferWithAuthorizationTypeHash = crypto.Keccak256Hash([]byte(TransferWithAuthorizationType))
)

// ErrMissingDomain means the requirement's extra lacks the token's EIP-712
// name or version; the reference refuses to sign, and its facilitator answers
// invalid_exact_evm_missing_eip712_domain.
var ErrMissingDomain = errors.New("exact: requirement extra lacks the EIP-712 name or version")

// Domain is the EIP-712 domain of an EIP-3009 token.
type Domain struct {
	Name              string
	Version           string
	ChainID           uint64
	VerifyingContract common.Address
}

// Separator returns the EIP-712 domain separator.
func (d Domain) Separator() common.Hash {
	var chainID [32]byte
	new(big.Int).SetUint64(d.ChainID).FillBytes(chainID[:])
	return crypto.Keccak256Hash(
		domainTypeHash[:],
		crypto.Keccak256([]byte(d.Name)),
		crypto.Keccak256([]byte(d.Version)),
		chainID[:],
		common.LeftPadBytes(d.VerifyingContract[:], 32),
	)
}

// Authorization is a typed EIP-3009 TransferWithAuthorization message.
type Authorization struct {
	From        common.Address
	To          common.Address
	Value       *big.Int
	ValidAfter  *big.Int
	ValidBefore *big.Int
	Nonce       [32]byte
}

// StructHash returns the EIP-712 hashStruct of the message.
func (a *Authorization) StructHash() common.Hash {
	return crypto.Keccak256Hash(
		TransferWithAuthorizationTypeHash[:],
		common.LeftPadBytes(a.From[:], 32),
		common.LeftPadBytes(a.To[:], 32),
		word(a.Value),
		word(a.ValidAfter),
		word(a.ValidBefore),
		a.Nonce[:],
	)
}

func word(v *big.Int) []byte {
	var w [32]byte
	if v != nil {
		v.FillBytes(w[:])
	}
	return w[:]
}

// Hashes are the three values a signer and a verifier derive.
type Hashes struct {
	DomainSeparator common.Hash
	StructHash      common.Hash
	// Digest is keccak256(0x19 0x01 ‖ DomainSeparator ‖ StructHash), the
	// value that is signed.
	Digest common.Hash
}

// Hash computes the EIP-712 hashes of the authorization under the domain.
func Hash(d Domain, a *Authorization) Hashes {
	h := Hashes{DomainSeparator: d.Separator(), StructHash: a.StructHash()}
	h.Digest = crypto.Keccak256Hash([]byte{0x19, 0x01}, h.DomainSeparator[:], h.StructHash[:])
	return h
}

// TypedData returns the message as go-ethereum typed data, the form wallets
// and eth_signTypedData_v4 take.
func TypedData(d Domain, a *Authorization) apitypes.TypedData {
	return apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {
				{Name: "name", Type: "string"},
				{Name: "version", Type: "string"},
				{Name: "chainId", Type: "uint256"},
				{Name: "verifyingContract", Type: "address"},
			},
			primaryType: {
				{Name: "from", Type: "address"},
				{Name: "to", Type: "address"},
				{Name: "value", Type: "uint256"},
				{Name: "validAfter", Type: "uint256"},
				{Name: "validBefore", Type: "uint256"},
				{Name: "nonce", Type: "bytes32"},
			},
		},
		PrimaryType: primaryType,
		Domain: apitypes.TypedDataDomain{
			Name:              d.Name,
			Version:           d.Version,
			ChainId:           (*math.HexOrDecimal256)(new(big.Int).SetUint64(d.ChainID)),
			VerifyingContract: d.VerifyingContract.Hex(),
		},
		Message: apitypes.TypedDataMessage{
			"from":        a.From.Hex(),
			"to":          a.To.Hex(),
			"value":       new(big.Int).Set(a.Value),
			"validAfter":  new(big.Int).Set(a.ValidAfter),
			"validBefore": new(big.Int).Set(a.ValidBefore),
			"nonce":       hexutilBytes(a.Nonce[:]),
		},
	}
}

func hexutilBytes(b []byte) string { return "0x" + hex.EncodeToString(b) }

// Wire returns the authorization as it travels in a payload: checksummed
// addresses, decimal integers, 0x-hex nonce.
func (a *Authorization) Wire() x402.Authorization {
	return x402.Authorization{
		From:        a.From.Hex(),
		To:          a.To.Hex(),
		Value:       a.Value.String(),
		ValidAfter:  a.ValidAfter.String(),
		ValidBefore: a.ValidBefore.String(),
		Nonce:       hexutilBytes(a.Nonce[:]),
	}
}

// ParseAuthorization parses a wire authorization strictly: addresses are 0x
// and 40 hex digits (a mixed-case address must carry a valid EIP-55
// checksum), integers are canonical decimals below 2^256, the nonce is 0x and
// 64 hex digits.
func ParseAuthorization(w x402.Authorization) (*Authorization, error) {
	var a Authorization
	var err error
	if a.From, err = ParseAddress(w.From); err != nil {
		return nil, fmt.Errorf("exact: authorization from: %w", err)
	}
	if a.To, err = ParseAddress(w.To); err != nil {
		return nil, fmt.Errorf("exact: authorization to: %w", err)
	}
	if a.Value, err = ParseUint256(w.Value); err != nil {
		return nil, fmt.Errorf("exact: authorization value: %w", err)
	}
	if a.ValidAfter, err = ParseUint256(w.ValidAfter); err != nil {
		return nil, fmt.Errorf("exact: authorization validAfter: %w", err)
	}
	if a.ValidBefore, err = ParseUint256(w.ValidBefore); err != nil {
		return nil, fmt.Errorf("exact: authorization validBefore: %w", err)
	}
	n, err := parseHex(w.Nonce, 32)
	if err != nil {
		return nil, fmt.Errorf("exact: authorization nonce: %w", err)
	}
	copy(a.Nonce[:], n)
	return &a, nil
}

// ParseAddress parses a 0x-prefixed hex address; all-lower and all-upper hex
// are accepted, mixed case must be a valid EIP-55 checksum (as viem's
// getAddress requires).
func ParseAddress(s string) (common.Address, error) {
	b, err := parseHex(s, common.AddressLength)
	if err != nil {
		return common.Address{}, err
	}
	addr := common.BytesToAddress(b)
	digits := s[2:]
	if digits != strings.ToLower(digits) && digits != strings.ToUpper(digits) && addr.Hex() != s {
		return common.Address{}, fmt.Errorf("address %q has a bad EIP-55 checksum", s)
	}
	return addr, nil
}

var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// ParseUint256 parses a canonical decimal string (no sign, no leading zeros,
// no hex) below 2^256.
func ParseUint256(s string) (*big.Int, error) {
	if s == "" || len(s) > 78 || (len(s) > 1 && s[0] == '0') {
		return nil, fmt.Errorf("%q is not a canonical decimal", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, fmt.Errorf("%q is not a canonical decimal", s)
		}
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Cmp(maxUint256) > 0 {
		return nil, fmt.Errorf("%q is out of the uint256 range", s)
	}
	return v, nil
}

func parseHex(s string, n int) ([]byte, error) {
	if len(s) != 2+2*n || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return nil, fmt.Errorf("%q is not 0x and %d hex digits", s, 2*n)
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return nil, fmt.Errorf("%q is not hex", s)
	}
	return b, nil
}

// Terms are the fields of a payment requirement that the exact scheme signs
// over, the same for v1 and v2.
type Terms struct {
	// Network is the requirement's network string as received.
	Network           string
	Domain            Domain
	PayTo             common.Address
	Amount            *big.Int
	MaxTimeoutSeconds int64
}

// TermsV2 extracts the terms of a v2 requirement. It fails for another
// scheme, a non-EVM network, malformed addresses or amount, and with
// ErrMissingDomain when extra lacks name or version.
func TermsV2(r *x402.PaymentRequirementsV2) (*Terms, error) {
	name, nok := r.ExtraString("name")
	version, vok := r.ExtraString("version")
	return terms(r.Scheme, r.Network, r.Asset, r.PayTo, r.Amount, r.MaxTimeoutSeconds, name, version, nok && vok)
}

// TermsV1 extracts the terms of a v1 requirement (amount = maxAmountRequired).
func TermsV1(r *x402.PaymentRequirementsV1) (*Terms, error) {
	name, nok := r.ExtraString("name")
	version, vok := r.ExtraString("version")
	return terms(r.Scheme, r.Network, r.Asset, r.PayTo, r.MaxAmountRequired, r.MaxTimeoutSeconds, name, version, nok && vok)
}

func terms(scheme, network, asset, payTo, amount string, maxTimeout int64, name, version string, haveDomain bool) (*Terms, error) {
	if scheme != x402.SchemeExact {
		return nil, fmt.Errorf("exact: scheme %q is not exact", scheme)
	}
	chainID, err := x402.EVMChainID(network)
	if err != nil {
		return nil, fmt.Errorf("exact: %w", err)
	}
	assetAddr, err := ParseAddress(asset)
	if err != nil {
		return nil, fmt.Errorf("exact: asset: %w", err)
	}
	payToAddr, err := ParseAddress(payTo)
	if err != nil {
		return nil, fmt.Errorf("exact: payTo: %w", err)
	}
	amt, err := ParseUint256(amount)
	if err != nil {
		return nil, fmt.Errorf("exact: amount: %w", err)
	}
	if maxTimeout <= 0 {
		return nil, fmt.Errorf("exact: maxTimeoutSeconds %d is not positive", maxTimeout)
	}
	if !haveDomain {
		return nil, ErrMissingDomain
	}
	return &Terms{
		Network:           network,
		Domain:            Domain{Name: name, Version: version, ChainID: chainID, VerifyingContract: assetAddr},
		PayTo:             payToAddr,
		Amount:            amt,
		MaxTimeoutSeconds: maxTimeout,
	}, nil
}

// Authorize builds the message a reference client signs for these terms:
// to = payTo (checksummed on the wire), value = the amount as given.
func (t *Terms) Authorize(from common.Address, nonce [32]byte, validAfter, validBefore uint64) *Authorization {
	return &Authorization{
		From:        from,
		To:          t.PayTo,
		Value:       new(big.Int).Set(t.Amount),
		ValidAfter:  new(big.Int).SetUint64(validAfter),
		ValidBefore: new(big.Int).SetUint64(validBefore),
		Nonce:       nonce,
	}
}
