package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// paymentHeader is the header the agent retries its request with.
type paymentHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// signedResponse is a 200 answer of POST /v1/payments.
type signedResponse struct {
	AuthorizationID string        `json:"authorization_id"`
	Header          paymentHeader `json:"header"`
	Amount          string        `json:"amount"`
	Asset           string        `json:"asset"`
	PayTo           string        `json:"pay_to"`
	Network         string        `json:"network"`
	ValidBefore     string        `json:"valid_before"`
	PolicyHash      string        `json:"policy_hash"`
	Replayed        bool          `json:"replayed"`
}

// approvalResponse is a 202 answer of POST /v1/payments: nothing is signed yet.
type approvalResponse struct {
	AuthorizationID string   `json:"authorization_id"`
	ApprovalIDs     []string `json:"approval_ids"`
	ExpiresAt       string   `json:"expires_at"`
	Replayed        bool     `json:"replayed"`
}

// timeText is the wire form of a time: RFC 3339 in UTC, to the second (EIP-3009
// validity is in seconds).
func timeText(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func (h *agentHandler) pay(w http.ResponseWriter, r *http.Request, id payments.AgentIdentity, st *reqState) (int, any, error) {
	body := http.MaxBytesReader(w, r.Body, h.maxBody)
	req, apiErr := decodePaymentRequest(body, r.Header.Get("Idempotency-Key"))
	if apiErr != nil {
		return 0, nil, apiErr
	}
	// The agent is the credential's, never the request's.
	res, err := h.svc.Pay(r.Context(), id.AgentID, req)
	if err != nil {
		return 0, nil, payError(err)
	}
	st.authorizationID = res.AuthorizationID
	if res.NeedsApproval {
		st.outcome = "needs_approval"
		return http.StatusAccepted, approvalResponse{
			AuthorizationID: res.AuthorizationID, ApprovalIDs: res.ApprovalIDs,
			ExpiresAt: timeText(res.ApprovalExpiresAt), Replayed: res.Replayed,
		}, nil
	}
	st.outcome = "signed"
	if res.Replayed {
		st.outcome = "replayed"
	}
	return http.StatusOK, signedResponse{
		AuthorizationID: res.AuthorizationID,
		Header:          paymentHeader{Name: res.Header, Value: res.Value},
		Amount:          res.Amount, Asset: res.Asset, PayTo: res.PayTo, Network: res.Network,
		ValidBefore: timeText(res.ValidBefore), PolicyHash: res.PolicyHash, Replayed: res.Replayed,
	}, nil
}

// payError maps the service's errors to answers. Only a bad request's message is
// built from the error text: it describes the caller's own input.
func payError(err error) *Error {
	var de *payments.DeniedError
	switch {
	case errors.As(err, &de):
		msg := "payment denied: " + de.Reason
		if de.Rule != "" {
			msg += " (rule " + de.Rule + ")"
		}
		return &Error{Status: http.StatusForbidden, Code: CodePaymentDenied, Message: msg, Cause: err,
			Reason: de.Reason, Rule: de.Rule, PolicyHash: de.PolicyHash}
	case errors.Is(err, payments.ErrBadRequest):
		return badRequest(strings.TrimPrefix(err.Error(), "payments: "), err)
	case errors.Is(err, store.ErrIdempotencyMismatch):
		return &Error{Status: http.StatusConflict, Code: CodeIdempotencyMismatch,
			Message: "the idempotency key was already used for a different payment request", Cause: err}
	case errors.Is(err, store.ErrState):
		return &Error{Status: http.StatusConflict, Code: CodeStateConflict,
			Message: "the agent, its key or the earlier payment under this idempotency key does not allow this payment now", Cause: err}
	}
	return internalError(err)
}
