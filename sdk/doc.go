// Package sdk is the public Go client of fleetkey's HTTP API: the agent API (pay an x402
// demand, read one's own payment) and the operator API (fleets, groups, agents, credentials,
// policies, approvals, authorizations, audit records), plus Payer, an x402.Payer that sends
// every demand to fleetkey so that an agent pays without holding a key:
//
//	payer, err := sdk.NewPayer("http://127.0.0.1:8402", agentToken)
//	...
//	resp, err := x402.NewClient(payer).Get("https://api.example.com/paid")
//
// The package holds no key material and links none: it imports no custody, key, store or
// payments code (a test checks its dependency list). Tokens are secrets: the Client keeps its
// own out of every fmt verb, slog record and error, and tokens the API issues come back as
// Token values that redact themselves until Reveal is called.
//
// Every failed answer of the API is an *APIError; errors.Is matches it against the sentinel
// errors (ErrDenied, ErrNotFound, ErrForbidden, …) by code and status, so callers branch
// without parsing messages. See docs/sdk.md for the wire contract.
package sdk
