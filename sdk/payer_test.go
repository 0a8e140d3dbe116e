package sdk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// realAPI is the real payments service on SQLite with a random-mnemonic vault, served by the
// real API handler, with one agent under policySrc and the first admin's token.
type realAPI struct {
	env   *paymentstest.Env
	svc   *payments.Service
	url   string
	agent payments.Provisioned
	admin string
}

func newRealAPI(t *testing.T, policySrc string) *realAPI {
	t.Helper()
	env := paymentstest.New(t, paymentstest.Options{FleetIndex: 5})
	svc, err := payments.New(payments.Config{Store: env.Store, Keys: env.Vault, Registry: env.Registry, Audit: env.Audit})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(env.Ctx, payments.ProvisionRequest{FleetID: env.Fleet.ID, GroupID: env.Group.ID,
		Agents: []payments.NewAgent{{ExternalID: "sdk-agent", Name: "sdk-agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	env.PutPolicy(store.LevelAgent, ps[0].Agent.ID, policySrc)
	admin, err := payments.BootstrapAdmin(env.Ctx, env.Store, env.Audit, "root", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(api.Config{Payments: svc, Operators: svc, Audit: env.Store}))
	t.Cleanup(srv.Close)
	return &realAPI{env: env, svc: svc, url: srv.URL, agent: ps[0], admin: admin.Token.Reveal()}
}

const smallPolicy = `version: 1
name: sdk-test
allow_http: true
limits:
  per_payment: "0.05"
max_validity: 2m
`

// paidResource answers 402 with a v2 demand for amount until a PAYMENT-SIGNATURE arrives,
// which it checks as a facilitator would before serving the content.
func paidResource(t *testing.T, amount string) (*httptest.Server, *int) {
	t.Helper()
	demand := paymentstest.DemandV2(t, paymentstest.Requirement(amount))
	paid := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(x402.HeaderPaymentSignature); v != "" {
			paymentstest.CheckPaymentV2(t, demand, v)
			paid++
			io.WriteString(w, "the paid content")
			return
		}
		w.Header().Set(x402.HeaderPaymentRequired, demand)
		w.WriteHeader(http.StatusPaymentRequired)
	}))
	t.Cleanup(srv.Close)
	return srv, &paid
}

// TestPayerThroughRealService: an agent with only a token fetches a paid resource with
// x402.NewClient(payer); fleetkey signs a header the facilitator-side check accepts, and the
// ledger names the authorization the Payer reported.
func TestPayerThroughRealService(t *testing.T) {
	a := newRealAPI(t, smallPolicy)
	res, paid := paidResource(t, "10000")
	payer, err := sdk.NewPayer(a.url, a.agent.Token.Reveal()+"\n")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := x402.NewClient(payer).Get(res.URL + "/data")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "the paid content" || *paid != 1 {
		t.Fatalf("status %d, body %q, paid %d", resp.StatusCode, body, *paid)
	}
	r := x402.ResultFromResponse(resp)
	if r == nil || r.Payment == nil || r.Payment.AuthorizationID == "" {
		t.Fatalf("result %+v", r)
	}
	as := a.env.Authorizations(a.agent.Agent.ID)
	if len(as) != 1 || as[0].ID != r.Payment.AuthorizationID || as[0].Status != store.AuthSigned {
		t.Errorf("ledger %+v, payment %s", as, r.Payment.AuthorizationID)
	}
	id, err := payer.Client().AgentIdentity(context.Background())
	if err != nil || id.AgentID != a.agent.Agent.ID {
		t.Errorf("identity %+v, %v", id, err)
	}
}

// TestPayerDenied: a payment above the policy's limit fails with the reason and the rule,
// nothing is fetched with a payment, and nothing is reserved.
func TestPayerDenied(t *testing.T) {
	a := newRealAPI(t, smallPolicy)
	res, paid := paidResource(t, "50001")
	payer, err := sdk.NewPayer(a.url, a.agent.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	_, err = x402.NewClient(payer).Get(res.URL)
	var ae *sdk.APIError
	if !errors.Is(err, sdk.ErrDenied) || !errors.As(err, &ae) {
		t.Fatalf("err %v", err)
	}
	if ae.Status != http.StatusForbidden || ae.Reason != "amount_above_per_payment_limit" || ae.Rule != "agent:limits.per_payment" ||
		!strings.HasPrefix(ae.PolicyHash, "sha256:") || errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("denial %+v", ae)
	}
	if *paid != 0 || len(a.env.Authorizations(a.agent.Agent.ID)) != 0 {
		t.Errorf("paid %d, authorizations %d", *paid, len(a.env.Authorizations(a.agent.Agent.ID)))
	}
}

// TestPayerApprovalNoWait: with no wait allowed, a payment that needs approval fails at once
// with ErrApprovalPending naming the payment, and the reservation stays for the approvers.
func TestPayerApprovalNoWait(t *testing.T) {
	a := newRealAPI(t, `version: 1
name: approve-big
allow_http: true
approval:
  above: "0.02"
  quorum: 1
  approvers: [alice]
  expires_after: 10m
`)
	res, paid := paidResource(t, "30000")
	payer, err := sdk.NewPayer(a.url, a.agent.Token.Reveal(), sdk.WithMaxApprovalWait(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = x402.NewClient(payer).Get(res.URL)
	if !errors.Is(err, sdk.ErrApprovalPending) {
		t.Fatalf("err %v", err)
	}
	as := a.env.Authorizations(a.agent.Agent.ID)
	if len(as) != 1 || as[0].Status != store.AuthReserved || !strings.Contains(err.Error(), as[0].ID) || *paid != 0 {
		t.Errorf("err %v, ledger %+v, paid %d", err, as, *paid)
	}
}

// TestPayerIdempotencyKeysDiffer: two demands are two payments, never one replayed answer.
func TestPayerIdempotencyKeysDiffer(t *testing.T) {
	a := newRealAPI(t, smallPolicy)
	res, paid := paidResource(t, "10000")
	payer, err := sdk.NewPayer(a.url, a.agent.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	hc := x402.NewClient(payer)
	for range 2 {
		resp, err := hc.Get(res.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if as := a.env.Authorizations(a.agent.Agent.ID); len(as) != 2 || as[0].IdempotencyKey == as[1].IdempotencyKey || *paid != 2 {
		t.Errorf("%d authorizations, paid %d", len(as), *paid)
	}
}
