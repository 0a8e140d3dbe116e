package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Backend is what a Sender needs from an Ethereum client; *ethclient.Client has it.
type Backend interface {
	ethereum.GasEstimator
	ethereum.GasPricer1559
	ethereum.TransactionSender
	ethereum.ChainReader
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
}

// Tx describes a transaction to send. To nil creates a contract from Data. Gas 0 means
// estimate (with a margin).
type Tx struct {
	To    *common.Address
	Data  []byte
	Value *big.Int
	Gas   uint64
}

// Sender signs and submits EIP-1559 transactions from one account. It keeps the next nonce in
// memory and hands nonces out under a lock, so many goroutines can send at once without two
// transactions sharing a nonce. After a failed submission it re-reads the pending nonce from the
// node, so a rejected transaction leaves no gap.
type Sender struct {
	backend Backend
	from    common.Address
	sign    bind.SignerFn
	chainID *big.Int

	mu         sync.Mutex
	nonce      uint64
	nonceKnown bool
}

// NewSender returns a Sender for from. sign must sign for chainID (bind.NewKeyedTransactorWithChainID
// gives one); the key stays wherever sign keeps it.
func NewSender(b Backend, from common.Address, sign bind.SignerFn, chainID *big.Int) *Sender {
	return &Sender{backend: b, from: from, sign: sign, chainID: new(big.Int).Set(chainID)}
}

// From returns the sending address.
func (s *Sender) From() common.Address { return s.from }

// gasMargin is added to estimates because a call's gas use can change between estimation and
// inclusion (other transactions touch the same storage first).
const gasMarginPercent = 25

// Send estimates gas (unless tx.Gas is set), prices the transaction from the latest base fee
// and suggested tip, signs it and submits it. It returns the submitted transaction; use
// WaitReceipt or WaitSuccess to wait for inclusion.
func (s *Sender) Send(ctx context.Context, tx Tx) (*types.Transaction, error) {
	value := tx.Value
	if value == nil {
		value = new(big.Int)
	}
	gas := tx.Gas
	if gas == 0 {
		est, err := s.backend.EstimateGas(ctx, ethereum.CallMsg{From: s.from, To: tx.To, Data: tx.Data, Value: value})
		if err != nil {
			return nil, fmt.Errorf("chain: estimate gas: %w", err)
		}
		gas = est + est*gasMarginPercent/100
	}
	tip, err := s.backend.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, fmt.Errorf("chain: suggest tip: %w", err)
	}
	head, err := s.backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("chain: latest header: %w", err)
	}
	feeCap := new(big.Int).Set(tip)
	if head.BaseFee != nil {
		// Twice the base fee survives several full blocks of base-fee growth.
		feeCap.Add(feeCap, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.nonceKnown {
		n, err := s.backend.PendingNonceAt(ctx, s.from)
		if err != nil {
			return nil, fmt.Errorf("chain: pending nonce: %w", err)
		}
		s.nonce, s.nonceKnown = n, true
	}
	unsigned := types.NewTx(&types.DynamicFeeTx{
		ChainID:   s.chainID,
		Nonce:     s.nonce,
		GasTipCap: tip,
		GasFeeCap: feeCap,
		Gas:       gas,
		To:        tx.To,
		Value:     value,
		Data:      tx.Data,
	})
	signed, err := s.sign(s.from, unsigned)
	if err != nil {
		return nil, fmt.Errorf("chain: sign transaction: %w", err)
	}
	if err := s.backend.SendTransaction(ctx, signed); err != nil {
		// The node may already know a transaction with this nonce (another process sent one,
		// or a previous send timed out after reaching it): resynchronise next time.
		s.nonceKnown = false
		if isNonceError(err) {
			return nil, fmt.Errorf("chain: send transaction: %w: %w", ErrNonce, err)
		}
		return nil, fmt.Errorf("chain: send transaction: %w", err)
	}
	s.nonce++
	return signed, nil
}

// ErrNonce reports that the node rejected a transaction's nonce; the Sender has already dropped
// its cached nonce, so sending again uses the node's view.
var ErrNonce = errors.New("chain: nonce rejected")

func isNonceError(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "nonce too low") || strings.Contains(msg, "already known") ||
		strings.Contains(msg, "nonce too high") || strings.Contains(msg, "replacement transaction underpriced")
}
