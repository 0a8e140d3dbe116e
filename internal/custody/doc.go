// Package custody is the only code in fleetkey that touches key material. It seals the root
// secret (BIP-39 entropy, 128 to 256 bits; 256 for every seed fleetkey generates) at rest with
// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) under a key-encryption key (KEK) held in one of two
// ways:
//
//   - an operator passphrase stretched with Argon2id (RFC 9106), parameters stored in the seal;
//   - a random 256-bit KEK split k-of-n with SLIP-0039 Shamir secret sharing, one share per
//     operator, so that any k operators together can unseal and k−1 learn nothing.
//
// The AEAD key and a key-check value are derived from the KEK with HKDF-SHA256 (RFC 5869) under
// distinct, versioned labels; the whole header is bound to the ciphertext as additional data.
// docs/custody.md describes the file formats byte by byte and the threat model.
//
// After [Unseal], a [Vault] holds the BIP-39 seed in locked, non-dumpable memory. Keys are derived
// with BIP-32 on demand and exposed only as signing handles ([Key]): they sign a 32-byte digest
// and report their public key and address. No function in this package returns a private key,
// the seed or the entropy. Secret inputs ([Passphrase], [ShareMnemonic], [Mnemonic]) have their
// own types that redact themselves when printed or logged, compare in constant time and are
// wiped after use. While a vault is open the process refuses core dumps ([ProtectProcess]).
package custody
