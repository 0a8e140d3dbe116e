package chain_test

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
)

type notFoundReader struct{ calls int }

func (r *notFoundReader) TransactionReceipt(context.Context, common.Hash) (*types.Receipt, error) {
	r.calls++
	return nil, ethereum.NotFound
}

func (r *notFoundReader) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	return &types.Header{Number: big.NewInt(0)}, nil
}

type failingReader struct{}

func (failingReader) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	return nil, errors.New("connection refused")
}

// laggingHead finds the receipt in block 5 while the head is still at block 4 for the first
// few header reads, as go-ethereum briefly does right after it indexes a new block.
type laggingHead struct{ headerCalls int }

func (r *laggingHead) TransactionReceipt(context.Context, common.Hash) (*types.Receipt, error) {
	return &types.Receipt{Status: types.ReceiptStatusSuccessful, BlockNumber: big.NewInt(5)}, nil
}

func (r *laggingHead) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	r.headerCalls++
	if r.headerCalls < 3 {
		return &types.Header{Number: big.NewInt(4)}, nil
	}
	return &types.Header{Number: big.NewInt(5)}, nil
}

func TestWaitReceiptWaitsForHead(t *testing.T) {
	r := &laggingHead{}
	if _, err := chain.WaitReceipt(context.Background(), r, common.Hash{1}); err != nil {
		t.Fatal(err)
	}
	if r.headerCalls != 3 {
		t.Errorf("returned after %d header reads, want 3 (head must reach the receipt's block)", r.headerCalls)
	}
}

func (failingReader) TransactionReceipt(context.Context, common.Hash) (*types.Receipt, error) {
	return nil, errors.New("connection refused")
}

func TestWaitReceiptStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := &notFoundReader{}
	if _, err := chain.WaitReceipt(ctx, r, common.Hash{1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitReceipt on a never-mined transaction = %v, want deadline exceeded", err)
	}
	if r.calls < 2 {
		t.Errorf("polled %d times in 100ms", r.calls)
	}
	if _, err := chain.WaitReceipt(context.Background(), failingReader{}, common.Hash{1}); err == nil {
		t.Error("WaitReceipt hid a transport error")
	}
}

// TestSenderConcurrent sends from one account on many goroutines: every transaction must get
// its own nonce and be mined; a revert is reported as ErrReverted.
func TestSenderConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0", Accounts: 2, MaxTimestampLead: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	acct := d.Accounts()[1]
	key, err := acct.PrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	chainID := new(big.Int).SetUint64(d.ChainID())
	opts, err := bind.NewKeyedTransactorWithChainID(key, chainID)
	if err != nil {
		t.Fatal(err)
	}
	s := chain.NewSender(d.Client(), acct.Address, opts.Signer, chainID)
	to := common.HexToAddress("0x000000000000000000000000000000000000bEEF")

	const n = 24
	var wg sync.WaitGroup
	nonces := make(chan uint64, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx, err := s.Send(ctx, chain.Tx{To: &to, Value: big.NewInt(1)})
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := chain.WaitSuccess(ctx, d.Client(), tx.Hash()); err != nil {
				t.Error(err)
				return
			}
			nonces <- tx.Nonce()
		}()
	}
	wg.Wait()
	close(nonces)
	seen := map[uint64]bool{}
	for nonce := range nonces {
		if seen[nonce] {
			t.Errorf("nonce %d used twice", nonce)
		}
		seen[nonce] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct nonces, want %d", len(seen), n)
	}
	bal, err := d.Client().BalanceAt(ctx, to, nil)
	if err != nil || bal.Int64() != n {
		t.Errorf("recipient balance %v, %v; want %d", bal, err, n)
	}

	// A call that reverts at execution (fixed gas skips estimation) surfaces as ErrReverted.
	token := d.Token().Address
	mintCall := common.FromHex("0x40c10f19000000000000000000000000000000000000000000000000000000000000beef0000000000000000000000000000000000000000000000000000000000000001")
	tx, err := s.Send(ctx, chain.Tx{To: &token, Data: mintCall, Gas: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(ctx, d.Client(), tx.Hash()); !errors.Is(err, chain.ErrReverted) {
		t.Errorf("non-owner mint: %v, want ErrReverted", err)
	}
	// Estimation reports the revert before anything is sent, and the nonce is not consumed.
	if _, err := s.Send(ctx, chain.Tx{To: &token, Data: mintCall}); err == nil {
		t.Error("Send estimated a reverting call without error")
	}
	next, err := s.Send(ctx, chain.Tx{To: &to, Value: big.NewInt(1)})
	if err != nil {
		t.Fatal(err)
	}
	if next.Nonce() != tx.Nonce()+1 {
		t.Errorf("nonce after a failed estimate %d, want %d", next.Nonce(), tx.Nonce()+1)
	}
}
