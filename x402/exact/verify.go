package exact

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// ErrInvalidSignature means the signature does not prove that the claimed
// signer authorised the digest (the reference's invalid_exact_evm_signature).
var ErrInvalidSignature = errors.New("exact: invalid signature")

// ContractCaller is the chain access signature verification needs. It is the
// shape of go-ethereum's bind.ContractCaller, so an *ethclient.Client or a
// simulated backend's client can be passed as is.
type ContractCaller interface {
	CodeAt(ctx context.Context, contract common.Address, blockNumber *big.Int) ([]byte, error)
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
}

// DecodeSignature decodes a 0x-prefixed hex signature of any length.
func DecodeSignature(s string) ([]byte, error) {
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || len(s)%2 != 0 {
		return nil, fmt.Errorf("%w: not 0x-prefixed hex", ErrInvalidSignature)
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return nil, fmt.Errorf("%w: not 0x-prefixed hex", ErrInvalidSignature)
	}
	return b, nil
}

// SplitSignature splits a 65-byte r‖s‖v signature into the arguments of the
// v/r/s transferWithAuthorization overload. v may be 27/28 or 0/1 on input and
// is always 27/28 on output, as on-chain EIP-3009 tokens require; a high s
// (malleable) signature is refused, as those tokens refuse it.
func SplitSignature(sig []byte) (v uint8, r, s [32]byte, err error) {
	if len(sig) != crypto.SignatureLength {
		return 0, r, s, fmt.Errorf("%w: length %d, want 65", ErrInvalidSignature, len(sig))
	}
	v = sig[64]
	switch v {
	case 0, 1:
		v += 27
	case 27, 28:
	default:
		return 0, r, s, fmt.Errorf("%w: v = %d", ErrInvalidSignature, v)
	}
	copy(r[:], sig[:32])
	copy(s[:], sig[32:64])
	if !crypto.ValidateSignatureValues(v-27, new(big.Int).SetBytes(r[:]), new(big.Int).SetBytes(s[:]), true) {
		return 0, r, s, fmt.Errorf("%w: r or s out of range (high s is refused)", ErrInvalidSignature)
	}
	return v, r, s, nil
}

// RecoverSigner returns the address whose key produced the 65-byte signature
// over digest, with the checks of SplitSignature.
func RecoverSigner(digest common.Hash, sig []byte) (common.Address, error) {
	v, r, s, err := SplitSignature(sig)
	if err != nil {
		return common.Address{}, err
	}
	rsv := make([]byte, 65)
	copy(rsv, r[:])
	copy(rsv[32:], s[:])
	rsv[64] = v - 27
	pub, err := crypto.SigToPub(digest[:], rsv)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// EIP-1271 isValidSignature(bytes32,bytes) selector, which is also the magic
// value a contract returns for a valid signature.
var eip1271Magic = []byte{0x16, 0x26, 0xba, 0x7e}

// VerifySignature checks that signer authorised digest, routed by code as
// the reference facilitator does: an address without code must have produced
// a 65-byte ECDSA signature; an address with code (a contract wallet, or an
// EIP-7702-delegated account) must answer EIP-1271 isValidSignature with the
// magic value, and there is no ECDSA fallback for it. With a nil caller only
// ECDSA is possible. The error wraps ErrInvalidSignature when the signature
// is wrong; any other error is a chain access failure.
func VerifySignature(ctx context.Context, caller ContractCaller, signer common.Address, digest common.Hash, sig []byte) error {
	if caller != nil {
		code, err := caller.CodeAt(ctx, signer, nil)
		if err != nil {
			return fmt.Errorf("exact: get code of %s: %w", signer.Hex(), err)
		}
		if len(code) > 0 {
			return verifyEIP1271(ctx, caller, signer, digest, sig)
		}
	}
	got, err := RecoverSigner(digest, sig)
	if err != nil {
		return err
	}
	if got != signer {
		return fmt.Errorf("%w: signed by %s, not %s", ErrInvalidSignature, got.Hex(), signer.Hex())
	}
	return nil
}

func verifyEIP1271(ctx context.Context, caller ContractCaller, wallet common.Address, digest common.Hash, sig []byte) error {
	// isValidSignature(bytes32 hash, bytes signature): head (hash, offset 64),
	// then the length-prefixed, zero-padded signature.
	data := make([]byte, 0, 4+32*3+len(sig)+31)
	data = append(data, eip1271Magic...)
	data = append(data, digest[:]...)
	data = append(data, common.LeftPadBytes(big.NewInt(64).Bytes(), 32)...)
	data = append(data, common.LeftPadBytes(new(big.Int).SetInt64(int64(len(sig))).Bytes(), 32)...)
	data = append(data, sig...)
	if pad := len(sig) % 32; pad != 0 {
		data = append(data, make([]byte, 32-pad)...)
	}
	out, err := caller.CallContract(ctx, ethereum.CallMsg{To: &wallet, Data: data}, nil)
	if err != nil {
		if isRevert(err) {
			return fmt.Errorf("%w: isValidSignature reverted", ErrInvalidSignature)
		}
		return fmt.Errorf("exact: call isValidSignature on %s: %w", wallet.Hex(), err)
	}
	// Compare the whole first word with the left-aligned magic, as the
	// SignatureChecker of EIP-3009 tokens does.
	want := common.RightPadBytes(eip1271Magic, 32)
	if len(out) < 32 || !bytes.Equal(out[:32], want) {
		return fmt.Errorf("%w: isValidSignature did not return the magic value", ErrInvalidSignature)
	}
	return nil
}

// isRevert tells a wallet that rejected the call (JSON-RPC error 3, or the
// "execution reverted" text that go-ethereum backends return) from a failure
// to reach the chain.
func isRevert(err error) bool {
	var coded interface{ ErrorCode() int }
	if errors.As(err, &coded) && coded.ErrorCode() == 3 {
		return true
	}
	return strings.Contains(err.Error(), "execution reverted")
}
