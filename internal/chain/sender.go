package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Backend is what a Sender needs from an Ethereum client; *ethclient.Client has it.
type Backend interface {
	EstimateGas(ctx context.Context, call ethereum.CallMsg) (uint64, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	SuggestGasPrice(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
}

// Tx describes a transaction to send. To nil creates a contract from Data. Gas 0 means
// estimate (with a margin).
type Tx struct {
	To    *common.Address
	Data  []byte
	Value *big.Int
	Gas   uint64
}

// Fee and gas policy.
const (
	// gasMarginPercent is added to estimates because a call's gas use can change between
	// estimation and inclusion (other transactions touch the same storage first).
	gasMarginPercent = 25
	// DefaultFeeCache bounds how long one fee quote is reused, so a burst of sends costs two
	// fee RPCs instead of two each. The fee cap is twice the base fee plus the tip, which
	// absorbs the base-fee growth of several full blocks, so a short reuse never underprices.
	DefaultFeeCache = 2 * time.Second
)

// EstimateError is a failed eth_estimateGas: the transaction would revert (or the node refused
// to run it). Its text carries the revert reason, which callers may map to their own codes.
type EstimateError struct{ Err error }

func (e *EstimateError) Error() string { return "chain: eth_estimateGas: " + e.Err.Error() }
func (e *EstimateError) Unwrap() error { return e.Err }

// ErrNonce reports that the node rejected a transaction's nonce twice in a row; the Sender has
// dropped its cached nonce, so sending again uses the node's view.
var ErrNonce = errors.New("chain: nonce rejected")

// fees is one fee quote: EIP-1559 (tip and cap) when the chain has a base fee, else legacy.
type fees struct {
	legacy   bool
	tip, cap *big.Int
	gasPrice *big.Int
	at       time.Time
}

// Sender signs and submits transactions from one account: EIP-1559 when the chain has a base
// fee, legacy otherwise. It keeps the next nonce in memory and hands nonces out under a lock,
// so many goroutines can send at once without two transactions sharing a nonce. The counter
// starts from the node's pending nonce and is re-read after any failed submission, so a
// rejected transaction leaves no gap; a "nonce too low" (another process used the key, or an
// earlier submission reached the node although its call failed) is retried once.
type Sender struct {
	backend  Backend
	from     common.Address
	sign     bind.SignerFn
	chainID  *big.Int
	feeCache time.Duration
	now      func() time.Time

	feeMu  sync.Mutex
	quoted *fees

	mu         sync.Mutex
	nonce      uint64
	nonceKnown bool
}

// SenderOption configures a Sender.
type SenderOption func(*Sender)

// WithFeeCache sets how long a fee quote is reused (0 quotes for every send).
func WithFeeCache(d time.Duration) SenderOption { return func(s *Sender) { s.feeCache = d } }

// WithClock sets the clock the fee cache reads (for tests).
func WithClock(now func() time.Time) SenderOption { return func(s *Sender) { s.now = now } }

// NewSender returns a Sender for from. sign must sign for chainID (bind.NewKeyedTransactorWithChainID
// gives one); the key stays wherever sign keeps it.
func NewSender(b Backend, from common.Address, sign bind.SignerFn, chainID *big.Int, opts ...SenderOption) *Sender {
	s := &Sender{backend: b, from: from, sign: sign, chainID: new(big.Int).Set(chainID), feeCache: DefaultFeeCache, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// From returns the sending address.
func (s *Sender) From() common.Address { return s.from }

func (s *Sender) fees(ctx context.Context) (*fees, error) {
	s.feeMu.Lock()
	defer s.feeMu.Unlock()
	if q := s.quoted; q != nil && s.now().Sub(q.at) < s.feeCache {
		return q, nil
	}
	head, err := s.backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("chain: latest header: %w", err)
	}
	q := &fees{at: s.now()}
	if head.BaseFee == nil {
		if q.gasPrice, err = s.backend.SuggestGasPrice(ctx); err != nil {
			return nil, fmt.Errorf("chain: gas price: %w", err)
		}
		q.legacy = true
	} else {
		if q.tip, err = s.backend.SuggestGasTipCap(ctx); err != nil {
			return nil, fmt.Errorf("chain: gas tip: %w", err)
		}
		q.cap = new(big.Int).Add(q.tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	}
	s.quoted = q
	return q, nil
}

// Send estimates gas (unless tx.Gas is set; a failed estimate is an *EstimateError), prices the
// transaction, signs it and submits it. It returns the submitted transaction; use WaitReceipt
// or WaitSuccess to wait for inclusion.
func (s *Sender) Send(ctx context.Context, tx Tx) (*types.Transaction, error) {
	value := tx.Value
	if value == nil {
		value = new(big.Int)
	}
	gas := tx.Gas
	if gas == 0 {
		est, err := s.backend.EstimateGas(ctx, ethereum.CallMsg{From: s.from, To: tx.To, Data: tx.Data, Value: value})
		if err != nil {
			return nil, &EstimateError{Err: err}
		}
		gas = est + est*gasMarginPercent/100
	}
	q, err := s.fees(ctx)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !s.nonceKnown {
			n, err := s.backend.PendingNonceAt(ctx, s.from)
			if err != nil {
				return nil, fmt.Errorf("chain: pending nonce: %w", err)
			}
			s.nonce, s.nonceKnown = n, true
		}
		var inner types.TxData
		if q.legacy {
			inner = &types.LegacyTx{Nonce: s.nonce, GasPrice: q.gasPrice, Gas: gas, To: tx.To, Value: value, Data: tx.Data}
		} else {
			inner = &types.DynamicFeeTx{ChainID: s.chainID, Nonce: s.nonce, GasTipCap: q.tip, GasFeeCap: q.cap, Gas: gas, To: tx.To, Value: value, Data: tx.Data}
		}
		signed, err := s.sign(s.from, types.NewTx(inner))
		if err != nil {
			return nil, fmt.Errorf("chain: sign transaction: %w", err)
		}
		err = s.backend.SendTransaction(ctx, signed)
		if err == nil {
			s.nonce++
			return signed, nil
		}
		s.nonceKnown = false
		if isNonceError(err) {
			if attempt == 0 && ctx.Err() == nil {
				continue
			}
			return nil, fmt.Errorf("chain: send transaction: %w: %w", ErrNonce, err)
		}
		return nil, fmt.Errorf("chain: send transaction: %w", err)
	}
}

func isNonceError(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "nonce too low") || strings.Contains(msg, "already known") ||
		strings.Contains(msg, "nonce too high") || strings.Contains(msg, "replacement transaction underpriced")
}
