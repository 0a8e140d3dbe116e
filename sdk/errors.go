package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// Error codes the API sends in an error answer's "code" field.
const (
	CodeBadRequest          = "bad_request"
	CodeUnauthenticated     = "unauthenticated"
	CodeForbidden           = "forbidden"
	CodePaymentDenied       = "payment_denied"
	CodeNotFound            = "not_found"
	CodeMethodNotAllowed    = "method_not_allowed"
	CodeIdempotencyMismatch = "idempotency_key_reused"
	CodeStateConflict       = "state_conflict"
	CodeBodyTooLarge        = "body_too_large"
	CodeInternal            = "internal_error"
	CodeUnavailable         = "unavailable"
)

// Sentinel errors an *APIError matches with errors.Is. A code the SDK does not know yet
// still matches by HTTP status (400, 401, 403, 404, 409, 5xx).
var (
	// ErrBadRequest: the request was malformed or invalid (400, 413).
	ErrBadRequest = errors.New("sdk: bad request")
	// ErrUnauthenticated: no valid token of the kind the route needs (401). An agent token
	// on an operator route gets this answer, like a wrong token.
	ErrUnauthenticated = errors.New("sdk: unauthenticated")
	// ErrForbidden: a valid operator token whose role may not do this, or an approver not
	// named by the approval (403 forbidden).
	ErrForbidden = errors.New("sdk: forbidden")
	// ErrDenied: policy or a budget refused the payment (403 payment_denied); the
	// *APIError carries Reason, Rule and PolicyHash.
	ErrDenied = errors.New("sdk: payment denied")
	// ErrNotFound: no such object, or not one this token may see (404).
	ErrNotFound = errors.New("sdk: not found")
	// ErrConflict: the object's state does not allow the change, or an idempotency key
	// was reused for another request (409).
	ErrConflict = errors.New("sdk: conflict")
	// ErrIdempotencyKeyReused: the idempotency key was used for a different payment (409
	// idempotency_key_reused); it also matches ErrConflict.
	ErrIdempotencyKeyReused = errors.New("sdk: idempotency key reused")
	// ErrServer: the API failed (5xx); its message is deliberately generic.
	ErrServer = errors.New("sdk: server error")
	// ErrUnavailable: fleetkey's database cannot be reached (503 unavailable); nothing
	// was signed or changed, and the request may be retried. It also matches ErrServer.
	ErrUnavailable = errors.New("sdk: fleetkey unavailable")
)

// APIError is a failed answer of the API. Status is the HTTP status; Code, Message and, for a
// denied payment, Reason, Rule and PolicyHash are the answer's error object. Method and Path
// name the request.
type APIError struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
	Reason       string
	Rule         string
	PolicyHash   string
}

// Error says which request failed and how, with the server's message and, for a denial,
// the reason and the rule.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sdk: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Code == CodePaymentDenied && e.Reason != "" && !strings.Contains(e.Message, e.Reason) {
		fmt.Fprintf(&b, " (reason %s, rule %s)", e.Reason, e.Rule)
	}
	return b.String()
}

// Is matches the sentinel errors by code, else by status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusRequestEntityTooLarge
	case ErrUnauthenticated:
		return e.Status == http.StatusUnauthorized
	case ErrDenied:
		return e.Code == CodePaymentDenied
	case ErrForbidden:
		return e.Status == http.StatusForbidden && e.Code != CodePaymentDenied
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrIdempotencyKeyReused:
		return e.Code == CodeIdempotencyMismatch
	case ErrServer:
		return e.Status >= 500
	case ErrUnavailable:
		return e.Code == CodeUnavailable
	}
	return false
}

type errorBody struct {
	Error *struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		Reason     string `json:"reason"`
		Rule       string `json:"rule"`
		PolicyHash string `json:"policy_hash"`
	} `json:"error"`
}

// newAPIError reads an error answer. An answer that is not the API's error object (a proxy's
// HTML page) keeps only a short, printable prefix as the message.
func newAPIError(method, path string, status int, raw []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var body errorBody
	if json.Unmarshal(raw, &body) == nil && body.Error != nil {
		// Kept as sent, line breaks included (a policy error lists its lines), but without
		// control characters: the text may end up on a terminal.
		e.Code, e.Message = noControls(body.Error.Code), noControls(body.Error.Message)
		e.Reason, e.Rule, e.PolicyHash = noControls(body.Error.Reason), noControls(body.Error.Rule), noControls(body.Error.PolicyHash)
		return e
	}
	e.Message = printablePrefix(string(raw), 200)
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

func printablePrefix(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

func noControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
