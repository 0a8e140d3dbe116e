package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

func testFleets(t *testing.T, s store.Store) {
	treasury := "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"
	var f store.Fleet
	write(t, s, func(tx store.Tx) error {
		var err error
		f, err = tx.CreateFleet(ctx(), store.Fleet{Name: "prod", Index: 7, Treasury: treasury, CreatedAt: t0})
		return err
	})
	if f.ID == "" || f.Treasury != strings.ToLower(treasury) || !f.CreatedAt.Equal(t0) {
		t.Fatalf("created fleet = %+v", f)
	}
	read(t, s, func(tx store.ReadTx) error {
		got, err := tx.Fleet(ctx(), f.ID)
		if err != nil {
			return err
		}
		if got != f {
			t.Errorf("Fleet = %+v, want %+v", got, f)
		}
		_, err = tx.Fleet(ctx(), "flt_missing")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	cases := []struct {
		name       string
		fleet      store.Fleet
		constraint string
	}{
		{"same name", store.Fleet{Name: "prod", Index: 8}, store.ConstraintFleetName},
		{"same index", store.Fleet{Name: "staging", Index: 7}, store.ConstraintFleetIndex},
		{"same id", store.Fleet{ID: f.ID, Name: "other", Index: 9}, store.ConstraintPrimaryKey},
	}
	for _, c := range cases {
		err := s.Tx(ctx(), func(tx store.Tx) error { _, err := tx.CreateFleet(ctx(), c.fleet); return err })
		wantConflict(t, err, c.constraint)
	}
	for _, bad := range []store.Fleet{
		{Name: "", Index: 1},
		{Name: "audit", Index: store.ReservedFleetIndexes},
		{Name: "big", Index: 1 << 31},
		{Name: "badtreasury", Index: 2, Treasury: "0x1234"},
	} {
		err := s.Tx(ctx(), func(tx store.Tx) error { _, err := tx.CreateFleet(ctx(), bad); return err })
		if err == nil || errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateFleet(%+v) = %v, want a validation error", bad, err)
		}
	}
	write(t, s, func(tx store.Tx) error {
		if _, err := tx.CreateFleet(ctx(), store.Fleet{Name: "dev", Index: 1, CreatedAt: t0}); err != nil {
			return err
		}
		got, err := tx.SetFleetTreasury(ctx(), f.ID, "")
		if err != nil {
			return err
		}
		if got.Treasury != "" {
			t.Errorf("treasury after clearing = %q", got.Treasury)
		}
		_, err = tx.SetFleetTreasury(ctx(), "flt_missing", treasury)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	read(t, s, func(tx store.ReadTx) error {
		fs, err := tx.Fleets(ctx())
		if err != nil {
			return err
		}
		if len(fs) != 2 || fs[0].Name != "dev" || fs[1].Name != "prod" {
			t.Errorf("Fleets = %+v, want dev then prod (by index)", fs)
		}
		return nil
	})
}

func testGroups(t *testing.T, s store.Store) {
	var f1, f2 store.Fleet
	var g store.Group
	write(t, s, func(tx store.Tx) error {
		var err error
		if f1, err = tx.CreateFleet(ctx(), store.Fleet{Name: "a", Index: 1}); err != nil {
			return err
		}
		if f2, err = tx.CreateFleet(ctx(), store.Fleet{Name: "b", Index: 2}); err != nil {
			return err
		}
		if g, err = tx.CreateGroup(ctx(), store.Group{FleetID: f1.ID, Name: "research", CreatedAt: t0}); err != nil {
			return err
		}
		// The same name in another fleet is a different group.
		_, err = tx.CreateGroup(ctx(), store.Group{FleetID: f2.ID, Name: "research"})
		return err
	})
	err := s.Tx(ctx(), func(tx store.Tx) error {
		_, err := tx.CreateGroup(ctx(), store.Group{FleetID: f1.ID, Name: "research"})
		return err
	})
	wantConflict(t, err, store.ConstraintGroupName)
	err = s.Tx(ctx(), func(tx store.Tx) error {
		_, err := tx.CreateGroup(ctx(), store.Group{FleetID: "flt_missing", Name: "x"})
		return err
	})
	wantErr(t, err, store.ErrNotFound)
	read(t, s, func(tx store.ReadTx) error {
		got, err := tx.Group(ctx(), g.ID)
		if err != nil {
			return err
		}
		if got != g {
			t.Errorf("Group = %+v, want %+v", got, g)
		}
		gs, err := tx.Groups(ctx(), f1.ID)
		if err != nil {
			return err
		}
		if len(gs) != 1 || gs[0].ID != g.ID {
			t.Errorf("Groups = %+v", gs)
		}
		_, err = tx.Group(ctx(), "grp_missing")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testAgentsBatch(t *testing.T, s store.Store) {
	var f store.Fleet
	var g store.Group
	var first []store.CreatedAgent
	batch := []store.NewAgent{
		{ExternalID: "ext-1", Name: "one", Labels: map[string]string{"team": "search", "tier": "1"}},
		{ExternalID: "ext-2", Name: "two"},
		{Name: "no external id"},
	}
	write(t, s, func(tx store.Tx) error {
		var err error
		if f, err = tx.CreateFleet(ctx(), store.Fleet{Name: "f", Index: 3}); err != nil {
			return err
		}
		if g, err = tx.CreateGroup(ctx(), store.Group{FleetID: f.ID, Name: "g"}); err != nil {
			return err
		}
		batch[1].GroupID = g.ID
		first, err = tx.CreateAgents(ctx(), store.CreateAgentsRequest{FleetID: f.ID, Agents: batch, Now: t0})
		return err
	})
	for i, r := range first {
		if !r.Created || r.Agent.Index != uint32(i) || r.Agent.Status != store.AgentActive || r.Agent.FleetID != f.ID {
			t.Errorf("first batch[%d] = %+v", i, r)
		}
	}
	if !reflect.DeepEqual(first[0].Agent.Labels, batch[0].Labels) || first[1].Agent.GroupID != g.ID {
		t.Errorf("labels/group not kept: %+v", first)
	}
	// Again, with one new external id and a duplicate inside the batch.
	var second []store.CreatedAgent
	write(t, s, func(tx store.Tx) error {
		var err error
		second, err = tx.CreateAgents(ctx(), store.CreateAgentsRequest{FleetID: f.ID, Now: t0.Add(time.Hour), Agents: []store.NewAgent{
			{ExternalID: "ext-2", Name: "two again"},
			{ExternalID: "ext-3", Name: "three"},
			{ExternalID: "ext-1", Name: "one again"},
			{ExternalID: "ext-3", Name: "three again"},
		}})
		return err
	})
	want := []struct {
		id      string
		created bool
		index   uint32
	}{{first[1].Agent.ID, false, 1}, {"", true, 3}, {first[0].Agent.ID, false, 0}, {"", false, 3}}
	for i, w := range want {
		r := second[i]
		if r.Created != w.created || r.Agent.Index != w.index || (w.id != "" && r.Agent.ID != w.id) {
			t.Errorf("second batch[%d] = created %v index %d id %s, want %+v", i, r.Created, r.Agent.Index, r.Agent.ID, w)
		}
	}
	if second[3].Agent.ID != second[1].Agent.ID {
		t.Errorf("duplicate external id in one batch made two agents")
	}
	read(t, s, func(tx store.ReadTx) error {
		a, err := tx.AgentByExternalID(ctx(), f.ID, "ext-1")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(a, first[0].Agent) {
			t.Errorf("AgentByExternalID = %+v, want %+v", a, first[0].Agent)
		}
		all, err := tx.Agents(ctx(), store.AgentFilter{FleetID: f.ID})
		if err != nil {
			return err
		}
		if len(all) != 4 {
			t.Errorf("fleet has %d agents, want 4", len(all))
		}
		_, err = tx.AgentByExternalID(ctx(), f.ID, "ext-9")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	// Bad batches change nothing.
	var other store.Fleet
	write(t, s, func(tx store.Tx) error {
		var err error
		other, err = tx.CreateFleet(ctx(), store.Fleet{Name: "other", Index: 4})
		return err
	})
	for name, r := range map[string]store.CreateAgentsRequest{
		"unknown fleet":       {FleetID: "flt_missing", Agents: []store.NewAgent{{Name: "x"}}},
		"foreign group":       {FleetID: other.ID, Agents: []store.NewAgent{{Name: "x", GroupID: g.ID}}},
		"unknown group":       {FleetID: f.ID, Agents: []store.NewAgent{{Name: "x", GroupID: "grp_missing"}}},
		"nameless second one": {FleetID: f.ID, Agents: []store.NewAgent{{Name: "ok", ExternalID: "ext-4"}, {ExternalID: "ext-5"}}},
	} {
		err := s.Tx(ctx(), func(tx store.Tx) error { _, err := tx.CreateAgents(ctx(), r); return err })
		if err == nil {
			t.Errorf("%s: CreateAgents succeeded", name)
		}
	}
	read(t, s, func(tx store.ReadTx) error {
		_, err := tx.AgentByExternalID(ctx(), f.ID, "ext-4")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testAgentIndexNeverReused(t *testing.T, s store.Store) {
	var f store.Fleet
	var a0 store.Agent
	write(t, s, func(tx store.Tx) error {
		var err error
		if f, err = tx.CreateFleet(ctx(), store.Fleet{Name: "f", Index: 5}); err != nil {
			return err
		}
		res, err := tx.CreateAgents(ctx(), store.CreateAgentsRequest{FleetID: f.ID, Agents: []store.NewAgent{{Name: "a", ExternalID: "a"}}})
		a0 = res[0].Agent
		return err
	})
	write(t, s, func(tx store.Tx) error {
		_, err := tx.SetAgentStatus(ctx(), a0.ID, store.AgentRetired, t0)
		return err
	})
	// A transaction that allocates an index and rolls back still never hands the
	// index out twice: either it was not spent, or it is skipped.
	_ = s.Tx(ctx(), func(tx store.Tx) error {
		if _, err := tx.NextAgentIndex(ctx(), f.ID); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	seen := map[uint32]bool{a0.Index: true}
	for i := 0; i < 3; i++ {
		write(t, s, func(tx store.Tx) error {
			res, err := tx.CreateAgents(ctx(), store.CreateAgentsRequest{FleetID: f.ID, Agents: []store.NewAgent{{Name: "b"}}})
			if err != nil {
				return err
			}
			idx := res[0].Agent.Index
			if seen[idx] || idx <= a0.Index {
				t.Errorf("index %d reused or not above the retired agent's %d", idx, a0.Index)
			}
			seen[idx] = true
			n, err := tx.NextAgentIndex(ctx(), f.ID)
			if err != nil {
				return err
			}
			if n <= idx {
				t.Errorf("NextAgentIndex = %d after creating index %d", n, idx)
			}
			seen[n] = true
			return nil
		})
	}
	err := s.Tx(ctx(), func(tx store.Tx) error { _, err := tx.NextAgentIndex(ctx(), "flt_missing"); return err })
	wantErr(t, err, store.ErrNotFound)
}

func testAgentFilterAndStatus(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 3)
	a := fx.agents[0]
	steps := []struct {
		to    store.AgentStatus
		legal bool
	}{
		{store.AgentFrozen, true}, {store.AgentFrozen, true}, {store.AgentActive, true},
		{store.AgentRevoked, true}, {store.AgentActive, false}, {store.AgentFrozen, false},
		{store.AgentRetired, true}, {store.AgentRevoked, false}, {store.AgentActive, false},
	}
	for i, st := range steps {
		at := t0.Add(time.Duration(i+1) * time.Minute)
		var got store.Agent
		err := s.Tx(ctx(), func(tx store.Tx) error {
			var err error
			got, err = tx.SetAgentStatus(ctx(), a.ID, st.to, at)
			return err
		})
		if st.legal {
			if err != nil || got.Status != st.to {
				t.Fatalf("step %d to %s: %v, %+v", i, st.to, err, got)
			}
		} else {
			wantErr(t, err, store.ErrState)
		}
	}
	err := s.Tx(ctx(), func(tx store.Tx) error {
		_, err := tx.SetAgentStatus(ctx(), "agt_missing", store.AgentFrozen, t0)
		return err
	})
	wantErr(t, err, store.ErrNotFound)
	read(t, s, func(tx store.ReadTx) error {
		got, err := tx.Agent(ctx(), a.ID)
		if err != nil {
			return err
		}
		if got.Status != store.AgentRetired || !got.UpdatedAt.After(got.CreatedAt) {
			t.Errorf("agent after transitions = %+v", got)
		}
		inG1, err := tx.Agents(ctx(), store.AgentFilter{GroupID: fx.groups[1].ID})
		if err != nil {
			return err
		}
		if len(inG1) != 3 {
			t.Errorf("group g1 has %d agents, want 3", len(inG1))
		}
		active, err := tx.Agents(ctx(), store.AgentFilter{FleetID: fx.fleet.ID, Status: store.AgentActive})
		if err != nil {
			return err
		}
		if len(active) != 5 {
			t.Errorf("%d active agents, want 5", len(active))
		}
		// Pagination visits every agent once, in ID order.
		var ids []string
		after := ""
		for {
			page, err := tx.Agents(ctx(), store.AgentFilter{FleetID: fx.fleet.ID, After: after, Limit: 4})
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				ids = append(ids, p.ID)
			}
			after = page[len(page)-1].ID
		}
		if len(ids) != 6 {
			t.Errorf("paged through %d agents, want 6", len(ids))
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Errorf("pages out of order at %d", i)
			}
		}
		return nil
	})
}

func testKeys(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	a, k0 := fx.agents[0], fx.keys[0]
	read(t, s, func(tx store.ReadTx) error {
		got, err := tx.KeyByAddress(ctx(), strings.ToUpper(k0.Address[:2])+strings.ToUpper(k0.Address[2:]))
		if err != nil {
			return err
		}
		if got != k0 {
			t.Errorf("KeyByAddress = %+v, want %+v", got, k0)
		}
		act, err := tx.ActiveKey(ctx(), a.ID)
		if err != nil {
			return err
		}
		if act.ID != k0.ID || act.Status != store.KeyActive {
			t.Errorf("ActiveKey = %+v", act)
		}
		_, err = tx.Key(ctx(), "key_missing")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.KeyByAddress(ctx(), randAddr())
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.ActiveKey(ctx(), fx.agents[1].ID+"x")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	path := func(gen int) string { return fmt.Sprintf("m/44'/60'/%d'/%d'/%d'", fx.fleet.Index, a.Index, gen) }
	conflicts := []struct {
		name       string
		key        store.Key
		constraint string
	}{
		{"address of another agent's key", store.Key{AgentID: a.ID, Generation: 1, Path: path(1), Address: fx.keys[1].Address, Status: store.KeyDraining}, store.ConstraintKeyAddress},
		{"address in other case", store.Key{AgentID: a.ID, Generation: 1, Path: path(1), Address: "0x" + strings.ToUpper(k0.Address[2:]), Status: store.KeyDraining}, store.ConstraintKeyAddress},
		{"second active key", store.Key{AgentID: a.ID, Generation: 1, Path: path(1), Address: randAddr()}, store.ConstraintKeyActive},
		{"same generation", store.Key{AgentID: a.ID, Generation: 0, Path: path(9), Address: randAddr(), Status: store.KeyDraining}, store.ConstraintKeyGeneration},
		{"same path", store.Key{AgentID: a.ID, Generation: 1, Path: k0.Path, Address: randAddr(), Status: store.KeyDraining}, store.ConstraintKeyPath},
	}
	for _, c := range conflicts {
		err := s.Tx(ctx(), func(tx store.Tx) error { _, err := tx.CreateKey(ctx(), c.key); return err })
		wantConflict(t, err, c.constraint)
	}
	for name, k := range map[string]store.Key{
		"bad address":   {AgentID: a.ID, Generation: 1, Path: path(1), Address: "0xzz"},
		"no path":       {AgentID: a.ID, Generation: 1, Address: randAddr()},
		"unknown agent": {AgentID: "agt_missing", Generation: 0, Path: "m/1", Address: randAddr()},
		"bad status":    {AgentID: a.ID, Generation: 1, Path: path(1), Address: randAddr(), Status: "lost"},
	} {
		err := s.Tx(ctx(), func(tx store.Tx) error { _, err := tx.CreateKey(ctx(), k); return err })
		if err == nil || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: CreateKey = %v, want a validation error", name, err)
		}
	}
	// Rotation: the old key drains, the new generation becomes active.
	var k1 store.Key
	write(t, s, func(tx store.Tx) error {
		if _, err := tx.SetKeyStatus(ctx(), k0.ID, store.KeyDraining); err != nil {
			return err
		}
		var err error
		k1, err = tx.CreateKey(ctx(), store.Key{AgentID: a.ID, Generation: 1, Path: path(1), Address: randAddr()})
		return err
	})
	steps := []struct {
		key   string
		to    store.KeyStatus
		legal bool
	}{
		{k0.ID, store.KeyActive, false}, {k0.ID, store.KeyRevoked, true}, {k0.ID, store.KeyDraining, false},
		{k0.ID, store.KeyRetired, true}, {k0.ID, store.KeyRevoked, false}, {k1.ID, store.KeyRetired, true},
		{k1.ID, store.KeyActive, false}, {"key_missing", store.KeyRevoked, false},
	}
	for i, st := range steps {
		err := s.Tx(ctx(), func(tx store.Tx) error { _, err := tx.SetKeyStatus(ctx(), st.key, st.to); return err })
		if st.legal != (err == nil) {
			t.Errorf("step %d: %s → %s: %v", i, st.key, st.to, err)
		}
	}
	read(t, s, func(tx store.ReadTx) error {
		ks, err := tx.Keys(ctx(), a.ID)
		if err != nil {
			return err
		}
		if len(ks) != 2 || ks[0].Generation != 0 || ks[0].Status != store.KeyRetired || ks[1].Status != store.KeyRetired {
			t.Errorf("Keys = %+v", ks)
		}
		return nil
	})
}

func testCredentials(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	h := func(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }
	var agentCred, opCred, expiring store.Credential
	write(t, s, func(tx store.Tx) error {
		var err error
		if agentCred, err = tx.CreateCredential(ctx(), store.Credential{Kind: store.CredentialAgent, AgentID: fx.agents[0].ID, Name: "a0", Hash: h("t1"), CreatedAt: t0}); err != nil {
			return err
		}
		if opCred, err = tx.CreateCredential(ctx(), store.Credential{Kind: store.CredentialOperator, Role: store.RoleAdmin, Name: "root", Hash: h("t2"), CreatedAt: t0}); err != nil {
			return err
		}
		expiring, err = tx.CreateCredential(ctx(), store.Credential{Kind: store.CredentialAgent, AgentID: fx.agents[0].ID, Name: "short", Hash: h("t3"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		return err
	})
	read(t, s, func(tx store.ReadTx) error {
		got, err := tx.CredentialByHash(ctx(), h("t1"))
		if err != nil {
			return err
		}
		if got != agentCred {
			t.Errorf("CredentialByHash = %+v, want %+v", got, agentCred)
		}
		got, err = tx.Credential(ctx(), opCred.ID)
		if err != nil {
			return err
		}
		if got != opCred || got.Role != store.RoleAdmin || got.AgentID != "" {
			t.Errorf("Credential = %+v", got)
		}
		_, err = tx.CredentialByHash(ctx(), h("nope"))
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	err := s.Tx(ctx(), func(tx store.Tx) error {
		_, err := tx.CreateCredential(ctx(), store.Credential{Kind: store.CredentialOperator, Role: store.RoleAuditor, Name: "dup", Hash: h("t1")})
		return err
	})
	wantConflict(t, err, store.ConstraintCredentialHash)
	// A fleet-scoped operator credential keeps its scope through every read.
	var scoped store.Credential
	write(t, s, func(tx store.Tx) error {
		var err error
		scoped, err = tx.CreateCredential(ctx(), store.Credential{Kind: store.CredentialOperator, Role: store.RoleOperator, FleetID: fx.fleet.ID, Name: "scoped", Hash: h("t4"), CreatedAt: t0})
		return err
	})
	if scoped.FleetID != fx.fleet.ID {
		t.Errorf("CreateCredential returned fleet scope %q, want %q", scoped.FleetID, fx.fleet.ID)
	}
	read(t, s, func(tx store.ReadTx) error {
		for _, get := range []func() (store.Credential, error){
			func() (store.Credential, error) { return tx.Credential(ctx(), scoped.ID) },
			func() (store.Credential, error) { return tx.CredentialByHash(ctx(), h("t4")) },
		} {
			got, err := get()
			if err != nil {
				return err
			}
			if got != scoped {
				t.Errorf("scoped credential read back as %+v, want %+v", got, scoped)
			}
		}
		got, err := tx.Credential(ctx(), opCred.ID)
		if err != nil {
			return err
		}
		if got.FleetID != "" {
			t.Errorf("unscoped credential read back with fleet scope %q", got.FleetID)
		}
		return nil
	})
	for name, c := range map[string]store.Credential{
		"agent with fleet scope":  {Kind: store.CredentialAgent, AgentID: fx.agents[0].ID, FleetID: fx.fleet.ID, Name: "x", Hash: h("x7")},
		"operator, unknown fleet": {Kind: store.CredentialOperator, Role: store.RoleOperator, FleetID: "flt_missing", Name: "x", Hash: h("x8")},
		"agent without agent":     {Kind: store.CredentialAgent, Name: "x", Hash: h("x1")},
		"agent with role":         {Kind: store.CredentialAgent, AgentID: fx.agents[0].ID, Role: store.RoleAdmin, Name: "x", Hash: h("x2")},
		"operator without role":   {Kind: store.CredentialOperator, Name: "x", Hash: h("x3")},
		"operator with agent":     {Kind: store.CredentialOperator, Role: store.RoleAdmin, AgentID: fx.agents[0].ID, Name: "x", Hash: h("x4")},
		"unknown kind":            {Kind: "robot", Name: "x", Hash: h("x5")},
		"zero hash":               {Kind: store.CredentialOperator, Role: store.RoleAdmin, Name: "x"},
		"unknown agent":           {Kind: store.CredentialAgent, AgentID: "agt_missing", Name: "x", Hash: h("x6")},
	} {
		err := s.Tx(ctx(), func(tx store.Tx) error { _, err := tx.CreateCredential(ctx(), c); return err })
		if err == nil {
			t.Errorf("%s: CreateCredential succeeded", name)
		}
	}
	used := t0.Add(10 * time.Minute)
	revokedAt := t0.Add(20 * time.Minute)
	write(t, s, func(tx store.Tx) error {
		if err := tx.MarkCredentialUsed(ctx(), agentCred.ID, used); err != nil {
			return err
		}
		wantErr(t, tx.MarkCredentialUsed(ctx(), "cred_missing", used), store.ErrNotFound)
		c, err := tx.RevokeCredential(ctx(), opCred.ID, revokedAt)
		if err != nil {
			return err
		}
		if !c.RevokedAt.Equal(revokedAt) || c.Usable(revokedAt) {
			t.Errorf("revoked credential = %+v", c)
		}
		// Revoking again keeps the first revocation time.
		c, err = tx.RevokeCredential(ctx(), opCred.ID, revokedAt.Add(time.Hour))
		if err != nil {
			return err
		}
		if !c.RevokedAt.Equal(revokedAt) {
			t.Errorf("second revocation moved RevokedAt to %v", c.RevokedAt)
		}
		_, err = tx.RevokeCredential(ctx(), "cred_missing", revokedAt)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	read(t, s, func(tx store.ReadTx) error {
		c, err := tx.Credential(ctx(), agentCred.ID)
		if err != nil {
			return err
		}
		if !c.LastUsedAt.Equal(used) {
			t.Errorf("LastUsedAt = %v, want %v", c.LastUsedAt, used)
		}
		list, err := tx.Credentials(ctx(), store.CredentialFilter{AgentID: fx.agents[0].ID})
		if err != nil {
			return err
		}
		if len(list) != 2 {
			t.Errorf("agent has %d credentials, want 2", len(list))
		}
		usable, err := tx.Credentials(ctx(), store.CredentialFilter{AgentID: fx.agents[0].ID, Usable: true, Now: t0.Add(2 * time.Hour)})
		if err != nil {
			return err
		}
		if len(usable) != 1 || usable[0].ID != agentCred.ID {
			t.Errorf("usable credentials after expiry = %+v", usable)
		}
		ops, err := tx.Credentials(ctx(), store.CredentialFilter{Kind: store.CredentialOperator, Usable: true, Now: t0})
		if err != nil {
			return err
		}
		if len(ops) != 1 || ops[0].ID != scoped.ID {
			t.Errorf("usable operator credentials = %+v, want only the scoped one (the other is revoked)", ops)
		}
		return nil
	})
	var n int
	write(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.RevokeAgentCredentials(ctx(), fx.agents[0].ID, revokedAt)
		return err
	})
	if n != 2 {
		t.Errorf("RevokeAgentCredentials revoked %d, want 2", n)
	}
	read(t, s, func(tx store.ReadTx) error {
		c, err := tx.Credential(ctx(), expiring.ID)
		if err != nil {
			return err
		}
		if c.RevokedAt.IsZero() {
			t.Errorf("agent credential not revoked")
		}
		return nil
	})
}

func testPolicies(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	put := func(level store.Level, scope, hash string, at time.Time) (store.PolicyRecord, error) {
		var p store.PolicyRecord
		err := s.Tx(ctx(), func(tx store.Tx) error {
			var err error
			p, err = tx.PutPolicy(ctx(), store.PutPolicyRequest{Level: level, ScopeID: scope, Name: "p", Hash: hash, Source: "version: 1\n# " + hash, Now: at})
			return err
		})
		return p, err
	}
	v1, err := put(store.LevelFleet, fx.fleet.ID, "h1", t0)
	if err != nil || v1.Version != 1 || !v1.Active {
		t.Fatalf("v1 = %+v, %v", v1, err)
	}
	same, err := put(store.LevelFleet, fx.fleet.ID, "h1", t0.Add(time.Minute))
	if err != nil || same.ID != v1.ID || same.Version != 1 {
		t.Fatalf("re-applying the active policy made %+v, %v", same, err)
	}
	v2, err := put(store.LevelFleet, fx.fleet.ID, "h2", t0.Add(2*time.Minute))
	if err != nil || v2.Version != 2 {
		t.Fatalf("v2 = %+v, %v", v2, err)
	}
	// Back to the first content: a new version, never a reused number.
	v3, err := put(store.LevelFleet, fx.fleet.ID, "h1", t0.Add(3*time.Minute))
	if err != nil || v3.Version != 3 {
		t.Fatalf("v3 = %+v, %v", v3, err)
	}
	if _, err := put(store.LevelGroup, fx.groups[0].ID, "g1", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := put(store.LevelAgent, fx.agents[0].ID, "a1", t0); err != nil {
		t.Fatal(err)
	}
	_, err = put(store.LevelGroup, "grp_missing", "x", t0)
	wantErr(t, err, store.ErrNotFound)
	if _, err = put("team", fx.fleet.ID, "x", t0); err == nil {
		t.Error("PutPolicy accepted level \"team\"")
	}
	read(t, s, func(tx store.ReadTx) error {
		act, err := tx.ActivePolicy(ctx(), store.LevelFleet, fx.fleet.ID)
		if err != nil {
			return err
		}
		if act.ID != v3.ID || act.Hash != "h1" || act.Source != v3.Source {
			t.Errorf("ActivePolicy = %+v", act)
		}
		vs, err := tx.PolicyVersions(ctx(), store.LevelFleet, fx.fleet.ID)
		if err != nil {
			return err
		}
		if len(vs) != 3 || vs[0].Active || vs[1].Active || !vs[2].Active {
			t.Errorf("PolicyVersions = %+v", vs)
		}
		_, err = tx.ActivePolicy(ctx(), store.LevelGroup, fx.groups[1].ID)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testRollback(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	var id string
	err := s.Tx(ctx(), func(tx store.Tx) error {
		f, err := tx.CreateFleet(ctx(), store.Fleet{Name: "gone", Index: 11})
		if err != nil {
			return err
		}
		id = f.ID
		return boom
	})
	wantErr(t, err, boom)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic inside Tx was swallowed")
			}
		}()
		_ = s.Tx(ctx(), func(tx store.Tx) error {
			if _, err := tx.CreateFleet(ctx(), store.Fleet{Name: "panicked", Index: 12}); err != nil {
				return err
			}
			panic("inside tx")
		})
	}()
	read(t, s, func(tx store.ReadTx) error {
		_, err := tx.Fleet(ctx(), id)
		wantErr(t, err, store.ErrNotFound)
		fs, err := tx.Fleets(ctx())
		if err != nil {
			return err
		}
		if len(fs) != 0 {
			t.Errorf("rolled-back fleets survived: %+v", fs)
		}
		return nil
	})
	// The store still works after both.
	write(t, s, func(tx store.Tx) error {
		_, err := tx.CreateFleet(ctx(), store.Fleet{Name: "gone", Index: 11})
		return err
	})
}
