package facilitator

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// paidAPI is a resource server protected by x402's middleware, which talks to the facilitator
// over HTTP.
type paidAPI struct {
	url      string
	merchant string
	payer    *exact.LocalKeyPayer
	client   *http.Client
}

func newPaidAPI(t testing.TB, f *Facilitator, payerIndex int) *paidAPI {
	t.Helper()
	fsrv := httptest.NewServer(f.Handler())
	t.Cleanup(fsrv.Close)
	fc, err := x402.NewFacilitatorClient(fsrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tok := testNet.Token()
	merchant := randomAddress(t).Hex()
	accept := x402.Accept{Amount: "10000", Asset: tok.Address.Hex(), PayTo: merchant, EIP712Name: tok.Name, EIP712Version: tok.Version, MaxTimeoutSeconds: int64(fixtureValidity / time.Second)}
	v2, v1 := accept, accept
	v2.Network, v1.Network = x402.EVMNetwork(testChainID), "base-sepolia"
	mw, err := x402.NewMiddleware(x402.MiddlewareConfig{Facilitator: fc, Routes: []x402.Route{
		{Pattern: "GET /weather", Accepts: []x402.Accept{v2}, Description: "weather", MimeType: "application/json"},
		{Pattern: "GET /v1/weather", Version: x402.V1, Accepts: []x402.Accept{v1}, Description: "weather", MimeType: "application/json"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := mw.CheckSupported(testCtx(t)); err != nil {
		t.Fatalf("CheckSupported: %v", err)
	}
	app := httptest.NewServer(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"forecast":"sunny"}`)
	})))
	t.Cleanup(app.Close)
	payer := exact.NewLocalKeyPayer(devKey(t, payerIndex))
	t.Cleanup(payer.Destroy)
	return &paidAPI{url: app.URL, merchant: merchant, payer: payer, client: x402.NewClient(payer)}
}

func (a *paidAPI) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url+path, nil)
	if err != nil {
		return nil, err
	}
	return a.client.Do(req)
}

// TestPaidRequestEndToEnd: x402 client with a local-key payer → middleware → this facilitator
// over HTTP → devnet, in v2 and v1; tokens move; a replay of the paid header is refused.
func TestPaidRequestEndToEnd(t *testing.T) {
	f := newFac(t, nil)
	api := newPaidAPI(t, f, 5)
	for _, path := range []string{"/weather", "/v1/weather"} {
		t.Run(path, func(t *testing.T) {
			merchantBefore := balance(t, commonAddr(api.merchant))
			payerBefore := balance(t, api.payer.Address())
			resp, err := api.get(testCtx(t), path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != `{"forecast":"sunny"}` {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
			s, err := x402.SettlementFromResponse(resp)
			if err != nil || !s.Success || s.Payer != api.payer.Address().Hex() {
				t.Fatalf("settlement %+v, %v", s, err)
			}
			if r := receipt(t, s.Transaction); r.Status != 1 {
				t.Fatalf("settlement transaction failed")
			}
			if got := new(big.Int).Sub(balance(t, commonAddr(api.merchant)), merchantBefore); got.Int64() != 10000 {
				t.Errorf("merchant received %s, want 10000", got)
			}
			if got := new(big.Int).Sub(payerBefore, balance(t, api.payer.Address())); got.Int64() != 10000 {
				t.Errorf("payer paid %s, want 10000", got)
			}

			// Replay the very header that paid: refused with the nonce reason, nothing moves.
			res := x402.ResultFromResponse(resp)
			if res == nil || res.Payment == nil {
				t.Fatal("no payment recorded on the response")
			}
			replay, err := http.NewRequest(http.MethodGet, api.url+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			replay.Header.Set(res.Payment.Header, res.Payment.Value)
			rr, err := http.DefaultClient.Do(replay)
			if err != nil {
				t.Fatal(err)
			}
			rbody, _ := io.ReadAll(rr.Body)
			rr.Body.Close()
			if rr.StatusCode != http.StatusPaymentRequired {
				t.Fatalf("replay status %d", rr.StatusCode)
			}
			reason := ""
			if path == "/weather" {
				pr, err := x402.DecodePaymentRequired(rr.Header.Get(x402.HeaderPaymentRequired))
				if err != nil {
					t.Fatal(err)
				}
				reason = pr.Error
			} else {
				var pr x402.PaymentRequiredV1
				if err := json.Unmarshal(rbody, &pr); err != nil {
					t.Fatal(err)
				}
				reason = pr.Error
			}
			if reason != ReasonNonceUsed {
				t.Errorf("replay refused with %q, want %s", reason, ReasonNonceUsed)
			}
			if got := new(big.Int).Sub(payerBefore, balance(t, api.payer.Address())); got.Int64() != 10000 {
				t.Errorf("after replay the payer paid %s in total, want 10000", got)
			}
		})
	}
}

// TestPaidRequestUnfundedPayer: a payer without tokens is refused with the precise reason.
func TestPaidRequestUnfundedPayer(t *testing.T) {
	f := newFac(t, nil)
	api := newPaidAPI(t, f, 5)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	payer := exact.NewLocalKeyPayer(key)
	defer payer.Destroy()
	api.client = x402.NewClient(payer)
	resp, err := api.get(testCtx(t), "/weather")
	if err == nil {
		defer resp.Body.Close()
		pr, derr := x402.DecodePaymentRequired(resp.Header.Get(x402.HeaderPaymentRequired))
		if resp.StatusCode != http.StatusPaymentRequired || derr != nil || pr.Error != ReasonInsufficientBalance {
			t.Fatalf("status %d, demand %+v, %v", resp.StatusCode, pr, derr)
		}
		return
	}
	// The client may report the refusal as an error; it must carry the reason.
	if !contains(err.Error(), ReasonInsufficientBalance) {
		t.Fatalf("Get: %v", err)
	}
}
