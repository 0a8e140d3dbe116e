package exact

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/x402"
)

// NewNonce returns a fresh EIP-3009 nonce from crypto/rand.
func NewNonce() ([32]byte, error) {
	var n [32]byte
	if _, err := rand.Read(n[:]); err != nil {
		return n, fmt.Errorf("exact: nonce: %w", err)
	}
	return n, nil
}

// ValidityWindow returns the validAfter and validBefore a client signs at
// time now. validBefore = now + maxTimeoutSeconds in both versions. validAfter
// is now-600 for v1 (x402 1.2.0 and the @x402/evm v1 scheme) and 0 for v2
// (@x402/evm 2.27). Facilitators accept both; 0 also keeps a payment valid on
// chains whose block clock runs behind the wall clock (devnets).
func ValidityWindow(version int, now time.Time, maxTimeoutSeconds int64) (validAfter, validBefore uint64) {
	t := uint64(now.Unix())
	if version == x402.V1 && t > 600 {
		validAfter = t - 600
	}
	return validAfter, t + uint64(maxTimeoutSeconds)
}

// PayloadV2 assembles a v2 payment payload for accepts[chosen] of pr: the
// requirement and resource echoed verbatim, extensions echoed as received.
func PayloadV2(pr *x402.PaymentRequiredV2, chosen int, a *Authorization, sig []byte) (*x402.PaymentPayloadV2, error) {
	if chosen < 0 || chosen >= len(pr.Accepts) {
		return nil, fmt.Errorf("exact: requirement %d out of range", chosen)
	}
	inner, err := json.Marshal(x402.ExactEVMPayload{Signature: hexutilBytes(sig), Authorization: a.Wire()})
	if err != nil {
		return nil, fmt.Errorf("exact: %w", err)
	}
	res := pr.Resource
	return &x402.PaymentPayloadV2{
		X402Version: x402.V2,
		Resource:    &res,
		Accepted:    pr.Accepts[chosen],
		Payload:     inner,
		Extensions:  pr.Extensions,
	}, nil
}

// PayloadV1 assembles a v1 payment payload for the requirement r.
func PayloadV1(r *x402.PaymentRequirementsV1, a *Authorization, sig []byte) (*x402.PaymentPayloadV1, error) {
	inner, err := json.Marshal(x402.ExactEVMPayload{Signature: hexutilBytes(sig), Authorization: a.Wire()})
	if err != nil {
		return nil, fmt.Errorf("exact: %w", err)
	}
	return &x402.PaymentPayloadV1{X402Version: x402.V1, Scheme: r.Scheme, Network: r.Network, Payload: inner}, nil
}

// ErrNoPayableRequirement means no entry of accepts is an exact-EVM
// requirement that the caller's filter admits.
var ErrNoPayableRequirement = errors.New("exact: no acceptable exact EVM requirement")

// Select returns the index and terms of the first entry of the demand's
// accepts that is a well-formed exact-EVM requirement admitted by accept
// (nil admits all), the reference client's default choice.
func Select(req *x402.PaymentRequest, accept func(*Terms) bool) (int, *Terms, error) {
	var all []*Terms
	switch {
	case req.Version == x402.V2 && req.V2 != nil:
		for i := range req.V2.Accepts {
			t, _ := TermsV2(&req.V2.Accepts[i])
			all = append(all, t)
		}
	case req.Version == x402.V1 && req.V1 != nil:
		for i := range req.V1.Accepts {
			t, _ := TermsV1(&req.V1.Accepts[i])
			all = append(all, t)
		}
	default:
		return 0, nil, fmt.Errorf("exact: unsupported demand version %d", req.Version)
	}
	for i, t := range all {
		if t != nil && (accept == nil || accept(t)) {
			return i, t, nil
		}
	}
	return 0, nil, ErrNoPayableRequirement
}
