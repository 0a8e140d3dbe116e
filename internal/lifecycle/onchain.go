package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// CancelAuthorizationType is the EIP-3009 CancelAuthorization struct type.
const CancelAuthorizationType = "CancelAuthorization(address authorizer,bytes32 nonce)"

// CancelAuthorizationTypeHash is keccak256(CancelAuthorizationType),
// 0x158b0a9edf7a828aad02f63cd515c68ef2f50ba807396f6d12842833a1597429.
var CancelAuthorizationTypeHash = crypto.Keccak256Hash([]byte(CancelAuthorizationType))

// CancelDigest is the EIP-712 digest of CancelAuthorization(authorizer, nonce)
// under the token's domain: the value the authorizer signs to cancel an unused
// authorization.
func CancelDigest(d exact.Domain, authorizer common.Address, nonce [32]byte) common.Hash {
	sep := d.Separator()
	st := crypto.Keccak256Hash(CancelAuthorizationTypeHash[:], common.LeftPadBytes(authorizer[:], 32), nonce[:])
	return crypto.Keccak256Hash([]byte{0x19, 0x01}, sep[:], st[:])
}

// vrs splits custody's r‖s‖v (v in {0, 1}) into the token's (v, r, s), v in {27, 28}.
func vrs(sig [65]byte) (uint8, [32]byte, [32]byte) {
	var r, s [32]byte
	copy(r[:], sig[:32])
	copy(s[:], sig[32:64])
	return sig[64] + 27, r, s
}

// signCancel signs the cancellation of the key's authorization nonce on asset a.
// The digest is built here from the typed data; custody never sees a caller's hash.
func (m *Manager) signCancel(h *custody.Key, a signer.Asset, nonce [32]byte) (uint8, [32]byte, [32]byte, error) {
	sig, err := h.SignDigest(CancelDigest(m.domain(a), h.Address(), nonce))
	if err != nil {
		return 0, [32]byte{}, [32]byte{}, err
	}
	v, r, s := vrs(sig)
	return v, r, s, nil
}

// relayCancel submits cancelAuthorization(authorizer, nonce, v, r, s) from the relayer.
func (m *Manager) relayCancel(ctx context.Context, h *custody.Key, a signer.Asset, nonce [32]byte) (*types.Transaction, error) {
	v, r, s, err := m.signCancel(h, a, nonce)
	if err != nil {
		return nil, err
	}
	meth, err := bindings.MethodBySignature(m.token, "cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)")
	if err != nil {
		return nil, err
	}
	args, err := meth.Inputs.Pack(h.Address(), nonce, v, r, s)
	if err != nil {
		return nil, fmt.Errorf("lifecycle: pack cancelAuthorization: %w", err)
	}
	to := a.Address
	return m.cfg.Relayer.Send(ctx, chain.Tx{To: &to, Data: append(append([]byte{}, meth.ID...), args...)})
}

// relayTransfer signs a transferWithAuthorization of value from the key to `to`
// (fresh crypto/rand nonce, valid from now for SweepValidity) and submits it
// from the relayer.
func (m *Manager) relayTransfer(ctx context.Context, h *custody.Key, a signer.Asset, to common.Address, value *big.Int) (*types.Transaction, error) {
	nonce, err := exact.NewNonce()
	if err != nil {
		return nil, err
	}
	before := m.clock().Add(m.cfg.SweepValidity).Unix()
	auth := &exact.Authorization{From: h.Address(), To: to, Value: new(big.Int).Set(value),
		ValidAfter: new(big.Int), ValidBefore: big.NewInt(before), Nonce: nonce}
	sig, err := h.SignDigest(exact.Hash(m.domain(a), auth).Digest)
	if err != nil {
		return nil, err
	}
	v, r, s := vrs(sig)
	meth, err := bindings.MethodBySignature(m.token, "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)")
	if err != nil {
		return nil, err
	}
	args, err := meth.Inputs.Pack(auth.From, auth.To, auth.Value, auth.ValidAfter, auth.ValidBefore, auth.Nonce, v, r, s)
	if err != nil {
		return nil, fmt.Errorf("lifecycle: pack transferWithAuthorization: %w", err)
	}
	tok := a.Address
	return m.cfg.Relayer.Send(ctx, chain.Tx{To: &tok, Data: append(append([]byte{}, meth.ID...), args...)})
}

// fee returns an EIP-1559 fee quote (tip, cap = tip + 2·base fee).
func (m *Manager) fee(ctx context.Context) (tip, feeCap *big.Int, err error) {
	head, err := m.cfg.Backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("lifecycle: latest header: %w", err)
	}
	if tip, err = m.cfg.Backend.SuggestGasTipCap(ctx); err != nil {
		return nil, nil, fmt.Errorf("lifecycle: gas tip: %w", err)
	}
	base := head.BaseFee
	if base == nil {
		base = new(big.Int)
	}
	return tip, new(big.Int).Add(tip, new(big.Int).Mul(base, big.NewInt(2))), nil
}

// keyTx signs a transaction from the agent key itself (EIP-1559, EIP-155 chain
// id) with custody and submits it. Only the two transactions this package
// builds use it: approve(spender, 0) and a native-coin sweep.
func (m *Manager) keyTx(ctx context.Context, h *custody.Key, to common.Address, value *big.Int, data []byte, gas uint64, tip, feeCap *big.Int) (*types.Transaction, error) {
	nonce, err := m.cfg.Backend.PendingNonceAt(ctx, h.Address())
	if err != nil {
		return nil, fmt.Errorf("lifecycle: pending nonce: %w", err)
	}
	id := new(big.Int).SetUint64(m.cfg.ChainID)
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: id, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: &to, Value: value, Data: data})
	s := types.LatestSignerForChainID(id)
	sig, err := h.SignDigest(s.Hash(tx))
	if err != nil {
		return nil, err
	}
	signed, err := tx.WithSignature(s, sig[:])
	if err != nil {
		return nil, fmt.Errorf("lifecycle: sign transaction: %w", err)
	}
	if err := m.cfg.Backend.SendTransaction(ctx, signed); err != nil {
		return nil, fmt.Errorf("lifecycle: send transaction from %s: %w", h.Address().Hex(), err)
	}
	return signed, nil
}

func (m *Manager) caller(a signer.Asset) (*bindings.TestUSD, error) {
	return bindings.NewTestUSD(a.Address, m.cfg.Backend)
}

func (m *Manager) call(ctx context.Context) *bind.CallOpts { return &bind.CallOpts{Context: ctx} }

// allowances finds the spenders owner has approved on asset a: every Approval
// log with that owner names a candidate, and allowance() says which still hold
// a non-zero allowance (with its value).
func (m *Manager) allowances(ctx context.Context, a signer.Asset, owner common.Address) (map[common.Address]*big.Int, error) {
	tok, err := m.caller(a)
	if err != nil {
		return nil, err
	}
	it, err := tok.FilterApproval(&bind.FilterOpts{Start: m.cfg.LogsFromBlock, Context: ctx}, []common.Address{owner}, nil)
	if err != nil {
		return nil, fmt.Errorf("lifecycle: Approval logs of %s on %s: %w", owner.Hex(), a.Symbol, err)
	}
	defer it.Close()
	seen := map[common.Address]bool{}
	var spenders []common.Address
	for it.Next() {
		if sp := it.Event.Spender; !seen[sp] {
			seen[sp] = true
			spenders = append(spenders, sp)
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("lifecycle: Approval logs of %s on %s: %w", owner.Hex(), a.Symbol, err)
	}
	out := map[common.Address]*big.Int{}
	for _, sp := range spenders {
		v, err := tok.Allowance(m.call(ctx), owner, sp)
		if err != nil {
			return nil, fmt.Errorf("lifecycle: allowance(%s, %s) on %s: %w", owner.Hex(), sp.Hex(), a.Symbol, err)
		}
		if v.Sign() > 0 {
			out[sp] = v
		}
	}
	return out, nil
}

// waitAll waits for every transaction hash in hashes and reports, per hash,
// whether it succeeded; a reverted one is not an error here (the caller
// re-reads the chain's state), a missing receipt after ctx ends is.
func (m *Manager) waitAll(ctx context.Context, hashes []string) ([]bool, error) {
	ok := make([]bool, len(hashes))
	for i, h := range hashes {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		r, err := chain.WaitReceipt(wctx, m.cfg.Backend, common.HexToHash(h))
		cancel()
		if err != nil {
			return ok, err
		}
		ok[i] = r.Status == types.ReceiptStatusSuccessful
	}
	return ok, nil
}

// mined waits for tx and fails when it reverted.
func (m *Manager) mined(ctx context.Context, tx *types.Transaction) error {
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, err := chain.WaitSuccess(wctx, m.cfg.Backend, tx.Hash())
	return err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
