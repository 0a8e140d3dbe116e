package sidecar_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/sidecar"
	"github.com/fleetkey/fleetkey/internal/sidecar/sidecartest"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// TestSettlesThroughFleetkey is the whole path with nothing stood in for: the sidecar pays with
// the SDK payer, the real payments service behind the real API derives the agent's key and
// signs under policy for the devnet's token, the resource server's facilitator settles on
// chain, and the agent's own address pays the merchant. A payment above the policy limit is a
// 403 with the service's reason and rule.
func TestSettlesThroughFleetkey(t *testing.T) {
	a := env.StartFleetkey(t, `version: 1
name: sidecar-e2e
allow_http: true
limits:
  per_payment: "0.01"
max_validity: 5m
`)
	agent, tok := a.Address, env.Net.Token()
	payer, err := sdk.NewPayer(a.APIURL, a.Token, sdk.WithMaxApprovalWait(0))
	if err != nil {
		t.Fatal(err)
	}
	sc := startSidecar(t, sidecar.Config{Payer: payer})

	for _, path := range []string{sidecartest.PathWeather, sidecartest.PathV1Weather} {
		t.Run(path, func(t *testing.T) {
			ab, mb := balance(t, agent), balance(t, env.Merchant)
			resp, body := get(t, nil, sc.URL+"/"+env.URL+path)
			if resp.StatusCode != 200 || string(body) != sidecartest.WeatherBody {
				t.Fatalf("status %d body %s (%s)", resp.StatusCode, body, resp.Header.Get(sidecar.HeaderPaymentError))
			}
			network := x402.EVMNetwork(sidecartest.ChainID)
			if path == sidecartest.PathV1Weather {
				network = "base-sepolia"
			}
			checkPaid(t, resp, agent, ab, mb, network)
			if rc := parseReceipt(t, resp.Header.Get(sidecar.HeaderPayment)); rc["authorization_id"] == "" {
				t.Errorf("receipt without fleetkey's authorization id: %v", rc)
			}
		})
	}
	if as := a.Authorizations(); len(as) != 2 {
		t.Errorf("%d authorizations in the ledger, want 2", len(as))
	}

	// Above per_payment: refused by fleetkey, nothing signed or moved.
	dear := paymentstest.DemandV2(t, x402.PaymentRequirementsV2{
		Scheme: "exact", Network: x402.EVMNetwork(sidecartest.ChainID), Amount: "10001",
		Asset: tok.Address.Hex(), PayTo: env.Merchant.Hex(), MaxTimeoutSeconds: 60,
		Extra: []byte(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`),
	})
	dearSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(x402.HeaderPaymentRequired, dear)
		w.WriteHeader(http.StatusPaymentRequired)
	}))
	defer dearSrv.Close()
	ab := balance(t, agent)
	resp, body := get(t, nil, sc.URL+"/"+dearSrv.URL+"/data")
	e := decodeError(t, resp, body, http.StatusForbidden, sidecar.CodePaymentDenied)
	if e.Error.Reason != "amount_above_per_payment_limit" || !strings.Contains(e.Error.Rule, "per_payment") {
		t.Errorf("denial %+v", e.Error)
	}
	if got := balance(t, agent); got.Cmp(ab) != 0 {
		t.Errorf("agent balance moved on a denial")
	}
	if as := a.Authorizations(); len(as) != 2 {
		t.Errorf("%d authorizations after the denial, want 2", len(as))
	}
}
