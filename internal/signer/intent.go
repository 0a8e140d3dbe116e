package signer

import (
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// v1ValidAfterSkew is how far before now a v1 authorization becomes valid, as
// the v1 reference clients do (x402.md §3.1.2).
const v1ValidAfterSkew = 600 * time.Second

// maxWindowSeconds keeps now+window far inside uint64 whatever a server
// claims as maxTimeoutSeconds.
const maxWindowSeconds = 1 << 40

// Intent is an unsigned EIP-3009 authorization for a chosen requirement:
// the typed data and the EIP-712 digest custody is asked to sign.
type Intent struct {
	// Version and Index identify the protocol version and the requirement
	// in the demand's accepts.
	Version int
	Index   int
	// Domain comes from the registry; Authorization is built here.
	Domain        exact.Domain
	Authorization exact.Authorization
	// DomainSeparator and StructHash are the EIP-712 parts of Digest, the
	// value custody signs.
	DomainSeparator common.Hash
	StructHash      common.Hash
	Digest          common.Hash
	// ValidBefore is the authorization's expiry as a time, for the ledger.
	ValidBefore time.Time

	choice *Choice
}

// BuildAuthorization builds the authorization that pays the choice from the
// account from at time now: a fresh crypto/rand nonce, validAfter "0" (v2) or
// now-600 (v1), and validBefore = now + min(maxTimeoutSeconds, maxValidity).
// maxValidity is the policy's cap; 0 means no cap beyond maxTimeoutSeconds
// (whose only bound is then 2^40 seconds, to keep the arithmetic exact). A cap
// under one second, a non-positive maxTimeoutSeconds (ErrBadTimeout) and a
// zero from address are refused.
func BuildAuthorization(c *Choice, from common.Address, now time.Time, maxValidity time.Duration) (*Intent, error) {
	nonce, err := exact.NewNonce()
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return buildAuthorization(c, from, now, maxValidity, nonce)
}

// buildAuthorization takes the nonce as an argument only so the spec vector
// can be reproduced in tests; every production path draws it in
// BuildAuthorization.
func buildAuthorization(c *Choice, from common.Address, now time.Time, maxValidity time.Duration, nonce [32]byte) (*Intent, error) {
	if c == nil || (c.v1 == nil) == (c.v2 == nil) {
		return nil, errors.New("signer: build authorization: no choice")
	}
	if from == (common.Address{}) {
		return nil, errors.New("signer: build authorization: zero from address")
	}
	if c.MaxTimeoutSeconds <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrBadTimeout, c.MaxTimeoutSeconds)
	}
	if maxValidity < 0 {
		return nil, fmt.Errorf("signer: build authorization: negative maximum validity %v", maxValidity)
	}
	t := now.Unix()
	if t <= int64(v1ValidAfterSkew/time.Second) {
		return nil, fmt.Errorf("signer: build authorization: clock reads %v", now)
	}
	window := c.MaxTimeoutSeconds
	if maxValidity > 0 {
		// Truncated to whole seconds so the cap is never exceeded.
		window = min(window, int64(maxValidity/time.Second))
	}
	if window <= 0 {
		return nil, fmt.Errorf("signer: build authorization: maximum validity %v is under one second", maxValidity)
	}
	window = min(window, maxWindowSeconds)
	var validAfter uint64
	if c.Version == x402.V1 {
		validAfter = uint64(t) - uint64(v1ValidAfterSkew/time.Second)
	}
	validBefore := uint64(t) + uint64(window)
	return intentFor(c, from, nonce, validAfter, validBefore), nil
}

// RebuildAuthorization builds the intent for a choice from values chosen
// earlier and stored: the from address, the nonce and the validity window. It
// is how a payment held for approval is signed later with the authorization
// its reservation recorded (BuildAuthorization would draw a fresh nonce and
// validity). validBefore must be after validAfter and after the Unix epoch; the
// requirement must still have a positive maxTimeoutSeconds.
func RebuildAuthorization(c *Choice, from common.Address, nonce [32]byte, validAfter, validBefore time.Time) (*Intent, error) {
	if c == nil || (c.v1 == nil) == (c.v2 == nil) {
		return nil, errors.New("signer: rebuild authorization: no choice")
	}
	if from == (common.Address{}) {
		return nil, errors.New("signer: rebuild authorization: zero from address")
	}
	if c.MaxTimeoutSeconds <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrBadTimeout, c.MaxTimeoutSeconds)
	}
	va, vb := validAfter.Unix(), validBefore.Unix()
	if validAfter.IsZero() {
		va = 0
	}
	if va < 0 || vb <= va {
		return nil, fmt.Errorf("signer: rebuild authorization: validity %v to %v is empty or before 1970", validAfter, validBefore)
	}
	return intentFor(c, from, nonce, uint64(va), uint64(vb)), nil
}

// intentFor hashes the authorization of choice c with the given parameters.
func intentFor(c *Choice, from common.Address, nonce [32]byte, validAfter, validBefore uint64) *Intent {
	terms := exact.Terms{
		Network:           c.Network,
		Domain:            c.domain,
		PayTo:             c.PayTo,
		Amount:            c.Amount,
		MaxTimeoutSeconds: c.MaxTimeoutSeconds,
	}
	auth := terms.Authorize(from, nonce, validAfter, validBefore)
	h := exact.Hash(c.domain, auth)
	return &Intent{
		Version:         c.Version,
		Index:           c.Index,
		Domain:          c.domain,
		Authorization:   *auth,
		DomainSeparator: h.DomainSeparator,
		StructHash:      h.StructHash,
		Digest:          h.Digest,
		ValidBefore:     time.Unix(int64(validBefore), 0).UTC(),
		choice:          c,
	}
}

// Payload assembles the payment header from custody's 65-byte r‖s‖v
// signature over Digest (v = 27 or 28; a high-s signature is refused, as
// EIP-3009 tokens refuse it). For v2 it returns PAYMENT-SIGNATURE with the
// chosen requirement as "accepted" and the resource and extensions echoed
// verbatim; for v1 it returns X-PAYMENT.
func (in *Intent) Payload(sig [65]byte) (header, value string, err error) {
	if in == nil || in.choice == nil {
		return "", "", errors.New("signer: payload: intent was not built")
	}
	if v := sig[64]; v != 27 && v != 28 {
		return "", "", fmt.Errorf("signer: payload: signature v = %d, want 27 or 28", v)
	}
	if _, _, _, err := exact.SplitSignature(sig[:]); err != nil {
		return "", "", fmt.Errorf("signer: payload: %w", err)
	}
	auth := in.Authorization
	var payload any
	switch in.Version {
	case x402.V2:
		header = x402.HeaderPaymentSignature
		payload, err = exact.PayloadV2(in.choice.v2, 0, &auth, sig[:])
	case x402.V1:
		header = x402.HeaderXPayment
		payload, err = exact.PayloadV1(in.choice.v1, &auth, sig[:])
	default:
		return "", "", fmt.Errorf("signer: payload: version %d", in.Version)
	}
	if err != nil {
		return "", "", fmt.Errorf("signer: payload: %w", err)
	}
	value, err = x402.EncodeHeader(payload)
	if err != nil {
		return "", "", fmt.Errorf("signer: payload: %w", err)
	}
	return header, value, nil
}

// CheckSignature reports whether sig is a valid signature of Digest by the
// authorization's from address. Payload does not recover the key (it costs a
// public-key recovery per payment); a caller that does not trust its custody
// backend to have used the right key calls this first.
func (in *Intent) CheckSignature(sig [65]byte) error {
	got, err := exact.RecoverSigner(in.Digest, sig[:])
	if err != nil {
		return fmt.Errorf("signer: %w", err)
	}
	if got != in.Authorization.From {
		return fmt.Errorf("signer: %w: signed by %s, not %s", exact.ErrInvalidSignature, got.Hex(), in.Authorization.From.Hex())
	}
	return nil
}
