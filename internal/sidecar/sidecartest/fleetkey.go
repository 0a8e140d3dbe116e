package sidecartest

import (
	"math/big"
	"net/http/httptest"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
)

// Agent is one agent of a real fleetkey: the payments service (SQLite, random-mnemonic vault)
// behind the real API handler, with the devnet's TestUSD as its only asset. The agent's
// derived address holds FundAmount TestUSD.
type Agent struct {
	// APIURL is the fleetkey API; Token the agent's token.
	APIURL, Token string
	// ID is the agent's id; Address the address fleetkey derived for it.
	ID      string
	Address common.Address
	// Payments is the test environment of the service (store, audit…).
	Payments *paymentstest.Env
}

// FundAmount is what StartFleetkey gives the agent: five payments at Price.
const FundAmount = 5 * Price

// StartFleetkey starts a fleetkey API with one agent under policySrc (YAML) and funds the
// agent's address. Everything stops when the test ends.
func (e *Env) StartFleetkey(t testing.TB, policySrc string) *Agent {
	t.Helper()
	pe := paymentstest.New(t, paymentstest.Options{FleetIndex: 11})
	tok := e.Net.Token()
	reg, err := signer.NewRegistry([]signer.Asset{{
		Network: x402.EVMNetwork(ChainID), Address: tok.Address, Symbol: tok.Symbol,
		Decimals: tok.Decimals, EIP712Name: tok.Name, EIP712Version: tok.Version,
	}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := payments.New(payments.Config{Store: pe.Store, Keys: pe.Vault, Registry: reg, Audit: pe.Audit})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(pe.Ctx, payments.ProvisionRequest{FleetID: pe.Fleet.ID, GroupID: pe.Group.ID,
		Agents: []payments.NewAgent{{ExternalID: "adapter-agent", Name: "adapter-agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	pe.PutPolicy(store.LevelAgent, ps[0].Agent.ID, policySrc)
	srv := httptest.NewServer(api.NewHandler(api.Config{Payments: svc, Operators: svc, Audit: pe.Store}))
	t.Cleanup(srv.Close)
	a := &Agent{APIURL: srv.URL, Token: ps[0].Token.Reveal(), ID: ps[0].Agent.ID,
		Address: common.HexToAddress(ps[0].Key.Address), Payments: pe}
	if err := e.Fund(pe.Ctx, a.Address, big.NewInt(FundAmount)); err != nil {
		t.Fatal(err)
	}
	return a
}

// Authorizations lists the agent's authorizations in fleetkey's ledger.
func (a *Agent) Authorizations() []store.Authorization { return a.Payments.Authorizations(a.ID) }
