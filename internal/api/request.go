package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"github.com/fleetkey/fleetkey/internal/payments"
)

// DefaultMaxBodyBytes bounds a request body when Config.MaxBodyBytes is zero.
// A v2 demand is at most signer.MaxDemandSize bytes, base64 inside JSON; this leaves
// room for it and the other fields.
const DefaultMaxBodyBytes = 128 << 10

// maxMethodLen bounds the "method" field: an HTTP method is a short token.
const maxMethodLen = 16

// paymentRequest is the body of POST /v1/payments.
type paymentRequest struct {
	X402Version int `json:"x402_version"`
	// PaymentRequired is the v2 PAYMENT-REQUIRED header value as a JSON string, or
	// the v1 402 body as a JSON object.
	PaymentRequired json.RawMessage `json:"payment_required"`
	ResourceURL     string          `json:"resource_url"`
	Method          string          `json:"method"`
	Preferred       *int            `json:"preferred"`
	IdempotencyKey  string          `json:"idempotency_key"`
}

// decodePaymentRequest reads a payment request strictly: one JSON object, no
// unknown field, nothing after it. headerKey is the Idempotency-Key header, used
// when the body has none. The service checks the rest (URL, key syntax, the demand
// itself). Every failure is a 400 or, for a body over its limit, a 413.
func decodePaymentRequest(body io.Reader, headerKey string) (payments.PayRequest, *Error) {
	var req paymentRequest
	if e := decodeStrict(body, &req, false); e != nil {
		return payments.PayRequest{}, e
	}

	out := payments.PayRequest{Version: req.X402Version, ResourceURL: req.ResourceURL, Method: req.Method, Preferred: req.Preferred}
	raw := bytes.TrimSpace(req.PaymentRequired)
	switch req.X402Version {
	case 2:
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil || s == "" {
			return payments.PayRequest{}, badRequest("payment_required must be the PAYMENT-REQUIRED header value as a string for x402_version 2", nil)
		}
		out.Raw = []byte(s)
	case 1:
		if len(raw) == 0 || raw[0] != '{' {
			return payments.PayRequest{}, badRequest("payment_required must be the 402 response body as a JSON object for x402_version 1", nil)
		}
		out.Raw = append([]byte(nil), raw...)
	default:
		return payments.PayRequest{}, badRequest("x402_version must be 1 or 2", nil)
	}
	if req.ResourceURL == "" {
		return payments.PayRequest{}, badRequest("resource_url is required", nil)
	}
	if out.Method == "" {
		out.Method = http.MethodGet
	}
	if !isMethodToken(out.Method) {
		return payments.PayRequest{}, badRequest(fmt.Sprintf("method must be an upper-case HTTP method of at most %d letters", maxMethodLen), nil)
	}
	if req.Preferred != nil && *req.Preferred < 0 {
		return payments.PayRequest{}, badRequest("preferred must be an index of the demand's accepts (0 or more)", nil)
	}
	switch {
	case req.IdempotencyKey == "" && headerKey == "":
		return payments.PayRequest{}, badRequest("idempotency_key is required (in the body or the Idempotency-Key header)", nil)
	case req.IdempotencyKey != "" && headerKey != "" && req.IdempotencyKey != headerKey:
		return payments.PayRequest{}, badRequest("idempotency_key and the Idempotency-Key header differ", nil)
	case req.IdempotencyKey != "":
		out.IdempotencyKey = req.IdempotencyKey
	default:
		out.IdempotencyKey = headerKey
	}
	return out, nil
}

// decodeStrict reads one JSON object into v: no unknown field, nothing after
// it. An empty body is refused unless allowEmpty, when v keeps its zero value.
// Every failure is a 400 naming what is wrong or, for a body over its limit
// (an http.MaxBytesReader), a 413.
func decodeStrict(body io.Reader, v any, allowEmpty bool) *Error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if allowEmpty && errors.Is(err, io.EOF) {
			return nil
		}
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return badRequest("the body must hold one JSON object and nothing after it", err)
	}
	return nil
}

// decodeError names what is wrong with a body the JSON decoder refused, without
// echoing the body.
func decodeError(err error) *Error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
			Message: fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit), Cause: err}
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; a JSON object is required", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body is truncated JSON", err)
	case errors.As(err, &se):
		return badRequest(fmt.Sprintf("the request body is not valid JSON (at byte %d)", se.Offset), err)
	case errors.As(err, &te):
		if te.Field == "" {
			return badRequest("the request body must be a JSON object", err)
		}
		return badRequest(fmt.Sprintf("field %q must be a JSON %s", te.Field, jsonKind(te)), err)
	}
	// encoding/json reports an unknown field only as text: `json: unknown field "x"`.
	if f, ok := unknownField(err.Error()); ok {
		return badRequest(fmt.Sprintf("unknown field %s", f), err)
	}
	return badRequest("the request body is not a valid request", err)
}

func unknownField(msg string) (string, bool) {
	const p = "json: unknown field "
	if len(msg) > len(p) && msg[:len(p)] == p {
		f := msg[len(p):]
		if len(f) > 66 {
			f = f[:64] + "…\""
		}
		return f, true
	}
	return "", false
}

// jsonKind is the JSON type a request field takes, for error messages.
func jsonKind(te *json.UnmarshalTypeError) string {
	if te.Field == "payment_required" {
		return "string or object"
	}
	t := te.Type
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "string"
}

func isMethodToken(m string) bool {
	if len(m) > maxMethodLen {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}
