package demo

import (
	"math/big"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// TestDemoThroughTheSigningService is the demo as `fleetkey dev` runs it: the
// demo fleet provisioned (twice: the second time changes nothing) through the
// operator API of the real payments service (SQLite, custody vault, TestUSD
// in the asset registry), each agent funded on the devnet and paying through
// the SDK's payer. Every agent
// requests every endpoint once; each outcome is the one docs/dev.md states,
// with the API's reason code, and only the honest payments move tokens. The
// runaway agent is then rate limited.
func TestDemoThroughTheSigningService(t *testing.T) {
	env := paymentstest.New(t, paymentstest.Options{})
	ctx := testCtx(t)
	tok := testNet.Token()
	reg, err := signer.NewRegistry([]signer.Asset{{Network: testNet.Network(), Address: tok.Address, Symbol: tok.Symbol,
		Decimals: tok.Decimals, EIP712Name: tok.Name, EIP712Version: tok.Version}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := payments.New(payments.Config{Store: env.Store, Keys: env.Vault, Registry: reg, Audit: env.Audit})
	if err != nil {
		t.Fatal(err)
	}
	apiSrv := httptest.NewServer(api.NewHandler(api.Config{Payments: svc, Operators: svc, Audit: env.Store}))
	t.Cleanup(apiSrv.Close)
	demoAPI := newTestAPI(t)

	spec, err := Fleet(testNet.ChainID(), tok.Address, demoAPI.merchant)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := payments.BootstrapAdmin(ctx, env.Store, env.Audit, "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	operator, err := sdk.NewClient(apiSrv.URL, admin.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	prov, err := Provision(ctx, operator, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(prov.Agents) != 6 || len(prov.GroupIDs) != 2 || prov.PoliciesChanged != 4 {
		t.Fatalf("provisioned %+v", prov)
	}
	// Provisioning again changes nothing and shows no token.
	again, err := Provision(ctx, operator, spec)
	if err != nil {
		t.Fatal(err)
	}
	if again.FleetID != prov.FleetID || again.PoliciesChanged != 0 || len(again.Agents) != len(prov.Agents) {
		t.Fatalf("second provisioning %+v", again)
	}
	for i, a := range again.Agents {
		if a.Created || a.Token != "" || a.ID != prov.Agents[i].ID || a.Address != prov.Agents[i].Address || !prov.Agents[i].Created {
			t.Errorf("agent %s: first %+v, second %+v", a.Name, prov.Agents[i], a)
		}
	}

	funder := exact.NewLocalKeyPayer(devKey(t, 6))
	t.Cleanup(funder.Destroy)
	type agent struct {
		TrafficAgent
		addr common.Address
	}
	var agents []agent
	for _, p := range prov.Agents {
		// The payer does not wait for approvers: the research report is
		// reported as pending at once.
		payer, err := sdk.NewPayer(apiSrv.URL, p.Token.Reveal(), sdk.WithMaxApprovalWait(0))
		if err != nil {
			t.Fatal(err)
		}
		addr := common.HexToAddress(p.Address)
		fund(t, funder, addr, "5000000")
		agents = append(agents, agent{TrafficAgent{Name: p.Name, Group: p.Group, Payer: payer, Pace: p.Pace}, addr})
	}

	tr, err := NewTraffic(TrafficConfig{APIURL: demoAPI.url, Endpoints: demoAPI.Endpoints(), Agents: []TrafficAgent{agents[0].TrafficAgent}})
	if err != nil {
		t.Fatal(err)
	}
	summary := NewSummary(tok.Decimals, tok.Symbol)
	merchantBefore := balance(t, demoAPI.merchant)
	foreignBefore := balance(t, demoAPI.foreign)
	paid := new(big.Int)
	for _, a := range agents {
		before := balance(t, a.addr)
		spent := new(big.Int)
		for _, ep := range demoAPI.Endpoints() {
			ev, ok := tr.fetch(ctx, a.TrafficAgent, ep)
			if !ok {
				t.Fatal("cancelled")
			}
			summary.Add(ev)
			outcome, reason := expectedOutcome(a.Group, ep)
			if ev.Outcome != outcome || (reason != "" && ev.Reason != reason) {
				t.Errorf("%s %s: %s %q, want %s %q", a.Name, ep.Path, ev.Outcome, ev.Reason, outcome, reason)
			}
			if ev.Outcome == OutcomePaid {
				if !strings.HasPrefix(ev.Transaction, "0x") || ev.Amount == nil || ev.Amount.String() != ep.Amount {
					t.Errorf("%s %s: paid event %+v", a.Name, ep.Path, ev)
				}
				spent.Add(spent, ev.Amount)
			}
		}
		if got := new(big.Int).Sub(before, balance(t, a.addr)); got.Cmp(spent) != 0 {
			t.Errorf("%s spent %s on chain, its paid events say %s", a.Name, got, spent)
		}
		paid.Add(paid, spent)
	}
	if got := new(big.Int).Sub(balance(t, demoAPI.merchant), merchantBefore); got.Cmp(paid) != 0 {
		t.Errorf("merchant received %s, paid events say %s", got, paid)
	}
	if balance(t, demoAPI.foreign).Cmp(foreignBefore) != 0 {
		t.Error("the foreign payee was paid")
	}

	// The runaway agent made one request per endpoint this minute; its limit
	// is ten, so the eleventh is refused whatever it asks for.
	runaway := agents[len(agents)-1]
	if runaway.Name != "runaway" {
		t.Fatalf("last agent is %s", runaway.Name)
	}
	weather := demoAPI.endpoint(t, KindNormal)
	n := len(demoAPI.Endpoints())
	for i := n + 1; i <= 11; i++ {
		ev, _ := tr.fetch(ctx, runaway.TrafficAgent, weather)
		summary.Add(ev)
		want, reason := OutcomePaid, ""
		if i == 11 {
			want, reason = OutcomeDenied, "rate_limited"
		}
		if ev.Outcome != want || ev.Reason != reason {
			t.Errorf("runaway's request %d: %s %q, want %s %q", i, ev.Outcome, ev.Reason, want, reason)
		}
	}

	// alice, the approver the research policy names, approves a research
	// report while a payer waits for it: the report is paid.
	alice, err := operator.CreateCredential(ctx, sdk.NewCredential{Name: Approver, Role: sdk.RoleApprover})
	if err != nil {
		t.Fatal(err)
	}
	approver, err := sdk.NewClient(apiSrv.URL, alice.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	pending, err := approver.Approvals(ctx, sdk.ApprovalFilter{Status: "pending"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 3 {
		t.Fatalf("%d pending approvals, want the 3 research reports", len(pending))
	}
	scout := agents[0]
	waiting, err := sdk.NewPayer(apiSrv.URL, prov.Agents[0].Token.Reveal(), sdk.WithMaxApprovalWait(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	scout.Payer = waiting
	research := Endpoint{Method: "GET", Path: ApprovalPath, Kind: KindNormal}
	done := make(chan Event, 1)
	before := balance(t, scout.addr)
	go func() {
		ev, _ := tr.fetch(ctx, scout.TrafficAgent, research)
		done <- ev
	}()
	var approved *sdk.Approval
	for approved == nil {
		list, err := approver.Approvals(ctx, sdk.ApprovalFilter{Status: "pending"})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			if !slices.ContainsFunc(pending, func(p sdk.Approval) bool { return p.ID == a.ID }) {
				if approved, err = approver.Approve(ctx, a.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if approved == nil && !sleep(ctx, 20*time.Millisecond) {
			t.Fatal("no new approval before the test's deadline")
		}
	}
	if approved.Status != "approved" || len(approved.Approvers) != 1 || approved.Approvers[0] != Approver {
		t.Errorf("approval %+v", approved)
	}
	ev := <-done
	summary.Add(ev)
	if ev.Outcome != OutcomePaid || ev.Amount == nil || ev.Amount.Int64() != 250_000 {
		t.Errorf("approved research report: %+v", ev)
	}
	if got := new(big.Int).Sub(before, balance(t, scout.addr)); got.Int64() != 250_000 {
		t.Errorf("scout paid %s for the approved report", got)
	}

	st := summary.Stats()
	for k, h := range st.Hostile {
		if h.Paid != 0 || h.Refused != h.Requests || h.Requests != len(agents) {
			t.Errorf("hostile %s: %+v", k, h)
		}
	}
	if st.ApprovalsPending != 3 || len(st.Failed) != 0 || st.Paid != 21 {
		t.Errorf("pending %d, failed %v", st.ApprovalsPending, st.Failed)
	}
	var b strings.Builder
	summary.Render(&b)
	t.Logf("summary:\n%s", b.String())
}

// expectedOutcome is docs/dev.md's table: what the demo fleet does with each
// endpoint.
func expectedOutcome(group string, ep Endpoint) (Outcome, string) {
	switch {
	case ep.Kind == KindOvercharge:
		return OutcomeDenied, "amount_above_per_payment_limit"
	case ep.Kind == KindForeignPayTo:
		return OutcomeDenied, "pay_to_not_allowed"
	case ep.Kind == KindWrongDomain:
		return OutcomeDenied, "domain_mismatch"
	case ep.Kind == KindRepeat402:
		return OutcomeRejected, "Payment required"
	case ep.Path == ApprovalPath && group == "research":
		return OutcomeApprovalPending, ""
	case ep.Path == ApprovalPath:
		return OutcomeDenied, "amount_above_per_payment_limit"
	}
	return OutcomePaid, ""
}

// fund moves TestUSD from a dev account to addr through an EIP-3009
// authorization the dev account signs, settled by the facilitator.
func fund(t *testing.T, from *exact.LocalKeyPayer, addr common.Address, amount string) {
	t.Helper()
	tok := testNet.Token()
	r := x402.PaymentRequirementsV2{Scheme: x402.SchemeExact, Network: testNet.Network(), Amount: amount, Asset: tok.Address.Hex(),
		PayTo: addr.Hex(), MaxTimeoutSeconds: 300, Extra: domainExtra(tok.Name, tok.Version)}
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: x402.V2, Resource: x402.ResourceInfo{URL: "http://funding.invalid/"}, Accepts: []x402.PaymentRequirementsV2{r}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := x402.DecodePaymentRequired(h)
	if err != nil {
		t.Fatal(err)
	}
	p, err := from.Pay(testCtx(t), &x402.PaymentRequest{URL: "http://funding.invalid/", Method: "GET", Version: x402.V2, V2: pr, Raw: []byte(h)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := x402.DecodeHeaderJSON(p.Value)
	if err != nil {
		t.Fatal(err)
	}
	vr, err := x402.NewVerifyRequest(raw, pr.Accepts[0])
	if err != nil {
		t.Fatal(err)
	}
	s, err := testFac.Settle(testCtx(t), vr)
	if err != nil || !s.Success {
		t.Fatalf("funding %s: %+v, %v", addr.Hex(), s, err)
	}
}
