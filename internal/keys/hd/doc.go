// Package hd implements hierarchical deterministic keys for fleetkey: BIP-39 mnemonics (English
// word list only), BIP-32 key derivation over secp256k1, BIP-44 style paths and EIP-55 Ethereum
// addresses.
//
// # Agent paths are hardened at every level
//
// Every agent key lives at m/44'/60'/{fleet}'/{agent}'/{generation}' (see [AgentPath]). Each level
// is hardened on purpose. In non-hardened (public) BIP-32 derivation the child private key is
//
//	k_child = k_parent + IL  (mod n),  IL = HMAC-SHA512(chain code, K_parent || i)[:32]
//
// and IL depends only on public data: the parent's chain code and public key, i.e. its xpub. So
// whoever holds the parent xpub and one leaked non-hardened child private key computes
// k_parent = k_child − IL (mod n), and with it every sibling, every descendant and, if the parent
// itself was derived non-hardened, its ancestors too. One compromised agent would expose the
// whole fleet. Hardened derivation feeds k_parent itself into the HMAC, so IL cannot be computed
// without the parent private key and a leaked agent key reveals nothing about any other key. The
// test TestNonHardenedLeakAttack carries out this attack on a non-hardened child and shows that
// the same computation fails on an agent path.
//
// # Side channels
//
// Operations on secret scalars go through go-ethereum's cgo binding of libsecp256k1
// (github.com/ethereum/go-ethereum/crypto/secp256k1): public keys are computed with
// S256().ScalarBaseMult, which calls secp256k1_ecmult_const (constant time in the scalar), and
// signatures with secp256k1.Sign (libsecp256k1 ECDSA with RFC 6979 nonces). Child private keys
// are added modulo the group order with decred's fixed-size ModNScalar, whose Add and SetBytes
// are constant time. Decred's variable-time point arithmetic is used only on public data:
// public-key parsing and public (xpub) child derivation. Building without cgo is refused at
// compile time (nocgo.go), so the variable-time fallback of go-ethereum can never be shipped by
// accident.
//
// Mnemonic words are looked up, in both directions, by scanning the whole word list with
// constant-time selects, so which list entries are touched does not depend on the words. String
// handling around the lookups still depends on word lengths; mnemonics are converted once, at
// creation or import, never in a loop an attacker can time. Likewise, decoding an xprv (tests
// and one-time imports only) uses ordinary, variable-time base58 arithmetic.
//
// # Secrets
//
// No exported function returns private key bytes or serialises a private extended key. An
// [ExtendedKey] holding a private key prints as a fixed redacted text, and [ExtendedKey.Wipe]
// clears it. Mnemonic and passphrase strings cannot be wiped (Go strings are immutable); callers
// that must wipe them keep them in byte slices and convert only for the call.
package hd
