// Package interop holds fleetkey's x402 interoperability tests: they run the published
// reference npm packages (@x402/core, @x402/evm, @x402/fetch and @x402/express 2.27.0, and the
// v1 x402 and x402-fetch 1.2.0) on Node 20 against fleetkey's x402 client, middleware and
// facilitator, on the embedded devnet, and check the protocol (x402 v1 and v2, exact scheme
// with EIP-3009 TransferWithAuthorization) both on the wire and on chain.
//
// The package has no API. The tests live in interop_test.go, the Node side in the .mjs
// scripts next to it, pinned by package.json and package-lock.json; docs/interop.md describes
// each flow and how to run it.
package interop
