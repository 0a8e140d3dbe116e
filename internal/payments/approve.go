package payments

import (
	"context"
	"errors"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// ApprovalView is an approval request with the payment it is about.
type ApprovalView struct {
	Approval      store.Approval
	Authorization store.Authorization
}

// Approvals lists approval requests, newest first: status filters when not empty,
// approverName keeps the ones that name that approver, limit bounds the list (0:
// no limit).
func (s *Service) Approvals(ctx context.Context, status store.ApprovalStatus, approverName string, limit int) ([]ApprovalView, error) {
	return nil, errors.New("payments: not implemented yet")
}

// Approval reads one approval request and its payment.
func (s *Service) Approval(ctx context.Context, id string) (ApprovalView, error) {
	return ApprovalView{}, errors.New("payments: not implemented yet")
}

// Vote records actor's decision on an approval request.
func (s *Service) Vote(ctx context.Context, actor OperatorIdentity, approvalID string, d store.VoteDecision) (ApprovalView, error) {
	return ApprovalView{}, errors.New("payments: not implemented yet")
}

// Payment returns the state of one of the agent's own payments.
func (s *Service) Payment(ctx context.Context, agentID, authorizationID string) (*PayResult, error) {
	return nil, errors.New("payments: not implemented yet")
}

// WaitPayment is Payment that waits up to max while the payment waits for approval.
func (s *Service) WaitPayment(ctx context.Context, agentID, authorizationID string, max time.Duration) (*PayResult, error) {
	return nil, errors.New("payments: not implemented yet")
}
