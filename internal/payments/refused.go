package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/store"
)

// RecordRefused appends the one payment.failed audit record of a payment request
// from agentID that was refused before it reached Pay: a body the HTTP API could
// not decode (malformed or unknown fields, too large, a missing field). Such a
// request reserves nothing and authorizes nothing, exactly like a malformed
// request Pay refuses itself, and it is recorded the same way, so every payment
// request of an authenticated agent leaves one audit record. reason is the
// public message the caller answered with; it must not hold the request body.
// idempotencyKey is recorded when it is one Pay would accept (else left out:
// it is caller input that was never checked).
func (s *Service) RecordRefused(ctx context.Context, agentID, idempotencyKey, reason string) error {
	if agentID == "" {
		return fmt.Errorf("%w: no agent", ErrBadRequest)
	}
	if reason == "" {
		return errors.New("payments: a refused request needs its reason")
	}
	if !wellFormedKey(idempotencyKey) {
		idempotencyKey = ""
	}
	data := map[string]any{"error": fmt.Sprintf("%s: %s", ErrBadRequest, reason), "idempotency_key": idempotencyKey}
	err := s.commit.write(ctx, func(tx store.Tx) error {
		_, err := s.log.Append(ctx, tx, audit.Entry{Actor: audit.AgentActor(agentID), Action: audit.ActionPaymentFailed, Subject: agentID, Data: data})
		return err
	})
	if err != nil {
		return fmt.Errorf("payments: audit: %w", err)
	}
	return nil
}

// wellFormedKey is checkRequest's rule for an idempotency key.
func wellFormedKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKeyLen {
		return false
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
