package payments

import (
	"errors"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/credential"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/store"
)

func TestProvisionAgents(t *testing.T) {
	e := newEnv(t)
	first := e.provision(e.group.ID, "a", "b", "c")
	if len(first) != 3 {
		t.Fatalf("got %d agents, want 3", len(first))
	}
	if n := e.auditCount(); n != 3 {
		t.Errorf("%d audit records after provisioning 3 agents, want 3", n)
	}
	indexes, addrs := map[uint32]bool{}, map[string]bool{}
	for _, p := range first {
		if p.Existing {
			t.Errorf("agent %s marked existing on first provisioning", p.Agent.ExternalID)
		}
		if !p.Token.Valid() || p.Token.Kind() != credential.Agent {
			t.Errorf("agent %s has no valid agent token", p.Agent.ExternalID)
		}
		if indexes[p.Agent.Index] || addrs[p.Key.Address] {
			t.Errorf("agent %s reuses index %d or address %s", p.Agent.ExternalID, p.Agent.Index, p.Key.Address)
		}
		indexes[p.Agent.Index], addrs[p.Key.Address] = true, true
		path, err := hd.AgentPath(fleetIndex, p.Agent.Index, 0)
		if err != nil {
			t.Fatal(err)
		}
		k, err := e.vault.Key(path)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := store.NormalizeAddress(k.Address().Hex())
		if p.Key.Address != want || p.Key.Path != path.String() {
			t.Errorf("agent %s: key %s at %s, custody derives %s at %s", p.Agent.ExternalID, p.Key.Address, p.Key.Path, want, path)
		}
		if p.Agent.GroupID != e.group.ID || p.Agent.Labels["env"] != "test" {
			t.Errorf("agent %s: group %q labels %v", p.Agent.ExternalID, p.Agent.GroupID, p.Agent.Labels)
		}
		// Only the hash is stored, and it finds the agent's credential.
		err = e.st.ReadTx(e.ctx, func(rt store.ReadTx) error {
			c, err := rt.CredentialByHash(e.ctx, p.Token.Hash())
			if err != nil {
				return err
			}
			if c.ID != p.CredentialID || c.AgentID != p.Agent.ID || c.Kind != store.CredentialAgent {
				t.Errorf("credential %+v does not belong to agent %s", c, p.Agent.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	again := e.provision(e.group.ID, "a", "b", "c")
	for i, p := range again {
		if !p.Existing || p.Agent.ID != first[i].Agent.ID || p.Key.Address != first[i].Key.Address {
			t.Errorf("repeat %d: existing=%v id %s (want %s)", i, p.Existing, p.Agent.ID, first[i].Agent.ID)
		}
		if p.Token.Valid() || p.CredentialID != "" {
			t.Errorf("repeat %d issued a new credential", i)
		}
	}
	if n := e.auditCount(); n != 3 {
		t.Errorf("repeating the batch appended audit records: %d, want 3", n)
	}
	var creds []store.Credential
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		creds, err = rt.Credentials(e.ctx, store.CredentialFilter{Kind: store.CredentialAgent})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(creds) != 3 {
		t.Errorf("%d agent credentials stored, want 3", len(creds))
	}

	mixed := e.provision("", "b", "d")
	if !mixed[0].Existing || mixed[1].Existing {
		t.Fatalf("mixed batch: existing flags %v %v", mixed[0].Existing, mixed[1].Existing)
	}
	for idx := range indexes {
		if mixed[1].Agent.Index <= idx {
			t.Errorf("new agent took index %d, not above the used %d", mixed[1].Agent.Index, idx)
		}
	}
	if rec := e.lastAudit(); rec.Action != audit.ActionAgentCreated || rec.Subject != mixed[1].Agent.ID {
		t.Errorf("last audit record %s %s, want agent.created for %s", rec.Action, rec.Subject, mixed[1].Agent.ID)
	}
}

func TestProvisionRefusesBadBatches(t *testing.T) {
	e := newEnv(t)
	for name, r := range map[string]ProvisionRequest{
		"no fleet":         {Agents: []NewAgent{{ExternalID: "x", Name: "x"}}},
		"empty":            {FleetID: e.fleet.ID},
		"no external id":   {FleetID: e.fleet.ID, Agents: []NewAgent{{Name: "x"}}},
		"duplicate":        {FleetID: e.fleet.ID, Agents: []NewAgent{{ExternalID: "x", Name: "x"}, {ExternalID: "x", Name: "y"}}},
		"unknown fleet":    {FleetID: "flt_nope", Agents: []NewAgent{{ExternalID: "x", Name: "x"}}},
		"unknown group":    {FleetID: e.fleet.ID, GroupID: "grp_nope", Agents: []NewAgent{{ExternalID: "x", Name: "x"}}},
		"one without name": {FleetID: e.fleet.ID, Agents: []NewAgent{{ExternalID: "x", Name: "x"}, {ExternalID: "y"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if out, err := e.svc.ProvisionAgents(e.ctx, r); err == nil {
				t.Fatalf("accepted: %+v", out)
			}
		})
	}
	// Nothing of a refused batch was kept: not even the agent that came first.
	var agents []store.Agent
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) (err error) {
		agents, err = rt.Agents(e.ctx, store.AgentFilter{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(agents) != 0 || e.auditCount() != 0 {
		t.Errorf("refused batches left %d agents and %d audit records", len(agents), e.auditCount())
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	ps := e.provision(e.group.ID, "good", "revoked", "frozen", "expired")
	good, revoked, frozen := ps[0], ps[1], ps[2]
	stranger, err := credential.New(credential.Agent)
	if err != nil {
		t.Fatal(err)
	}
	operator, err := credential.New(credential.Operator)
	if err != nil {
		t.Fatal(err)
	}
	// An agent-kind token whose stored record says operator, and one that expired.
	mislabelled, _ := credential.New(credential.Agent)
	expired, _ := credential.New(credential.Agent)
	err = e.st.Tx(e.ctx, func(tx store.Tx) error {
		now := time.Now()
		if _, err := tx.CreateCredential(e.ctx, store.Credential{Kind: store.CredentialOperator, Role: store.RoleAdmin, Name: "op", Hash: operator.Hash(), CreatedAt: now}); err != nil {
			return err
		}
		if _, err := tx.CreateCredential(e.ctx, store.Credential{Kind: store.CredentialOperator, Role: store.RoleAdmin, Name: "mis", Hash: mislabelled.Hash(), CreatedAt: now}); err != nil {
			return err
		}
		if _, err := tx.CreateCredential(e.ctx, store.Credential{Kind: store.CredentialAgent, AgentID: ps[3].Agent.ID, Name: "old", Hash: expired.Hash(),
			CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}); err != nil {
			return err
		}
		if _, err := tx.RevokeCredential(e.ctx, revoked.CredentialID, now); err != nil {
			return err
		}
		_, err := tx.SetAgentStatus(e.ctx, frozen.Agent.ID, store.AgentFrozen, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token string
		agent string // empty: must be refused
	}{
		{"good token", good.Token.Reveal(), good.Agent.ID},
		{"good token with newline", good.Token.Reveal() + "\n", good.Agent.ID},
		{"unknown token", stranger.Reveal(), ""},
		{"operator token", operator.Reveal(), ""},
		{"agent token stored as operator", mislabelled.Reveal(), ""},
		{"revoked credential", revoked.Token.Reveal(), ""},
		{"frozen agent", frozen.Token.Reveal(), ""},
		{"expired credential", expired.Reveal(), ""},
		{"malformed", "fka_not-a-token", ""},
		{"empty", "", ""},
		{"one character changed", flip(good.Token.Reveal()), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := e.svc.Authenticate(e.ctx, tc.token)
			if tc.agent == "" {
				if !errors.Is(err, ErrUnauthenticated) || err != ErrUnauthenticated {
					t.Fatalf("got %+v, %v; want exactly ErrUnauthenticated", id, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.AgentID != tc.agent || id.FleetID != e.fleet.ID || id.GroupID != e.group.ID || id.CredentialID != good.CredentialID {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

// flip changes the last character of the secret part, keeping the length.
func flip(s string) string {
	b := []byte(s)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
