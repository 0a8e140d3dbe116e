package sidecar

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fleetkey/fleetkey/x402"
)

// Receipt summarizes a payment that was sent with a request: what was authorized (from the
// payment header itself, so it is what was signed, not what was asked) and, when the server
// answered with a settlement, the transaction.
type Receipt struct {
	// Amount is the authorized value in the asset's atomic units, a decimal string.
	Amount string `json:"amount"`
	// Asset is the token contract address.
	Asset string `json:"asset"`
	// PayTo is the receiving address.
	PayTo string `json:"pay_to"`
	// Network is the CAIP-2 id (x402 v2) or the v1 network name.
	Network string `json:"network"`
	// Transaction is the settlement transaction hash; empty when the server sent none.
	Transaction string `json:"tx,omitempty"`
	// Settled reports a settlement header with success true.
	Settled bool `json:"settled"`
	// AuthorizationID is fleetkey's id for the authorization, when the payer gave one.
	AuthorizationID string `json:"authorization_id,omitempty"`
}

// ReceiptFromResult builds the receipt of a paid request from what x402.Transport recorded
// (x402.ResultFromResponse). It fails when res has no payment or the payment header cannot be
// read.
func ReceiptFromResult(res *x402.Result) (*Receipt, error) {
	if res == nil || res.Payment == nil {
		return nil, errors.New("sidecar: no payment was made")
	}
	r := &Receipt{AuthorizationID: res.Payment.AuthorizationID}
	var inner []byte
	switch {
	case strings.EqualFold(res.Payment.Header, x402.HeaderPaymentSignature):
		p, _, err := x402.DecodePaymentPayloadV2(res.Payment.Value)
		if err != nil {
			return nil, fmt.Errorf("sidecar: payment header: %w", err)
		}
		r.Asset, r.Network, r.PayTo, r.Amount = p.Accepted.Asset, p.Accepted.Network, p.Accepted.PayTo, p.Accepted.Amount
		inner = p.Payload
	case strings.EqualFold(res.Payment.Header, x402.HeaderXPayment):
		p, _, err := x402.DecodePaymentPayloadV1(res.Payment.Value)
		if err != nil {
			return nil, fmt.Errorf("sidecar: payment header: %w", err)
		}
		r.Network = p.Network
		inner = p.Payload
	default:
		return nil, fmt.Errorf("sidecar: unknown payment header %q", res.Payment.Header)
	}
	if ev, err := x402.DecodeExactEVMPayload(inner); err == nil && ev.Authorization.Value != "" {
		// The signed authorization is what moves the tokens.
		r.Amount, r.PayTo = ev.Authorization.Value, ev.Authorization.To
	}
	if r.Asset == "" {
		r.Asset = v1Asset(res, r)
	}
	if s := res.Settlement; s != nil {
		r.Settled, r.Transaction = s.Success, s.Transaction
	}
	return r, nil
}

// v1Asset finds the asset of a v1 payment: the payer's recorded requirement, else the one
// entry of the demand with the payment's network and payee.
func v1Asset(res *x402.Result, r *Receipt) string {
	var req x402.PaymentRequirementsV1
	if len(res.Payment.Requirement) > 0 && json.Unmarshal(res.Payment.Requirement, &req) == nil && req.Asset != "" {
		return req.Asset
	}
	if res.Request == nil || res.Request.V1 == nil {
		return ""
	}
	asset := ""
	for _, a := range res.Request.V1.Accepts {
		if a.Network == r.Network && strings.EqualFold(a.PayTo, r.PayTo) {
			if asset != "" && !strings.EqualFold(asset, a.Asset) {
				return "" // ambiguous: say nothing rather than guess
			}
			asset = a.Asset
		}
	}
	return asset
}

// HeaderValue is the receipt as the X-Fleetkey-Payment header value:
// "amount=10000; asset=0x…; pay_to=0x…; network=eip155:84532; tx=0x…" (tx empty when the
// server sent no settlement; authorization_id appended when known).
func (r *Receipt) HeaderValue() string {
	v := fmt.Sprintf("amount=%s; asset=%s; pay_to=%s; network=%s; tx=%s",
		headerText(r.Amount), headerText(r.Asset), headerText(r.PayTo), headerText(r.Network), headerText(r.Transaction))
	if r.AuthorizationID != "" {
		v += "; authorization_id=" + headerText(r.AuthorizationID)
	}
	return v
}

// headerText keeps a value safe inside a header: printable ASCII only, no separators of the
// key=value list, bounded length.
func headerText(s string) string {
	const max = 300
	s = strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e || c == ';' {
			return '?'
		}
		return c
	}, s)
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
