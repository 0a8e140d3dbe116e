// Package sidecartest starts what the sidecar and MCP server tests pay against: an embedded
// devnet (chain 84532, so that one chain serves x402 v2 as eip155:84532 and v1 as
// base-sepolia), the in-process x402 facilitator settling on it, and a small resource server
// behind x402's middleware. Payments made against it settle on chain, so tests can check that
// token balances moved.
//
// It is for tests only: the payers it hands out sign with the devnet's public dev keys.
package sidecartest

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// ChainID is the devnet's chain id: base-sepolia's, so v1 clients can name it.
const ChainID = 84532

// Price is what every paid route of the resource server asks, in TestUSD atomic units
// (6 decimals: 0.01 TestUSD).
const Price = 10000

// relayerIndex is the dev account that sends settlements; account 0 owns the token. Payers
// use accounts 1..8.
const relayerIndex = 9

// Routes of the resource server:
//
//	GET  /weather     v2, Price, answers {"forecast":"sunny"}
//	GET  /v1/weather  v1, Price, same answer
//	POST /echo        v2, Price, answers the request body with the request's Content-Type
//	GET  /headers     free, answers the request headers as a JSON object
//	GET  /big         free, answers BigBody bytes of 'x'
const (
	PathWeather   = "/weather"
	PathV1Weather = "/v1/weather"
	PathEcho      = "/echo"
	PathHeaders   = "/headers"
	PathBig       = "/big"
	// WeatherBody is the body of the weather routes.
	WeatherBody = `{"forecast":"sunny"}`
	// BigBody is the length of /big's answer.
	BigBody = 200 << 10
)

// Env is a running devnet, facilitator and resource server.
type Env struct {
	// Net is the devnet.
	Net *devnet.Devnet
	// URL is the resource server's base URL (http://127.0.0.1:port).
	URL string
	// Merchant receives the payments.
	Merchant common.Address

	fac   *facilitator.Facilitator
	app   *httptest.Server
	token *bindings.TestUSD
}

// Start starts the environment. Close it when done.
func Start(ctx context.Context) (env *Env, err error) {
	d, err := devnet.Start(ctx, devnet.Config{ChainID: ChainID, Listen: "127.0.0.1:0"})
	if err != nil {
		return nil, fmt.Errorf("sidecartest: devnet: %w", err)
	}
	e := &Env{Net: d}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	relayer, err := facilitator.NewRelayerKey([]byte(d.Accounts()[relayerIndex].PrivateKeyHex))
	if err != nil {
		return nil, err
	}
	e.fac, err = facilitator.New(ctx, facilitator.Config{
		Chains:  []facilitator.Chain{{ChainID: ChainID, Backend: d.Client()}},
		Relayer: relayer,
	})
	if err != nil {
		return nil, fmt.Errorf("sidecartest: facilitator: %w", err)
	}
	if e.token, err = bindings.NewTestUSD(d.Token().Address, d.Client()); err != nil {
		return nil, err
	}
	mk, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	e.Merchant = crypto.PubkeyToAddress(mk.PublicKey)

	tok := d.Token()
	accept := x402.Accept{
		Amount: fmt.Sprint(Price), Asset: tok.Address.Hex(), PayTo: e.Merchant.Hex(),
		EIP712Name: tok.Name, EIP712Version: tok.Version, MaxTimeoutSeconds: 300,
	}
	v2, v1 := accept, accept
	v2.Network, v1.Network = x402.EVMNetwork(ChainID), "base-sepolia"
	mw, err := x402.NewMiddleware(x402.MiddlewareConfig{Facilitator: e.fac, Routes: []x402.Route{
		{Pattern: "GET " + PathWeather, Accepts: []x402.Accept{v2}, Description: "weather", MimeType: "application/json"},
		{Pattern: "GET " + PathV1Weather, Version: x402.V1, Accepts: []x402.Accept{v1}, Description: "weather", MimeType: "application/json"},
		{Pattern: "POST " + PathEcho, Accepts: []x402.Accept{v2}, Description: "echo"},
	}})
	if err != nil {
		return nil, err
	}
	if err := mw.CheckSupported(ctx); err != nil {
		return nil, fmt.Errorf("sidecartest: facilitator support: %w", err)
	}
	mux := http.NewServeMux()
	weather := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, WeatherBody)
	}
	mux.HandleFunc("GET "+PathWeather, weather)
	mux.HandleFunc("GET "+PathV1Weather, weather)
	mux.HandleFunc("POST "+PathEcho, func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("GET "+PathHeaders, func(w http.ResponseWriter, r *http.Request) {
		h := map[string]string{}
		for k, v := range r.Header {
			h[k] = strings.Join(v, ", ")
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(h)
	})
	mux.HandleFunc("GET "+PathBig, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, strings.Repeat("x", BigBody))
	})
	e.app = httptest.NewServer(mw.Wrap(mux))
	e.URL = e.app.URL
	return e, nil
}

// Close stops the resource server, the facilitator and the devnet.
func (e *Env) Close() error {
	if e.app != nil {
		e.app.Close()
	}
	if e.fac != nil {
		e.fac.Close()
	}
	return e.Net.Close()
}

// Key returns dev account i's private key (1..8 are free for payers).
func (e *Env) Key(i int) (*ecdsa.PrivateKey, error) {
	if i < 1 || i >= relayerIndex {
		return nil, fmt.Errorf("sidecartest: payer account %d outside 1..%d", i, relayerIndex-1)
	}
	return e.Net.Accounts()[i].PrivateKey()
}

// Payer returns a local-key payer for dev account i. Destroy it when done.
func (e *Env) Payer(i int) (*exact.LocalKeyPayer, error) {
	k, err := e.Key(i)
	if err != nil {
		return nil, err
	}
	return exact.NewLocalKeyPayer(k), nil
}

// Fund transfers amount TestUSD (atomic units) from dev account 8 to to and waits until the
// transfer is mined, so that an address fleetkey derived can pay.
func (e *Env) Fund(ctx context.Context, to common.Address, amount *big.Int) error {
	k, err := e.Key(8)
	if err != nil {
		return err
	}
	opts, err := bind.NewKeyedTransactorWithChainID(k, big.NewInt(ChainID))
	if err != nil {
		return err
	}
	opts.Context = ctx
	tx, err := e.token.Transfer(opts, to, amount)
	if err != nil {
		return fmt.Errorf("sidecartest: fund %s: %w", to.Hex(), err)
	}
	if _, err := chain.WaitSuccess(ctx, e.Net.Client(), tx.Hash()); err != nil {
		return fmt.Errorf("sidecartest: fund %s: %w", to.Hex(), err)
	}
	return nil
}

// Balance returns a's TestUSD balance.
func (e *Env) Balance(ctx context.Context, a common.Address) (*big.Int, error) {
	return e.token.BalanceOf(&bind.CallOpts{Context: ctx}, a)
}
