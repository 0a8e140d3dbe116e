// Package mcpserver is fleetkey's Model Context Protocol server (the revisions from
// 2024-11-05 to 2026-07-28, through the official Go SDK github.com/modelcontextprotocol/go-sdk
// v1.8.0, over stdio or streamable HTTP): it gives an
// LLM agent a "pay and fetch" tool without access to keys, policies or other agents.
//
// The server exposes exactly two tools and nothing else (no resources, no prompts):
//
//   - x402_fetch {url, method?, headers?, body?, max_amount?}: fetches an http(s) URL, pays an
//     x402 402 answer once through the configured x402.Payer (in production the fleetkey SDK
//     payer, so policy is applied and the signature made inside fleetkey) and returns the
//     status, content type, body (cut at Config.MaxResponseBody, and says so) and the payment
//     receipt (amount, asset, pay_to, network, tx). max_amount is in the asset's atomic units
//     (an integer: 10000 is 0.01 of a 6-decimal token); a demand whose every option asks more
//     is refused before anything is signed, options above it are removed from the demand the
//     payer sees, and a payment above it is never sent. A refused payment is a tool error
//     (isError) that names the reason and the rule.
//   - budget_status: what the agent's own credential can see about itself (BudgetSource).
//
// Nothing an MCP client sends can change policy, budgets or credentials: the tools only read,
// and spend within what fleetkey allows. The credential itself stays with the payer and is
// never put on a fetched request.
package mcpserver
