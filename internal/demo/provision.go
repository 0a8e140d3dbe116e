package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/sdk"
)

// ProvisionedFleet is the demo fleet as the signing service knows it.
type ProvisionedFleet struct {
	FleetID string
	// GroupIDs maps each group's name to its id.
	GroupIDs map[string]string
	Agents   []ProvisionedAgent
	// PoliciesChanged counts the policies that became a new active version in
	// this call (0 when the fleet was already provisioned with this spec).
	PoliciesChanged int
}

// ProvisionedAgent is one demo agent as the signing service knows it.
type ProvisionedAgent struct {
	Name, Group string
	ID          string
	// Address is the agent's custody address, the account it pays from.
	Address string
	// Pace is the spec's pace, for TrafficAgent.
	Pace time.Duration
	// Created is true when this call created the agent; only then is Token
	// set, because the API shows an agent's token once. An existing agent
	// needs its saved token, or a new one from IssueAgentCredential.
	Created bool
	Token   sdk.Token
}

// Provision creates the demo fleet through the operator API with c (an
// admin's or operator's token), idempotently: the fleet and groups are found
// by name or created, agents are provisioned by external id (their names),
// and every policy is applied at its level (an unchanged policy adds no
// version). It stops at the first error; what was created before it stays,
// and a second call completes it.
func Provision(ctx context.Context, c *sdk.Client, spec *FleetSpec) (*ProvisionedFleet, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	out := &ProvisionedFleet{GroupIDs: map[string]string{}}
	fleets, err := c.Fleets(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: provision: %w", err)
	}
	for _, f := range fleets {
		if f.Name == spec.Name {
			out.FleetID = f.ID
			break
		}
	}
	if out.FleetID == "" {
		f, err := c.CreateFleet(ctx, spec.Name, "")
		if err != nil {
			return nil, fmt.Errorf("demo: provision: fleet %s: %w", spec.Name, err)
		}
		out.FleetID = f.ID
	}
	if err := out.apply(ctx, c, "fleet", out.FleetID, spec.Policy); err != nil {
		return nil, err
	}
	groups, err := c.Groups(ctx, out.FleetID)
	if err != nil {
		return nil, fmt.Errorf("demo: provision: %w", err)
	}
	for _, g := range groups {
		out.GroupIDs[g.Name] = g.ID
	}
	for _, g := range spec.Groups {
		if out.GroupIDs[g.Name] == "" {
			created, err := c.CreateGroup(ctx, out.FleetID, g.Name)
			if err != nil {
				return nil, fmt.Errorf("demo: provision: group %s: %w", g.Name, err)
			}
			out.GroupIDs[g.Name] = created.ID
		}
		gid := out.GroupIDs[g.Name]
		if err := out.apply(ctx, c, "group", gid, g.Policy); err != nil {
			return nil, err
		}
		req := sdk.CreateAgentsRequest{FleetID: out.FleetID, GroupID: gid}
		for _, a := range g.Agents {
			req.Agents = append(req.Agents, sdk.NewAgent{ExternalID: a.Name, Name: a.Name})
		}
		ps, err := c.CreateAgents(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("demo: provision: agents of %s: %w", g.Name, err)
		}
		if len(ps) != len(g.Agents) {
			return nil, fmt.Errorf("demo: provision: asked for %d agents of %s, got %d", len(g.Agents), g.Name, len(ps))
		}
		for i, p := range ps {
			a := g.Agents[i]
			if p.Agent.ExternalID != a.Name || p.Agent.GroupID != gid {
				return nil, fmt.Errorf("demo: provision: agent %s answered as %q in group %q", a.Name, p.Agent.ExternalID, p.Agent.GroupID)
			}
			if err := out.apply(ctx, c, "agent", p.Agent.ID, a.Policy); err != nil {
				return nil, err
			}
			out.Agents = append(out.Agents, ProvisionedAgent{Name: a.Name, Group: g.Name, ID: p.Agent.ID,
				Address: p.Address, Pace: a.Pace, Created: p.Created, Token: p.Token})
		}
	}
	return out, nil
}

// apply makes src the active policy at a scope; an empty src is no policy
// and applies nothing.
func (out *ProvisionedFleet) apply(ctx context.Context, c *sdk.Client, level, scopeID, src string) error {
	if src == "" {
		return nil
	}
	p, err := policy.Parse([]byte(src))
	if err != nil {
		return fmt.Errorf("demo: provision: %s policy: %w", level, err)
	}
	res, err := c.ApplyPolicy(ctx, level, scopeID, p.Name(), src)
	if err != nil {
		return fmt.Errorf("demo: provision: %s policy %s: %w", level, p.Name(), err)
	}
	if res.Changed {
		out.PoliciesChanged++
	}
	return nil
}
