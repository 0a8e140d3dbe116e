package signer

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fleetkey/fleetkey/x402"
)

// MaxDemandSize bounds the demand an agent may submit, in bytes: the
// PAYMENT-REQUIRED header value for v2, the response body for v1. It is the
// limit the x402 header decoder applies.
const MaxDemandSize = x402.MaxHeaderSize

// MaxRequirements bounds the number of entries in accepts, so that a hostile
// server cannot make one payment request cost unbounded choice work.
const MaxRequirements = 64

// ErrMalformedDemand wraps every reason a demand cannot be parsed.
var ErrMalformedDemand = errors.New("signer: malformed payment demand")

// Demand is a 402 payment demand as the agent received it. Exactly one of V1
// and V2 is set, according to Version.
type Demand struct {
	Version int
	V2      *x402.PaymentRequiredV2
	V1      *x402.PaymentRequiredV1
}

// Len returns the number of requirements in accepts.
func (d *Demand) Len() int {
	switch {
	case d == nil:
		return 0
	case d.V2 != nil:
		return len(d.V2.Accepts)
	case d.V1 != nil:
		return len(d.V1.Accepts)
	}
	return 0
}

// ParseDemand parses the demand as received: for version 2 the
// PAYMENT-REQUIRED header value (base64 of JSON, standard alphabet), for
// version 1 the JSON response body. Every failure wraps ErrMalformedDemand.
func ParseDemand(version int, raw []byte) (*Demand, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformedDemand)
	}
	if len(raw) > MaxDemandSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrMalformedDemand, len(raw), MaxDemandSize)
	}
	d := &Demand{Version: version}
	switch version {
	case x402.V2:
		pr, err := x402.DecodePaymentRequired(string(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedDemand, err)
		}
		if pr.Resource.URL == "" {
			return nil, fmt.Errorf("%w: resource.url is missing", ErrMalformedDemand)
		}
		d.V2 = pr
	case x402.V1:
		var pr x402.PaymentRequiredV1
		if err := json.Unmarshal(raw, &pr); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedDemand, err)
		}
		if err := pr.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedDemand, err)
		}
		d.V1 = &pr
	default:
		return nil, fmt.Errorf("%w: unsupported x402 version %d", ErrMalformedDemand, version)
	}
	if n := d.Len(); n > MaxRequirements {
		return nil, fmt.Errorf("%w: %d requirements exceed the limit of %d", ErrMalformedDemand, n, MaxRequirements)
	}
	return d, nil
}
