package reconcile

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/fleetkey/fleetkey/internal/chain/bindings"
)

// RPC is the part of an Ethereum JSON-RPC client the reconciler reads with.
// *ethclient.Client satisfies it; wrap an *rpc.Client with ethclient.NewClient.
type RPC interface {
	ChainID(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
	FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error)
}

// Multicall3 is the canonical Multicall3 address, the same on every chain that has it
// (the devnet installs it there through its genesis).
var Multicall3 = common.HexToAddress("0xcA11bde05977b3631167028862bE2a173976CA11")

// abis holds the parsed ABIs and the event topics the reconciler uses.
type abis struct {
	token, multicall  *abi.ABI
	used, canceled    common.Hash
	stateOutputs      abi.Arguments
	aggregate3Outputs abi.Arguments
}

func loadABIs() (*abis, error) {
	token, err := bindings.TestUSDMetaData.GetAbi()
	if err != nil {
		return nil, fmt.Errorf("reconcile: token abi: %w", err)
	}
	mc, err := bindings.MulticallMetaData.GetAbi()
	if err != nil {
		return nil, fmt.Errorf("reconcile: multicall abi: %w", err)
	}
	used, ok1 := token.Events["AuthorizationUsed"]
	canceled, ok2 := token.Events["AuthorizationCanceled"]
	state, ok3 := token.Methods["authorizationState"]
	agg, ok4 := mc.Methods["aggregate3"]
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, errors.New("reconcile: an EIP-3009 or Multicall3 ABI entry is missing")
	}
	return &abis{token: token, multicall: mc, used: used.ID, canceled: canceled.ID,
		stateOutputs: state.Outputs, aggregate3Outputs: agg.Outputs}, nil
}

// stateQuery is one authorizationState(authorizer, nonce) call on an asset.
type stateQuery struct {
	asset, authorizer common.Address
	nonce             common.Hash
}

// multicallBatch bounds the calls of one aggregate3 eth_call.
const multicallBatch = 256

// authorizationStates reads authorizationState for every query at block, batched
// through Multicall3. Any failed call is an error: the caller must not act on a partial
// picture.
func (r *Reconciler) authorizationStates(ctx context.Context, qs []stateQuery, block *big.Int) ([]bool, error) {
	out := make([]bool, 0, len(qs))
	for start := 0; start < len(qs); start += multicallBatch {
		batch := qs[start:min(start+multicallBatch, len(qs))]
		calls := make([]bindings.MulticallCall3, len(batch))
		for i, q := range batch {
			data, err := r.abi.token.Pack("authorizationState", q.authorizer, [32]byte(q.nonce))
			if err != nil {
				return nil, fmt.Errorf("reconcile: pack authorizationState: %w", err)
			}
			calls[i] = bindings.MulticallCall3{Target: q.asset, AllowFailure: true, CallData: data}
		}
		input, err := r.abi.multicall.Pack("aggregate3", calls)
		if err != nil {
			return nil, fmt.Errorf("reconcile: pack aggregate3: %w", err)
		}
		mc := r.multicall
		raw, err := r.rpc.CallContract(ctx, ethereum.CallMsg{To: &mc, Data: input}, block)
		if err != nil {
			return nil, fmt.Errorf("reconcile: multicall at block %s: %w", block, err)
		}
		if len(raw) == 0 {
			return nil, fmt.Errorf("reconcile: multicall at %s returned nothing (no contract there?)", mc.Hex())
		}
		vals, err := r.abi.aggregate3Outputs.Unpack(raw)
		if err != nil || len(vals) != 1 {
			return nil, fmt.Errorf("reconcile: decode aggregate3: %v", err)
		}
		results := *abi.ConvertType(vals[0], new([]bindings.MulticallResult)).(*[]bindings.MulticallResult)
		if len(results) != len(batch) {
			return nil, fmt.Errorf("reconcile: aggregate3 returned %d results for %d calls", len(results), len(batch))
		}
		for i, res := range results {
			if !res.Success {
				return nil, fmt.Errorf("reconcile: authorizationState(%s, %s) on %s failed", batch[i].authorizer.Hex(), batch[i].nonce.Hex(), batch[i].asset.Hex())
			}
			v, err := r.abi.stateOutputs.Unpack(res.ReturnData)
			if err != nil || len(v) != 1 {
				return nil, fmt.Errorf("reconcile: decode authorizationState on %s: %v", batch[i].asset.Hex(), err)
			}
			b, ok := v[0].(bool)
			if !ok {
				return nil, fmt.Errorf("reconcile: authorizationState on %s is not a bool", batch[i].asset.Hex())
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// usedEvent is the event that used one authorization.
type usedEvent struct {
	canceled bool
	tx       common.Hash
	block    uint64
	time     time.Time // zero when the node does not report block timestamps in logs
}

// logBatch bounds the authorizations of one eth_getLogs query (its topic lists).
const logBatch = 100

// findEvents looks for the AuthorizationUsed or AuthorizationCanceled event of every
// query in blocks [from[i], to], scanning forward in chunks of r.maxLogRange and stopping
// once all are found. Queries with no event are absent from the result.
func (r *Reconciler) findEvents(ctx context.Context, qs []stateQuery, from []uint64, to uint64) (map[stateQuery]usedEvent, error) {
	found := make(map[stateQuery]usedEvent, len(qs))
	for start := 0; start < len(qs); start += logBatch {
		end := min(start+logBatch, len(qs))
		pending := make(map[stateQuery]bool, end-start)
		lo := to
		var assets []common.Address
		var authorizers, nonces []common.Hash
		seenA, seenF, seenN := map[common.Address]bool{}, map[common.Hash]bool{}, map[common.Hash]bool{}
		for i := start; i < end; i++ {
			q := qs[i]
			pending[q] = true
			lo = min(lo, from[i])
			if !seenA[q.asset] {
				seenA[q.asset] = true
				assets = append(assets, q.asset)
			}
			if a := common.BytesToHash(q.authorizer.Bytes()); !seenF[a] {
				seenF[a] = true
				authorizers = append(authorizers, a)
			}
			if !seenN[q.nonce] {
				seenN[q.nonce] = true
				nonces = append(nonces, q.nonce)
			}
		}
		for chunk := lo; chunk <= to && len(pending) > 0; chunk += r.maxLogRange {
			hi := min(chunk+r.maxLogRange-1, to)
			logs, err := r.rpc.FilterLogs(ctx, ethereum.FilterQuery{
				FromBlock: new(big.Int).SetUint64(chunk), ToBlock: new(big.Int).SetUint64(hi),
				Addresses: assets,
				Topics:    [][]common.Hash{{r.abi.used, r.abi.canceled}, authorizers, nonces},
			})
			if err != nil {
				return nil, fmt.Errorf("reconcile: logs of blocks %d to %d: %w", chunk, hi, err)
			}
			for _, l := range logs {
				if l.Removed || len(l.Topics) != 3 {
					continue
				}
				q := stateQuery{asset: l.Address, authorizer: common.BytesToAddress(l.Topics[1].Bytes()), nonce: l.Topics[2]}
				if !pending[q] {
					continue
				}
				ev := usedEvent{canceled: l.Topics[0] == r.abi.canceled, tx: l.TxHash, block: l.BlockNumber}
				if l.BlockTimestamp != 0 {
					ev.time = time.Unix(int64(l.BlockTimestamp), 0).UTC()
				}
				found[q] = ev
				delete(pending, q)
			}
			if hi == to {
				break
			}
		}
	}
	return found, nil
}

// blockAtOrBefore returns the highest block at or below head whose timestamp is not after
// t (0 when even the genesis is later), by binary search over headers.
func (r *Reconciler) blockAtOrBefore(ctx context.Context, t time.Time, head *types.Header) (uint64, error) {
	if head.Time <= uint64(max(t.Unix(), 0)) {
		return head.Number.Uint64(), nil
	}
	lo, hi := uint64(0), head.Number.Uint64() // invariant: answer in [lo, hi), hi's time is after t
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		h, err := r.rpc.HeaderByNumber(ctx, new(big.Int).SetUint64(mid))
		if err != nil {
			return 0, fmt.Errorf("reconcile: header %d: %w", mid, err)
		}
		if int64(h.Time) <= t.Unix() {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}
