package facilitator

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/fleetkey/fleetkey/internal/chain"
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

// newRelayer returns the Sender that submits settlements from the relayer account: nonces from
// a local counter under a lock (any number of settlements in the mempool at once), EIP-1559 or
// legacy fees, gas estimated with a margin. A failed estimate is a *chain.EstimateError whose
// revert text settle maps to a reason code.
func newRelayer(b Backend, key *RelayerKey, chainID uint64, now func() time.Time) *chain.Sender {
	id := new(big.Int).SetUint64(chainID)
	signer := types.LatestSignerForChainID(id)
	sign := func(_ common.Address, tx *types.Transaction) (*types.Transaction, error) {
		return key.signTx(tx, signer)
	}
	return chain.NewSender(b, key.Address(), sign, id, chain.WithClock(now))
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

// NewSender returns a chain.Sender that submits transactions from the relayer account with this
// key, for fleetkey's other relayed operations (lifecycle cancellations and sweeps). The key
// stays inside the RelayerKey; Close still wipes it.
func (k *RelayerKey) NewSender(b chain.Backend, chainID uint64) *chain.Sender {
	id := new(big.Int).SetUint64(chainID)
	signer := types.LatestSignerForChainID(id)
	return chain.NewSender(b, k.Address(), func(_ common.Address, tx *types.Transaction) (*types.Transaction, error) {
		return k.signTx(tx, signer)
	}, id)
}
