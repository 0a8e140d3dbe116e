package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/fleetkey/fleetkey/internal/sidecar"
	"github.com/fleetkey/fleetkey/x402"
)

// callPayer is the payer of one x402_fetch: it enforces max_amount and remembers the payer's
// error, so that a failed fetch can be told to be a refused payment.
type callPayer struct {
	p   x402.Payer
	max *big.Int // nil: no cap

	mu  sync.Mutex
	err error
}

// Pay implements x402.Payer.
func (c *callPayer) Pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	pay, err := c.pay(ctx, req)
	if err != nil {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
	}
	return pay, err
}

// failure is the payer's error, if it failed.
func (c *callPayer) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *callPayer) pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	if c.max == nil {
		return c.p.Pay(ctx, req)
	}
	capped, err := capDemand(req, c.max)
	if err != nil {
		return nil, err
	}
	pay, err := c.p.Pay(ctx, capped)
	if err != nil {
		return nil, err
	}
	// The payer chose and signed; check what it signed before it is sent.
	rc, err := sidecar.ReceiptFromResult(&x402.Result{Request: capped, Payment: pay})
	if err != nil {
		return nil, fmt.Errorf("max_amount: cannot read the amount of the payment, not sending it: %w", err)
	}
	amt, err := parseAtomic(rc.Amount)
	if err != nil || amt.Cmp(c.max) > 0 {
		return nil, &overMaxError{asked: rc.Amount, max: c.max}
	}
	return pay, nil
}

// overMaxError is a demand (or a payment) above max_amount.
type overMaxError struct {
	asked string
	max   *big.Int
}

func (e *overMaxError) Error() string {
	return fmt.Sprintf("refused before paying: the resource asks %s atomic units, above max_amount %s", e.asked, e.max)
}

// DenialReason implements sidecar.Denial.
func (e *overMaxError) DenialReason() (reason, rule string) {
	return "max_amount_exceeded", "max_amount"
}

// capDemand returns the demand without the options that ask more than max; the demand itself
// when none does; an overMaxError when all do. The result's Raw is re-encoded so that a
// remote payer, which parses Raw itself, sees the same options.
func capDemand(req *x402.PaymentRequest, max *big.Int) (*x402.PaymentRequest, error) {
	out := *req
	cheapest := ""
	var cheapestAmt *big.Int
	note := func(s string) {
		if a, err := parseAtomic(s); err == nil && (cheapestAmt == nil || a.Cmp(cheapestAmt) < 0) {
			cheapest, cheapestAmt = s, a
		}
	}
	within := func(s string) bool {
		note(s)
		a, err := parseAtomic(s)
		return err == nil && a.Cmp(max) <= 0
	}
	switch {
	case req.Version == x402.V2 && req.V2 != nil:
		pr := *req.V2
		pr.Accepts = nil
		for _, a := range req.V2.Accepts {
			if within(a.Amount) {
				pr.Accepts = append(pr.Accepts, a)
			}
		}
		if len(pr.Accepts) == 0 {
			return nil, overMax(cheapest, max)
		}
		if len(pr.Accepts) == len(req.V2.Accepts) {
			return req, nil
		}
		v, err := x402.EncodeHeader(pr)
		if err != nil {
			return nil, err
		}
		out.V2, out.Raw = &pr, []byte(v)
	case req.Version == x402.V1 && req.V1 != nil:
		pr := *req.V1
		pr.Accepts = nil
		for _, a := range req.V1.Accepts {
			if within(a.MaxAmountRequired) {
				pr.Accepts = append(pr.Accepts, a)
			}
		}
		if len(pr.Accepts) == 0 {
			return nil, overMax(cheapest, max)
		}
		if len(pr.Accepts) == len(req.V1.Accepts) {
			return req, nil
		}
		raw, err := json.Marshal(pr)
		if err != nil {
			return nil, err
		}
		out.V1, out.Raw = &pr, raw
	default:
		return nil, errors.New("max_amount: demand of unknown version")
	}
	return &out, nil
}

func overMax(cheapest string, max *big.Int) error {
	if cheapest == "" {
		cheapest = "an unreadable amount"
	}
	return &overMaxError{asked: cheapest, max: max}
}

// parseAtomic reads a non-negative integer amount in atomic units.
func parseAtomic(s string) (*big.Int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 78 || strings.Trim(s, "0123456789") != "" {
		return nil, fmt.Errorf("%q is not a whole number of atomic units (write 10000, not 0.01)", s)
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("%q is not a whole number of atomic units", s)
	}
	return v, nil
}
