// Package chain holds fleetkey's EVM plumbing that is not specific to one contract: waiting for
// transaction receipts with a short poll (the devnet mines in milliseconds, public chains in
// seconds) and a Sender that signs and submits EIP-1559 transactions (EIP-155 replay-protected)
// from one account with locally tracked nonces, so concurrent callers never reuse a nonce.
//
// Contract bindings live in chain/bindings and the embedded development chain in chain/devnet.
package chain
