package demo

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/x402"
)

// Approver is the operator name the research group's approval rule lists:
// `fleetkey dev` creates an approver credential with this name so that the
// pending approvals of the demo can be decided.
const Approver = "alice"

// Default paces of simulated agents: the mean time between two requests of
// one agent.
const (
	// DefaultPace is the pace of every other demo agent.
	DefaultPace = 5 * time.Second
	// RunawayPace is the pace of the runaway agent, well above its per-minute
	// rate limit so that the limit shows.
	RunawayPace = 1500 * time.Millisecond
)

// FleetSpec is the demo fleet: its policy, its groups and their agents. Every
// Policy is YAML text that internal/policy.Parse accepts; "" means no policy
// at that level.
type FleetSpec struct {
	Name   string
	Policy string
	Groups []GroupSpec
}

// GroupSpec is one group of the demo fleet.
type GroupSpec struct {
	Name   string
	Policy string
	Agents []AgentSpec
}

// AgentSpec is one demo agent. Name doubles as the agent's external id.
type AgentSpec struct {
	Name   string
	Policy string
	// Pace is the mean time between two simulated requests of the agent.
	Pace time.Duration
}

// Agents returns every agent with the name of its group, in spec order.
func (f *FleetSpec) Agents() []GroupAgent {
	var out []GroupAgent
	for _, g := range f.Groups {
		for _, a := range g.Agents {
			out = append(out, GroupAgent{Group: g.Name, AgentSpec: a})
		}
	}
	return out
}

// GroupAgent is an agent with the name of its group.
type GroupAgent struct {
	Group string
	AgentSpec
}

// Fleet returns the demo fleet for a chain, the token it pays in and the
// merchant it may pay:
//
//   - fleet "demo": a daily budget of 100 tokens, at most 1 per payment, and
//     allowlists admitting only the merchant, the token, the chain and
//     loopback origins (the demo API is plain http on 127.0.0.1, hence
//     allow_http at every level);
//   - group "research" (scout, analyst, librarian): at most 0.50 per payment
//     and 10 an hour, and payments above 0.10 need one approval by Approver;
//   - group "ops" (monitor, pager, runaway): at most 0.05 per payment and 5 an
//     hour; the agent "runaway" has its own policy limiting it to 10 payment
//     requests a minute, and a pace that exceeds it.
//
// Every policy is parsed before Fleet returns, so a returned spec is valid.
func Fleet(chainID uint64, token, merchant common.Address) (*FleetSpec, error) {
	if chainID == 0 || token == (common.Address{}) || merchant == (common.Address{}) {
		return nil, errors.New("demo: fleet: chain id, token and merchant must be set")
	}
	fleetPolicy := fmt.Sprintf(`# The whole demo fleet: one daily budget, and only the merchant, in TestUSD, on the devnet.
version: 1
name: demo-fleet
description: Budget and guard rails shared by every demo agent.
limits:
  per_payment: "1.00"
  windows:
    - window: 24h
      max_amount: "100"
allow:
  pay_to: [%q]
  assets: [%q]
  networks: [%q]
  origins: ["127.0.0.1:*", "localhost:*"]
allow_http: true
max_validity: 5m
`, strings.ToLower(merchant.Hex()), strings.ToLower(token.Hex()), x402.EVMNetwork(chainID))
	research := fmt.Sprintf(`# Research agents buy reports; anything above 0.10 waits for a human.
version: 1
name: demo-research
description: Larger purchases, with an approver for the expensive ones.
limits:
  per_payment: "0.50"
  windows:
    - window: 1h
      max_amount: "10"
      max_count: 600
allow_http: true
approval:
  above: "0.10"
  quorum: 1
  approvers: [%s]
  expires_after: 15m
`, Approver)
	ops := `# Operations agents make small lookups only.
version: 1
name: demo-ops
description: Small lookups, a tight hourly budget.
limits:
  per_payment: "0.05"
  windows:
    - window: 1h
      max_amount: "5"
      max_count: 1200
allow_http: true
`
	runaway := `# A brake for an agent stuck in a loop.
version: 1
name: demo-runaway-brake
description: At most ten payment requests a minute.
allow_http: true
rate:
  max_requests_per_minute: 10
`
	f := &FleetSpec{Name: "demo", Policy: fleetPolicy, Groups: []GroupSpec{
		{Name: "research", Policy: research, Agents: []AgentSpec{
			{Name: "scout", Pace: DefaultPace},
			{Name: "analyst", Pace: DefaultPace},
			{Name: "librarian", Pace: DefaultPace},
		}},
		{Name: "ops", Policy: ops, Agents: []AgentSpec{
			{Name: "monitor", Pace: DefaultPace},
			{Name: "pager", Pace: DefaultPace},
			{Name: "runaway", Policy: runaway, Pace: RunawayPace},
		}},
	}}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// validate parses every policy of the spec.
func (f *FleetSpec) validate() error {
	check := func(where, src string) error {
		if src == "" {
			return nil
		}
		if _, err := policy.Parse([]byte(src)); err != nil {
			return fmt.Errorf("demo: policy of %s: %w", where, err)
		}
		return nil
	}
	errs := []error{check("fleet "+f.Name, f.Policy)}
	for _, g := range f.Groups {
		errs = append(errs, check("group "+g.Name, g.Policy))
		for _, a := range g.Agents {
			errs = append(errs, check("agent "+a.Name, a.Policy))
		}
	}
	return errors.Join(errs...)
}
