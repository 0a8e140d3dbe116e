package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/credential"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/store"
)

// MaxBatch bounds one provisioning batch: it runs in one write transaction, which
// holds SQLite's single write lock for its whole duration.
const MaxBatch = 1000

// NewAgent is one agent to provision.
type NewAgent struct {
	// ExternalID is the operator's identifier, unique in the fleet; provisioning the
	// same ExternalID again returns the existing agent. Required.
	ExternalID string
	Name       string
	Labels     map[string]string
}

// ProvisionRequest provisions a batch of agents in one fleet and (optionally) group.
type ProvisionRequest struct {
	FleetID string
	GroupID string
	Agents  []NewAgent
	// Actor is who asked, for the audit log (default audit.System).
	Actor string
}

// Provisioned is the result for one NewAgent, in request order.
type Provisioned struct {
	Agent store.Agent
	Key   store.Key
	// Existing is true when the agent already existed: no key and no credential
	// were created, and Token is the zero Token.
	Existing bool
	// CredentialID and Token are the new agent credential. The token is shown
	// here once and stored only as its hash; it redacts itself when printed.
	CredentialID string
	Token        credential.Token
}

// ProvisionAgents creates agents idempotently by external id, each with the next
// never-used index of its fleet, its own key at m/44'/60'/{fleet}'/{agent}'/0' and
// an agent credential, all in one write transaction together with one audit record
// per new agent. Either the whole batch is provisioned or nothing is.
func (s *Service) ProvisionAgents(ctx context.Context, r ProvisionRequest) ([]Provisioned, error) {
	if r.FleetID == "" {
		return nil, errors.New("payments: provisioning needs a fleet")
	}
	if len(r.Agents) == 0 || len(r.Agents) > MaxBatch {
		return nil, fmt.Errorf("payments: a batch has 1 to %d agents, not %d", MaxBatch, len(r.Agents))
	}
	seen := make(map[string]bool, len(r.Agents))
	for i, a := range r.Agents {
		if a.ExternalID == "" {
			return nil, fmt.Errorf("payments: agent %d of the batch has no external id", i)
		}
		if seen[a.ExternalID] {
			return nil, fmt.Errorf("payments: external id %q appears twice in the batch", a.ExternalID)
		}
		seen[a.ExternalID] = true
	}
	actor := r.Actor
	if actor == "" {
		actor = audit.System
	}
	var out []Provisioned
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		// A backend may run this function again: tokens from an earlier attempt were
		// never stored, so they are wiped and forgotten.
		for _, p := range out {
			p.Token.Wipe()
		}
		out = out[:0]
		now := s.clock()
		fleet, err := tx.Fleet(ctx, r.FleetID)
		if err != nil {
			return err
		}
		news := make([]store.NewAgent, len(r.Agents))
		for i, a := range r.Agents {
			news[i] = store.NewAgent{GroupID: r.GroupID, ExternalID: a.ExternalID, Name: a.Name, Labels: a.Labels}
		}
		created, err := tx.CreateAgents(ctx, store.CreateAgentsRequest{FleetID: fleet.ID, Agents: news, Now: now})
		if err != nil {
			return err
		}
		for _, c := range created {
			if !c.Created {
				k, err := tx.ActiveKey(ctx, c.Agent.ID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				out = append(out, Provisioned{Agent: c.Agent, Key: k, Existing: true})
				continue
			}
			p, err := s.provisionOne(ctx, tx, fleet, c.Agent, actor)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		for _, p := range out {
			p.Token.Wipe()
		}
		return nil, err
	}
	return out, nil
}

func (s *Service) provisionOne(ctx context.Context, tx store.Tx, fleet store.Fleet, a store.Agent, actor string) (Provisioned, error) {
	path, err := hd.AgentPath(fleet.Index, a.Index, 0)
	if err != nil {
		return Provisioned{}, fmt.Errorf("payments: agent %s: %w", a.ID, err)
	}
	h, err := s.keys.Key(path)
	if err != nil {
		return Provisioned{}, fmt.Errorf("payments: agent %s: %w", a.ID, err)
	}
	k, err := tx.CreateKey(ctx, store.Key{AgentID: a.ID, Generation: 0, Path: path.String(), Address: h.Address().Hex(), CreatedAt: a.CreatedAt})
	if err != nil {
		return Provisioned{}, err
	}
	tok, err := credential.New(credential.Agent)
	if err != nil {
		return Provisioned{}, err
	}
	c, err := tx.CreateCredential(ctx, store.Credential{
		Kind: store.CredentialAgent, AgentID: a.ID, Name: a.Name, Hash: tok.Hash(), CreatedAt: a.CreatedAt,
	})
	if err != nil {
		tok.Wipe()
		return Provisioned{}, err
	}
	_, err = s.log.Append(ctx, tx, audit.Entry{
		Actor: actor, Action: audit.ActionAgentCreated, Subject: a.ID,
		Data: map[string]any{
			"fleet_id": a.FleetID, "group_id": a.GroupID, "external_id": a.ExternalID, "name": a.Name,
			"index": a.Index, "key_id": k.ID, "path": k.Path, "address": k.Address, "credential_id": c.ID,
		},
	})
	if err != nil {
		tok.Wipe()
		return Provisioned{}, err
	}
	return Provisioned{Agent: a, Key: k, CredentialID: c.ID, Token: tok}, nil
}
