package facilitator

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// The package's tests share one devnet. Its chain id is base-sepolia's, so that the same chain
// is served as eip155:84532 (x402 v2) and as "base-sepolia" (x402 v1).
const testChainID = 84532

var (
	testNet    *devnet.Devnet
	testClient *ethclient.Client // over HTTP JSON-RPC, as a deployed facilitator talks to its node
	// nextPayer hands out dev accounts 1..8 round-robin; account 0 owns the token, account 9
	// is the relayer.
	nextPayer atomic.Uint32
)

const relayerIndex = 9

func TestMain(m *testing.M) {
	// Fuzz worker processes run only FuzzHandler, which needs no chain.
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.fuzzworker") {
			os.Exit(m.Run())
		}
	}
	cfg := devnet.Config{ChainID: testChainID, Listen: "127.0.0.1:0"}
	if benchmarking() {
		// Settling one payment after another needs one block each, and block timestamps
		// advance by at least a second per block: let the chain run far ahead of the clock,
		// and sign authorizations valid for long enough to stay valid on it.
		cfg.MaxTimestampLead = time.Hour
		fixtureValidity = 3 * time.Hour
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	d, err := devnet.Start(ctx, cfg)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "devnet:", err)
		os.Exit(1)
	}
	testNet = d
	// Keep connections to the node alive under concurrency, as a deployed facilitator should
	// (the default transport keeps two idle connections per host).
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}
	rc, err := rpc.DialOptions(context.Background(), d.RPCURL(), rpc.WithHTTPClient(hc))
	if err == nil {
		testClient = ethclient.NewClient(rc)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	code := m.Run()
	testClient.Close()
	if err := d.Close(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "devnet close:", err)
		code = 1
	}
	os.Exit(code)
}

// fixtureValidity is how long fixtures' authorizations are valid.
var fixtureValidity = 5 * time.Minute

func benchmarking() bool {
	for _, a := range os.Args {
		if v, ok := strings.CutPrefix(a, "-test.bench="); ok && v != "" && v != "^$" {
			return true
		}
	}
	return false
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func devKey(t testing.TB, i int) *ecdsa.PrivateKey {
	t.Helper()
	k, err := testNet.Accounts()[i].PrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func relayerKey(t testing.TB) *RelayerKey {
	t.Helper()
	k, err := NewRelayerKey([]byte(testNet.Accounts()[relayerIndex].PrivateKeyHex))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newFac returns a facilitator on the shared devnet (over HTTP JSON-RPC), closed at the end
// of the test. Each has its own registry; all share the relayer account, as several
// facilitator processes with one key would, which the nonce resync has to cope with.
func newFac(t testing.TB, mod func(*Config)) *Facilitator {
	t.Helper()
	cfg := Config{Chains: []Chain{{ChainID: testChainID, Backend: testClient}}, Relayer: relayerKey(t)}
	if mod != nil {
		mod(&cfg)
	}
	f, err := New(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func randomAddress(t testing.TB) common.Address {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(k.PublicKey)
}

// fixture is one payment, good unless a test changes it. request() signs it.
type fixture struct {
	version int
	// requirement (v2 field names; for v1, amount is maxAmountRequired)
	scheme, network, asset, payTo, amount string
	extra                                 map[string]any
	// what the client claims: accepted (v2) or payload scheme/network (v1)
	acceptedScheme, acceptedNetwork string
	auth                            x402.Authorization
	key                             *ecdsa.PrivateKey // signs the digest
	signDomain                      *exact.Domain     // domain to sign under; nil = the requirement's
	sig                             string            // overrides the signature when set
	tamper                          func(sig []byte)  // changes the signature bytes after signing
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	i := 1 + int(nextPayer.Add(1)-1)%8
	key := devKey(t, i)
	return newFixtureFor(t, key)
}

func newFixtureFor(t testing.TB, key *ecdsa.PrivateKey) *fixture {
	t.Helper()
	tok := testNet.Token()
	return newFixtureWith(t, key, tok.Address, tok.Name, tok.Version)
}

func newFixtureWith(t testing.TB, key *ecdsa.PrivateKey, token common.Address, name, version string) *fixture {
	t.Helper()
	tok := struct {
		Address       common.Address
		Name, Version string
	}{token, name, version}
	payTo := randomAddress(t)
	nonce, err := exact.NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		version: x402.V2, scheme: "exact", network: x402.EVMNetwork(testChainID),
		asset: tok.Address.Hex(), payTo: payTo.Hex(), amount: "10000",
		extra:          map[string]any{"name": tok.Name, "version": tok.Version},
		acceptedScheme: "exact", acceptedNetwork: x402.EVMNetwork(testChainID),
		auth: x402.Authorization{
			From: crypto.PubkeyToAddress(key.PublicKey).Hex(), To: payTo.Hex(), Value: "10000",
			ValidAfter: "0", ValidBefore: fmt.Sprint(time.Now().Add(fixtureValidity).Unix()),
			Nonce: "0x" + common.Bytes2Hex(nonce[:]),
		},
		key: key,
	}
}

// v1 turns the fixture into an x402 v1 payment on base-sepolia.
func (fx *fixture) v1() *fixture {
	fx.version = x402.V1
	fx.network, fx.acceptedNetwork = "base-sepolia", "base-sepolia"
	now := time.Now().Unix()
	fx.auth.ValidAfter = fmt.Sprint(now - 600)
	return fx
}

func (fx *fixture) from() common.Address { return common.HexToAddress(fx.auth.From) }
func (fx *fixture) to() common.Address   { return common.HexToAddress(fx.auth.To) }

func (fx *fixture) signature(t testing.TB) string {
	t.Helper()
	if fx.sig != "" {
		return fx.sig
	}
	d := exact.Domain{ChainID: testChainID, VerifyingContract: common.HexToAddress(fx.asset)}
	d.Name, _ = fx.extra["name"].(string)
	d.Version, _ = fx.extra["version"].(string)
	if fx.signDomain != nil {
		d = *fx.signDomain
	}
	a, err := exact.ParseAuthorization(fx.auth)
	if err != nil {
		t.Fatalf("fixture authorization: %v", err)
	}
	digest := exact.Hash(d, a).Digest
	sig, err := crypto.Sign(digest[:], fx.key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	if fx.tamper != nil {
		fx.tamper(sig)
	}
	return "0x" + common.Bytes2Hex(sig)
}

func (fx *fixture) request(t testing.TB) *x402.VerifyRequest {
	t.Helper()
	extra, err := json.Marshal(fx.extra)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := json.Marshal(x402.ExactEVMPayload{Signature: fx.signature(t), Authorization: fx.auth})
	if err != nil {
		t.Fatal(err)
	}
	var payload, reqs any
	if fx.version == x402.V1 {
		rq := x402.PaymentRequirementsV1{
			Scheme: fx.scheme, Network: fx.network, MaxAmountRequired: fx.amount, Resource: "http://127.0.0.1/weather",
			Description: "weather", MimeType: "application/json", PayTo: fx.payTo, MaxTimeoutSeconds: 60,
			Asset: fx.asset, Extra: extra,
		}
		reqs = rq
		payload = x402.PaymentPayloadV1{X402Version: 1, Scheme: fx.acceptedScheme, Network: fx.acceptedNetwork, Payload: inner}
	} else {
		rq := x402.PaymentRequirementsV2{
			Scheme: fx.scheme, Network: fx.network, Amount: fx.amount, Asset: fx.asset, PayTo: fx.payTo,
			MaxTimeoutSeconds: 300, Extra: extra,
		}
		acc := rq
		acc.Scheme, acc.Network = fx.acceptedScheme, fx.acceptedNetwork
		reqs = rq
		payload = x402.PaymentPayloadV2{X402Version: 2, Resource: &x402.ResourceInfo{URL: "http://127.0.0.1/weather"}, Accepted: acc, Payload: inner}
	}
	pb, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	req, err := x402.NewVerifyRequest(pb, reqs)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// chain reads

func tokenBinding(t testing.TB) *bindings.TestUSD {
	t.Helper()
	tk, err := bindings.NewTestUSD(testNet.Token().Address, testClient)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func balance(t testing.TB, a common.Address) *big.Int {
	t.Helper()
	b, err := tokenBinding(t).BalanceOf(&bind.CallOpts{Context: testCtx(t)}, a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func nonceUsed(t testing.TB, fx *fixture) bool {
	t.Helper()
	var n [32]byte
	copy(n[:], common.FromHex(fx.auth.Nonce))
	used, err := tokenBinding(t).AuthorizationState(&bind.CallOpts{Context: testCtx(t)}, fx.from(), n)
	if err != nil {
		t.Fatal(err)
	}
	return used
}

func relayerNonce(t testing.TB) uint64 {
	t.Helper()
	n, err := testClient.PendingNonceAt(testCtx(t), testNet.Accounts()[relayerIndex].Address)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func receipt(t testing.TB, hash string) *types.Receipt {
	t.Helper()
	r, err := chain.WaitReceipt(testCtx(t), testClient, common.HexToHash(hash))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// txInput returns the calldata of a mined transaction.
func txInput(t testing.TB, hash string) []byte {
	t.Helper()
	tx, _, err := testClient.TransactionByHash(testCtx(t), common.HexToHash(hash))
	if err != nil {
		t.Fatal(err)
	}
	return tx.Data()
}

// hidingBackend hides receipts while hide is set, to make a settlement time out.
type hidingBackend struct {
	Backend
	hide atomic.Bool
}

func (h *hidingBackend) TransactionReceipt(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	if h.hide.Load() {
		return nil, ethereum.NotFound
	}
	return h.Backend.TransactionReceipt(ctx, hash)
}

type bigInt = big.Int
type x402VerifyRequest = x402.VerifyRequest

func commonAddr(s string) common.Address { return common.HexToAddress(s) }
