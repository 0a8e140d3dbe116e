package lifecycle

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/store"
)

// TestDepsOnDevnet: the map shows the outstanding authorizations, the allowance
// granted by permit (found from its Approval log), the permit nonce, the
// balance, the credential, the fleet policy and the payee and origin paid; after
// revocation it shows none of what was undone.
func TestDepsOnDevnet(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("mapped")[0]
	addr := common.HexToAddress(ag.Key.Address)
	e.fund(addr, 300_000)
	e.permitFrom(ag.Key, spender, 42)
	e.pay(ag.Agent.ID, "a", merchant, "1000")
	e.pay(ag.Agent.ID, "b", merchant, "2000")

	d, err := e.m.Deps(e.ctx, ag.Agent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Chain || len(d.Keys) != 1 {
		t.Fatalf("map: %s", mustJSON(d))
	}
	k := d.Keys[0]
	if len(k.Outstanding) != 2 || len(k.Allowances) != 1 || k.Allowances[0].Spender != spender.Hex() || k.Allowances[0].Amount != "42" {
		t.Errorf("key deps: %s", mustJSON(k))
	}
	if len(k.PermitNonces) != 1 || k.PermitNonces[0].Nonce != "1" || len(k.Balances) != 1 || k.Balances[0].Amount != "300000" {
		t.Errorf("key chain state: %s", mustJSON(k))
	}
	if len(d.Credentials) != 1 || !d.Credentials[0].Usable || len(d.Policies) != 1 || d.Policies[0].Level != store.LevelFleet {
		t.Errorf("credentials/policies: %s", mustJSON(d))
	}
	if len(d.Payees) != 1 || d.Payees[0].Payments != 2 || d.Payees[0].Totals[strings.ToLower(e.asset.Address.Hex())] != "3000" ||
		len(d.Origins) != 1 || d.Origins[0].Name != "api.example.com" {
		t.Errorf("payees/origins: %s / %s", mustJSON(d.Payees), mustJSON(d.Origins))
	}
	b, err := json.Marshal(d)
	if err != nil || bytes.Contains(b, []byte("Hash")) {
		t.Errorf("json: %v", err)
	}
	var dot, table bytes.Buffer
	if err := d.WriteDOT(&dot); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"digraph deps", spender.Hex(), "outstanding", "allows 42"} {
		if !strings.Contains(dot.String(), want) {
			t.Errorf("dot lacks %q:\n%s", want, dot.String())
		}
	}
	for _, want := range []string{"OUTSTANDING", "ALLOWANCE", spender.Hex(), "PERMIT NONCE", "lifecycle-test", merchant.Hex()[2:10]} {
		if !strings.Contains(strings.ToLower(table.String()), strings.ToLower(want)) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}

	if _, err := e.m.Revoke(e.ctx, RevokeRequest{AgentID: ag.Agent.ID, Actor: operator}); err != nil {
		t.Fatal(err)
	}
	d, err = e.m.Deps(e.ctx, ag.Agent.ID)
	if err != nil {
		t.Fatal(err)
	}
	k = d.Keys[0]
	if len(k.Outstanding) != 0 || len(k.Allowances) != 0 || len(k.Balances) != 0 || d.Credentials[0].Usable || k.Status != store.KeyRevoked {
		t.Errorf("map after revocation: %s", mustJSON(d))
	}
}
