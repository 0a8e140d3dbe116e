// Package signer is the pure first half of fleetkey's payment-signing path for
// the x402 "exact" scheme on EVM chains (x402 v1 and v2, EIP-3009
// TransferWithAuthorization signed as EIP-712 typed data). It parses the 402
// an agent received, chooses one of its requirements, and builds the
// authorization and its EIP-712 digest; once custody has signed that digest it
// assembles the X-PAYMENT (v1) or PAYMENT-SIGNATURE (v2) header value. It does
// no I/O and imports neither the store nor custody.
//
// The agent's demand is untrusted: it comes from a resource server that may be
// hostile. The one input that decides what a signature means is therefore
// never taken from it. The token's EIP-712 domain (name, version, chain id,
// verifying contract) and its decimals come from the operator's trusted asset
// Registry, and a requirement whose extra.name/extra.version, chain or asset
// disagree with the registry is refused. Without this check a hostile server
// could name a token the operator trusts while asking for a signature over
// another token's domain (or the same address on another chain), and the
// resulting authorization would move a token the policy never priced.
//
// Validity windows are capped twice: validBefore is at most now plus the
// requirement's maxTimeoutSeconds, and at most now plus the policy's maximum
// validity, so an authorization that leaks cannot be replayed for long.
// validAfter follows the reference clients: "0" for v2, now-600 for v1.
//
// Nothing here signs bytes chosen by the caller: the digest handed to custody
// is always recomputed from a requirement that passed Choose and a nonce drawn
// from crypto/rand.
package signer
