package x402

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// HTTP header names. Go canonicalises header keys, so lookups through
// http.Header are case-insensitive as the protocol requires.
const (
	// HeaderPaymentRequired carries the v2 402 answer (server → client).
	HeaderPaymentRequired = "PAYMENT-REQUIRED"
	// HeaderPaymentSignature carries the v2 payment (client → server).
	HeaderPaymentSignature = "PAYMENT-SIGNATURE"
	// HeaderPaymentResponse carries the v2 settlement (server → client).
	HeaderPaymentResponse = "PAYMENT-RESPONSE"
	// HeaderXPayment carries the v1 payment (client → server).
	HeaderXPayment = "X-PAYMENT"
	// HeaderXPaymentResponse carries the v1 settlement (server → client).
	HeaderXPaymentResponse = "X-PAYMENT-RESPONSE"
)

// MaxHeaderSize bounds the encoded length of a header the decoders accept.
const MaxHeaderSize = 64 << 10

// ErrMalformedHeader wraps every header decoding failure, so a server can
// answer 402/400 without inspecting the cause.
var ErrMalformedHeader = errors.New("x402: malformed header")

// EncodeHeader encodes v as the protocol's header format: standard, padded
// base64 (RFC 4648 §4) of its UTF-8 JSON. HTML characters are not escaped,
// so echoed strings keep their bytes.
func EncodeHeader(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("x402: encode header: %w", err)
	}
	return base64.StdEncoding.EncodeToString(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})), nil
}

// DecodeHeaderJSON returns the JSON carried by a header value. It accepts
// what the reference decoder accepts: the value must match
// ^[A-Za-z0-9+/]*={0,2}$ (so URL-safe base64, whitespace and stray characters
// are refused) and then decode as forgiving base64, where padding is optional
// but a wrongly padded value fails.
func DecodeHeaderJSON(value string) ([]byte, error) {
	if len(value) > MaxHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrMalformedHeader, len(value), MaxHeaderSize)
	}
	if len(value) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformedHeader)
	}
	body := value
	pad := 0
	for pad < len(body) && body[len(body)-1-pad] == '=' {
		pad++
	}
	if pad > 2 {
		return nil, fmt.Errorf("%w: not standard base64", ErrMalformedHeader)
	}
	body = body[:len(body)-pad]
	for i := 0; i < len(body); i++ {
		if !isStdBase64(body[i]) {
			return nil, fmt.Errorf("%w: not standard base64", ErrMalformedHeader)
		}
	}
	// Forgiving base64 (WHATWG, used by atob): padding is stripped only from a
	// length that is a multiple of 4; a remaining length of 1 mod 4 is invalid.
	if pad > 0 && len(value)%4 != 0 {
		return nil, fmt.Errorf("%w: bad base64 padding", ErrMalformedHeader)
	}
	if len(body)%4 == 1 {
		return nil, fmt.Errorf("%w: bad base64 length", ErrMalformedHeader)
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedHeader, err)
	}
	return raw, nil
}

func isStdBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// DecodeHeader decodes a header value into v.
func DecodeHeader(value string, v any) error {
	raw, err := DecodeHeaderJSON(value)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedHeader, err)
	}
	return nil
}

// DecodePaymentRequired decodes a PAYMENT-REQUIRED header value and checks
// that it is a usable v2 answer.
func DecodePaymentRequired(value string) (*PaymentRequiredV2, error) {
	var p PaymentRequiredV2
	if err := DecodeHeader(value, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedHeader, err)
	}
	return &p, nil
}

// DecodePaymentPayloadV2 decodes a PAYMENT-SIGNATURE header value. It returns
// the decoded JSON too, which is what a server forwards to its facilitator.
func DecodePaymentPayloadV2(value string) (*PaymentPayloadV2, json.RawMessage, error) {
	raw, err := DecodeHeaderJSON(value)
	if err != nil {
		return nil, nil, err
	}
	var p PaymentPayloadV2
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformedHeader, err)
	}
	if p.X402Version != V2 {
		return nil, nil, fmt.Errorf("%w: x402Version %d, want 2", ErrMalformedHeader, p.X402Version)
	}
	return &p, raw, nil
}

// DecodePaymentPayloadV1 decodes an X-PAYMENT header value and returns the
// decoded JSON too.
func DecodePaymentPayloadV1(value string) (*PaymentPayloadV1, json.RawMessage, error) {
	raw, err := DecodeHeaderJSON(value)
	if err != nil {
		return nil, nil, err
	}
	var p PaymentPayloadV1
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformedHeader, err)
	}
	if p.X402Version != V1 {
		return nil, nil, fmt.Errorf("%w: x402Version %d, want 1", ErrMalformedHeader, p.X402Version)
	}
	return &p, raw, nil
}

// DecodeSettleResponse decodes a PAYMENT-RESPONSE or X-PAYMENT-RESPONSE
// header value.
func DecodeSettleResponse(value string) (*SettleResponse, error) {
	var s struct {
		SettleResponse
		Success     *bool   `json:"success"`
		Transaction *string `json:"transaction"`
	}
	if err := DecodeHeader(value, &s); err != nil {
		return nil, err
	}
	if s.Success == nil {
		return nil, fmt.Errorf("%w: settlement without success", ErrMalformedHeader)
	}
	r := s.SettleResponse
	r.Success = *s.Success
	if s.Transaction != nil {
		r.Transaction = *s.Transaction
	}
	return &r, nil
}
