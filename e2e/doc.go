// Package e2e holds the end-to-end test of issue #5: it builds the fleetkey binary, starts
// `fleetkey dev --no-traffic --fresh` as a subprocess, reads its manifest (dev.json) and drives
// the running system as users do: a Node agent pays through `fleetkey sidecar` with plain fetch
// (examples/node-agent), the Go example agent pays through the SDK (examples/go-agent), a Go MCP
// client starts `fleetkey mcp` from the configuration snippet of examples/mcp and pays with the
// x402_fetch tool; token balances are checked on the devnet, `fleetkey audit verify` checks the
// audit chain over the API, SIGINT stops everything, and a second start reuses the state.
//
// The test needs Node 20 (present in CI) for examples/node-agent; without `node` it runs every
// other part (the sidecar through Go's HTTP client instead) and then skips with a message.
package e2e
