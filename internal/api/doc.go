// Package api is fleetkey's agent HTTP API: the only thing an agent may ask of
// the signing service is to pay an x402 demand (x402 v1 body or v2
// PAYMENT-REQUIRED header, "exact" scheme on EVM, signed as an EIP-3009
// TransferWithAuthorization) and to learn who its credential says it is.
//
// Agents authenticate with an RFC 6750 bearer token ("Authorization: Bearer
// fka_…"); the agent a request acts for is always the one its credential names,
// never one the request body or path could choose, so an agent cannot pay or
// read anything as another agent. No route signs caller-chosen bytes.
//
// Every answer but the OpenAPI document is JSON, and every answer carries
// Cache-Control: no-store. Every failure is one *Error
// (status, stable code, public message, internal cause) rendered by one
// function that logs the cause and sends only the message. The routes are
// described by the OpenAPI 3.1 document openapi.yaml, embedded and served at
// GET /openapi.yaml; a test fails when the handler and the document disagree on
// a route.
//
// The handler logs one structured log/slog record per request (route, status,
// duration, agent id, authorization id, outcome, and the cause of a failure);
// tokens and signed payment headers are never logged.
package api
