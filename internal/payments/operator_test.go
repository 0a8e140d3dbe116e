package payments

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/credential"
	"github.com/fleetkey/fleetkey/internal/store"
)

func TestBootstrapAdminOnce(t *testing.T) {
	e := newEnv(t)
	ic, err := BootstrapAdmin(e.ctx, e.st, e.Audit, "root", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ic.Token.Reveal(), "fko_") || ic.Credential.Role != store.RoleAdmin || ic.Credential.Kind != store.CredentialOperator {
		t.Fatalf("issued %+v", ic.Credential)
	}
	if ic.Credential.Hash != [32]byte(ic.Token.Hash()) {
		t.Error("the stored hash is not the token's")
	}
	last := e.lastAudit()
	if last.Action != ActionCredentialCreated || last.Actor != audit.System || last.Subject != ic.Credential.ID || strings.Contains(string(last.Data), ic.Token.Reveal()) {
		t.Errorf("record %s by %s on %s: %s", last.Action, last.Actor, last.Subject, last.Data)
	}
	id, err := e.svc.AuthenticateOperator(e.ctx, ic.Token.Reveal())
	if err != nil || id.Role != store.RoleAdmin || id.Name != "root" {
		t.Fatalf("authenticate: %+v, %v", id, err)
	}
	before := e.auditCount()
	if _, err := BootstrapAdmin(e.ctx, e.st, e.Audit, "root2", time.Now()); !errors.Is(err, store.ErrConflict) || !errors.Is(err, ErrAlreadyInitialized) {
		t.Errorf("second bootstrap: %v", err)
	}
	// Even when every operator credential is revoked: the first admin is made once.
	if _, err := e.svc.RevokeCredential(e.ctx, id, id.CredentialID); err != nil {
		t.Fatal(err)
	}
	if _, err := BootstrapAdmin(e.ctx, e.st, e.Audit, "root3", time.Now()); !errors.Is(err, ErrAlreadyInitialized) {
		t.Errorf("bootstrap after revocation: %v", err)
	}
	if n := e.auditCount(); n != before+1 {
		t.Errorf("%d records after one revocation", n-before)
	}
	if _, err := BootstrapAdmin(e.ctx, e.st, e.Audit, "", time.Now()); !errors.Is(err, ErrBadRequest) {
		t.Errorf("empty name: %v", err)
	}
}

func TestOperatorCredentials(t *testing.T) {
	e, clock := newClockEnv(t)
	admin := e.operator("root", store.RoleAdmin)
	ic, err := e.svc.CreateOperatorCredential(e.ctx, admin, NewCredential{Name: "ops", Role: store.RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	if last := e.lastAudit(); last.Action != ActionCredentialCreated || last.Actor != audit.OperatorActor(admin.CredentialID) {
		t.Errorf("record %s by %s", last.Action, last.Actor)
	}
	short, err := e.svc.CreateOperatorCredential(e.ctx, admin, NewCredential{Name: "temp", Role: store.RoleAuditor, ExpiresAt: clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]NewCredential{
		"no name":      {Role: store.RoleAdmin},
		"bad role":     {Name: "x", Role: "root"},
		"agent role":   {Name: "x", Role: ""},
		"past expiry":  {Name: "x", Role: store.RoleAuditor, ExpiresAt: clock.Now().Add(-time.Second)},
		"control char": {Name: "a\nb", Role: store.RoleAuditor},
	} {
		if _, err := e.svc.CreateOperatorCredential(e.ctx, admin, r); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	list, err := e.svc.OperatorCredentials(e.ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	for _, c := range list {
		if c.Kind != store.CredentialOperator {
			t.Errorf("listed %+v", c)
		}
	}
	if _, err := e.svc.AuthenticateOperator(e.ctx, ic.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateOperator(e.ctx, short.Token.Reveal()); err != nil {
		t.Fatal(err)
	}

	revoked, err := e.svc.RevokeCredential(e.ctx, admin, ic.Credential.ID)
	if err != nil || revoked.RevokedAt.IsZero() {
		t.Fatalf("revoke: %+v, %v", revoked, err)
	}
	if last := e.lastAudit(); last.Action != audit.ActionCredentialRevoke || last.Subject != ic.Credential.ID {
		t.Errorf("record %s on %s", last.Action, last.Subject)
	}
	n := e.auditCount()
	if _, err := e.svc.RevokeCredential(e.ctx, admin, ic.Credential.ID); err != nil || e.auditCount() != n {
		t.Errorf("second revocation: %v, %d records", err, e.auditCount()-n)
	}
	if _, err := e.svc.RevokeCredential(e.ctx, admin, "cred_missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing credential: %v", err)
	}
	if _, err := e.svc.AuthenticateOperator(e.ctx, ic.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("revoked token: %v", err)
	}
	clock.Add(time.Hour)
	if _, err := e.svc.AuthenticateOperator(e.ctx, short.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("expired token: %v", err)
	}

	// Tokens of one kind never open the other API.
	ag := e.provision("", "a")[0]
	if _, err := e.svc.AuthenticateOperator(e.ctx, ag.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("agent token as operator: %v", err)
	}
	admTok, err := e.svc.CreateOperatorCredential(e.ctx, admin, NewCredential{Name: "adm2", Role: store.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(e.ctx, admTok.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("operator token as agent: %v", err)
	}
	fresh, err := credential.New(credential.Operator)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "fko_", "Bearer x", fresh.Reveal(), strings.Replace(admTok.Token.Reveal(), "fko_", "fka_", 1)} {
		if _, err := e.svc.AuthenticateOperator(e.ctx, bad); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
}

func TestIssueAgentCredential(t *testing.T) {
	e := newEnv(t)
	admin := e.operator("root", store.RoleAdmin)
	ag := e.provision("", "a")[0]
	ic, err := e.svc.IssueAgentCredential(e.ctx, admin, ag.Agent.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ic.Token.Reveal(), "fka_") || ic.Credential.AgentID != ag.Agent.ID || ic.Credential.Kind != store.CredentialAgent {
		t.Fatalf("issued %+v", ic.Credential)
	}
	id, err := e.svc.Authenticate(e.ctx, ic.Token.Reveal())
	if err != nil || id.AgentID != ag.Agent.ID || id.CredentialID != ic.Credential.ID {
		t.Fatalf("authenticate: %+v, %v", id, err)
	}
	d, err := e.svc.AgentDetail(e.ctx, ag.Agent.ID)
	if err != nil || len(d.Credentials) != 2 || len(d.Keys) != 1 || d.Agent.ID != ag.Agent.ID {
		t.Fatalf("detail: %+v, %v", d, err)
	}
	if _, err := e.svc.IssueAgentCredential(e.ctx, admin, "agt_missing", time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing agent: %v", err)
	}
	if _, err := e.svc.AgentDetail(e.ctx, "agt_missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing agent detail: %v", err)
	}
}

func TestFreezeUnfreeze(t *testing.T) {
	e := newEnv(t)
	admin := e.operator("root", store.RoleAdmin)
	ag := e.provision("", "a")[0]
	e.putPolicy(store.LevelAgent, ag.Agent.ID, agentPolicy)
	a, err := e.svc.SetAgentStatus(e.ctx, admin, ag.Agent.ID, store.AgentFrozen)
	if err != nil || a.Status != store.AgentFrozen {
		t.Fatalf("freeze: %+v, %v", a, err)
	}
	if last := e.lastAudit(); last.Action != audit.ActionAgentStatus || last.Subject != ag.Agent.ID || !strings.Contains(string(last.Data), `"to":"frozen"`) {
		t.Errorf("record %s %s", last.Action, last.Data)
	}
	if _, err := e.svc.Authenticate(e.ctx, ag.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("frozen agent authenticated: %v", err)
	}
	if _, err := e.svc.Pay(e.ctx, ag.Agent.ID, payReq(t, "frozen", requirement("10000"))); !errors.Is(err, store.ErrState) {
		t.Errorf("frozen agent paid: %v", err)
	}
	n := e.auditCount()
	if _, err := e.svc.SetAgentStatus(e.ctx, admin, ag.Agent.ID, store.AgentFrozen); err != nil || e.auditCount() != n {
		t.Errorf("freezing again: %v, %d records", err, e.auditCount()-n)
	}
	if _, err := e.svc.SetAgentStatus(e.ctx, admin, ag.Agent.ID, store.AgentRevoked); !errors.Is(err, ErrBadRequest) {
		t.Errorf("revoke through SetAgentStatus: %v", err)
	}
	if a, err = e.svc.SetAgentStatus(e.ctx, admin, ag.Agent.ID, store.AgentActive); err != nil || a.Status != store.AgentActive {
		t.Fatalf("unfreeze: %+v, %v", a, err)
	}
	if _, err := e.svc.Authenticate(e.ctx, ag.Token.Reveal()); err != nil {
		t.Errorf("unfrozen agent: %v", err)
	}
	if res, err := e.svc.Pay(e.ctx, ag.Agent.ID, payReq(t, "thawed", requirement("10000"))); err != nil || res.Value == "" {
		t.Errorf("unfrozen agent pays: %+v, %v", res, err)
	}
	if _, err := e.svc.SetAgentStatus(e.ctx, admin, "agt_missing", store.AgentFrozen); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing agent: %v", err)
	}
}

// A payment held for approval is not signed while its agent is frozen.
func TestFrozenAgentHeldPaymentNotSigned(t *testing.T) {
	e := newEnv(t)
	admin := e.operator("root", store.RoleAdmin)
	ag, _, res := holdPayment(t, e)
	if _, err := e.svc.SetAgentStatus(e.ctx, admin, ag.Agent.ID, store.AgentFrozen); err != nil {
		t.Fatal(err)
	}
	alice, bob := e.operator("alice", store.RoleApprover), e.operator("bob", store.RoleApprover)
	if _, err := e.svc.Vote(e.ctx, alice, res.ApprovalIDs[0], store.VoteApprove); err != nil {
		t.Fatal(err)
	}
	n := e.auditCount()
	if _, err := e.svc.Vote(e.ctx, bob, res.ApprovalIDs[0], store.VoteApprove); !errors.Is(err, store.ErrState) {
		t.Errorf("completing vote for a frozen agent: %v", err)
	}
	if e.auditCount() != n || e.key(ag.Key.ID).SignCount != 0 {
		t.Error("the refused vote wrote or signed")
	}
}

func TestFleetsGroupsAgents(t *testing.T) {
	e := newEnv(t)
	admin := e.operator("root", store.RoleAdmin)
	f, err := e.svc.CreateFleet(e.ctx, admin, "prod", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C")
	if err != nil {
		t.Fatal(err)
	}
	if f.Index != fleetIndex+1 || f.Treasury != strings.ToLower(payee) {
		t.Errorf("fleet %+v", f)
	}
	if last := e.lastAudit(); last.Action != ActionFleetCreated || last.Subject != f.ID {
		t.Errorf("record %s", last.Action)
	}
	if _, err := e.svc.CreateFleet(e.ctx, admin, "prod", ""); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same name: %v", err)
	}
	if _, err := e.svc.CreateFleet(e.ctx, admin, "bad", "0x12"); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad treasury: %v", err)
	}
	fleets, err := e.svc.Fleets(e.ctx)
	if err != nil || len(fleets) != 2 {
		t.Fatalf("fleets %d, %v", len(fleets), err)
	}
	g, err := e.svc.CreateGroup(e.ctx, admin, f.ID, "web")
	if err != nil || g.FleetID != f.ID {
		t.Fatalf("group %+v, %v", g, err)
	}
	if _, err := e.svc.CreateGroup(e.ctx, admin, "flt_missing", "web"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("group in a missing fleet: %v", err)
	}
	gs, err := e.svc.Groups(e.ctx, f.ID)
	if err != nil || len(gs) != 1 || gs[0].ID != g.ID {
		t.Errorf("groups %+v, %v", gs, err)
	}
	ps, err := e.svc.ProvisionAgents(e.ctx, ProvisionRequest{FleetID: f.ID, GroupID: g.ID, Actor: audit.OperatorActor(admin.CredentialID),
		Agents: []NewAgent{{ExternalID: "w1", Name: "w1"}, {ExternalID: "w2", Name: "w2"}}})
	if err != nil {
		t.Fatal(err)
	}
	as, err := e.svc.Agents(e.ctx, store.AgentFilter{FleetID: f.ID, Limit: 1})
	if err != nil || len(as) != 1 {
		t.Fatalf("agents %+v, %v", as, err)
	}
	next, err := e.svc.Agents(e.ctx, store.AgentFilter{FleetID: f.ID, After: as[0].ID})
	if err != nil || len(next) != 1 || next[0].ID == as[0].ID {
		t.Fatalf("next page %+v, %v", next, err)
	}
	if _, err := e.svc.Agents(e.ctx, store.AgentFilter{Status: "sleeping"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad status: %v", err)
	}
	auths, err := e.svc.Authorizations(e.ctx, store.AuthorizationFilter{AgentID: ps[0].Agent.ID})
	if err != nil || len(auths) != 0 {
		t.Errorf("authorizations %+v, %v", auths, err)
	}
}

func TestApplyPolicy(t *testing.T) {
	e := newEnv(t)
	admin := e.operator("root", store.RoleAdmin)
	rec, changed, err := e.svc.ApplyPolicy(e.ctx, admin, store.LevelGroup, e.group.ID, "", agentPolicy)
	if err != nil || !changed || rec.Version != 1 || !rec.Active || rec.Name != "agent-basic" {
		t.Fatalf("apply: %+v, %v, %v", rec, changed, err)
	}
	if last := e.lastAudit(); last.Action != audit.ActionPolicyApplied || last.Subject != rec.ID || !strings.Contains(string(last.Data), rec.Hash) {
		t.Errorf("record %s %s", last.Action, last.Data)
	}
	n := e.auditCount()
	same, changed, err := e.svc.ApplyPolicy(e.ctx, admin, store.LevelGroup, e.group.ID, "agent-basic", agentPolicy)
	if err != nil || changed || same.ID != rec.ID || e.auditCount() != n {
		t.Errorf("same policy again: %+v, %v, %v", same, changed, err)
	}
	_, _, err = e.svc.ApplyPolicy(e.ctx, admin, store.LevelGroup, e.group.ID, "", "version: 1\nname: x\nlimits:\n  per_payment: lots\n")
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("bad policy: %v", err)
	}
	if _, _, err := e.svc.ApplyPolicy(e.ctx, admin, store.LevelGroup, e.group.ID, "other-name", agentPolicy); !errors.Is(err, ErrBadRequest) {
		t.Errorf("name mismatch: %v", err)
	}
	if _, _, err := e.svc.ApplyPolicy(e.ctx, admin, store.LevelAgent, "agt_missing", "", agentPolicy); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing scope: %v", err)
	}
	if _, _, err := e.svc.ApplyPolicy(e.ctx, admin, "planet", e.group.ID, "", agentPolicy); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad level: %v", err)
	}
	if e.auditCount() != n {
		t.Error("refused policies were recorded")
	}
	v2 := strings.Replace(agentPolicy, "max_count: 5", "max_count: 6", 1)
	rec2, changed, err := e.svc.ApplyPolicy(e.ctx, admin, store.LevelGroup, e.group.ID, "", v2)
	if err != nil || !changed || rec2.Version != 2 {
		t.Fatalf("second version: %+v, %v", rec2, err)
	}
	active, versions, err := e.svc.Policies(e.ctx, store.LevelGroup, e.group.ID)
	if err != nil || active == nil || active.ID != rec2.ID || len(versions) != 2 || versions[0].Active {
		t.Errorf("policies: %+v %+v, %v", active, versions, err)
	}
	active, versions, err = e.svc.Policies(e.ctx, store.LevelFleet, e.fleet.ID)
	if err != nil || active != nil || len(versions) != 0 {
		t.Errorf("fleet policies: %+v %+v, %v", active, versions, err)
	}
}
