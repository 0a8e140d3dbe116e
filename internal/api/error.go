package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/fleetkey/fleetkey/internal/store"
)

// Error codes sent in the "code" field of an error answer. They are stable: clients
// branch on them.
const (
	CodeBadRequest          = "bad_request"
	CodeUnauthenticated     = "unauthenticated"
	CodeForbidden           = "forbidden"
	CodePaymentDenied       = "payment_denied"
	CodeNotFound            = "not_found"
	CodeMethodNotAllowed    = "method_not_allowed"
	CodeIdempotencyMismatch = "idempotency_key_reused"
	CodeStateConflict       = "state_conflict"
	CodeConflict            = "conflict"
	CodeBodyTooLarge        = "body_too_large"
	CodeInternal            = "internal_error"
	CodeUnavailable         = "unavailable"
)

// Error is every failed answer of the API: Status and Code and Message are sent,
// Cause is logged and never sent. Reason, Rule and PolicyHash are set only for a
// denied payment.
type Error struct {
	Status  int
	Code    string
	Message string
	Cause   error

	Reason     string
	Rule       string
	PolicyHash string
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("api: %d %s: %s: %v", e.Status, e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("api: %d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// errorBody is the JSON form of an Error: everything but the cause.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Reason     string `json:"reason,omitempty"`
	Rule       string `json:"rule,omitempty"`
	PolicyHash string `json:"policy_hash,omitempty"`
}

// internalError hides cause behind a generic message.
func internalError(cause error) *Error {
	if errors.Is(cause, store.ErrUnavailable) {
		// Fail closed, and say why: nothing is signed while the database that
		// holds the budgets and the audit chain cannot be reached.
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "the database is unavailable: nothing is signed until it is back; retry later", Cause: cause}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", Cause: cause}
}

func badRequest(msg string, cause error) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: msg, Cause: cause}
}

// renderError sends e without its cause. The caller logs the cause.
func renderError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	writeJSON(w, e.Status, errorBody{Error: errorDetail{
		Code: e.Code, Message: e.Message, Reason: e.Reason, Rule: e.Rule, PolicyHash: e.PolicyHash,
	}})
}

// writeJSON sends v with the headers every answer carries. Encoding our own
// response types cannot fail; should it, the status line is already sent and
// only the log can tell.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	contentType := "application/json"
	var (
		b   []byte
		err error
	)
	if rb, ok := v.(rawBody); ok {
		contentType, b = rb.contentType, rb.b
	} else if b, err = json.Marshal(v); err != nil {
		b, status = []byte(`{"error":{"code":"internal_error","message":"internal error"}}`), http.StatusInternalServerError
	} else {
		b = append(b, '\n')
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	return err
}

// rawBody is an answer sent as it is (the OpenAPI document).
type rawBody struct {
	contentType string
	b           []byte
}

// logAttrs are the error's fields for the request log.
func (e *Error) logAttrs() []slog.Attr {
	as := []slog.Attr{slog.String("code", e.Code)}
	if e.Reason != "" {
		as = append(as, slog.String("reason", e.Reason), slog.String("rule", e.Rule), slog.String("policy_hash", e.PolicyHash))
	}
	if e.Cause != nil {
		as = append(as, slog.String("cause", e.Cause.Error()))
	}
	return as
}
