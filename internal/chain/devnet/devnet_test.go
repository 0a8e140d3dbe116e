package devnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/fleetkey/fleetkey/internal/chain/bindings"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error, "" for valid
	}{
		{"zero value", Config{}, ""},
		{"ipv6 loopback", Config{Listen: "[::1]:0"}, ""},
		{"localhost", Config{Listen: "localhost:8545"}, ""},
		{"all interfaces", Config{Listen: "0.0.0.0:8545"}, "must be loopback"},
		{"empty host", Config{Listen: ":8545"}, "must be loopback"},
		{"public ip", Config{Listen: "192.0.2.1:8545"}, "must be loopback"},
		{"hostname", Config{Listen: "example.com:8545"}, "must be loopback"},
		{"no port", Config{Listen: "127.0.0.1"}, "listen address"},
		{"bad port", Config{Listen: "127.0.0.1:99999"}, "listen port"},
		{"too many accounts", Config{Accounts: MaxAccounts + 1}, "accounts requested"},
		{"negative accounts", Config{Accounts: -1}, "accounts requested"},
		{"sub-second interval", Config{BlockInterval: 500 * time.Millisecond}, "below one second"},
		{"interval disabled", Config{BlockInterval: -1}, ""},
		{"negative lead", Config{MaxTimestampLead: -time.Second}, "negative max timestamp lead"},
		{"negative mint", Config{TokenMint: big.NewInt(-1)}, "negative"},
		{"tiny gas limit", Config{GasLimit: 1000}, "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate() = nil, want error containing %q", tt.want)
			case tt.want != "":
				mustContain(t, err.Error(), tt.want)
			}
		})
	}
	if err := (Config{Listen: "0.0.0.0:1"}).Validate(); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("non-loopback error %v is not ErrNotLoopback", err)
	}
}

// TestDevAccounts checks the published ganache addresses and that every key is the one the
// mnemonic derives (devAccounts itself re-derives with the hd package; this pins the result).
func TestDevAccounts(t *testing.T) {
	accounts, err := devAccounts(MaxAccounts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		0: "0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1",
		1: "0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0",
		2: "0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b",
		9: "0x1dF62f291b2E969fB0849d99D9Ce41e2F137006e",
	}
	seen := map[common.Address]bool{}
	for _, a := range accounts {
		if w, ok := want[a.Index]; ok && a.Address.Hex() != w {
			t.Errorf("account %d = %s, want %s", a.Index, a.Address.Hex(), w)
		}
		k, err := a.PrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		if crypto.PubkeyToAddress(k.PublicKey) != a.Address {
			t.Errorf("account %d key does not match its address", a.Index)
		}
		if seen[a.Address] {
			t.Errorf("account %d repeats %s", a.Index, a.Address.Hex())
		}
		seen[a.Address] = true
		if got, want := a.Path(), fmt.Sprintf("m/44'/60'/0'/0/%d", a.Index); got != want {
			t.Errorf("path %s, want %s", got, want)
		}
	}
	// A wrong key in the table must be caught by the hd cross-check.
	saved := devKeys[3]
	devKeys[3] = devKeys[4]
	_, err = devAccounts(MaxAccounts)
	devKeys[3] = saved
	if err == nil || !strings.Contains(err.Error(), "mnemonic derives") {
		t.Errorf("swapped key not detected: %v", err)
	}
}

// TestChainIDOverHTTP asks the HTTP endpoint with raw JSON-RPC for the chain id; 84532 stands in
// for base-sepolia with the x402 v1 packages.
func TestChainIDOverHTTP(t *testing.T) {
	for _, id := range []uint64{0, 1337, 84532} {
		t.Run(fmt.Sprint(id), func(t *testing.T) {
			d := startDevnet(t, Config{ChainID: id, Accounts: 2})
			want := id
			if want == 0 {
				want = DefaultChainID
			}
			if d.ChainID() != want || d.Network() != fmt.Sprintf("eip155:%d", want) {
				t.Errorf("ChainID() = %d, Network() = %s", d.ChainID(), d.Network())
			}
			if !strings.HasPrefix(d.RPCURL(), "http://127.0.0.1:") || strings.HasSuffix(d.RPCURL(), ":0") {
				t.Errorf("RPCURL() = %q, want the real loopback port", d.RPCURL())
			}
			var chainID, netVersion string
			rpcOK(t, d.RPCURL(), &chainID, "eth_chainId")
			rpcOK(t, d.RPCURL(), &netVersion, "net_version")
			if chainID != hexutil.EncodeUint64(want) {
				t.Errorf("eth_chainId = %s, want %s", chainID, hexutil.EncodeUint64(want))
			}
			if netVersion != fmt.Sprint(want) {
				t.Errorf("net_version = %s, want %d", netVersion, want)
			}
			// The token's EIP-712 domain uses the same id.
			sep, err := token(t, d).DOMAINSEPARATOR(&bind.CallOpts{})
			if err != nil {
				t.Fatal(err)
			}
			if want := typedDomainSeparator(t, d); common.Hash(sep) != want {
				t.Errorf("DOMAIN_SEPARATOR = %x, want %x", sep, want)
			}
		})
	}
}

func TestListenBusy(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 1})
	addr := strings.TrimPrefix(d.RPCURL(), "http://")
	if _, err := Start(testContext(t), Config{Listen: addr, Accounts: 1}); err == nil {
		t.Fatal("second devnet on the same port started")
	}
}

// TestRawTransferOverHTTP sends a signed ETH transfer with eth_sendRawTransaction and waits for
// its receipt, all over HTTP, without asking the devnet to mine.
func TestRawTransferOverHTTP(t *testing.T) {
	d := startDevnet(t, Config{BlockInterval: -1})
	url := d.RPCURL()
	key, from := accountKey(t, d, 1)
	to := common.HexToAddress("0x000000000000000000000000000000000000dEaD")

	var nonceHex, gasPriceHex, tipHex, estimateHex, balanceHex string
	rpcOK(t, url, &nonceHex, "eth_getTransactionCount", from, "pending")
	rpcOK(t, url, &gasPriceHex, "eth_gasPrice")
	rpcOK(t, url, &tipHex, "eth_maxPriorityFeePerGas")
	rpcOK(t, url, &balanceHex, "eth_getBalance", from, "latest")
	if hexBig(t, balanceHex).Cmp(DefaultBalance) != 0 {
		t.Errorf("balance %s, want %s", hexBig(t, balanceHex), DefaultBalance)
	}
	value := big.NewInt(1e15)
	rpcOK(t, url, &estimateHex, "eth_estimateGas", map[string]any{"from": from, "to": to, "value": hexutil.EncodeBig(value)})
	if got := hexBig(t, estimateHex).Uint64(); got != 21000 {
		t.Errorf("eth_estimateGas = %d, want 21000", got)
	}
	var head struct {
		BaseFee string `json:"baseFeePerGas"`
	}
	rpcOK(t, url, &head, "eth_getBlockByNumber", "latest", false)
	baseFee := hexBig(t, head.BaseFee)
	tip := hexBig(t, tipHex)

	tx := types.MustSignNewTx(key, types.LatestSignerForChainID(new(big.Int).SetUint64(d.ChainID())), &types.DynamicFeeTx{
		ChainID:   new(big.Int).SetUint64(d.ChainID()),
		Nonce:     hexBig(t, nonceHex).Uint64(),
		GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(tip, new(big.Int).Mul(baseFee, big.NewInt(2))),
		Gas:       21000,
		To:        &to,
		Value:     value,
	})
	raw, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var hash common.Hash
	rpcOK(t, url, &hash, "eth_sendRawTransaction", hexutil.Encode(raw))
	if hash != tx.Hash() {
		t.Fatalf("eth_sendRawTransaction = %s, want %s", hash.Hex(), tx.Hash().Hex())
	}

	var receipt struct {
		Status      string `json:"status"`
		BlockNumber string `json:"blockNumber"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, rerr := rawRPC(t, url, "eth_getTransactionReceipt", hash)
		if rerr != nil {
			t.Fatalf("eth_getTransactionReceipt: %s", rerr.Message)
		}
		if string(res) != "null" {
			if err := json.Unmarshal(res, &receipt); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no receipt: the devnet did not mine the transaction")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if receipt.Status != "0x1" {
		t.Errorf("receipt status %s", receipt.Status)
	}
	rpcOK(t, url, &balanceHex, "eth_getBalance", to, "latest")
	if hexBig(t, balanceHex).Cmp(value) != 0 {
		t.Errorf("recipient balance %s, want %s", hexBig(t, balanceHex), value)
	}
	rpcOK(t, url, &nonceHex, "eth_getTransactionCount", from, "pending")
	if hexBig(t, nonceHex).Uint64() != tx.Nonce()+1 {
		t.Errorf("pending nonce %s after one transaction from nonce %d", nonceHex, tx.Nonce())
	}
	// A replay of the same raw transaction is refused.
	if _, rerr := rawRPC(t, url, "eth_sendRawTransaction", hexutil.Encode(raw)); rerr == nil {
		t.Error("replayed raw transaction accepted")
	}
}

func TestTokenDeployed(t *testing.T) {
	d := startDevnet(t, Config{})
	tk := d.Token()
	if want := common.HexToAddress("0xe78A0F7E598Cc8b0Bb87894B0F60dD2a88d6a8Ab"); tk.Address != want {
		t.Errorf("token at %s, want %s (CREATE of account 0, nonce 0)", tk.Address.Hex(), want.Hex())
	}
	if tk != (TokenInfo{Address: tk.Address, Name: "TestUSD", Version: "2", Symbol: "TUSD", Decimals: 6}) {
		t.Errorf("TokenInfo = %+v", tk)
	}
	c := token(t, d)
	opts := &bind.CallOpts{}
	name, err := c.Name(opts)
	if err != nil {
		t.Fatal(err)
	}
	version, _ := c.Version(opts)
	symbol, _ := c.Symbol(opts)
	decimals, _ := c.Decimals(opts)
	if name != "TestUSD" || version != "2" || symbol != "TUSD" || decimals != 6 {
		t.Errorf("on chain: name %q version %q symbol %q decimals %d", name, version, symbol, decimals)
	}
	owner, _ := c.Owner(opts)
	if owner != d.Accounts()[0].Address {
		t.Errorf("owner %s, want account 0", owner.Hex())
	}
	for _, a := range d.Accounts() {
		bal, err := c.BalanceOf(opts, a.Address)
		if err != nil {
			t.Fatal(err)
		}
		if bal.Cmp(DefaultTokenMint) != 0 {
			t.Errorf("account %d holds %s, want %s", a.Index, bal, DefaultTokenMint)
		}
	}
	supply, _ := c.TotalSupply(opts)
	if want := new(big.Int).Mul(DefaultTokenMint, big.NewInt(MaxAccounts)); supply.Cmp(want) != 0 {
		t.Errorf("total supply %s, want %s", supply, want)
	}
	// eth_getCode over HTTP: the token has code, an account has none.
	var code string
	rpcOK(t, d.RPCURL(), &code, "eth_getCode", tk.Address, "latest")
	if len(code) < 100 {
		t.Errorf("token code %q", code)
	}
	rpcOK(t, d.RPCURL(), &code, "eth_getCode", d.Accounts()[1].Address, "latest")
	if code != "0x" {
		t.Errorf("account code %q", code)
	}
	// Only the owner mints.
	data, _ := tokenABI(t).Pack("mint", d.Accounts()[1].Address, big.NewInt(1))
	mustContain(t, revertReason(t, d, d.Accounts()[1].Address, data), "FiatToken: caller is not the owner")
}

func TestCustomToken(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 3, TokenName: "USD Coin", TokenVersion: "7", TokenMint: big.NewInt(0), ChainID: 84532})
	c := token(t, d)
	name, _ := c.Name(&bind.CallOpts{})
	version, _ := c.Version(&bind.CallOpts{})
	if name != "USD Coin" || version != "7" {
		t.Errorf("name %q version %q", name, version)
	}
	supply, _ := c.TotalSupply(&bind.CallOpts{})
	if supply.Sign() != 0 {
		t.Errorf("supply %s with TokenMint 0", supply)
	}
	if len(d.Accounts()) != 3 {
		t.Errorf("%d accounts, want 3", len(d.Accounts()))
	}
}

// TestBlocksAdvanceOnInterval checks that idle blocks keep coming and their timestamps follow
// the clock.
func TestBlocksAdvanceOnInterval(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 1, BlockInterval: time.Second})
	ctx := testContext(t)
	// Setup mines its blocks back to back, a few seconds ahead of the clock; idle blocks only
	// start once the clock has caught up.
	var first *types.Header
	for {
		h, err := d.Client().HeaderByNumber(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if int64(h.Time) < time.Now().Unix() {
			first = h
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3500 * time.Millisecond)
	last, err := d.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if last.Number.Uint64() < first.Number.Uint64()+2 {
		t.Errorf("head went from %d to %d in 3.5s with a 1s interval", first.Number, last.Number)
	}
	if last.Time <= first.Time {
		t.Errorf("timestamp went from %d to %d", first.Time, last.Time)
	}
	if lead := int64(last.Time) - time.Now().Unix(); lead > int64(DefaultMaxTimestampLead/time.Second) {
		t.Errorf("head timestamp %ds ahead of the clock", lead)
	}
}

// TestNoIdleBlocks checks that a negative interval disables idle blocks.
func TestNoIdleBlocks(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 1, BlockInterval: -1})
	ctx := testContext(t)
	before, _ := d.Client().BlockNumber(ctx)
	time.Sleep(2200 * time.Millisecond)
	after, _ := d.Client().BlockNumber(ctx)
	if after != before {
		t.Errorf("head moved from %d to %d with idle blocks disabled", before, after)
	}
	if !d.Mine() {
		t.Fatal("Mine refused")
	}
	if n, _ := d.Client().BlockNumber(ctx); n != after+1 {
		t.Errorf("Mine: head %d, want %d", n, after+1)
	}
}

// TestTimestampLeadCap sends transactions one at a time, each in its own block, and checks that
// the chain never runs more than MaxTimestampLead ahead of the clock while still mining them all.
func TestTimestampLeadCap(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 2, BlockInterval: -1, MaxTimestampLead: 2 * time.Second})
	ctx := testContext(t)
	key, _ := accountKey(t, d, 1)
	opts := transactor(t, d, key)
	to := d.Accounts()[0].Address
	c := token(t, d)
	for range 5 {
		tx, err := c.Transfer(opts, to, big.NewInt(1))
		r := mined(t, d, tx, err)
		h, err := d.Client().HeaderByNumber(ctx, r.BlockNumber)
		if err != nil {
			t.Fatal(err)
		}
		if lead := time.Unix(int64(h.Time), 0).Sub(time.Now()); lead > 2*time.Second {
			t.Errorf("block %d is %s ahead of the clock, cap 2s", h.Number, lead)
		}
	}
}

func TestManifest(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 2, ChainID: 84532})
	b, err := json.Marshal(d.Manifest())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["rpc_url"] != d.RPCURL() || m["chain_id"] != float64(84532) || m["network"] != "eip155:84532" {
		t.Errorf("manifest head %s", b)
	}
	if m["multicall"] != "0xcA11bde05977b3631167028862bE2a173976CA11" {
		t.Errorf("multicall %v", m["multicall"])
	}
	tok := m["token"].(map[string]any)
	if tok["address"] != "0xe78A0F7E598Cc8b0Bb87894B0F60dD2a88d6a8Ab" || tok["name"] != "TestUSD" ||
		tok["version"] != "2" || tok["decimals"] != float64(6) {
		t.Errorf("manifest token %v", tok)
	}
	accts := m["accounts"].([]any)
	if len(accts) != 2 {
		t.Fatalf("%d accounts", len(accts))
	}
	a1 := accts[1].(map[string]any)
	if a1["address"] != "0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0" ||
		a1["private_key"] != "0x6cbed15c793ce57650b9877cf6fa156fbef513c4e6134f022a85b1ffdd59b2a1" ||
		a1["path"] != "m/44'/60'/0'/0/1" {
		t.Errorf("manifest account 1 %v", a1)
	}
}

func TestMulticallAtCanonicalAddress(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 2})
	var code string
	rpcOK(t, d.RPCURL(), &code, "eth_getCode", MulticallAddress, "latest")
	if code != bindings.MulticallDeployedBin {
		t.Fatalf("code at the Multicall3 address differs from the Multicall runtime")
	}
	tkABI := tokenABI(t)
	holder := d.Accounts()[1].Address
	balCall, _ := tkABI.Pack("balanceOf", holder)
	nameCall, _ := tkABI.Pack("name")
	versionCall, _ := tkABI.Pack("version")
	stateCall, _ := tkABI.Pack("authorizationState", holder, [32]byte{1})
	badCall, _ := tkABI.Pack("mint", holder, big.NewInt(1)) // the multicall is not the owner
	calls := []bindings.MulticallCall{
		{Target: d.Token().Address, CallData: balCall},
		{Target: d.Token().Address, CallData: nameCall},
		{Target: d.Token().Address, CallData: versionCall},
		{Target: d.Token().Address, CallData: stateCall},
		{Target: d.Token().Address, CallData: badCall},
	}
	mc, err := bindings.NewMulticallCaller(MulticallAddress, d.Client())
	if err != nil {
		t.Fatal(err)
	}
	raw := &bindings.MulticallRaw{Contract: &bindings.Multicall{MulticallCaller: *mc}}
	var out []any
	if err := raw.Call(&bind.CallOpts{}, &out, "tryAggregate", false, calls); err != nil {
		t.Fatal(err)
	}
	results := *abi.ConvertType(out[0], new([]bindings.MulticallResult)).(*[]bindings.MulticallResult)
	if len(results) != len(calls) {
		t.Fatalf("%d results", len(results))
	}
	for i, want := range []bool{true, true, true, true, false} {
		if results[i].Success != want {
			t.Errorf("call %d success %v, want %v", i, results[i].Success, want)
		}
	}
	if bal := new(big.Int).SetBytes(results[0].ReturnData); bal.Cmp(DefaultTokenMint) != 0 {
		t.Errorf("balance via multicall %s", bal)
	}
	name, err := tkABI.Unpack("name", results[1].ReturnData)
	if err != nil || name[0] != "TestUSD" {
		t.Errorf("name via multicall %v %v", name, err)
	}
	// requireSuccess=true turns the failing call into a revert of the whole batch.
	out = nil
	if err := raw.Call(&bind.CallOpts{}, &out, "tryAggregate", true, calls); err == nil ||
		!strings.Contains(err.Error(), "Multicall: call failed") {
		t.Errorf("tryAggregate(true) with a failing call: %v", err)
	}
	// aggregate3 with allowFailure, and the block getters.
	calls3 := []bindings.MulticallCall3{{Target: d.Token().Address, AllowFailure: true, CallData: badCall}}
	out = nil
	if err := raw.Call(&bind.CallOpts{}, &out, "aggregate3", calls3); err != nil {
		t.Errorf("aggregate3: %v", err)
	} else if r := *abi.ConvertType(out[0], new([]bindings.MulticallResult)).(*[]bindings.MulticallResult); len(r) != 1 || r[0].Success {
		t.Errorf("aggregate3 results %v", r)
	}
	out = nil
	if err := raw.Call(&bind.CallOpts{}, &out, "getChainId"); err != nil || out[0].(*big.Int).Uint64() != d.ChainID() {
		t.Errorf("getChainId = %v, %v", out, err)
	}
}

// typedDomainSeparator computes the expected domain separator with go-ethereum's EIP-712 code.
func typedDomainSeparator(t testing.TB, d *Devnet) common.Hash {
	t.Helper()
	td := apitypes.TypedData{Types: apitypes.Types{"EIP712Domain": domainType}, Domain: d.domain()}
	h, err := td.HashStruct("EIP712Domain", td.Domain.Map())
	if err != nil {
		t.Fatal(err)
	}
	return common.BytesToHash(h)
}
