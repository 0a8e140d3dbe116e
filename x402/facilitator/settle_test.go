package facilitator

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/x402"
)

// TestConcurrentDoubleSettle: many concurrent settlements of one authorization send exactly
// one transaction; every other call is refused at once.
func TestConcurrentDoubleSettle(t *testing.T) {
	f := newFac(t, nil)
	fx := newFixture(t)
	req := fx.request(t)
	fromBal := balance(t, fx.from())
	rn := relayerNonce(t)

	const n = 8
	results := make([]*x402.SettleResponse, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.Settle(testCtx(t), req)
			if err != nil {
				t.Errorf("Settle: %v", err)
				return
			}
			results[i] = r
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch {
		case r == nil:
		case r.Success:
			ok++
		case r.ErrorReason != ReasonNonceUsed || r.Transaction != "":
			t.Errorf("refused settle = %+v", r)
		}
	}
	if ok != 1 {
		t.Fatalf("%d settlements succeeded, want exactly 1", ok)
	}
	if got := relayerNonce(t) - rn; got != 1 {
		t.Errorf("relayer sent %d transactions, want 1", got)
	}
	if moved := new(big.Int).Sub(fromBal, balance(t, fx.from())); moved.Int64() != 10000 {
		t.Errorf("payer paid %s, want 10000", moved)
	}
}

// TestConcurrentSettlements: 50 distinct authorizations settled at once all succeed, with one
// relayer and consecutive nonces, and move exactly the right balances.
func TestConcurrentSettlements(t *testing.T) {
	f := newFac(t, nil)
	const n = 50
	fxs := make([]*fixture, n)
	payTo := randomAddress(t)
	paid := map[common.Address]int64{}
	for i := range fxs {
		fx := newFixture(t)
		fx.payTo, fx.auth.To = payTo.Hex(), payTo.Hex()
		fx.amount = fmt.Sprint(1000 + i)
		fx.auth.Value = fx.amount
		fxs[i] = fx
		paid[fx.from()] += int64(1000 + i)
	}
	before := map[common.Address]*big.Int{}
	for a := range paid {
		before[a] = balance(t, a)
	}
	rn := relayerNonce(t)

	results := make([]*x402.SettleResponse, n)
	var wg sync.WaitGroup
	for i, fx := range fxs {
		req := fx.request(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.Settle(testCtx(t), req)
			if err != nil {
				t.Errorf("Settle %d: %v", i, err)
				return
			}
			results[i] = r
		}()
	}
	wg.Wait()
	hashes := map[string]bool{}
	for i, r := range results {
		if r == nil || !r.Success {
			t.Fatalf("settlement %d = %+v", i, r)
		}
		hashes[r.Transaction] = true
	}
	if len(hashes) != n {
		t.Errorf("%d distinct transactions, want %d", len(hashes), n)
	}
	if got := relayerNonce(t) - rn; got != n {
		t.Errorf("relayer nonce advanced by %d, want %d", got, n)
	}
	var total int64
	for a, p := range paid {
		total += p
		if moved := new(big.Int).Sub(before[a], balance(t, a)); moved.Int64() != p {
			t.Errorf("%s paid %s, want %d", a.Hex(), moved, p)
		}
	}
	if got := balance(t, payTo); got.Int64() != total {
		t.Errorf("payee received %s, want %d", got, total)
	}
}

// TestRacingOverdraft: two authorizations of one payer that together exceed its balance,
// settled concurrently: one settles, the other is refused (at estimation, or reverted on
// chain if both estimates ran first), and exactly one transfer happens.
func TestRacingOverdraft(t *testing.T) {
	f := newFac(t, nil)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	mint(t, crypto.PubkeyToAddress(key.PublicKey), big.NewInt(10000))
	a, b := newFixtureFor(t, key), newFixtureFor(t, key)
	var wg sync.WaitGroup
	res := make([]*x402.SettleResponse, 2)
	for i, fx := range []*fixture{a, b} {
		req := fx.request(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.Settle(testCtx(t), req)
			if err != nil {
				t.Errorf("Settle: %v", err)
			}
			res[i] = r
		}()
	}
	wg.Wait()
	if res[0] == nil || res[1] == nil {
		t.FailNow()
	}
	if res[0].Success == res[1].Success {
		t.Fatalf("results %+v / %+v, want exactly one success", res[0], res[1])
	}
	loser := res[0]
	if loser.Success {
		loser = res[1]
	}
	if loser.ErrorReason != ReasonInsufficientBalance && loser.ErrorReason != ReasonTransactionFailed {
		t.Errorf("loser = %+v", loser)
	}
	if got := balance(t, crypto.PubkeyToAddress(key.PublicKey)); got.Sign() != 0 {
		t.Errorf("payer has %s left, want 0", got)
	}
	if f.reg.size() != 1 {
		t.Errorf("registry has %d entries, want the one settled", f.reg.size())
	}
}

func mint(t *testing.T, to common.Address, amount *big.Int) {
	t.Helper()
	opts, err := bind.NewKeyedTransactorWithChainID(devKey(t, 0), big.NewInt(testChainID))
	if err != nil {
		t.Fatal(err)
	}
	opts.Context = testCtx(t)
	tx, err := tokenBinding(t).Mint(opts, to, amount)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(testCtx(t), testClient, tx.Hash()); err != nil {
		t.Fatal(err)
	}
}

// TestSettlementPendingAndResume: a settlement whose receipt does not come in time answers
// settlement_pending with the transaction; meanwhile the authorization is refused; a retry of
// the same payload resumes waiting on the same transaction and sends nothing new.
func TestSettlementPendingAndResume(t *testing.T) {
	hb := &hidingBackend{Backend: testClient}
	f := newFac(t, func(c *Config) {
		c.Chains[0].Backend = hb
		c.ReceiptTimeout = 300 * time.Millisecond
	})
	fx := newFixture(t)
	req := fx.request(t)
	hb.hide.Store(true)
	rn := relayerNonce(t)
	first, err := f.Settle(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if first.Success || first.ErrorReason != ReasonSettlementPending || len(first.Transaction) != 66 {
		t.Fatalf("first Settle = %+v", first)
	}
	// While pending: a verify, and a settlement of another payload with the same nonce, are
	// refused without sending anything.
	vr, err := f.Verify(testCtx(t), req)
	if err != nil || vr.IsValid || vr.InvalidReason != ReasonNonceUsed {
		t.Fatalf("Verify while pending = %+v, %v", vr, err)
	}
	other := *fx
	other.auth.ValidBefore = fmt.Sprint(time.Now().Unix() + 400)
	sr, err := f.Settle(testCtx(t), other.request(t))
	if err != nil || sr.Success || sr.ErrorReason != ReasonNonceUsed {
		t.Fatalf("other payload while pending = %+v, %v", sr, err)
	}

	hb.hide.Store(false)
	// The devnet may hold the transaction for a few seconds (its block timestamps may not run
	// too far ahead of the clock); resume once it is mined, within the short receipt timeout.
	receipt(t, first.Transaction)
	second, err := f.Settle(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Success || second.Transaction != first.Transaction {
		t.Fatalf("resumed Settle = %+v, want success with %s", second, first.Transaction)
	}
	if got := relayerNonce(t) - rn; got != 1 {
		t.Errorf("relayer sent %d transactions, want 1", got)
	}
	third, err := f.Settle(testCtx(t), req)
	if err != nil || third.Success || third.ErrorReason != ReasonNonceUsed {
		t.Fatalf("after settlement = %+v, %v", third, err)
	}
}

// TestEIP1271Wallet: a TestWallet contract pays; its owner signs the digest, the facilitator
// verifies through isValidSignature and settles through the bytes overload.
func TestEIP1271Wallet(t *testing.T) {
	f := newFac(t, nil)
	owner := devKey(t, 3)
	opts, err := bind.NewKeyedTransactorWithChainID(devKey(t, 0), big.NewInt(testChainID))
	if err != nil {
		t.Fatal(err)
	}
	opts.Context = testCtx(t)
	wallet, tx, _, err := bindings.DeployTestWallet(opts, testClient, crypto.PubkeyToAddress(owner.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.WaitSuccess(testCtx(t), testClient, tx.Hash()); err != nil {
		t.Fatal(err)
	}
	mint(t, wallet, big.NewInt(50000))

	fx := newFixtureFor(t, owner)
	fx.auth.From = wallet.Hex()
	req := fx.request(t)
	vr, err := f.Verify(testCtx(t), req)
	if err != nil || !vr.IsValid || vr.Payer != wallet.Hex() {
		t.Fatalf("Verify = %+v, %v", vr, err)
	}
	sr, err := f.Settle(testCtx(t), req)
	if err != nil || !sr.Success {
		t.Fatalf("Settle = %+v, %v", sr, err)
	}
	if sel := txInput(t, sr.Transaction)[:4]; !bytes.Equal(sel, []byte{0xcf, 0x09, 0x29, 0x95}) {
		t.Errorf("settled through selector %x, want the bytes overload cf092995", sel)
	}
	if got := balance(t, wallet); got.Int64() != 40000 {
		t.Errorf("wallet balance %s, want 40000", got)
	}

	// Signed by someone who is not the owner: the wallet says no.
	bad := newFixtureFor(t, devKey(t, 4))
	bad.auth.From = wallet.Hex()
	vr, err = f.Verify(testCtx(t), bad.request(t))
	if err != nil || vr.IsValid || vr.InvalidReason != ReasonSignature {
		t.Fatalf("Verify by non-owner = %+v, %v", vr, err)
	}
}

// TestEOASettlesThroughVRS: a 65-byte EOA signature goes through the (v, r, s) overload, as
// the reference sends it.
func TestEOASettlesThroughVRS(t *testing.T) {
	f := newFac(t, nil)
	fx := newFixture(t)
	sr, err := f.Settle(testCtx(t), fx.request(t))
	if err != nil || !sr.Success {
		t.Fatalf("Settle = %+v, %v", sr, err)
	}
	if sel := txInput(t, sr.Transaction)[:4]; !bytes.Equal(sel, []byte{0xe3, 0xee, 0x16, 0x0e}) {
		t.Errorf("settled through selector %x, want e3ee160e", sel)
	}
}

func TestHasTransfer(t *testing.T) {
	f := newFac(t, nil)
	fx := newFixture(t)
	p := mustPayment(t, f, fx.request(t))
	topic := func(a common.Address) common.Hash { return common.BytesToHash(a.Bytes()) }
	val := common.LeftPadBytes(big.NewInt(10000).Bytes(), 32)
	good := &types.Log{Address: p.domain.VerifyingContract, Topics: []common.Hash{f.transferTopic, topic(fx.from()), topic(fx.to())}, Data: val}
	mod := func(fn func(l *types.Log)) *types.Log {
		l := *good
		l.Topics = append([]common.Hash(nil), good.Topics...)
		fn(&l)
		return &l
	}
	tests := []struct {
		name string
		logs []*types.Log
		want bool
	}{
		{"exact log", []*types.Log{good}, true},
		{"among others", []*types.Log{mod(func(l *types.Log) { l.Address = common.Address{1} }), good}, true},
		{"no logs", nil, false},
		{"other contract", []*types.Log{mod(func(l *types.Log) { l.Address = common.Address{1} })}, false},
		{"other event", []*types.Log{mod(func(l *types.Log) { l.Topics[0] = common.Hash{1} })}, false},
		{"other from", []*types.Log{mod(func(l *types.Log) { l.Topics[1] = common.Hash{1} })}, false},
		{"other to", []*types.Log{mod(func(l *types.Log) { l.Topics[2] = common.Hash{1} })}, false},
		{"other value", []*types.Log{mod(func(l *types.Log) { l.Data = common.LeftPadBytes([]byte{1}, 32) })}, false},
		{"missing topic", []*types.Log{mod(func(l *types.Log) { l.Topics = l.Topics[:2] })}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.hasTransfer(&types.Receipt{Logs: tc.logs}, p); got != tc.want {
				t.Errorf("hasTransfer = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSendReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&chain.EstimateError{Err: errors.New("execution reverted: FiatTokenV2: authorization is used or canceled")}, ReasonNonceUsed},
		{&chain.EstimateError{Err: errors.New("execution reverted: FiatTokenV2: authorization is expired")}, ReasonValidBefore},
		{&chain.EstimateError{Err: errors.New("execution reverted: FiatTokenV2: authorization is not yet valid")}, ReasonValidAfter},
		{&chain.EstimateError{Err: errors.New("execution reverted: ERC20: transfer amount exceeds balance")}, ReasonInsufficientBalance},
		{&chain.EstimateError{Err: errors.New("execution reverted: FiatTokenV2: invalid signature")}, ReasonSignature},
		{&chain.EstimateError{Err: errors.New("execution reverted")}, ReasonTransactionFailed},
		{errors.New("facilitator: send transaction: insufficient funds for gas * price + value"), ReasonTransactionFailed},
		{fmt.Errorf("wrapped: %w", &chain.EstimateError{Err: errors.New("execution reverted: ERC20: transfer amount exceeds balance")}), ReasonInsufficientBalance},
	}
	for _, tc := range tests {
		if got := sendReason(tc.err); got != tc.want {
			t.Errorf("sendReason(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
