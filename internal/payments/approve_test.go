package payments

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// testClock is a settable clock for the service (the audit log keeps real time).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newClockEnv is newEnv with the service on a clock the test moves.
func newClockEnv(t testing.TB) (*env, *testClock) {
	t.Helper()
	e := newEnv(t)
	c := &testClock{t: time.Now()}
	svc, err := New(Config{Store: e.st, Keys: e.vault, Registry: e.Registry, Audit: e.Audit, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e, c
}

// operator creates an operator credential through the service (the first one
// through BootstrapAdmin) and returns the identity its token authenticates as.
func (e *env) operator(name string, role store.Role) OperatorIdentity {
	e.T.Helper()
	var ic IssuedCredential
	var err error
	if role == store.RoleAdmin && name == "root" {
		ic, err = BootstrapAdmin(e.ctx, e.st, e.Audit, name, time.Now())
	} else {
		ic, err = e.svc.CreateOperatorCredential(e.ctx, OperatorIdentity{CredentialID: "cred_test", Name: "test", Role: store.RoleAdmin},
			NewCredential{Name: name, Role: role})
	}
	if err != nil {
		e.T.Fatal(err)
	}
	id, err := e.svc.AuthenticateOperator(e.ctx, ic.Token.Reveal())
	if err != nil {
		e.T.Fatal(err)
	}
	if id.Name != name || id.Role != role || id.CredentialID != ic.Credential.ID {
		e.T.Fatalf("identity %+v for %s/%s", id, name, role)
	}
	return id
}

func (e *env) agentSpend(agentID string) store.Spend {
	e.T.Helper()
	var sp store.Spend
	err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		sp, err = rt.Spend(e.ctx, store.LevelAgent, agentID, time.Hour, time.Now().Add(time.Minute))
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return sp
}

func (e *env) actions(since uint64) []string {
	e.T.Helper()
	var out []string
	err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) error {
		rs, err := rt.AuditRecords(e.ctx, since, 0)
		for _, r := range rs {
			out = append(out, r.Action)
		}
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

const quorumPolicy = `version: 1
name: two-of-three
limits:
  windows:
    - window: 1h
      max_amount: "1"
approval:
  above: "0.02"
  quorum: 2
  approvers: [alice, bob, carol]
  expires_after: 10m
max_validity: 2m
`

// holdPayment provisions an agent under quorumPolicy and asks for a payment that
// needs approval.
func holdPayment(t *testing.T, e *env) (Provisioned, PayRequest, *PayResult) {
	t.Helper()
	ag := e.provision("", "held")[0]
	e.putPolicy(store.LevelAgent, ag.Agent.ID, quorumPolicy)
	req := payReq(t, "held-1", requirement("30000"))
	res, err := e.svc.Pay(e.ctx, ag.Agent.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.NeedsApproval || res.Status != store.AuthReserved || len(res.ApprovalIDs) != 1 || res.Value != "" {
		t.Fatalf("held payment %+v", res)
	}
	return ag, req, res
}

func TestApprovalQuorumSigns(t *testing.T) {
	e := newEnv(t)
	ag, req, res := holdPayment(t, e)
	apID := res.ApprovalIDs[0]
	alice, bob, carol := e.operator("alice", store.RoleApprover), e.operator("bob", store.RoleAdmin), e.operator("carol", store.RoleApprover)
	mallory := e.operator("mallory", store.RoleApprover)
	auditorAlice := e.operator("alice", store.RoleAuditor)
	operatorBob := e.operator("bob", store.RoleOperator)

	before := e.auditCount()
	for name, who := range map[string]OperatorIdentity{"non-approver": mallory, "auditor named alice": auditorAlice, "operator named bob": operatorBob} {
		if _, err := e.svc.Vote(e.ctx, who, apID, store.VoteApprove); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: vote error %v, want ErrForbidden", name, err)
		}
	}
	if _, err := e.svc.Vote(e.ctx, alice, apID, "maybe"); !errors.Is(err, ErrBadRequest) {
		t.Errorf("vote maybe: %v", err)
	}
	if n := e.auditCount(); n != before {
		t.Fatalf("refused votes wrote %d audit records", n-before)
	}

	v, err := e.svc.Vote(e.ctx, alice, apID, store.VoteApprove)
	if err != nil || v.Approval.Status != store.ApprovalPending || v.Authorization.Status != store.AuthReserved {
		t.Fatalf("first vote: %+v, %v", v, err)
	}
	if _, err := e.svc.Vote(e.ctx, alice, apID, store.VoteApprove); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second vote by alice: %v", err)
	}
	p, err := e.svc.Payment(e.ctx, ag.Agent.ID, res.AuthorizationID)
	if err != nil || !p.NeedsApproval || p.Value != "" || p.Status != store.AuthReserved || len(p.ApprovalIDs) != 1 {
		t.Fatalf("payment after one vote: %+v, %v", p, err)
	}

	v, err = e.svc.Vote(e.ctx, bob, apID, store.VoteApprove)
	if err != nil || v.Approval.Status != store.ApprovalApproved || v.Authorization.Status != store.AuthSigned {
		t.Fatalf("quorum vote: %+v, %v", v, err)
	}
	if got := e.actions(e.auditCount() - 2); len(got) != 2 || got[0] != audit.ActionApprovalVoted || got[1] != audit.ActionPaymentSigned {
		t.Errorf("quorum vote recorded %v", got)
	}
	if last := e.lastAudit(); last.Actor != audit.OperatorActor(bob.CredentialID) {
		t.Errorf("payment.signed actor %s", last.Actor)
	}

	p, err = e.svc.Payment(e.ctx, ag.Agent.ID, res.AuthorizationID)
	if err != nil || p.NeedsApproval || p.Status != store.AuthSigned || p.Header != "PAYMENT-SIGNATURE" || p.Value == "" {
		t.Fatalf("payment after quorum: %+v, %v", p, err)
	}
	a := paymentstest.CheckPaymentV2(t, string(req.Raw), p.Value)
	stored := e.authorizations(ag.Agent.ID)[0]
	if !strings.EqualFold(a.From.Hex(), ag.Key.Address) || !strings.EqualFold(common.Hash(a.Nonce).Hex(), stored.Nonce) ||
		a.Value.String() != "30000" || !strings.EqualFold(a.To.Hex(), payee) {
		t.Errorf("signed authorization %+v, stored %+v", a, stored)
	}
	// Signed within the policy's 2m validity from the vote, inside the reservation.
	vb := time.Unix(a.ValidBefore.Int64(), 0)
	if vb.After(stored.ValidBefore) || vb.After(time.Now().Add(2*time.Minute+time.Second)) || vb.Before(time.Now()) {
		t.Errorf("validBefore %v, reservation until %v", vb, stored.ValidBefore)
	}

	// A late vote is refused; the agent's retry gets the signed header.
	if _, err := e.svc.Vote(e.ctx, carol, apID, store.VoteDeny); !errors.Is(err, store.ErrState) {
		t.Errorf("vote after the decision: %v", err)
	}
	again, err := e.svc.Pay(e.ctx, ag.Agent.ID, req)
	if err != nil || !again.Replayed || again.Value != p.Value {
		t.Errorf("retry after approval: %+v, %v", again, err)
	}
	if k := e.key(ag.Key.ID); k.SignCount != 1 {
		t.Errorf("key signed %d times", k.SignCount)
	}
}

func (e *env) key(id string) store.Key {
	e.T.Helper()
	var k store.Key
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) { k, err = rt.Key(e.ctx, id); return err }); err != nil {
		e.T.Fatal(err)
	}
	return k
}

// Three approvers vote at once on a 2-of-3 request: the payment is signed exactly
// once, whichever votes land.
func TestApprovalConcurrentVotesSignOnce(t *testing.T) {
	e := newEnv(t)
	ag, _, res := holdPayment(t, e)
	ids := []OperatorIdentity{e.operator("alice", store.RoleApprover), e.operator("bob", store.RoleApprover), e.operator("carol", store.RoleApprover)}
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.Vote(e.ctx, id, res.ApprovalIDs[0], store.VoteApprove)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrState):
			t.Errorf("vote: %v", err)
		}
	}
	if ok < 2 {
		t.Errorf("%d votes counted, want at least 2", ok)
	}
	signed := 0
	for _, a := range e.actions(0) {
		if a == audit.ActionPaymentSigned {
			signed++
		}
	}
	if k := e.key(ag.Key.ID); k.SignCount != 1 || signed != 1 {
		t.Errorf("signed %d times, %d payment.signed records", k.SignCount, signed)
	}
	if st := e.authorizations(ag.Agent.ID)[0].Status; st != store.AuthSigned {
		t.Errorf("status %s", st)
	}
}

func TestApprovalDenyReleases(t *testing.T) {
	e := newEnv(t)
	ag, req, res := holdPayment(t, e)
	if sp := e.agentSpend(ag.Agent.ID); sp.AmountMicro != 30000 {
		t.Fatalf("held spend %+v", sp)
	}
	alice, bob := e.operator("alice", store.RoleApprover), e.operator("bob", store.RoleApprover)
	if v, err := e.svc.Vote(e.ctx, alice, res.ApprovalIDs[0], store.VoteDeny); err != nil || v.Approval.Status != store.ApprovalPending {
		t.Fatalf("one deny of three: %+v, %v", v, err)
	}
	v, err := e.svc.Vote(e.ctx, bob, res.ApprovalIDs[0], store.VoteDeny)
	if err != nil || v.Approval.Status != store.ApprovalDenied || v.Authorization.Status != store.AuthCancelled {
		t.Fatalf("second deny: %+v, %v", v, err)
	}
	if sp := e.agentSpend(ag.Agent.ID); sp.AmountMicro != 0 || sp.Count != 0 {
		t.Errorf("spend after denial %+v", sp)
	}
	if last := e.lastAudit(); last.Action != ActionPaymentCancelled || !strings.Contains(string(last.Data), ReasonApprovalDenied) {
		t.Errorf("last record %s %s", last.Action, last.Data)
	}
	p, err := e.svc.WaitPayment(e.ctx, ag.Agent.ID, res.AuthorizationID, time.Minute)
	if err != nil || p.NeedsApproval || p.Status != store.AuthCancelled || p.Value != "" {
		t.Errorf("payment after denial: %+v, %v", p, err)
	}
	// The idempotency key stays used: the retry is not a new payment.
	if _, err := e.svc.Pay(e.ctx, ag.Agent.ID, req); err == nil {
		t.Error("retry of a denied payment succeeded")
	}
}

func TestApprovalExpiryReleases(t *testing.T) {
	e, clock := newClockEnv(t)
	ag, _, res := holdPayment(t, e)
	alice := e.operator("alice", store.RoleApprover)
	if _, err := e.svc.Vote(e.ctx, alice, res.ApprovalIDs[0], store.VoteApprove); err != nil {
		t.Fatal(err)
	}
	clock.Add(10*time.Minute + time.Second)
	bob := e.operator("bob", store.RoleApprover)
	if _, err := e.svc.Vote(e.ctx, bob, res.ApprovalIDs[0], store.VoteApprove); !errors.Is(err, store.ErrState) {
		t.Fatalf("vote after expiry: %v", err)
	}
	v, err := e.svc.Approval(e.ctx, res.ApprovalIDs[0])
	if err != nil || v.Approval.Status != store.ApprovalExpired || v.Authorization.Status != store.AuthCancelled {
		t.Fatalf("after expiry: %+v, %v", v, err)
	}
	if sp := e.agentSpend(ag.Agent.ID); sp.AmountMicro != 0 {
		t.Errorf("spend after expiry %+v", sp)
	}
	if last := e.lastAudit(); last.Action != ActionPaymentCancelled || last.Actor != audit.System || !strings.Contains(string(last.Data), ReasonApprovalExpired) {
		t.Errorf("last record %s by %s: %s", last.Action, last.Actor, last.Data)
	}
	if k := e.key(ag.Key.ID); k.SignCount != 0 {
		t.Errorf("expired payment signed %d times", k.SignCount)
	}
}

// An expired request found by the agent's poll is released, and listed as expired.
func TestApprovalExpiryOnPoll(t *testing.T) {
	e, clock := newClockEnv(t)
	ag, _, res := holdPayment(t, e)
	clock.Add(11 * time.Minute)
	pending, err := e.svc.Approvals(e.ctx, store.ApprovalPending, "", 0)
	if err != nil || len(pending) != 0 {
		t.Fatalf("pending after expiry: %d, %v", len(pending), err)
	}
	p, err := e.svc.Payment(e.ctx, ag.Agent.ID, res.AuthorizationID)
	if err != nil || p.NeedsApproval || p.Status != store.AuthCancelled {
		t.Fatalf("poll after expiry: %+v, %v", p, err)
	}
	expired, err := e.svc.Approvals(e.ctx, store.ApprovalExpired, "alice", 10)
	if err != nil || len(expired) != 1 || expired[0].Authorization.ID != res.AuthorizationID {
		t.Fatalf("expired list: %+v, %v", expired, err)
	}
	if n, err := e.svc.ExpireApprovals(e.ctx); err != nil || n != 0 {
		t.Errorf("second expiry run cancelled %d, %v", n, err)
	}
}

func TestWaitPaymentReturnsWhenSigned(t *testing.T) {
	e := newEnv(t)
	ag, _, res := holdPayment(t, e)
	alice, bob := e.operator("alice", store.RoleApprover), e.operator("bob", store.RoleApprover)
	done := make(chan *PayResult, 1)
	go func() {
		p, err := e.svc.WaitPayment(e.ctx, ag.Agent.ID, res.AuthorizationID, time.Minute)
		if err != nil {
			t.Error(err)
		}
		done <- p
	}()
	for _, who := range []OperatorIdentity{alice, bob} {
		if _, err := e.svc.Vote(e.ctx, who, res.ApprovalIDs[0], store.VoteApprove); err != nil {
			t.Fatal(err)
		}
	}
	p := <-done
	if p == nil || p.Status != store.AuthSigned || p.Value == "" {
		t.Fatalf("waited result %+v", p)
	}
	// Zero wait answers at once with the current state.
	other := e.provision("", "other")[0]
	if _, err := e.svc.Payment(e.ctx, other.Agent.ID, res.AuthorizationID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another agent's payment: %v", err)
	}
	if _, err := e.svc.WaitPayment(e.ctx, ag.Agent.ID, "auth_missing", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing payment: %v", err)
	}
}

func TestApprovalsList(t *testing.T) {
	e := newEnv(t)
	_, _, res := holdPayment(t, e)
	all, err := e.svc.Approvals(e.ctx, "", "", 0)
	if err != nil || len(all) != 1 || all[0].Approval.ID != res.ApprovalIDs[0] || all[0].Authorization.ID != res.AuthorizationID {
		t.Fatalf("approvals %+v, %v", all, err)
	}
	if l, err := e.svc.Approvals(e.ctx, store.ApprovalPending, "mallory", 0); err != nil || len(l) != 0 {
		t.Errorf("mallory's list %+v, %v", l, err)
	}
	if _, err := e.svc.Approvals(e.ctx, "later", "", 0); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad status: %v", err)
	}
	if _, err := e.svc.Approval(e.ctx, "apr_missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing approval: %v", err)
	}
}

// A v1 demand whose second requirement was chosen is signed after approval from
// that same requirement, with the reserved nonce and validAfter, and the
// signature recovers to the agent.
func TestApprovalV1SecondRequirement(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("", "v1")[0]
	e.putPolicy(store.LevelAgent, ag.Agent.ID, quorumPolicy)
	body, err := json.Marshal(x402.PaymentRequiredV1{X402Version: 1, Error: "X-PAYMENT header is required", Accepts: []x402.PaymentRequirementsV1{
		{Scheme: "exact", Network: "base-sepolia", MaxAmountRequired: "30000", Resource: resourceURL, MimeType: "application/json",
			Asset: "0x1111111111111111111111111111111111111111", PayTo: payee, MaxTimeoutSeconds: 60, Extra: json.RawMessage(`{"name":"X","version":"1"}`)},
		{Scheme: "exact", Network: "base-sepolia", MaxAmountRequired: "30000", Resource: resourceURL, MimeType: "application/json",
			Asset: sepoliaUSDC.Address.Hex(), PayTo: payee, MaxTimeoutSeconds: 60, Extra: json.RawMessage(`{"name":"USDC","version":"2"}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Pay(e.ctx, ag.Agent.ID, PayRequest{Version: 1, Raw: body, ResourceURL: resourceURL, IdempotencyKey: "v1-held"})
	if err != nil || !res.NeedsApproval {
		t.Fatalf("held: %+v, %v", res, err)
	}
	stored := e.authorizations(ag.Agent.ID)[0]
	if stored.DemandVersion != 1 || stored.RequirementIndex != 1 || string(stored.Demand) != string(body) {
		t.Fatalf("stored demand v%d index %d", stored.DemandVersion, stored.RequirementIndex)
	}
	for _, who := range []string{"alice", "carol"} {
		if _, err := e.svc.Vote(e.ctx, OperatorIdentity{CredentialID: "cred_" + who, Name: who, Role: store.RoleApprover}, res.ApprovalIDs[0], store.VoteApprove); err != nil {
			t.Fatal(err)
		}
	}
	p, err := e.svc.Payment(e.ctx, ag.Agent.ID, res.AuthorizationID)
	if err != nil || p.Header != x402.HeaderXPayment {
		t.Fatalf("signed: %+v, %v", p, err)
	}
	pl, _, err := x402.DecodePaymentPayloadV1(p.Value)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := x402.DecodeExactEVMPayload(pl.Payload)
	if err != nil {
		t.Fatal(err)
	}
	a, err := exact.ParseAuthorization(ev.Authorization)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := exact.DecodeSignature(ev.Signature)
	if err != nil {
		t.Fatal(err)
	}
	d := exact.Domain{Name: "USDC", Version: "2", ChainID: 84532, VerifyingContract: sepoliaUSDC.Address}
	signerAddr, err := exact.RecoverSigner(exact.Hash(d, a).Digest, sig)
	if err != nil || !strings.EqualFold(signerAddr.Hex(), ag.Key.Address) || a.From != signerAddr {
		t.Fatalf("signed by %s (%v), agent %s", signerAddr.Hex(), err, ag.Key.Address)
	}
	if !strings.EqualFold(common.Hash(a.Nonce).Hex(), stored.Nonce) || a.ValidAfter.Int64() != stored.ValidAfter.Unix() || a.ValidAfter.Sign() == 0 {
		t.Errorf("signed nonce %x validAfter %s, stored %s %v", a.Nonce, a.ValidAfter, stored.Nonce, stored.ValidAfter)
	}
}

// The registry is asked again at signing: a requirement it no longer admits is
// not signed, and the completing vote writes nothing.
func TestApprovalRegistryRechecked(t *testing.T) {
	e := newEnv(t)
	ag, _, res := holdPayment(t, e)
	other, err := signer.NewRegistry([]signer.Asset{{Network: "eip155:8453", Address: common.HexToAddress("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"),
		Symbol: "USDC", Decimals: 6, EIP712Name: "USD Coin", EIP712Version: "2"}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{Store: e.st, Keys: e.vault, Registry: other, Audit: e.Audit})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Vote(e.ctx, OperatorIdentity{CredentialID: "cred_a", Name: "alice", Role: store.RoleApprover}, res.ApprovalIDs[0], store.VoteApprove); err != nil {
		t.Fatal(err)
	}
	n := e.auditCount()
	_, err = svc.Vote(e.ctx, OperatorIdentity{CredentialID: "cred_b", Name: "bob", Role: store.RoleApprover}, res.ApprovalIDs[0], store.VoteApprove)
	if err == nil || !strings.Contains(err.Error(), "cannot be signed") {
		t.Fatalf("vote with the asset gone from the registry: %v", err)
	}
	if e.auditCount() != n || e.key(ag.Key.ID).SignCount != 0 {
		t.Error("the refused vote wrote or signed")
	}
	v, err := e.svc.Approval(e.ctx, res.ApprovalIDs[0])
	if err != nil || v.Approval.Status != store.ApprovalPending || len(v.Approval.Votes) != 1 {
		t.Errorf("approval after the refused vote: %+v, %v", v.Approval, err)
	}
}
