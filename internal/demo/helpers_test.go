package demo

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// The package's tests share one devnet with base-sepolia's chain id, so that
// the demo API serves its v1 endpoint too, and one in-process facilitator
// whose relayer is dev account 9.
const testChainID = 84532

var (
	testNet *devnet.Devnet
	testFac *facilitator.Facilitator
)

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	// Settlements come faster than one a second: let the chain run ahead of
	// the clock so that they do not wait for it, but far less than v1's
	// authorization validity (60 s from signing).
	d, err := devnet.Start(ctx, devnet.Config{ChainID: testChainID, Listen: "127.0.0.1:0", MaxTimestampLead: 40 * time.Second})
	if err != nil {
		cancel()
		fmt.Fprintln(os.Stderr, "devnet:", err)
		os.Exit(1)
	}
	relayer, err := facilitator.NewRelayerKey([]byte(d.Accounts()[9].PrivateKeyHex))
	if err == nil {
		testFac, err = facilitator.New(ctx, facilitator.Config{Chains: []facilitator.Chain{{ChainID: d.ChainID(), Backend: d.Client()}}, Relayer: relayer})
	}
	cancel()
	if err != nil {
		d.Close()
		fmt.Fprintln(os.Stderr, "facilitator:", err)
		os.Exit(1)
	}
	testNet = d
	code := m.Run()
	testFac.Close()
	if err := d.Close(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "devnet close:", err)
		code = 1
	}
	os.Exit(code)
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

func randomAddress(t testing.TB) common.Address {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(k.PublicKey)
}

// testAPI is the demo API on the shared devnet, served over HTTP, with a
// fresh merchant and a fresh foreign payee, so that tests do not see each
// other's payments.
type testAPI struct {
	*PaidAPI
	url               string
	merchant, foreign common.Address
}

func newTestAPI(t testing.TB) *testAPI {
	t.Helper()
	merchant, foreign := randomAddress(t), randomAddress(t)
	api, err := NewPaidAPI(Config{ChainID: testNet.ChainID(), Token: testNet.Token(), Merchant: merchant, Foreign: foreign, Facilitator: testFac})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.CheckSupported(testCtx(t)); err != nil {
		t.Fatalf("CheckSupported: %v", err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &testAPI{PaidAPI: api, url: srv.URL, merchant: merchant, foreign: foreign}
}

func (a *testAPI) endpoint(t testing.TB, kind Kind) Endpoint {
	t.Helper()
	for _, e := range a.Endpoints() {
		if e.Kind == kind {
			return e
		}
	}
	t.Fatalf("no %s endpoint", kind)
	return Endpoint{}
}

func balance(t testing.TB, a common.Address) *big.Int {
	t.Helper()
	usd, err := bindings.NewTestUSDCaller(testNet.Token().Address, testNet.Client())
	if err != nil {
		t.Fatal(err)
	}
	b, err := usd.BalanceOf(&bind.CallOpts{Context: testCtx(t)}, a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func authorizationUsed(t testing.TB, from common.Address, nonce [32]byte) bool {
	t.Helper()
	usd, err := bindings.NewTestUSDCaller(testNet.Token().Address, testNet.Client())
	if err != nil {
		t.Fatal(err)
	}
	used, err := usd.AuthorizationState(&bind.CallOpts{Context: testCtx(t)}, from, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return used
}

func get(t testing.TB, client *http.Client, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
