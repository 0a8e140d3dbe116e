// Package facilitator implements an x402 facilitator for the "exact" scheme on EVM chains
// (EIP-3009 transferWithAuthorization, EIP-712 signatures, EIP-1271 contract wallets), for x402
// versions 1 and 2, wire-compatible with the reference @x402/core + @x402/evm 2.27 facilitator.
//
// A Facilitator implements x402.Facilitator in process and serves the reference HTTP API
// (POST /verify, POST /settle, GET /supported) through Handler. Verification follows the check
// order of @x402/evm 2.27 verifyEIP3009 and returns the first failure with the reference's
// reason code; it then checks the authorization nonce, the token's EIP-712 name and version and
// the payer's balance explicitly, so the reason is precise even on chains without Multicall3,
// and finally simulates the transfer with eth_call from the relayer.
//
// Settlement sends transferWithAuthorization from one relayer account, waits for the receipt
// and checks the Transfer log. An in-flight registry keyed by (chain, asset, from, nonce) makes
// sure one authorization is settled at most once by this process, even under concurrent
// requests, and a per-chain nonce counter lets many settlements be in the mempool at once.
package facilitator
