package payments

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
)

// Detector screens every fresh payment decision before the budget is reserved
// and hears the outcome of every payment request. package anomaly implements it;
// a Service without one (Config.Detector nil) screens nothing.
type Detector interface {
	// Screen is called with a payment that policy allowed or sent to approval,
	// before anything is reserved or signed. An error fails the payment (fail
	// closed).
	Screen(ctx context.Context, c Candidate) (Verdict, error)
	// Observe is called once per Pay call that named an agent, after its outcome
	// was recorded in the audit log.
	Observe(ctx context.Context, o Observation)
}

// Candidate is a payment about to be reserved.
type Candidate struct {
	AgentID, FleetID, GroupID string
	// PayTo and Asset are lower-case hex addresses, Network a CAIP-2 id, Origin the
	// resource URL's host (lower case).
	PayTo, Asset, Network string
	Origin, ResourceURL   string
	AmountMicro           int64
	At                    time.Time
	// NeedsApproval is true when policy already sends the payment to approval.
	NeedsApproval bool
}

// VerdictAction is what a Detector decides for a Candidate.
type VerdictAction int

// Verdict actions. The zero value allows the payment.
const (
	VerdictAllow VerdictAction = iota
	// VerdictRequireApproval holds the payment for the approvers the verdict names.
	VerdictRequireApproval
	// VerdictDeny refuses it (a *DeniedError with the verdict's reason).
	VerdictDeny
)

// Verdict is a Detector's decision. Reason is a reason code for a denial (it
// starts with "anomaly_"); Rule names the signal, recorded as the approval
// request's rule or the denial's rule. Approval is the requirement a held payment
// must meet (its Quorum and Approvers must be set).
type Verdict struct {
	Action   VerdictAction
	Reason   string
	Rule     string
	Approval policy.Approval
}

// Outcome is how a payment request ended, as Observe hears it.
type Outcome string

// Outcomes of a Pay call.
const (
	OutcomeSigned   Outcome = "signed"
	OutcomeHeld     Outcome = "held" // waiting for approval
	OutcomeDenied   Outcome = "denied"
	OutcomeReplayed Outcome = "replayed"
	// OutcomeMismatch is an idempotency key reused for another payment.
	OutcomeMismatch Outcome = "mismatch"
	OutcomeFailed   Outcome = "failed"
)

// Observation is the outcome of one Pay call. PayTo and AmountMicro are set when
// the request got as far as naming a payment; Reason is a denial's reason code.
type Observation struct {
	AgentID     string
	Outcome     Outcome
	PayTo       string
	Origin      string
	ResourceURL string
	AmountMicro int64
	Reason      string
	At          time.Time
}

// screen asks the detector about the chosen payment. It returns the decision to
// go on with (sent to approval when the detector asks for it) or a denial.
func (s *Service) screen(ctx context.Context, rec store.Authorization, agent store.Agent, d policy.Decision, now time.Time) (policy.Decision, *DeniedError, error) {
	if s.detector == nil {
		return d, nil, nil
	}
	v, err := s.detector.Screen(ctx, Candidate{
		AgentID: agent.ID, FleetID: agent.FleetID, GroupID: agent.GroupID,
		PayTo: strings.ToLower(rec.PayTo), Asset: strings.ToLower(rec.Asset), Network: rec.Network,
		Origin: rec.Origin, ResourceURL: rec.ResourceURL, AmountMicro: rec.AmountMicro, At: now,
		NeedsApproval: d.Outcome == policy.NeedsApproval,
	})
	if err != nil {
		return d, nil, fmt.Errorf("payments: anomaly detector: %w", err)
	}
	switch v.Action {
	case VerdictAllow:
		return d, nil, nil
	case VerdictRequireApproval:
		a := v.Approval
		if a.Quorum < 1 || a.Quorum > len(a.Approvers) || a.ExpiresAfter <= 0 {
			// Nobody could approve it: refused rather than signed.
			return d, &DeniedError{Reason: v.Reason, Rule: v.Rule}, nil
		}
		if a.Rule == "" {
			a.Rule = v.Rule
		}
		d.Outcome = policy.NeedsApproval
		d.Approvals = append(append([]policy.Approval(nil), d.Approvals...), a)
		return d, nil, nil
	default:
		return d, &DeniedError{Reason: v.Reason, Rule: v.Rule}, nil
	}
}

// observe tells the detector how a Pay call ended.
func (s *Service) observe(ctx context.Context, agentID string, r PayRequest, res *PayResult, rec *outcome, err error) {
	if s.detector == nil || agentID == "" {
		return
	}
	o := Observation{AgentID: agentID, ResourceURL: r.ResourceURL, At: s.clock()}
	if u, perr := url.Parse(r.ResourceURL); perr == nil {
		o.Origin = strings.ToLower(u.Host)
	}
	var de *DeniedError
	switch {
	case err == nil && res != nil && res.Replayed:
		o.Outcome = OutcomeReplayed
	case err == nil && res != nil:
		o.Outcome, o.PayTo, o.AmountMicro = OutcomeSigned, strings.ToLower(res.PayTo), res.AmountMicro
		if res.NeedsApproval {
			o.Outcome = OutcomeHeld
		}
	case errors.As(err, &de):
		o.Outcome, o.Reason = OutcomeDenied, de.Reason
		if rec != nil {
			if p, ok := rec.data["pay_to"].(string); ok {
				o.PayTo = strings.ToLower(p)
			}
			if a, ok := rec.data["amount_micro"].(int64); ok {
				o.AmountMicro = a
			}
		}
	case errors.Is(err, store.ErrIdempotencyMismatch):
		o.Outcome = OutcomeMismatch
	default:
		o.Outcome = OutcomeFailed
	}
	s.detector.Observe(ctx, o)
}
