// Package sidecar is fleetkey's agent sidecar: a local HTTP endpoint that pays x402 (v1 and
// v2) 402 answers through an x402.Payer, so that an agent written in any language makes plain
// HTTP requests, needs no x402 code and never holds a key.
//
// The Handler accepts two request forms:
//
//   - forward proxy (RFC 9112 §3.2.2 absolute-form): "GET http://api.example.com/path HTTP/1.1",
//     what an HTTP client sends to a proxy set with HTTP_PROXY; and
//   - gateway: "GET /https://api.example.com/path?q HTTP/1.1" sent to the sidecar itself, the
//     absolute target URL as the path (http or https; percent-encoded "https%3A%2F%2F…" is
//     accepted too). This is how https resources are reached: CONNECT is refused (405) because
//     a tunnel would hide the 402 from the sidecar.
//
// GET /healthz on the sidecar itself answers 200 {"status":"ok"} (it does not contact fleetkey).
//
// The sidecar sends the request on, pays a 402 once through the Payer (the fleetkey SDK payer in
// production: policy and signing happen in the fleetkey service), resends it with the payment
// and streams the final answer back, adding X-Fleetkey-Payment with a receipt (amount, asset,
// pay_to, network, tx). A refused payment is a 403 JSON error with the reason and rule; a
// payment the resource server rejected is its 402, passed through with
// X-Fleetkey-Payment-Error.
//
// What the sidecar never does: put anything of its own credential on the forwarded request
// (the Payer talks to fleetkey on its own connection), accept a payment header from its client
// (a request carrying PAYMENT-SIGNATURE or X-PAYMENT is refused with 400, so that every payment
// through the sidecar is one fleetkey made and X-Fleetkey-Payment always means fleetkey paid),
// let a resource server forge X-Fleetkey-* answer headers (they are removed from upstream
// answers), follow redirects (they go back to the client, as from any proxy), or serve
// requests from web pages (a request with a Sec-Fetch-Site header other than "none" is
// refused, and gateway requests must name a loopback Host unless AllowRemote is set, against
// DNS rebinding). Every exchange is bounded by Config.Timeout, and request bodies by
// Config.MaxBody (they are buffered so that the paid retry can resend them).
package sidecar
