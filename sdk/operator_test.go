package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

func mustClient(t *testing.T, url, token string, opts ...sdk.Option) *sdk.Client {
	t.Helper()
	c, err := sdk.NewClient(url, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOperatorFlowAgainstRealAPI drives the operator API through the SDK against the real
// handler and service: credentials, fleet, group, agents, a group policy that needs alice's
// approval, a payment the Payer waits for while alice approves it, freezing, the audit chain
// downloaded and verified, revocation, and the role and token-kind refusals.
func TestOperatorFlowAgainstRealAPI(t *testing.T) {
	a := newRealAPI(t, smallPolicy)
	ctx := context.Background()
	admin := mustClient(t, a.url, a.admin)

	me, err := admin.OperatorIdentity(ctx)
	if err != nil || me.Role != sdk.RoleAdmin || me.Name != "root" {
		t.Fatalf("admin identity %+v, %v", me, err)
	}
	issue := func(name, role string) *sdk.Client {
		ic, err := admin.CreateCredential(ctx, sdk.NewCredential{Name: name, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		if ic.Credential.Role != role || ic.Credential.Kind != "operator" || ic.Token == "" {
			t.Fatalf("issued %+v", ic.Credential)
		}
		return mustClient(t, a.url, ic.Token.Reveal())
	}
	alice, auditor := issue("alice", sdk.RoleApprover), issue("audrey", sdk.RoleAuditor)

	fleet, err := admin.CreateFleet(ctx, "ops", "")
	if err != nil {
		t.Fatal(err)
	}
	group, err := admin.CreateGroup(ctx, fleet.ID, "buyers")
	if err != nil {
		t.Fatal(err)
	}
	req := sdk.CreateAgentsRequest{FleetID: fleet.ID, GroupID: group.ID,
		Agents: []sdk.NewAgent{{ExternalID: "b-1", Labels: map[string]string{"tier": "gold"}}, {ExternalID: "b-2", Name: "second"}}}
	made, err := admin.CreateAgents(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(made) != 2 || !made[0].Created || made[0].Token == "" || made[0].Address == "" || made[0].Agent.Labels["tier"] != "gold" {
		t.Fatalf("provisioned %+v", made)
	}
	again, err := admin.CreateAgents(ctx, req)
	if err != nil || again[0].Created || again[0].Token != "" || again[0].Agent.ID != made[0].Agent.ID {
		t.Fatalf("provisioning again: %+v, %v", again, err)
	}
	page, err := auditor.Agents(ctx, sdk.AgentFilter{FleetID: fleet.ID})
	if err != nil || len(page.Agents) != 2 {
		t.Fatalf("agents %+v, %v", page, err)
	}
	detail, err := auditor.Agent(ctx, made[0].Agent.ID)
	if err != nil || len(detail.Keys) != 1 || detail.Keys[0].Address != made[0].Address || len(detail.Credentials) != 1 {
		t.Fatalf("detail %+v, %v", detail, err)
	}

	const groupPolicy = `version: 1
name: buyers
allow_http: true
approval:
  above: "0.02"
  quorum: 1
  approvers: [alice]
  expires_after: 10m
`
	ap, err := admin.ApplyPolicy(ctx, sdk.LevelGroup, group.ID, "buyers", groupPolicy)
	if err != nil || !ap.Changed || ap.Policy.Version != 1 || !ap.Policy.Active {
		t.Fatalf("apply %+v, %v", ap, err)
	}
	if ap2, err := admin.ApplyPolicy(ctx, sdk.LevelGroup, group.ID, "buyers", groupPolicy); err != nil || ap2.Changed {
		t.Fatalf("apply again %+v, %v", ap2, err)
	}
	if _, err := admin.ApplyPolicy(ctx, sdk.LevelGroup, group.ID, "bad", "version: 1\nname: bad\nlimits:\n  per_payment: lots\n"); !errors.Is(err, sdk.ErrBadRequest) {
		t.Fatalf("bad policy: %v", err)
	}
	pv, err := auditor.Policies(ctx, sdk.LevelGroup, group.ID)
	if err != nil || pv.Active == nil || pv.Active.Hash != ap.Policy.Hash || len(pv.Versions) != 1 {
		t.Fatalf("policies %+v, %v", pv, err)
	}

	// The agent pays 0.03: the Payer waits while alice approves.
	res, paid := paidResource(t, "30000")
	payer, err := sdk.NewPayer(a.url, made[0].Token.Reveal(), sdk.WithMaxApprovalWait(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		resp *http.Response
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		resp, err := x402.NewClient(payer).Get(res.URL + "/report")
		done <- outcome{resp, err}
	}()
	var pending []sdk.Approval
	for deadline := time.Now().Add(30 * time.Second); len(pending) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no pending approval appeared")
		}
		if pending, err = alice.Approvals(ctx, sdk.ApprovalFilter{Status: sdk.ApprovalPending}); err != nil {
			t.Fatal(err)
		}
	}
	if p := pending[0].Payment; p.AgentID != made[0].Agent.ID || p.Amount != "30000" || p.Status != sdk.PaymentReserved {
		t.Fatalf("pending payment %+v", p)
	}
	if _, err := auditor.Approve(ctx, pending[0].ID); !errors.Is(err, sdk.ErrForbidden) {
		t.Fatalf("auditor approved: %v", err)
	}
	voted, err := alice.Approve(ctx, pending[0].ID)
	if err != nil || voted.Status != sdk.ApprovalApproved {
		t.Fatalf("approve %+v, %v", voted, err)
	}
	out := <-done
	if out.err != nil {
		t.Fatal(out.err)
	}
	body, _ := io.ReadAll(out.resp.Body)
	out.resp.Body.Close()
	if string(body) != "the paid content" || *paid != 1 {
		t.Fatalf("body %q, paid %d", body, *paid)
	}
	auths, err := auditor.Authorizations(ctx, sdk.AuthorizationFilter{AgentID: made[0].Agent.ID})
	if err != nil || len(auths.Authorizations) != 1 || auths.Authorizations[0].Status != sdk.PaymentSigned {
		t.Fatalf("authorizations %+v, %v", auths, err)
	}

	// A frozen agent cannot pay.
	if fr, err := admin.FreezeAgent(ctx, made[1].Agent.ID); err != nil || fr.Status != sdk.AgentFrozen {
		t.Fatalf("freeze %+v, %v", fr, err)
	}
	frozenPayer, _ := sdk.NewPayer(a.url, made[1].Token.Reveal(), sdk.WithMaxApprovalWait(0))
	// Its credential stops authenticating: the same answer as a wrong token.
	if _, err := x402.NewClient(frozenPayer).Get(res.URL); !errors.Is(err, sdk.ErrUnauthenticated) {
		t.Fatalf("frozen agent: %v", err)
	}
	if uf, err := admin.UnfreezeAgent(ctx, made[1].Agent.ID); err != nil || uf.Status != sdk.AgentActive {
		t.Fatalf("unfreeze %+v, %v", uf, err)
	}

	// The auditor downloads the chain and verifies it locally.
	var export bytes.Buffer
	enc := json.NewEncoder(&export)
	cps, err := auditor.AuditCheckpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cps {
		enc.Encode(c)
	}
	var after uint64
	for {
		recs, err := auditor.AuditRecords(ctx, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			enc.Encode(r)
			after = r.Seq
		}
	}
	rep, err := audit.VerifyExport(ctx, &export, common.Address{})
	if err != nil || !rep.OK() || rep.Records < 10 || rep.Head != after {
		t.Fatalf("verify %+v (%v), %v", rep, rep.Problem, err)
	}

	// Roles and token kinds.
	if _, err := auditor.CreateFleet(ctx, "nope", ""); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("auditor created a fleet: %v", err)
	}
	if _, err := mustClient(t, a.url, made[0].Token.Reveal()).Fleets(ctx); !errors.Is(err, sdk.ErrUnauthenticated) {
		t.Errorf("agent token on an operator route: %v", err)
	}
	if _, err := admin.AgentIdentity(ctx); !errors.Is(err, sdk.ErrUnauthenticated) {
		t.Errorf("operator token on an agent route: %v", err)
	}
	if _, err := admin.Agent(ctx, "ag_0000000000000000000000000a"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("unknown agent: %v", err)
	}
	aliceID, err := alice.OperatorIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rc, err := admin.RevokeCredential(ctx, aliceID.CredentialID); err != nil || rc.RevokedAt == nil {
		t.Fatalf("revoke %+v, %v", rc, err)
	}
	if _, err := alice.OperatorIdentity(ctx); !errors.Is(err, sdk.ErrUnauthenticated) {
		t.Errorf("revoked credential: %v", err)
	}
	creds, err := admin.Credentials(ctx)
	if err != nil || len(creds) != 3 {
		t.Errorf("credentials %d, %v", len(creds), err)
	}
}
