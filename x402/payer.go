package x402

import (
	"context"
	"encoding/json"
)

// Payer turns a server's payment demand into a payment header. fleetkey's SDK
// implements it by forwarding the demand to the signing service, which picks
// a requirement, applies policy and signs inside custody; an agent never
// holds a key. Pay must not be called twice for one request; the Transport
// guarantees it.
type Payer interface {
	Pay(ctx context.Context, req *PaymentRequest) (*Payment, error)
}

// PaymentRequest is everything a Payer learns about a 402: the request that
// got it, the parsed demand, and the demand exactly as received, so that a
// remote signer can parse and check it itself rather than trust this process.
type PaymentRequest struct {
	// URL and Method of the request that was answered with 402.
	URL    string
	Method string
	// Version is the protocol version of the demand, V1 or V2.
	Version int
	// V2 is set for a v2 demand (PAYMENT-REQUIRED header), V1 for a v1
	// demand (JSON body with accepts).
	V2 *PaymentRequiredV2
	V1 *PaymentRequiredV1
	// Raw is the demand as received: for v2 the PAYMENT-REQUIRED header
	// value (base64 text) verbatim, for v1 the response body verbatim.
	Raw []byte
}

// Payment is a Payer's answer: the header to add to the retried request.
type Payment struct {
	// Header is HeaderPaymentSignature for v2 and HeaderXPayment for v1; the
	// Transport refuses any other.
	Header string
	// Value is the base64-JSON payment payload.
	Value string
	// Requirement optionally records the chosen entry of accepts.
	Requirement json.RawMessage
	// AuthorizationID optionally identifies the authorization at the payer
	// (fleetkey's ledger id), for the caller's records.
	AuthorizationID string
}
