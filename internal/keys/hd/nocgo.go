//go:build !cgo

package hd

// Without cgo, go-ethereum's secp256k1 falls back to code that is not constant time in the
// secret scalar. Refuse to build rather than ship it: build with CGO_ENABLED=1 and a C compiler.
var _ = hdRequiresCgoForConstantTimeSecp256k1BuildWithCGO_ENABLED1
