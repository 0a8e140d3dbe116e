// Package slip39 implements SLIP-0039, Shamir's Secret-Sharing for Mnemonic
// Codes (satoshilabs/slips, slip-0039.md, including the extendable backup
// flag): a master secret is encrypted with a passphrase (a four-round
// Feistel network over PBKDF2-HMAC-SHA256), split with a two-level
// threshold scheme (any GT of G groups, each needing T_i of its N_i
// members) over GF(256), and every share is written as a list of words
// with an RS1024 checksum.
//
// fleetkey splits the 256-bit key-encryption key of the custody root with
// it, one share per operator, so that any K of N operators together can
// unseal the root and no K−1 of them can (separation of duties).
//
// # Why K−1 shares say nothing about the secret
//
// This cannot be shown by a test; it follows from the construction. Fix
// one byte position. SplitSecret fixes a polynomial f of degree at most
// T−1 over GF(256) by T points: T−2 uniformly random values at x = 0..T−3,
// the digest share D at x = 254 and the secret S at x = 255; share i is
// f(i). Take any T−1 share indices X (all below 16, so distinct from 254
// and 255). For a fixed S, Lagrange interpolation is a bijection between
// the T−1 free inputs (the T−2 random values and D) and the T−1 values
// f(X): T points determine f, and f determines every other point. So,
// given S, the observed shares are distributed exactly like the free
// inputs. If those were all uniform and independent of S, the shares would
// be uniform whatever S is: perfect, information-theoretic hiding against
// an unbounded adversary. The same argument applies at the group level
// (fewer than GT group shares, each itself hidden unless its group reaches
// T_i members) and byte by byte, since each byte position has its own
// polynomial.
//
// The one free input that is not uniform is D = first 4 bytes of
// HMAC-SHA256(key=R, msg=S) || R, with R uniform and independent of S.
// Everything K−1 shares reveal about S is therefore what D reveals: at
// most the 32 digest bits, usable only by testing candidate secrets one by
// one. The specification states this: an attacker with T−1 shares who
// can search all 2^m secrets can discard those whose digest fails, leaving
// 2^(m−32); hence the 128-bit minimum (fleetkey splits 256 bits). The
// shares split the encrypted master secret, a permutation of the master
// secret under the passphrase and parameters, so the same holds for the
// master secret. Finally the passphrase is not verified: a wrong one yields
// a different secret, not an error.
//
// # Side channels
//
// Field arithmetic is table-free and branch-free (see gf256.go); the
// RS1024 checksum and the word-list conversions touch every entry rather
// than index by secret data. Intermediate buffers are wiped. Mnemonics
// are Go strings, which cannot be wiped, and crypto/pbkdf2 keeps private
// copies of its inputs.
package slip39
