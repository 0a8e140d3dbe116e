package facilitator

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Backend is the JSON-RPC access the facilitator needs on one chain; *ethclient.Client has it.
type Backend interface {
	ChainID(ctx context.Context) (*big.Int, error)
	CodeAt(ctx context.Context, account common.Address, blockNumber *big.Int) ([]byte, error)
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
	EstimateGas(ctx context.Context, call ethereum.CallMsg) (uint64, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	SuggestGasPrice(ctx context.Context) (*big.Int, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
}

// Gas and fee policy of settlement transactions.
const (
	// gasMarginPercent is added to eth_estimateGas: concurrent settlements touch the same
	// balances, so the gas a transfer needs can change between estimate and inclusion.
	gasMarginPercent = 25
	// feeCacheFor bounds how long one fee quote is reused; a burst of settlements then costs
	// two fee RPCs instead of two each. Twice the base fee absorbs the base-fee growth of
	// several full blocks, so a short reuse never underprices a transaction.
	feeCacheFor = 2 * time.Second
)

// fees is one fee quote: EIP-1559 (tip and cap) when the chain has a base fee, else legacy.
type fees struct {
	legacy   bool
	tip, cap *big.Int
	gasPrice *big.Int
	at       time.Time
}

// relayer sends transactions from the relayer account on one chain. Nonces are assigned from a
// local counter under a mutex, so any number of settlements can be in the mempool at once
// without sharing or skipping a nonce; the counter starts from the node's pending nonce and is
// re-read after any failed submission (a rejected transaction leaves no gap; a transaction sent
// by another process with this key moves the counter forward).
type relayer struct {
	backend Backend
	key     *RelayerKey
	signer  types.Signer
	chainID *big.Int
	now     func() time.Time

	feeMu  sync.Mutex
	quoted *fees

	mu         sync.Mutex
	nonce      uint64
	nonceKnown bool
}

func newRelayer(b Backend, key *RelayerKey, chainID uint64, now func() time.Time) *relayer {
	id := new(big.Int).SetUint64(chainID)
	return &relayer{backend: b, key: key, signer: types.LatestSignerForChainID(id), chainID: id, now: now}
}

// estimateError is a failed eth_estimateGas: the transaction would revert (or the node refused
// to run it). Its text carries the revert reason, which settle maps to a reason code.
type estimateError struct{ err error }

func (e *estimateError) Error() string { return "facilitator: eth_estimateGas: " + e.err.Error() }
func (e *estimateError) Unwrap() error { return e.err }

func (r *relayer) fees(ctx context.Context) (*fees, error) {
	r.feeMu.Lock()
	defer r.feeMu.Unlock()
	if q := r.quoted; q != nil && r.now().Sub(q.at) < feeCacheFor {
		return q, nil
	}
	head, err := r.backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("facilitator: latest header: %w", err)
	}
	q := &fees{at: r.now()}
	if head.BaseFee == nil {
		// A chain without EIP-1559: legacy gas price.
		if q.gasPrice, err = r.backend.SuggestGasPrice(ctx); err != nil {
			return nil, fmt.Errorf("facilitator: gas price: %w", err)
		}
		q.legacy = true
	} else {
		if q.tip, err = r.backend.SuggestGasTipCap(ctx); err != nil {
			return nil, fmt.Errorf("facilitator: gas tip: %w", err)
		}
		q.cap = new(big.Int).Add(q.tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	}
	r.quoted = q
	return q, nil
}

// send estimates, prices, signs and submits a call of to with data, and returns the submitted
// transaction. A revert at estimation is an *estimateError.
func (r *relayer) send(ctx context.Context, to common.Address, data []byte) (*types.Transaction, error) {
	from := r.key.Address()
	est, err := r.backend.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &to, Data: data})
	if err != nil {
		return nil, &estimateError{err}
	}
	gas := est + est*gasMarginPercent/100
	q, err := r.fees(ctx)
	if err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	// One retry: a "nonce too low" means the counter was stale (another sender, or a
	// submission that reached the node although its call failed); re-read and try once more.
	for attempt := 0; ; attempt++ {
		if !r.nonceKnown {
			n, err := r.backend.PendingNonceAt(ctx, from)
			if err != nil {
				return nil, fmt.Errorf("facilitator: pending nonce: %w", err)
			}
			r.nonce, r.nonceKnown = n, true
		}
		var inner types.TxData
		if q.legacy {
			inner = &types.LegacyTx{Nonce: r.nonce, GasPrice: q.gasPrice, Gas: gas, To: &to, Data: data}
		} else {
			inner = &types.DynamicFeeTx{ChainID: r.chainID, Nonce: r.nonce, GasTipCap: q.tip, GasFeeCap: q.cap, Gas: gas, To: &to, Data: data}
		}
		signed, err := r.key.signTx(types.NewTx(inner), r.signer)
		if err != nil {
			return nil, fmt.Errorf("facilitator: sign transaction: %w", err)
		}
		err = r.backend.SendTransaction(ctx, signed)
		if err == nil {
			r.nonce++
			return signed, nil
		}
		r.nonceKnown = false
		if attempt == 0 && isNonceError(err) && ctx.Err() == nil {
			continue
		}
		return nil, fmt.Errorf("facilitator: send transaction: %w", err)
	}
}

func isNonceError(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "nonce too low") || strings.Contains(msg, "already known") ||
		strings.Contains(msg, "nonce too high") || strings.Contains(msg, "replacement transaction underpriced")
}

// isRevert tells a call the EVM rejected (JSON-RPC error 3, or go-ethereum's "execution
// reverted" text) from a failure to reach the node.
func isRevert(err error) bool {
	var coded interface{ ErrorCode() int }
	if errors.As(err, &coded) && coded.ErrorCode() == 3 {
		return true
	}
	return strings.Contains(err.Error(), "execution reverted")
}
