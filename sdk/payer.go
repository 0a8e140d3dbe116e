package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/x402"
)

// ErrApprovalPending means a payment still awaited human approval when the Payer stopped
// waiting; the payment stays reserved until the approvers decide or the approval expires.
var ErrApprovalPending = errors.New("sdk: payment still awaits approval")

// ErrNotApproved means the approvers denied a payment, or its approval expired.
var ErrNotApproved = errors.New("sdk: payment was not approved")

// Payer is an x402.Payer that has fleetkey pay: it sends each demand, as received, with a
// fresh idempotency key to POST /v1/payments and returns the signed header. A payment that
// needs human approval is waited for (GET /v1/payments/{id}?wait=) up to the configured
// maximum (WithMaxApprovalWait, default DefaultMaxApprovalWait). A refused payment is an
// *APIError matching ErrDenied with the reason and the rule. Payer is safe for concurrent use.
type Payer struct {
	c       *Client
	maxWait time.Duration
}

var _ x402.Payer = (*Payer)(nil)

// NewPayer returns a Payer that pays through the API at baseURL with an agent token.
func NewPayer(baseURL, token string, opts ...Option) (*Payer, error) {
	c, err := NewClient(baseURL, token, opts...)
	if err != nil {
		return nil, err
	}
	return &Payer{c: c, maxWait: c.maxApprovalWait}, nil
}

// PayerFromClient returns a Payer that uses c (which needs an agent token) and waits for
// approval up to the maximum c was configured with.
func PayerFromClient(c *Client) *Payer { return &Payer{c: c, maxWait: c.maxApprovalWait} }

// Client returns the Payer's client, e.g. to call AgentIdentity.
func (p *Payer) Client() *Client { return p.c }

// String describes the Payer without its token.
func (p *Payer) String() string { return "sdk.Payer{" + p.c.String() + "}" }

// GoString is String.
func (p *Payer) GoString() string { return p.String() }

// LogValue implements slog.LogValuer without the token.
func (p *Payer) LogValue() slog.Value { return p.c.LogValue() }

// Pay implements x402.Payer.
func (p *Payer) Pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	res, err := p.PayDemand(ctx, req)
	if err != nil {
		return nil, err
	}
	return &x402.Payment{Header: res.Header.Name, Value: res.Header.Value, AuthorizationID: res.AuthorizationID}, nil
}

// PayDemand is Pay with fleetkey's whole answer (amount, asset, payee, policy hash), for a
// caller that reports what was paid. The result always has a Header.
func (p *Payer) PayDemand(ctx context.Context, req *x402.PaymentRequest) (*PaymentResult, error) {
	if req == nil || len(req.Raw) == 0 {
		return nil, errors.New("sdk: payer: no demand to pay")
	}
	key, err := NewIdempotencyKey()
	if err != nil {
		return nil, err
	}
	pr := PayRequest{Version: req.Version, Demand: req.Raw, ResourceURL: req.URL,
		Method: strings.ToUpper(req.Method), IdempotencyKey: key}
	// A request whose answer was lost may have been signed: it is sent again under the same
	// key, which gets the stored answer and never a second payment.
	var res *PaymentResult
	for attempt := 0; ; attempt++ {
		res, err = p.c.Pay(ctx, pr)
		if err == nil || attempt == len(payRetryDelays) || !retryable(err) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(err, ctx.Err())
		case <-time.After(payRetryDelays[attempt]):
		}
	}
	if err != nil {
		return nil, err
	}
	if res.NeedsApproval {
		if res, err = p.wait(ctx, res); err != nil {
			return nil, err
		}
	}
	if res.Header.Value == "" {
		return nil, fmt.Errorf("sdk: payer: payment %s has status %q and no header", res.AuthorizationID, res.Status)
	}
	return res, nil
}

// payRetryDelays are the pauses before the Payer sends a payment request again after a
// transport failure or a 502/503/504.
var payRetryDelays = []time.Duration{250 * time.Millisecond, time.Second}

// retryable reports whether a failed payment request may be sent again under its key: the
// answer was lost on the way, or a proxy or an overloaded server answered for fleetkey. A
// context that ended is not retried.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status == http.StatusBadGateway || ae.Status == http.StatusServiceUnavailable || ae.Status == http.StatusGatewayTimeout
	}
	var te transportError
	return errors.As(err, &te)
}

// wait polls the payment until approvers decide or maxWait passes.
func (p *Payer) wait(ctx context.Context, res *PaymentResult) (*PaymentResult, error) {
	id := res.AuthorizationID
	pending := func() error {
		return fmt.Errorf("%w: payment %s (approvals %s) undecided after %s", ErrApprovalPending,
			id, strings.Join(res.ApprovalIDs, ", "), p.maxWait)
	}
	deadline := time.Now().Add(p.maxWait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, pending()
		}
		asked := time.Now()
		next, err := p.c.Payment(ctx, id, left)
		if err != nil {
			return nil, fmt.Errorf("sdk: payer: wait for approval of payment %s: %w", id, err)
		}
		switch {
		case next.Header.Value != "":
			return next, nil
		case next.NeedsApproval:
			if len(next.ApprovalIDs) > 0 {
				res = next
			}
			// A server that answers at once instead of holding the request must not be
			// polled in a tight loop.
			if d := min(time.Second-time.Since(asked), time.Until(deadline)); d > 0 {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(d):
				}
			}
			continue
		}
		return nil, fmt.Errorf("%w: payment %s is %s", ErrNotApproved, id, next.Status)
	}
}
