// Package demo is the demonstration world that `fleetkey dev` runs next to the
// signing service: a paid HTTP API speaking x402 (v2, and v1 where the chain
// has a v1 network name) with a few honest endpoints and four hostile ones a
// careful signer must refuse, the demo fleet (groups, agents and their
// policies in internal/policy's YAML, provisioned through the operator API
// with the SDK), and simulated agent traffic that pays
// through any x402.Payer and reports what happened to each request, with a
// Summary for a live terminal view.
//
// The hostile endpoints play the "hostile resource server" of
// docs/threat-model.md: a 402 that asks far more than the advertised price
// (overcharge), a payee outside the allowlist (foreign_payto), an EIP-712
// domain naming another token at the trusted token's address (wrong_domain),
// and a server that answers 402 again after a valid payment, hoping to be paid
// twice (repeat_402).
//
// Nothing here holds a key: the API is paid through a facilitator, and the
// traffic pays through the Payer it is given.
package demo
