package facilitator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/fleetkey/fleetkey/internal/chain"
)

// A public test key (ganache deterministic account 1).
const testKeyHex = "6cbed15c793ce57650b9877cf6fa156fbef513c4e6134f022a85b1ffdd59b2a1"

var testKeyAddr = common.HexToAddress("0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0")

func TestRelayerKeyParse(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{testKeyHex, ""},
		{"0x" + testKeyHex, ""},
		{"0X" + strings.ToUpper(testKeyHex), ""},
		{"  0x" + testKeyHex + "\r\n", ""},
		{"", "not 64 hex digits"},
		{testKeyHex[:62], "not 64 hex digits"},
		{testKeyHex + "00", "not 64 hex digits"},
		{"zz" + testKeyHex[2:], "not hex"},
		{strings.Repeat("0", 64), "not a valid secp256k1 scalar"},
		{"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", "not a valid secp256k1 scalar"},
	}
	for _, tc := range tests {
		k, err := NewRelayerKey([]byte(tc.in))
		if tc.err == "" {
			if err != nil || k.Address() != testKeyAddr {
				t.Errorf("NewRelayerKey(%q) = %v, %v", tc.in, k, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("NewRelayerKey(%q) error %v, want %q", tc.in, err, tc.err)
		}
		if err != nil && len(tc.in) >= 8 && strings.Contains(err.Error(), strings.TrimSpace(tc.in)[:8]) {
			t.Errorf("error %q repeats the input", err)
		}
	}
}

func TestRelayerKeyNeverShown(t *testing.T) {
	k, err := NewRelayerKey([]byte(testKeyHex))
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "key", k)
	txt, _ := k.MarshalText()
	outs := []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", k, k, k, k, k, k, k, k), k.String(), k.GoString(), logBuf.String(), string(txt)}
	for _, s := range outs {
		for _, frag := range []string{testKeyHex[:16], testKeyHex[40:], strings.ToUpper(testKeyHex[:16])} {
			if strings.Contains(s, frag) {
				t.Errorf("output %q shows the key", s)
			}
		}
	}
	if !strings.Contains(k.String(), testKeyAddr.Hex()) || !strings.Contains(k.String(), "REDACTED") {
		t.Errorf("String() = %q", k.String())
	}
	// Close wipes: the scalar is zero and signing fails.
	words := k.key.D.Bits()
	if len(words) == 0 || words[0] == 0 {
		t.Fatal("test key has no scalar words to watch")
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	for _, w := range words {
		if w != 0 {
			t.Fatal("Close left the scalar in memory")
		}
	}
	tx := types.NewTx(&types.LegacyTx{})
	if _, err := k.signTx(tx, types.LatestSignerForChainID(big.NewInt(1))); !errors.Is(err, ErrKeyClosed) {
		t.Errorf("signTx after Close: %v", err)
	}
	if err := k.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestReadRelayerKeyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "0x"+testKeyHex+"\n", 0o600)
	if k, err := ReadRelayerKeyFile(good); err != nil || k.Address() != testKeyAddr {
		t.Fatalf("ReadRelayerKeyFile = %v, %v", k, err)
	}
	if k, err := ReadRelayerKeyFile(write("ro", testKeyHex, 0o400)); err != nil || k.Address() != testKeyAddr {
		t.Fatalf("0400 file: %v, %v", k, err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666} {
		p := write(fmt.Sprintf("m%o", mode), testKeyHex, mode)
		_, err := ReadRelayerKeyFile(p)
		if !errors.Is(err, ErrInsecureKeyFile) || !strings.Contains(err.Error(), fmt.Sprintf("%04o", mode)) {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	big := write("big", strings.Repeat("a", maxKeyFile+1), 0o600)
	if _, err := ReadRelayerKeyFile(big); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("large file: %v", err)
	}
	bad := write("bad", "0x"+testKeyHex[:60]+"\n", 0o600)
	if _, err := ReadRelayerKeyFile(bad); err == nil || strings.Contains(err.Error(), testKeyHex[:20]) {
		t.Errorf("bad file: %v", err)
	}
	if _, err := ReadRelayerKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadRelayerKeyFile(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestRegistry(t *testing.T) {
	r := newRegistry()
	now := time.Unix(1_000_000, 0)
	k := authKey{chainID: 1, from: common.Address{1}}
	fp, other := common.Hash{1}, common.Hash{2}
	exp := now.Add(time.Hour)

	if res, _ := r.claim(k, fp, now, exp); res != claimNew {
		t.Fatalf("first claim = %v", res)
	}
	for _, f := range []common.Hash{fp, other} {
		if res, _ := r.claim(k, f, now, exp); res != claimRefused {
			t.Fatalf("claim while active = %v", res)
		}
	}
	r.sent(k, common.Hash{9})
	r.park(k)
	if st, ok := r.lookup(k, now); !ok || st != statePending {
		t.Fatalf("after park: %v %v", st, ok)
	}
	if res, _ := r.claim(k, other, now, exp); res != claimRefused {
		t.Fatal("another payload resumed a pending settlement")
	}
	if res, tx := r.claim(k, fp, now, exp); res != claimResume || tx != (common.Hash{9}) {
		t.Fatalf("resume = %v %x", res, tx)
	}
	r.settle(k, now.Add(time.Minute))
	if res, _ := r.claim(k, fp, now, exp); res != claimRefused {
		t.Fatal("settled authorization claimed again")
	}
	// Expired entries are forgotten, on lookup and by the sweep.
	later := now.Add(2 * time.Minute)
	if _, ok := r.lookup(k, later); ok {
		t.Error("expired entry still known")
	}
	k2 := authKey{chainID: 2}
	r.claim(k2, fp, now, now.Add(time.Second))
	r.park(k2)
	r.claim(authKey{chainID: 3}, fp, later.Add(sweepEvery), later.Add(time.Hour))
	if r.size() != 1 {
		t.Errorf("after sweep %d entries, want 1", r.size())
	}
	// Active entries never expire: their owner is still working.
	k4 := authKey{chainID: 4}
	r.claim(k4, fp, now, now)
	if _, ok := r.lookup(k4, now.Add(24*time.Hour)); !ok {
		t.Error("active entry expired")
	}
	r.release(k4)
	if _, ok := r.lookup(k4, now); ok {
		t.Error("released entry still known")
	}
}

// fakeBackend is a scripted chain for the relayer's nonce and fee logic.
type fakeBackend struct {
	mu        sync.Mutex
	chainID   int64
	baseFee   *big.Int // nil: a pre-London chain
	pending   uint64   // the node's pending nonce
	sendErrs  []error  // errors for the next SendTransaction calls
	sent      []*types.Transaction
	headCalls int
	code      map[common.Address][]byte
}

func (b *fakeBackend) ChainID(context.Context) (*big.Int, error) { return big.NewInt(b.chainID), nil }
func (b *fakeBackend) CodeAt(_ context.Context, a common.Address, _ *big.Int) ([]byte, error) {
	return b.code[a], nil
}
func (b *fakeBackend) CallContract(context.Context, ethereum.CallMsg, *big.Int) ([]byte, error) {
	return nil, errors.New("fake: no calls")
}
func (b *fakeBackend) EstimateGas(context.Context, ethereum.CallMsg) (uint64, error) {
	return 80_000, nil
}
func (b *fakeBackend) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.headCalls++
	return &types.Header{BaseFee: b.baseFee}, nil
}
func (b *fakeBackend) SuggestGasTipCap(context.Context) (*big.Int, error) {
	return big.NewInt(2), nil
}
func (b *fakeBackend) SuggestGasPrice(context.Context) (*big.Int, error) {
	return big.NewInt(7), nil
}
func (b *fakeBackend) PendingNonceAt(context.Context, common.Address) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pending, nil
}
func (b *fakeBackend) SendTransaction(_ context.Context, tx *types.Transaction) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.sendErrs) > 0 {
		err := b.sendErrs[0]
		b.sendErrs = b.sendErrs[1:]
		if err != nil {
			return err
		}
	}
	if tx.Nonce() != b.pending {
		return fmt.Errorf("nonce too low: next nonce %d, tx nonce %d", b.pending, tx.Nonce())
	}
	b.pending++
	b.sent = append(b.sent, tx)
	return nil
}
func (b *fakeBackend) TransactionReceipt(context.Context, common.Hash) (*types.Receipt, error) {
	return nil, ethereum.NotFound
}

func testRelayer(t *testing.T, b *fakeBackend) *chain.Sender {
	t.Helper()
	k, err := NewRelayerKey([]byte(testKeyHex))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return newRelayer(b, k, uint64(b.chainID), time.Now)
}

func TestRelayerNonces(t *testing.T) {
	b := &fakeBackend{chainID: 1337, baseFee: big.NewInt(100), pending: 5}
	r := testRelayer(t, b)
	ctx := context.Background()
	to := common.Address{0xaa}

	// Concurrent sends get consecutive nonces from the node's pending nonce on.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Send(ctx, chain.Tx{To: &to, Data: []byte{1}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(b.sent) != 20 || b.pending != 25 {
		t.Fatalf("sent %d, node nonce %d", len(b.sent), b.pending)
	}
	seen := map[uint64]bool{}
	for _, tx := range b.sent {
		if seen[tx.Nonce()] || tx.Nonce() < 5 || tx.Nonce() >= 25 {
			t.Errorf("nonce %d reused or out of range", tx.Nonce())
		}
		seen[tx.Nonce()] = true
		from, err := types.Sender(types.LatestSignerForChainID(big.NewInt(1337)), tx)
		if err != nil || from != testKeyAddr {
			t.Errorf("sender %s, %v", from.Hex(), err)
		}
		// EIP-1559 fees: tip 2, cap = tip + 2 * base fee; gas = estimate + 25%.
		if tx.Type() != types.DynamicFeeTxType || tx.GasTipCap().Int64() != 2 || tx.GasFeeCap().Int64() != 202 || tx.Gas() != 100_000 {
			t.Errorf("tx type %d tip %s cap %s gas %d", tx.Type(), tx.GasTipCap(), tx.GasFeeCap(), tx.Gas())
		}
	}
	if b.headCalls != 1 {
		t.Errorf("%d header reads for 20 sends within the fee cache window, want 1", b.headCalls)
	}

	// Someone else used the key: the node is ahead. "nonce too low" → resync and retry once.
	b.pending += 3
	tx, err := r.Send(ctx, chain.Tx{To: &to})
	if err != nil || tx.Nonce() != 28 {
		t.Fatalf("after external sends: nonce %v, %v", tx, err)
	}
	// A failure that is not about the nonce: no retry, the error is returned, and the next
	// send re-reads the nonce so no gap is left.
	b.sendErrs = []error{errors.New("insufficient funds for gas * price + value")}
	if _, err := r.Send(ctx, chain.Tx{To: &to}); err == nil || !strings.Contains(err.Error(), "insufficient funds") {
		t.Fatalf("send error %v", err)
	}
	if tx, err := r.Send(ctx, chain.Tx{To: &to}); err != nil || tx.Nonce() != 29 {
		t.Fatalf("after a failed send: %v, %v", tx, err)
	}
	// Two nonce errors in a row: one retry only.
	b.sendErrs = []error{errors.New("nonce too low"), errors.New("nonce too low")}
	if _, err := r.Send(ctx, chain.Tx{To: &to}); err == nil || !strings.Contains(err.Error(), "nonce too low") {
		t.Fatalf("double nonce error: %v", err)
	}
}

func TestRelayerLegacyChain(t *testing.T) {
	b := &fakeBackend{chainID: 1337, pending: 0}
	r := testRelayer(t, b)
	to := common.Address{1}
	tx, err := r.Send(context.Background(), chain.Tx{To: &to})
	if err != nil {
		t.Fatal(err)
	}
	if tx.Type() != types.LegacyTxType || tx.GasPrice().Int64() != 7 {
		t.Errorf("type %d gas price %s, want legacy at 7", tx.Type(), tx.GasPrice())
	}
	if id := tx.ChainId(); id.Int64() != 1337 {
		t.Errorf("legacy tx chain id %s, want EIP-155 protection for 1337", id)
	}
}

func TestNewConfig(t *testing.T) {
	ctx := context.Background()
	key := func() *RelayerKey {
		k, err := NewRelayerKey([]byte(testKeyHex))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	b1337 := &fakeBackend{chainID: 1337}
	b84532 := &fakeBackend{chainID: 84532}
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"no key", Config{Chains: []Chain{{ChainID: 1337, Backend: b1337}}}, "no relayer key"},
		{"no chains", Config{Relayer: key()}, "no chains"},
		{"no backend", Config{Relayer: key(), Chains: []Chain{{ChainID: 1337}}}, "no backend"},
		{"wrong chain id", Config{Relayer: key(), Chains: []Chain{{ChainID: 1, Backend: b1337}}}, "reports chain id 1337"},
		{"twice", Config{Relayer: key(), Chains: []Chain{{ChainID: 1337, Backend: b1337}, {ChainID: 1337, Backend: b1337}}}, "twice"},
		{"nothing served", Config{Relayer: key(), Chains: []Chain{{ChainID: 1337, Backend: b1337, NoV2: true}}}, "no network"},
	}
	for _, tc := range tests {
		if _, err := New(ctx, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}

	f, err := New(ctx, Config{Relayer: key(), Chains: []Chain{{ChainID: 84532, Backend: b84532, NoV2: true}, {ChainID: 1337, Backend: b1337}}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := f.Supported(ctx)
	if len(s.Kinds) != 2 || !s.Supports(2, "exact", "eip155:1337") || !s.Supports(1, "exact", "base-sepolia") || s.Supports(2, "exact", "eip155:84532") {
		t.Errorf("kinds %+v", s.Kinds)
	}
	if s.Signers["eip155:*"][0] != testKeyAddr.Hex() || s.Extensions == nil {
		t.Errorf("supported %+v", s)
	}
	// The answer is a copy.
	s.Kinds[0].Network = "x"
	if s2, _ := f.Supported(ctx); s2.Kinds[0].Network == "x" {
		t.Error("Supported shares its slice")
	}
	f.Close()
	if _, err := f.Settle(ctx, nil); !errors.Is(err, ErrKeyClosed) {
		t.Errorf("Settle after Close: %v", err)
	}
	if f.key.key != nil {
		t.Error("Close did not wipe the relayer key")
	}
}
