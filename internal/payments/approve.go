package payments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
)

// MaxWait bounds WaitPayment's wait.
const MaxWait = 5 * time.Minute

// pollInterval is how often WaitPayment reads the payment again.
const pollInterval = 100 * time.Millisecond

// Reasons recorded with payment.cancelled.
const (
	ReasonApprovalDenied  = "approval_denied"
	ReasonApprovalExpired = "approval_expired"
)

// ApprovalView is an approval request with the payment it is about.
type ApprovalView struct {
	Approval      store.Approval
	Authorization store.Authorization
}

// Approvals lists approval requests, newest first: status filters when not empty,
// approverName keeps the ones that name that approver, limit bounds the list (0:
// no limit). Pending requests past their expiry are expired (and their
// reservations released) first, so a pending request listed can still be voted on.
func (s *Service) Approvals(ctx context.Context, status store.ApprovalStatus, approverName string, limit int) ([]ApprovalView, error) {
	switch status {
	case "", store.ApprovalPending, store.ApprovalApproved, store.ApprovalDenied, store.ApprovalExpired:
	default:
		return nil, fmt.Errorf("%w: approval status %q", ErrBadRequest, status)
	}
	if limit < 0 {
		return nil, fmt.Errorf("%w: negative limit", ErrBadRequest)
	}
	f := store.ApprovalFilter{Status: status, Approver: approverName, Limit: limit}
	for attempt := 0; ; attempt++ {
		var (
			out []ApprovalView
			due bool
		)
		now := s.clock()
		err := s.store.ReadTx(ctx, func(rt store.ReadTx) error {
			out, due = nil, false
			aps, err := rt.Approvals(ctx, f)
			if err != nil {
				return err
			}
			for _, ap := range aps {
				if ap.Status == store.ApprovalPending && !now.Before(ap.ExpiresAt) {
					due = true
				}
				a, err := rt.Authorization(ctx, ap.AuthorizationID)
				if err != nil {
					return err
				}
				out = append(out, ApprovalView{Approval: ap, Authorization: a})
			}
			return nil
		})
		if err != nil || !due || attempt > 0 {
			return out, err
		}
		if _, err := s.ExpireApprovals(ctx); err != nil {
			return nil, err
		}
	}
}

// Approval reads one approval request and its payment. A pending request past its
// expiry is expired first.
func (s *Service) Approval(ctx context.Context, id string) (ApprovalView, error) {
	v, err := s.readApproval(ctx, id)
	if err != nil {
		return v, err
	}
	if v.Approval.Status == store.ApprovalPending && !s.clock().Before(v.Approval.ExpiresAt) {
		if _, err := s.ExpireApprovals(ctx); err != nil {
			return ApprovalView{}, err
		}
		return s.readApproval(ctx, id)
	}
	return v, nil
}

func (s *Service) readApproval(ctx context.Context, id string) (ApprovalView, error) {
	var v ApprovalView
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		var err error
		if v.Approval, err = rt.Approval(ctx, id); err != nil {
			return err
		}
		v.Authorization, err = rt.Authorization(ctx, v.Approval.AuthorizationID)
		return err
	})
	return v, err
}

// errResign makes Vote sign again: the transaction found the payment fully
// approved, but no signature was made for it (another approval of the same
// payment was decided concurrently).
var errResign = errors.New("payments: payment became fully approved; signing")

// Vote records actor's decision on an approval request. actor must have role
// approver or admin and its Name must be among the request's approvers, else
// ErrForbidden and nothing is written. The vote is recorded (approval.voted);
// when it completes the last approval of the payment, the payment is signed in
// the same call and transaction (payment.signed, by the approver): the stored
// demand is parsed again, its stored requirement checked against the trusted
// registry again, and the authorization rebuilt with the reserved nonce and
// validity. When it denies the request, the reservation is cancelled
// (payment.cancelled) and its budget released. A vote on an expired request is a
// *store.StateError, and the expiry is recorded and the budget released then if
// that had not happened yet.
//
// If the payment cannot be signed (the requirement is no longer admitted, the
// agent was frozen, custody failed), the error is returned and nothing is
// written: the request stays pending until it is decided otherwise or expires.
func (s *Service) Vote(ctx context.Context, actor OperatorIdentity, approvalID string, d store.VoteDecision) (ApprovalView, error) {
	if d != store.VoteApprove && d != store.VoteDeny {
		return ApprovalView{}, fmt.Errorf("%w: vote %q is not approve or deny", ErrBadRequest, d)
	}
	if actor.Role != store.RoleApprover && actor.Role != store.RoleAdmin {
		return ApprovalView{}, fmt.Errorf("%w: role %s cannot vote", ErrForbidden, actor.Role)
	}
	forceSign := false
	for attempt := 0; ; attempt++ {
		v, err := s.readApproval(ctx, approvalID)
		if err != nil {
			return ApprovalView{}, err
		}
		if !slices.Contains(v.Approval.Approvers, actor.Name) {
			return ApprovalView{}, fmt.Errorf("%w: %q is not an approver of %s", ErrForbidden, actor.Name, approvalID)
		}
		now := s.clock()
		if v.Approval.Status == store.ApprovalPending && !now.Before(v.Approval.ExpiresAt) {
			if _, err := s.ExpireApprovals(ctx); err != nil {
				return ApprovalView{}, err
			}
			return ApprovalView{}, &store.StateError{Entity: "approval", ID: approvalID, Status: string(store.ApprovalExpired), Op: "vote"}
		}
		if v.Approval.Status != store.ApprovalPending {
			return ApprovalView{}, &store.StateError{Entity: "approval", ID: approvalID, Status: string(v.Approval.Status), Op: "vote"}
		}
		if v.Authorization.Status != store.AuthReserved {
			return ApprovalView{}, &store.StateError{Entity: "authorization", ID: v.Authorization.ID, Status: string(v.Authorization.Status), Op: "vote"}
		}
		var hdr *store.PaymentHeader
		if d == store.VoteApprove && (forceSign || s.completes(ctx, v, actor.Name)) {
			h, err := s.signHeld(ctx, v.Authorization, now)
			if err != nil {
				return ApprovalView{}, err
			}
			hdr = &h
		}
		out, err := s.castVote(ctx, actor, v, d, hdr, now)
		if errors.Is(err, errResign) && attempt < 2 {
			forceSign = true
			continue
		}
		return out, err
	}
}

// completes reports whether an approving vote by who on v makes every approval of
// the payment approved, as of a fresh read.
func (s *Service) completes(ctx context.Context, v ApprovalView, who string) bool {
	yes := 0
	for _, vt := range v.Approval.Votes {
		if vt.Decision == store.VoteApprove {
			yes++
		}
	}
	if yes+1 < v.Approval.Quorum {
		return false
	}
	var aps []store.Approval
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) (err error) {
		aps, err = rt.ApprovalsForAuthorization(ctx, v.Authorization.ID)
		return err
	})
	if err != nil {
		// The transaction decides anyway: it asks for a signature if one is needed.
		return false
	}
	for _, ap := range aps {
		if ap.ID != v.Approval.ID && ap.Status != store.ApprovalApproved {
			return false
		}
	}
	return true
}

// castVote records the vote and its consequences in one transaction: the vote and
// approval.voted; then, if every approval of the payment is approved, the signed
// header hdr and payment.signed (errResign if hdr is nil); if this approval is
// denied, the cancelled reservation and payment.cancelled.
func (s *Service) castVote(ctx context.Context, actor OperatorIdentity, v ApprovalView, d store.VoteDecision, hdr *store.PaymentHeader, now time.Time) (ApprovalView, error) {
	var out ApprovalView
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		ap, err := tx.VoteApproval(ctx, store.VoteRequest{ApprovalID: v.Approval.ID, Approver: actor.Name, Decision: d, At: now})
		if err != nil {
			if errors.Is(err, store.ErrNotApprover) {
				return fmt.Errorf("%w: %w", ErrForbidden, err)
			}
			return err
		}
		a, err := tx.Authorization(ctx, ap.AuthorizationID)
		if err != nil {
			return err
		}
		if a.Status != store.AuthReserved {
			return &store.StateError{Entity: "authorization", ID: a.ID, Status: string(a.Status), Op: "vote"}
		}
		if _, err := s.log.Append(ctx, tx, audit.Entry{Actor: actor.actor(), Action: audit.ActionApprovalVoted, Subject: ap.ID,
			Data: map[string]any{"authorization_id": a.ID, "approver": actor.Name, "decision": string(d), "status": string(ap.Status)}}); err != nil {
			return err
		}
		switch ap.Status {
		case store.ApprovalApproved:
			aps, err := tx.ApprovalsForAuthorization(ctx, a.ID)
			if err != nil {
				return err
			}
			for _, other := range aps {
				if other.Status != store.ApprovalApproved {
					out = ApprovalView{Approval: ap, Authorization: a}
					return nil
				}
			}
			if hdr == nil {
				return errResign
			}
			if a, err = tx.MarkSigned(ctx, a.ID, *hdr, now); err != nil {
				return err
			}
			// The ledger keeps the most specific policy hash (policy_hash); every
			// level's is in the approval.created record of this payment.
			data := authData(a, policy.Hashes{})
			data["approval_ids"] = approvalIDs(aps)
			if _, err := s.log.Append(ctx, tx, audit.Entry{Actor: actor.actor(), Action: audit.ActionPaymentSigned, Subject: a.ID, Data: data}); err != nil {
				return err
			}
		case store.ApprovalDenied:
			if a, err = s.cancel(ctx, tx, actor.actor(), a, ReasonApprovalDenied, []string{ap.ID}, now); err != nil {
				return err
			}
		}
		out = ApprovalView{Approval: ap, Authorization: a}
		return nil
	})
	return out, err
}

func approvalIDs(aps []store.Approval) []string {
	ids := make([]string, len(aps))
	for i, ap := range aps {
		ids[i] = ap.ID
	}
	return ids
}

// cancel releases a reservation whose approval was denied or expired and records
// payment.cancelled.
func (s *Service) cancel(ctx context.Context, tx store.Tx, actor string, a store.Authorization, reason string, approvals []string, now time.Time) (store.Authorization, error) {
	a, err := tx.ReleaseAuthorization(ctx, a.ID, store.AuthCancelled, now)
	if err != nil {
		return a, err
	}
	_, err = s.log.Append(ctx, tx, audit.Entry{Actor: actor, Action: ActionPaymentCancelled, Subject: a.ID,
		Data: map[string]any{"reason": reason, "approval_ids": approvals, "agent_id": a.AgentID,
			"amount_micro": a.AmountMicro, "pay_to": a.PayTo, "nonce": a.Nonce}})
	return a, err
}

// ExpireApprovals marks every pending approval request past its expiry as expired
// and cancels the reservations of the payments they held, releasing their budget,
// with one payment.cancelled record (actor system) per payment, in one
// transaction. It returns how many payments it cancelled. The service calls it
// when it meets an expired request; a daemon may also call it periodically.
func (s *Service) ExpireApprovals(ctx context.Context) (int, error) {
	n := 0
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		n = 0
		now := s.clock()
		due, err := tx.ExpireApprovals(ctx, now)
		if err != nil {
			return err
		}
		byAuth := map[string][]string{}
		var order []string
		for _, ap := range due {
			if _, ok := byAuth[ap.AuthorizationID]; !ok {
				order = append(order, ap.AuthorizationID)
			}
			byAuth[ap.AuthorizationID] = append(byAuth[ap.AuthorizationID], ap.ID)
		}
		for _, id := range order {
			a, err := tx.Authorization(ctx, id)
			if err != nil {
				return err
			}
			if a.Status != store.AuthReserved {
				continue
			}
			if _, err := s.cancel(ctx, tx, audit.System, a, ReasonApprovalExpired, byAuth[id], now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// signHeld signs a payment held for approval, outside any transaction (custody
// runs outside the store's write lock, as in Pay); the caller writes the header
// only if its transaction commits.
func (s *Service) signHeld(ctx context.Context, a store.Authorization, now time.Time) (store.PaymentHeader, error) {
	if len(a.Demand) == 0 {
		return store.PaymentHeader{}, fmt.Errorf("payments: authorization %s kept no demand to sign", a.ID)
	}
	var (
		key       store.Key
		agent     store.Agent
		aps       []store.Approval
		expiresAt time.Time
	)
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		var err error
		if agent, err = rt.Agent(ctx, a.AgentID); err != nil {
			return err
		}
		if key, err = rt.Key(ctx, a.KeyID); err != nil {
			return err
		}
		aps, err = rt.ApprovalsForAuthorization(ctx, a.ID)
		return err
	})
	if err != nil {
		return store.PaymentHeader{}, err
	}
	if agent.Status != store.AgentActive {
		return store.PaymentHeader{}, &store.StateError{Entity: "agent", ID: agent.ID, Status: string(agent.Status), Op: "sign"}
	}
	if key.Status != store.KeyActive {
		return store.PaymentHeader{}, &store.StateError{Entity: "key", ID: key.ID, Status: string(key.Status), Op: "sign"}
	}
	for _, ap := range aps {
		if ap.ExpiresAt.After(expiresAt) {
			expiresAt = ap.ExpiresAt
		}
	}
	demand, err := signer.ParseDemand(a.DemandVersion, a.Demand)
	if err != nil {
		return store.PaymentHeader{}, fmt.Errorf("payments: authorization %s: stored demand: %w", a.ID, err)
	}
	idx := a.RequirementIndex
	choice, err := signer.Choose(demand, s.reg, signer.ChooseOptions{Preferred: &idx, Accept: func(c signer.Candidate) error {
		if strings.EqualFold(c.Network, a.Network) && strings.EqualFold(c.Asset.Address.Hex(), a.Asset) &&
			strings.EqualFold(c.PayTo.Hex(), a.PayTo) && c.Amount.String() == a.AmountAtomic {
			return nil
		}
		return fmt.Errorf("payments: requirement %d no longer names the reserved payment", idx)
	}})
	if err != nil {
		return store.PaymentHeader{}, fmt.Errorf("payments: authorization %s cannot be signed: %w", a.ID, err)
	}
	h, err := s.signerFor(key)
	if err != nil {
		return store.PaymentHeader{}, err
	}
	if from, err := store.NormalizeAddress(h.Address().Hex()); err != nil || from != a.From {
		return store.PaymentHeader{}, fmt.Errorf("payments: authorization %s is from %s, its key signs as %s", a.ID, a.From, h.Address().Hex())
	}
	nb, err := hexutil.Decode(a.Nonce)
	if err != nil || len(nb) != 32 {
		return store.PaymentHeader{}, fmt.Errorf("payments: authorization %s: stored nonce %q", a.ID, a.Nonce)
	}
	var nonce [32]byte
	copy(nonce[:], nb)
	intent, err := signer.RebuildAuthorization(choice, h.Address(), nonce, a.ValidAfter, validBeforeAt(a, expiresAt, now))
	if err != nil {
		return store.PaymentHeader{}, err
	}
	sig, err := h.SignDigest(intent.Digest)
	if err != nil {
		return store.PaymentHeader{}, fmt.Errorf("payments: custody: %w", err)
	}
	sig[64] += 27
	name, value, err := intent.Payload(sig)
	if err != nil {
		return store.PaymentHeader{}, err
	}
	return store.PaymentHeader{Name: name, Value: value}, nil
}

// validBeforeAt is the validity of a held payment signed at now. The reservation
// covers the policy's validity window w counted from the latest moment it can be
// approved (ValidBefore = approval expiry + w, see holdForApproval); signed
// earlier, it gets w from now, so an authorization is never valid for longer than
// policy and the requirement allow.
func validBeforeAt(a store.Authorization, approvalExpiry, now time.Time) time.Time {
	w := a.ValidBefore.Sub(approvalExpiry)
	if approvalExpiry.IsZero() || w < time.Second {
		return a.ValidBefore
	}
	vb := now.Add(w).Truncate(time.Second)
	if vb.After(a.ValidBefore) {
		return a.ValidBefore
	}
	return vb
}

// Payment returns the state of one of the agent's own payments: signed (Header
// set), waiting for approval (NeedsApproval, with the pending request ids),
// cancelled or expired. Another agent's payment is store.ErrNotFound. A payment
// whose approval has expired is cancelled first.
func (s *Service) Payment(ctx context.Context, agentID, authorizationID string) (*PayResult, error) {
	res, due, err := s.readPayment(ctx, agentID, authorizationID)
	if err != nil || !due {
		return res, err
	}
	if _, err := s.ExpireApprovals(ctx); err != nil {
		return nil, err
	}
	res, _, err = s.readPayment(ctx, agentID, authorizationID)
	return res, err
}

func (s *Service) readPayment(ctx context.Context, agentID, authorizationID string) (*PayResult, bool, error) {
	var (
		res *PayResult
		due bool
	)
	now := s.clock()
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		res, due = nil, false
		a, err := rt.Authorization(ctx, authorizationID)
		if err != nil {
			return err
		}
		if agentID == "" || a.AgentID != agentID {
			return &store.NotFoundError{Entity: "authorization", Key: authorizationID}
		}
		res = resultFrom(a)
		if a.Status != store.AuthSigned && a.Status != store.AuthSettled {
			res.Header, res.Value = "", ""
		}
		aps, err := rt.ApprovalsForAuthorization(ctx, a.ID)
		if err != nil {
			return err
		}
		// As Pay answered: every approval id, and the earliest expiry.
		for _, ap := range aps {
			res.ApprovalIDs = append(res.ApprovalIDs, ap.ID)
			if res.ApprovalExpiresAt.IsZero() || ap.ExpiresAt.Before(res.ApprovalExpiresAt) {
				res.ApprovalExpiresAt = ap.ExpiresAt
			}
			if ap.Status == store.ApprovalPending && !now.Before(ap.ExpiresAt) && a.Status == store.AuthReserved {
				due = true
			}
		}
		res.NeedsApproval = a.Status == store.AuthReserved && len(aps) > 0
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return res, due, nil
}

// WaitPayment is Payment that, while the payment waits for approval, reads it
// again every 100 ms until it does not or wait (at most MaxWait) has passed, or ctx
// is done (then ctx's error).
func (s *Service) WaitPayment(ctx context.Context, agentID, authorizationID string, wait time.Duration) (*PayResult, error) {
	wait = min(max(wait, 0), MaxWait)
	deadline := time.Now().Add(wait)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		res, err := s.Payment(ctx, agentID, authorizationID)
		if err != nil || !res.NeedsApproval {
			return res, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return res, nil
		}
		t.Reset(min(pollInterval, left))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
