package metrics

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"time"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// Service decorates a *payments.Service with the payment counters. It embeds the service, so it
// offers every method the service has and satisfies every interface the service does; the
// methods that pay are overridden to count what they did.
type Service struct {
	*payments.Service
	m *Metrics
	// groups maps agent id → group id, learned at Authenticate (an agent never changes
	// group), so counting a payment costs no store read. One entry per agent that paid.
	groups sync.Map
}

// Instrument returns svc counted into m.
func (m *Metrics) Instrument(svc *payments.Service) *Service {
	return &Service{Service: svc, m: m}
}

// Authenticate is payments.Service.Authenticate; it remembers the agent's group for the labels.
func (s *Service) Authenticate(ctx context.Context, token string) (payments.AgentIdentity, error) {
	id, err := s.Service.Authenticate(ctx, token)
	if err == nil {
		s.groups.Store(id.AgentID, id.GroupID)
	}
	return id, err
}

// Pay is payments.Service.Pay, counted by outcome.
func (s *Service) Pay(ctx context.Context, agentID string, r payments.PayRequest) (*payments.PayResult, error) {
	start := time.Now()
	res, err := s.Service.Pay(ctx, agentID, r)
	elapsed := time.Since(start)
	group := s.group(ctx, agentID)
	var de *payments.DeniedError
	switch {
	case err == nil && res.NeedsApproval:
		s.m.payments.WithLabelValues(OutcomeApproval, replayReason(res.Replayed), group, s.m.assetLabel(res.Network, res.Asset)).Inc()
	case err == nil:
		s.m.signed(group, res, replayReason(res.Replayed))
		if !res.Replayed {
			s.m.signing.Observe(elapsed.Seconds())
		}
	case errors.As(err, &de):
		s.m.payments.WithLabelValues(OutcomeDenied, reasonLabel(de.Reason), group, "").Inc()
	default:
		s.m.payments.WithLabelValues(OutcomeFailed, failureReason(err), group, "").Inc()
	}
	return res, err
}

// RecordRefused is payments.Service.RecordRefused (a payment request the HTTP API refused
// before Pay), counted as a failed payment request with reason bad_request, as Pay counts a
// malformed request it refuses itself.
func (s *Service) RecordRefused(ctx context.Context, agentID, idempotencyKey, reason string) error {
	err := s.Service.RecordRefused(ctx, agentID, idempotencyKey, reason)
	if err == nil {
		s.m.payments.WithLabelValues(OutcomeFailed, "bad_request", s.group(ctx, agentID), "").Inc()
	}
	return err
}

// Vote is payments.Service.Vote; a vote that completes the approvals signs the payment in the
// same call, and that payment is counted as signed with reason "approved". The payment's state
// is read before the vote, so a payment signed earlier is never counted again.
func (s *Service) Vote(ctx context.Context, actor payments.OperatorIdentity, approvalID string, d store.VoteDecision) (payments.ApprovalView, error) {
	start := time.Now()
	before, err := s.Service.Approval(ctx, approvalID)
	wasSigned := err == nil && before.Authorization.Status != store.AuthReserved
	v, err := s.Service.Vote(ctx, actor, approvalID, d)
	a := v.Authorization
	if err == nil && !wasSigned && a.Status == store.AuthSigned && !a.SignedAt.Before(start.Truncate(time.Second)) {
		s.m.signed(a.GroupID, &payments.PayResult{Network: a.Network, Asset: a.Asset, AmountMicro: a.AmountMicro}, "approved")
		s.m.signing.Observe(time.Since(start).Seconds())
	}
	return v, err
}

// signed counts one signed payment, and its amount unless it is a replay.
func (m *Metrics) signed(group string, res *payments.PayResult, reason string) {
	asset := m.assetLabel(res.Network, res.Asset)
	m.payments.WithLabelValues(OutcomeSigned, reason, group, asset).Inc()
	if !res.Replayed {
		m.amount.WithLabelValues(group, asset).Add(float64(res.AmountMicro))
	}
}

func replayReason(replayed bool) string {
	if replayed {
		return "replayed"
	}
	return ""
}

// group returns the agent's group id: from Authenticate, else read once from the store.
func (s *Service) group(ctx context.Context, agentID string) string {
	if g, ok := s.groups.Load(agentID); ok {
		return g.(string)
	}
	var g string
	err := s.m.store.ReadTx(ctx, func(rt store.ReadTx) error {
		a, err := rt.Agent(ctx, agentID)
		g = a.GroupID
		return err
	})
	if err != nil {
		// An agent that does not exist must not create a series of its own.
		return ""
	}
	s.groups.Store(agentID, g)
	return g
}

// reasonCode is the shape of every reason code policy and payments define; anything else (which
// no code path produces) is counted as "other" so the label stays a fixed set.
var reasonCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

func reasonLabel(r string) string {
	if reasonCode.MatchString(r) {
		return r
	}
	return "other"
}

// failureReason classifies a payment that was neither signed nor denied.
func failureReason(err error) string {
	var se *store.StateError
	switch {
	case errors.Is(err, payments.ErrBadRequest):
		return "bad_request"
	case errors.Is(err, store.ErrIdempotencyMismatch):
		return "idempotency_mismatch"
	case errors.Is(err, payments.ErrUnauthenticated), errors.Is(err, store.ErrNotFound):
		return "unauthenticated"
	case errors.As(err, &se):
		return "state"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	default:
		return "internal"
	}
}
