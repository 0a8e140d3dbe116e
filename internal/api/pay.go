package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/anomaly"
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

// refusalRecorder is the optional part of an AgentService that records a payment
// request refused before it reached Pay (a body that does not decode);
// *payments.Service implements it.
type refusalRecorder interface {
	RecordRefused(ctx context.Context, agentID, idempotencyKey, reason string) error
}

// timeText is the wire form of a time: RFC 3339 in UTC, to the second (EIP-3009
// validity is in seconds).
func timeText(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func (h *handler) pay(w http.ResponseWriter, r *http.Request, id payments.AgentIdentity, st *reqState) (int, any, error) {
	body := http.MaxBytesReader(w, r.Body, h.maxBody)
	req, apiErr := decodePaymentRequest(body, r.Header.Get("Idempotency-Key"))
	if apiErr != nil {
		if rr, ok := h.svc.(refusalRecorder); ok {
			// As for a request Pay refuses: one audit record, and an answer that
			// cannot be recorded is not given.
			if err := rr.RecordRefused(r.Context(), id.AgentID, r.Header.Get("Idempotency-Key"), apiErr.Message); err != nil {
				return 0, nil, internalError(errors.Join(apiErr, err))
			}
		}
		return 0, nil, apiErr
	}
	// The agent is the credential's, never the request's; the runtime is for the
	// anomaly detector (docs/anomaly.md).
	res, err := h.svc.Pay(anomaly.WithRuntime(r.Context(), runtimeOf(r)), id.AgentID, req)
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
	return http.StatusOK, signedOf(res), nil
}

// The answers of GET /v1/payments/{id}: the POST answer of the payment's state
// plus its status.
type (
	signedStatus struct {
		signedResponse
		Status string `json:"status"`
	}
	pendingStatus struct {
		approvalResponse
		Status string `json:"status"`
	}
	// closedStatus is a payment that was never signed and never will be
	// (approval denied or expired, or a failure).
	closedStatus struct {
		AuthorizationID string `json:"authorization_id"`
		Status          string `json:"status"`
	}
)

// MaxWait bounds the wait parameter of GET /v1/payments/{id}. A server's write
// timeout must exceed it.
const MaxWait = 60 * time.Second

// payment is the agent's poll of its own payment, for one waiting for approval.
// Another agent's payment is not found, exactly like one that does not exist.
func (h *handler) payment(_ http.ResponseWriter, r *http.Request, id payments.AgentIdentity, st *reqState) (int, any, error) {
	q, e := query(r, "wait")
	if e != nil {
		return 0, nil, e
	}
	wait, e := waitParam(q.Get("wait"))
	if e != nil {
		return 0, nil, e
	}
	authID := r.PathValue("id")
	if !validID(authID) {
		return 0, nil, badID("payment")
	}
	var (
		res *payments.PayResult
		err error
	)
	if wait > 0 {
		res, err = h.svc.WaitPayment(r.Context(), id.AgentID, authID, wait)
	} else {
		res, err = h.svc.Payment(r.Context(), id.AgentID, authID)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no such payment of this agent", Cause: err}
		}
		return 0, nil, payError(err)
	}
	st.authorizationID = res.AuthorizationID
	st.outcome = string(res.Status)
	switch {
	case res.Value != "":
		return http.StatusOK, signedStatus{signedResponse: signedOf(res), Status: string(res.Status)}, nil
	case res.Status == store.AuthReserved:
		return http.StatusAccepted, pendingStatus{approvalResponse: approvalResponse{
			AuthorizationID: res.AuthorizationID, ApprovalIDs: nonNil(res.ApprovalIDs),
			ExpiresAt: optTime(res.ApprovalExpiresAt), Replayed: res.Replayed,
		}, Status: string(res.Status)}, nil
	}
	return http.StatusOK, closedStatus{AuthorizationID: res.AuthorizationID, Status: string(res.Status)}, nil
}

// waitParam reads the wait parameter: a Go duration ("30s") or whole seconds
// ("30"), from 0 to MaxWait.
func waitParam(s string) (time.Duration, *Error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseUint(s, 10, 8)
		if nerr != nil {
			return 0, badRequest(`wait must be a duration such as "30s" or whole seconds, at most 60s`, err)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 || d > MaxWait {
		return 0, badRequest(`wait must be between 0 and 60s`, nil)
	}
	return d, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func signedOf(res *payments.PayResult) signedResponse {
	return signedResponse{
		AuthorizationID: res.AuthorizationID,
		Header:          paymentHeader{Name: res.Header, Value: res.Value},
		Amount:          res.Amount, Asset: res.Asset, PayTo: res.PayTo, Network: res.Network,
		ValidBefore: timeText(res.ValidBefore), PolicyHash: res.PolicyHash, Replayed: res.Replayed,
	}
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
