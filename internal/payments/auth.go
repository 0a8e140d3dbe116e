package payments

import (
	"context"
	"errors"

	"github.com/fleetkey/fleetkey/internal/credential"
	"github.com/fleetkey/fleetkey/internal/store"
)

// ErrUnauthenticated is every reason an agent token is refused. Which check failed
// (malformed, unknown, wrong kind, revoked, expired, agent not active) is not told
// to the caller: it would help someone probing stolen or guessed tokens.
var ErrUnauthenticated = errors.New("payments: unauthenticated")

// AgentIdentity is the agent a valid token acts for.
type AgentIdentity struct {
	AgentID      string
	FleetID      string
	GroupID      string
	CredentialID string
}

// Authenticate turns an agent token's text into the identity it acts for.
func (s *Service) Authenticate(ctx context.Context, tokenText string) (AgentIdentity, error) {
	tok, err := credential.Parse(tokenText)
	if err != nil || tok.Kind() != credential.Agent {
		return AgentIdentity{}, ErrUnauthenticated
	}
	defer tok.Wipe()
	hash := tok.Hash()
	var id AgentIdentity
	err = s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		c, err := rt.CredentialByHash(ctx, hash)
		if err != nil {
			return err
		}
		if c.Kind != store.CredentialAgent || c.AgentID == "" || !c.Usable(s.clock()) || !tok.Matches(credential.Hash(c.Hash)) {
			return ErrUnauthenticated
		}
		a, err := s.agentForAuth(ctx, rt, c.AgentID)
		if err != nil {
			return err
		}
		if a.Status != store.AgentActive {
			return ErrUnauthenticated
		}
		id = AgentIdentity{AgentID: a.ID, FleetID: a.FleetID, GroupID: a.GroupID, CredentialID: c.ID}
		return nil
	})
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, store.ErrNotFound):
		return AgentIdentity{}, ErrUnauthenticated
	default:
		// A store failure is not the caller's fault and must not look like a bad token.
		return AgentIdentity{}, err
	}
}

// agentForAuth reads an agent for Authenticate: from the payments cache while the
// store reports no change since it was loaded (see Service.load), else from rt.
func (s *Service) agentForAuth(ctx context.Context, rt store.ReadTx, id string) (store.Agent, error) {
	if sv, ok := s.store.(stateVersioner); ok {
		if as := s.agents.get(id, sv.StateVersion()); as != nil {
			return as.agent, nil
		}
	}
	return rt.Agent(ctx, id)
}
