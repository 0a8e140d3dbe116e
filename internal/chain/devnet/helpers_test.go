package devnet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startDevnet starts a devnet on a free loopback port and closes it when the test ends.
func startDevnet(t testing.TB, cfg Config) *Devnet {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	d, err := Start(testContext(t), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// rawRPC makes a raw JSON-RPC 2.0 call over HTTP, the way curl or viem would.
func rawRPC(t testing.TB, url, method string, params ...any) (json.RawMessage, *rpcError) {
	t.Helper()
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d", method, resp.StatusCode)
	}
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decode: %v", method, err)
	}
	return out.Result, out.Error
}

// rpcOK is rawRPC that fails the test on a JSON-RPC error and decodes the result into v.
func rpcOK(t testing.TB, url string, v any, method string, params ...any) {
	t.Helper()
	res, rerr := rawRPC(t, url, method, params...)
	if rerr != nil {
		t.Fatalf("%s: rpc error %d: %s", method, rerr.Code, rerr.Message)
	}
	if err := json.Unmarshal(res, v); err != nil {
		t.Fatalf("%s: result %s: %v", method, res, err)
	}
}

func accountKey(t testing.TB, d *Devnet, i int) (*ecdsa.PrivateKey, common.Address) {
	t.Helper()
	a := d.Accounts()[i]
	k, err := a.PrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k, a.Address
}

func transactor(t testing.TB, d *Devnet, key *ecdsa.PrivateKey) *bind.TransactOpts {
	t.Helper()
	opts, err := bind.NewKeyedTransactorWithChainID(key, new(big.Int).SetUint64(d.ChainID()))
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

func token(t testing.TB, d *Devnet) *bindings.TestUSD {
	t.Helper()
	tk, err := bindings.NewTestUSD(d.Token().Address, d.Client())
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func tokenABI(t testing.TB) *abi.ABI {
	t.Helper()
	parsed, err := bindings.TestUSDMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

// mined waits for tx and fails the test unless it succeeded.
func mined(t testing.TB, d *Devnet, tx *types.Transaction, err error) *types.Receipt {
	t.Helper()
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	r, err := chain.WaitSuccess(testContext(t), d.Client(), tx.Hash())
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return r
}

// revertReason eth_calls data on the token from `from` and returns the error text ("" on success).
func revertReason(t testing.TB, d *Devnet, from common.Address, data []byte) string {
	t.Helper()
	to := d.Token().Address
	_, err := d.Client().CallContract(testContext(t), ethereum.CallMsg{From: from, To: &to, Data: data}, nil)
	if err == nil {
		return ""
	}
	return err.Error()
}

func randomNonce(t testing.TB) [32]byte {
	t.Helper()
	var n [32]byte
	if _, err := rand.Read(n[:]); err != nil {
		t.Fatal(err)
	}
	return n
}

// auth is an EIP-3009 authorization message.
type auth struct {
	From, To                       common.Address
	Value, ValidAfter, ValidBefore *big.Int
	Nonce                          [32]byte
}

func (d *Devnet) domain() apitypes.TypedDataDomain {
	tk := d.Token()
	return apitypes.TypedDataDomain{
		Name:              tk.Name,
		Version:           tk.Version,
		ChainId:           math.NewHexOrDecimal256(int64(d.ChainID())),
		VerifyingContract: tk.Address.Hex(),
	}
}

var domainType = []apitypes.Type{
	{Name: "name", Type: "string"},
	{Name: "version", Type: "string"},
	{Name: "chainId", Type: "uint256"},
	{Name: "verifyingContract", Type: "address"},
}

var authTypeFields = []apitypes.Type{
	{Name: "from", Type: "address"},
	{Name: "to", Type: "address"},
	{Name: "value", Type: "uint256"},
	{Name: "validAfter", Type: "uint256"},
	{Name: "validBefore", Type: "uint256"},
	{Name: "nonce", Type: "bytes32"},
}

// authDigest is the EIP-712 digest of a TransferWithAuthorization or ReceiveWithAuthorization,
// built with go-ethereum's independent EIP-712 implementation.
func authDigest(t testing.TB, d *Devnet, primary string, a auth) []byte {
	t.Helper()
	td := apitypes.TypedData{
		Types:       apitypes.Types{"EIP712Domain": domainType, primary: authTypeFields},
		PrimaryType: primary,
		Domain:      d.domain(),
		Message: apitypes.TypedDataMessage{
			"from":        a.From.Hex(),
			"to":          a.To.Hex(),
			"value":       a.Value.String(),
			"validAfter":  a.ValidAfter.String(),
			"validBefore": a.ValidBefore.String(),
			"nonce":       hexutil.Encode(a.Nonce[:]),
		},
	}
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

func typedDigest(t testing.TB, d *Devnet, primary string, fields []apitypes.Type, msg apitypes.TypedDataMessage) []byte {
	t.Helper()
	td := apitypes.TypedData{
		Types:       apitypes.Types{"EIP712Domain": domainType, primary: fields},
		PrimaryType: primary,
		Domain:      d.domain(),
		Message:     msg,
	}
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

// sign65 signs digest and returns r || s || v with v in {27, 28}, as eth_signTypedData_v4 does.
func sign65(t testing.TB, key *ecdsa.PrivateKey, digest []byte) []byte {
	t.Helper()
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return sig
}

func splitSig(sig []byte) (v uint8, r, s [32]byte) {
	copy(r[:], sig[:32])
	copy(s[:], sig[32:64])
	return sig[64], r, s
}

func mustContain(t testing.TB, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("error %q does not contain %q", got, want)
	}
}

func hexBig(t testing.TB, raw string) *big.Int {
	t.Helper()
	v, err := hexutil.DecodeBig(raw)
	if err != nil {
		t.Fatalf("hex %q: %v", raw, err)
	}
	return v
}
