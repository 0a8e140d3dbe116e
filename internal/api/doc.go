// Package api is fleetkey's HTTP API: one http.Handler (NewHandler) for agents
// and operators.
//
// Agents may pay an x402 demand (x402 v1 body or v2 PAYMENT-REQUIRED header,
// "exact" scheme on EVM, signed as an EIP-3009 TransferWithAuthorization), poll
// their own payment while it waits for approval, and learn who their credential
// says they are. Operators manage credentials, fleets, groups, agents, policies
// and approvals, and read payments and the audit chain.
//
// Both authenticate with an RFC 6750 bearer token: "fka_…" for an agent,
// "fko_…" for an operator. The agent a request acts for is always the one its
// credential names, never one the request body or path could choose, so an
// agent cannot pay or read anything as another agent (another agent's payment
// is not found). An agent token on an operator route, or an operator token on an
// agent route, gets the same 401 as a bad token. Each operator route admits the
// roles the contract names (admin, operator, approver, auditor); a valid
// operator of another role gets 403 forbidden. No route signs caller-chosen
// bytes, and no operator answer carries a credential hash or a signed payment
// header.
//
// Request bodies are decoded strictly (one JSON object, no unknown field,
// nothing after it, at most Config.MaxBodyBytes) and every failure is a
// specific 400. Every answer but the OpenAPI document (and the daemon's
// /metrics) is JSON, and every answer carries Cache-Control: no-store. Every
// failure is one *Error (status, stable code, public message, internal cause)
// rendered by one function that logs the cause and sends only the message. The
// routes are described by the OpenAPI 3.1 document openapi.yaml, embedded and
// served at GET /openapi.yaml, with each operator route's roles in x-roles;
// tests fail when the handler (Routes, ExtraRoutes, the roles it admits, the
// fields of its JSON types) and the document disagree.
//
// The handler logs one structured log/slog record per request (route, status,
// duration, agent or operator credential id and role, authorization id,
// outcome, and the cause of a failure); tokens and signed payment headers are
// never logged.
package api
