package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// ErrReverted reports a mined transaction whose receipt status is failure.
var ErrReverted = errors.New("chain: transaction reverted")

// ReceiptReader is the part of an Ethereum client WaitReceipt needs; *ethclient.Client has it.
type ReceiptReader interface {
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// Poll intervals for WaitReceipt: start short because the devnet mines on arrival, back off to
// stay polite to a remote node.
const (
	firstPoll = 5 * time.Millisecond
	maxPoll   = 500 * time.Millisecond
)

// WaitReceipt polls for the receipt of hash until it exists and the node's latest block has
// reached the receipt's block, or ctx ends. It returns the receipt whatever its status; use
// WaitSuccess to treat a revert as an error.
//
// The second condition matters: go-ethereum makes a new block's transaction index (and so its
// receipts) visible a moment before it moves its head, so a call at "latest" right after the
// receipt appears can still see the state before the transaction. Callers read state next.
func WaitReceipt(ctx context.Context, c ReceiptReader, hash common.Hash) (*types.Receipt, error) {
	delay := firstPoll
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("chain: waiting for receipt of %s: %w", hash.Hex(), ctx.Err())
		case <-timer.C:
		}
		r, err := c.TransactionReceipt(ctx, hash)
		switch {
		case err == nil:
			h, herr := c.HeaderByNumber(ctx, nil)
			if herr != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("chain: waiting for receipt of %s: %w", hash.Hex(), ctx.Err())
				}
				return nil, fmt.Errorf("chain: latest header: %w", herr)
			}
			if r.BlockNumber == nil || h.Number.Cmp(r.BlockNumber) >= 0 {
				return r, nil
			}
		case !errors.Is(err, ethereum.NotFound) && !isIndexing(err):
			// Nodes answer "not found" while a transaction is pending; anything else is real.
			if ctx.Err() != nil {
				return nil, fmt.Errorf("chain: waiting for receipt of %s: %w", hash.Hex(), ctx.Err())
			}
			return nil, fmt.Errorf("chain: receipt of %s: %w", hash.Hex(), err)
		}
		timer.Reset(delay)
		delay = min(delay*2, maxPoll)
	}
}

// isIndexing reports go-ethereum's answer for a transaction it cannot look up yet because its
// transaction index is still being built (right after start); like "not found", it passes.
func isIndexing(err error) bool {
	return strings.Contains(err.Error(), "transaction indexing is in progress")
}

// WaitSuccess is WaitReceipt that also fails with ErrReverted when the transaction reverted.
func WaitSuccess(ctx context.Context, c ReceiptReader, hash common.Hash) (*types.Receipt, error) {
	r, err := WaitReceipt(ctx, c, hash)
	if err != nil {
		return nil, err
	}
	if r.Status != types.ReceiptStatusSuccessful {
		return r, fmt.Errorf("%w: %s in block %d", ErrReverted, hash.Hex(), r.BlockNumber)
	}
	return r, nil
}
