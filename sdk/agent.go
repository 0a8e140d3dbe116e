package sdk

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// AgentIdentity calls GET /v1/agent: the agent an agent token acts for.
func (c *Client) AgentIdentity(ctx context.Context) (*AgentIdentity, error) {
	var out AgentIdentity
	if _, err := c.do(ctx, http.MethodGet, "/v1/agent", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// payBody is the body of POST /v1/payments.
type payBody struct {
	X402Version     int             `json:"x402_version"`
	PaymentRequired json.RawMessage `json:"payment_required"`
	ResourceURL     string          `json:"resource_url"`
	Method          string          `json:"method,omitempty"`
	Preferred       *int            `json:"preferred,omitempty"`
	IdempotencyKey  string          `json:"idempotency_key"`
}

// Pay calls POST /v1/payments: fleetkey pays the demand for the token's agent. A signed
// payment returns its Header; one that needs human approval returns NeedsApproval (wait with
// Payment). A refusal by policy is an *APIError matching ErrDenied, with Reason and Rule.
func (c *Client) Pay(ctx context.Context, r PayRequest) (*PaymentResult, error) {
	body := payBody{X402Version: r.Version, ResourceURL: r.ResourceURL, Method: r.Method,
		Preferred: r.Preferred, IdempotencyKey: r.IdempotencyKey}
	switch r.Version {
	case 2:
		s, err := json.Marshal(string(r.Demand))
		if err != nil {
			return nil, fmt.Errorf("sdk: pay: %w", err)
		}
		body.PaymentRequired = s
	case 1:
		if !json.Valid(r.Demand) {
			return nil, errors.New("sdk: pay: a v1 demand must be the 402 body, a JSON object")
		}
		body.PaymentRequired = r.Demand
	default:
		return nil, fmt.Errorf("sdk: pay: x402 version %d (want 1 or 2)", r.Version)
	}
	if r.IdempotencyKey == "" {
		return nil, errors.New("sdk: pay: an idempotency key is required (see NewIdempotencyKey)")
	}
	var out PaymentResult
	status, err := c.do(ctx, http.MethodPost, "/v1/payments", nil, body, &out)
	if err != nil {
		return nil, err
	}
	out.setNeedsApproval(status)
	return &out, nil
}

func (p *PaymentResult) setNeedsApproval(status int) {
	p.NeedsApproval = status == http.StatusAccepted ||
		(p.Header.Value == "" && (p.Status == PaymentReserved || p.Status == "" && len(p.ApprovalIDs) > 0))
}

// Payment calls GET /v1/payments/{id}: the token's agent's own payment. With wait > 0 the
// server holds the answer while the payment awaits approval, up to wait (at most MaxWait).
func (c *Client) Payment(ctx context.Context, authorizationID string, wait time.Duration) (*PaymentResult, error) {
	if authorizationID == "" {
		return nil, errors.New("sdk: payment: empty id")
	}
	var q url.Values
	if wait > 0 {
		wait = min(wait, MaxWait)
		q = url.Values{"wait": {wait.Round(time.Millisecond).String()}}
	}
	var out PaymentResult
	status, err := c.do(ctx, http.MethodGet, "/v1/payments/"+url.PathEscape(authorizationID), q, nil, &out)
	if err != nil {
		return nil, err
	}
	out.setNeedsApproval(status)
	return &out, nil
}

// NewIdempotencyKey returns a fresh idempotency key: 24 bytes from crypto/rand, base64url.
func NewIdempotencyKey() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sdk: idempotency key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
