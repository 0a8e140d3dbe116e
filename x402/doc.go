// Package x402 implements the x402 HTTP payment protocol (versions 1 and 2, as
// spoken by the reference @x402/* 2.27 and x402 1.2.0 packages): the wire types,
// the base64-JSON header codecs, CAIP-2 and v1 network names, an
// http.RoundTripper that pays for 402 responses through a Payer, resource-server
// middleware for net/http, and an HTTP client for a remote facilitator.
//
// The package speaks the protocol only; it holds no keys. The "exact" scheme on
// EVM chains (EIP-712 / EIP-3009 TransferWithAuthorization) lives in the
// subpackage x402/exact.
//
// Wire fidelity matters more than convenience here: a v2 client must echo the
// requirement it chose byte-for-byte as "accepted", because the reference
// server compares it field by field with exact string equality. Values decoded
// from JSON therefore keep the bytes they were decoded from (see
// PaymentRequirementsV2 and ResourceInfo).
package x402
