package payments

import (
	"errors"
	"fmt"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
)

// ErrDenied matches every *DeniedError.
var ErrDenied = errors.New("payments: payment denied")

// ErrBadRequest wraps every reason a payment request is malformed (the HTTP API
// answers 400); the demand parser's signer.ErrMalformedDemand is wrapped as well.
var ErrBadRequest = errors.New("payments: bad payment request")

// Reasons for a denial that policy did not decide. Policy denials carry the
// policy's own reason codes (policy.Reason), and a budget the ledger refuses is
// reported with policy.ReasonWindowAmountExceeded or ReasonWindowCountExceeded.
const (
	ReasonUnsupportedScheme  = "unsupported_scheme"
	ReasonUnsupportedNetwork = "unsupported_network"
	ReasonUnknownAsset       = "unknown_asset"
	ReasonChainMismatch      = "chain_mismatch"
	ReasonDomainMismatch     = "domain_mismatch"
	ReasonBadAmount          = "bad_amount"
	ReasonBadPayTo           = "bad_pay_to"
	ReasonBadTimeout         = "bad_timeout"
	ReasonNoSuchRequirement  = "no_such_requirement"
	ReasonNotPayable         = "not_payable"
)

// DeniedError is a refused payment, as data: the reason code, the rule that
// decided and the hash of the policy it belongs to. Decision is the policy's full
// decision when policy decided (its Outcome is empty otherwise); Budget is set
// when the ledger refused the reservation under concurrency although the policy's
// advisory snapshot admitted it.
type DeniedError struct {
	Reason     string
	Rule       string
	PolicyHash string
	Decision   policy.Decision
	Budget     *store.BudgetError
}

func (e *DeniedError) Error() string {
	if e.Rule != "" {
		return fmt.Sprintf("payments: payment denied: %s (%s)", e.Reason, e.Rule)
	}
	return "payments: payment denied: " + e.Reason
}

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

func deniedByPolicy(d policy.Decision) *DeniedError {
	return &DeniedError{Reason: string(d.Reason), Rule: d.Rule, PolicyHash: d.PolicyHash, Decision: d}
}

// requirementReason names why the signer refused a requirement.
func requirementReason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{signer.ErrUnsupportedScheme, ReasonUnsupportedScheme},
		{signer.ErrUnsupportedNetwork, ReasonUnsupportedNetwork},
		{signer.ErrUnknownAsset, ReasonUnknownAsset},
		{signer.ErrChainMismatch, ReasonChainMismatch},
		{signer.ErrDomainMismatch, ReasonDomainMismatch},
		{signer.ErrBadAmount, ReasonBadAmount},
		{signer.ErrBadPayTo, ReasonBadPayTo},
		{signer.ErrBadTimeout, ReasonBadTimeout},
		{signer.ErrNoSuchRequirement, ReasonNoSuchRequirement},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ReasonNotPayable
}

// policyRefusal carries a policy decision through signer.Choose's Accept.
type policyRefusal struct{ d policy.Decision }

func (p *policyRefusal) Error() string { return "payments: policy: " + string(p.d.Reason) }
