package devmode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/demo"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// provisioned is the demo fleet as it is in the database.
type provisioned struct {
	fleet  store.Fleet
	agents []provisionedAgent
	// policiesChanged counts the policies that were applied as new versions on this start.
	policiesChanged int
}

type provisionedAgent struct {
	spec      demo.GroupAgent
	agent     store.Agent
	address   string
	tokenFile string
}

// provision makes the database hold the demo fleet of spec, idempotently: the fleet and its
// groups are found by name or created, the agents are provisioned by external id (their names),
// every policy is applied (a policy already active is left alone), each agent has a token file
// (a credential is issued for an agent whose file is missing), and the approver named by the
// research policy has an operator credential in approverFile.
func provision(ctx context.Context, svc *payments.Service, dir, treasury string, spec *demo.FleetSpec) (*provisioned, error) {
	adminText, err := readToken(datadir.Path(dir, datadir.AdminToken))
	if err != nil {
		return nil, fmt.Errorf("devmode: admin token: %w", err)
	}
	admin, err := svc.AuthenticateOperator(ctx, adminText)
	if err != nil {
		return nil, fmt.Errorf("devmode: admin token of %s: %w (start over with --fresh)", dir, err)
	}
	out := &provisioned{}
	if out.fleet, err = findOrCreateFleet(ctx, svc, admin, spec.Name, treasury); err != nil {
		return nil, err
	}
	if err := applyPolicy(ctx, svc, admin, store.LevelFleet, out.fleet.ID, spec.Policy, &out.policiesChanged); err != nil {
		return nil, err
	}
	for _, g := range spec.Groups {
		group, err := findOrCreateGroup(ctx, svc, admin, out.fleet.ID, g.Name)
		if err != nil {
			return nil, err
		}
		if err := applyPolicy(ctx, svc, admin, store.LevelGroup, group.ID, g.Policy, &out.policiesChanged); err != nil {
			return nil, err
		}
		news := make([]payments.NewAgent, len(g.Agents))
		for i, a := range g.Agents {
			news[i] = payments.NewAgent{ExternalID: a.Name, Name: a.Name, Labels: map[string]string{"demo": "true"}}
		}
		ps, err := svc.ProvisionAgents(ctx, payments.ProvisionRequest{
			FleetID: out.fleet.ID, GroupID: group.ID, Agents: news, Actor: audit.OperatorActor(admin.CredentialID),
		})
		if err != nil {
			return nil, fmt.Errorf("devmode: provision group %s: %w", g.Name, err)
		}
		for i, p := range ps {
			a := g.Agents[i]
			if p.Agent.GroupID != group.ID {
				return nil, fmt.Errorf("devmode: agent %s exists in another group; start over with --fresh", a.Name)
			}
			pa := provisionedAgent{spec: demo.GroupAgent{Group: g.Name, AgentSpec: a}, agent: p.Agent,
				address: p.Key.Address, tokenFile: agentTokenPath(dir, a.Name)}
			if err := ensureAgentToken(ctx, svc, admin, p, pa.tokenFile); err != nil {
				return nil, err
			}
			if err := applyPolicy(ctx, svc, admin, store.LevelAgent, p.Agent.ID, a.Policy, &out.policiesChanged); err != nil {
				return nil, err
			}
			out.agents = append(out.agents, pa)
		}
	}
	if err := ensureApprover(ctx, svc, admin, filepath.Join(dir, ApproverTokenFile)); err != nil {
		return nil, err
	}
	return out, nil
}

func findOrCreateFleet(ctx context.Context, svc *payments.Service, admin payments.OperatorIdentity, name, treasury string) (store.Fleet, error) {
	fleets, err := svc.Fleets(ctx)
	if err != nil {
		return store.Fleet{}, err
	}
	for _, f := range fleets {
		if f.Name == name {
			return f, nil
		}
	}
	f, err := svc.CreateFleet(ctx, admin, name, treasury)
	if err != nil {
		return store.Fleet{}, fmt.Errorf("devmode: create fleet %s: %w", name, err)
	}
	return f, nil
}

func findOrCreateGroup(ctx context.Context, svc *payments.Service, admin payments.OperatorIdentity, fleetID, name string) (store.Group, error) {
	groups, err := svc.Groups(ctx, fleetID)
	if err != nil {
		return store.Group{}, err
	}
	for _, g := range groups {
		if g.Name == name {
			return g, nil
		}
	}
	g, err := svc.CreateGroup(ctx, admin, fleetID, name)
	if err != nil {
		return store.Group{}, fmt.Errorf("devmode: create group %s: %w", name, err)
	}
	return g, nil
}

// applyPolicy applies source at (level, scopeID) unless it is empty; re-applying the active
// policy changes nothing.
func applyPolicy(ctx context.Context, svc *payments.Service, admin payments.OperatorIdentity, level store.Level, scopeID, source string, changed *int) error {
	if source == "" {
		return nil
	}
	_, ch, err := svc.ApplyPolicy(ctx, admin, level, scopeID, "", source)
	if err != nil {
		return fmt.Errorf("devmode: policy of %s %s: %w", level, scopeID, err)
	}
	if ch {
		*changed++
	}
	return nil
}

// ensureAgentToken writes the token of a new agent to path, or, for an existing agent whose
// token file is missing, issues it another credential.
func ensureAgentToken(ctx context.Context, svc *payments.Service, admin payments.OperatorIdentity, p payments.Provisioned, path string) error {
	defer p.Token.Wipe()
	if p.Existing {
		if _, err := os.Lstat(path); err == nil {
			return nil
		}
		ic, err := svc.IssueAgentCredential(ctx, admin, p.Agent.ID, time.Time{})
		if err != nil {
			return fmt.Errorf("devmode: credential for agent %s: %w", p.Agent.Name, err)
		}
		defer ic.Token.Wipe()
		return writeTokenFile(path, ic.Token.Reveal())
	}
	// A token file left from an earlier data directory would name a credential that no
	// longer exists.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return writeTokenFile(path, p.Token.Reveal())
}

// ensureApprover gives the demo approver an operator credential of role approver, written to
// path, unless path exists.
func ensureApprover(ctx context.Context, svc *payments.Service, admin payments.OperatorIdentity, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	ic, err := svc.CreateOperatorCredential(ctx, admin, payments.NewCredential{Name: demo.Approver, Role: store.RoleApprover})
	if err != nil {
		return fmt.Errorf("devmode: approver credential: %w", err)
	}
	defer ic.Token.Wipe()
	return writeTokenFile(path, ic.Token.Reveal())
}

func writeTokenFile(path, token string) error {
	b := []byte(strings.TrimSpace(token) + "\n")
	defer clear(b)
	if err := writeNewSecret(path, b); err != nil {
		return fmt.Errorf("devmode: token file: %w", err)
	}
	return nil
}
