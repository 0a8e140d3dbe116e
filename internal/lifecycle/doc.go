// Package lifecycle manages what an agent key leaves behind, on chain and off:
// its dependency map (outstanding EIP-3009 authorizations, ERC-20 allowances
// found from Approval logs and confirmed with allowance(), EIP-2612 permit
// nonces, credentials, policies, payees and origins paid), rotation to the next
// key generation, revocation that propagates to the chain, and the sweep of
// orphaned wallets.
//
// Rotation and revocation are jobs recorded step by step in the store
// (store.JobWriter). A step that submits transactions records their hashes
// before waiting for them; a step always starts from the chain's state, not
// from what it meant to do, so a job resumed after a crash finishes what is
// left and never does anything twice. A job's steps run only under its lease
// in the store (store.JobWriter.LeaseJob), so two processes on one database
// never run them at once.
//
// Chain operations follow EIP-3009: an outstanding authorization is cancelled
// with cancelAuthorization(authorizer, nonce, v, r, s) signed by the agent key
// over the CancelAuthorization(address authorizer,bytes32 nonce) typed data
// (EIP-712, the token's own domain), and funds are swept with
// transferWithAuthorization signed by the agent key; both are submitted by a
// configured relayer account, so the agent's address needs no gas. Resetting
// an ERC-20 allowance (approve(spender, 0)) must come from the key itself: a
// gas-sponsor account funds the key just before, and the report says so.
//
// Signing here goes through custody handles (*custody.Key) on digests this
// package computes itself from typed data it builds; nothing here signs a hash
// chosen by a caller, and nothing is exposed over an API that would.
package lifecycle
