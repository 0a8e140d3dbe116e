package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetkey/fleetkey/internal/store"
)

// ErrUnscopedOnly refuses a fleet-scoped credential what only an unscoped one
// may do: create or list credentials, create fleets, read the audit chain (one
// chain across every fleet). It matches ErrForbidden.
var ErrUnscopedOnly = fmt.Errorf("%w: a fleet-scoped credential may not do this; it needs a credential without a fleet scope", ErrForbidden)

// ScopeKind names what an identifier given to InScope points at.
type ScopeKind string

// The records InScope can place in a fleet.
const (
	ScopeFleet    ScopeKind = "fleet"
	ScopeGroup    ScopeKind = "group"
	ScopeAgent    ScopeKind = "agent"
	ScopeApproval ScopeKind = "approval"
	ScopeAlert    ScopeKind = "alert"
)

// ScopeOfLevel is the ScopeKind of a policy level's scope id.
func ScopeOfLevel(l store.Level) ScopeKind {
	switch l {
	case store.LevelFleet:
		return ScopeFleet
	case store.LevelGroup:
		return ScopeGroup
	case store.LevelAgent:
		return ScopeAgent
	}
	return ""
}

// Scoped reports whether the identity acts on one fleet only.
func (o OperatorIdentity) Scoped() bool { return o.FleetID != "" }

// RequireUnscoped is nil for an unscoped identity and ErrUnscopedOnly for a
// fleet-scoped one.
func (o OperatorIdentity) RequireUnscoped() error {
	if o.Scoped() {
		return ErrUnscopedOnly
	}
	return nil
}

// InScope is the one check of an operator's fleet scope: nil when op is
// unscoped or the record (kind, id) belongs to op's fleet. A record of another
// fleet is answered exactly as one that does not exist, a *store.NotFoundError,
// so a scoped credential cannot learn that other fleets or their records exist.
// A store failure is returned as itself.
func (s *Service) InScope(ctx context.Context, op OperatorIdentity, kind ScopeKind, id string) error {
	if !op.Scoped() {
		return nil
	}
	notFound := &store.NotFoundError{Entity: string(kind), Key: id}
	var fleet string
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		var err error
		fleet, err = fleetOf(ctx, rt, kind, id)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound
	case err != nil:
		return err
	case fleet != op.FleetID:
		return notFound
	}
	return nil
}

// fleetOf finds the fleet a record belongs to.
func fleetOf(ctx context.Context, rt store.ReadTx, kind ScopeKind, id string) (string, error) {
	switch kind {
	case ScopeFleet:
		f, err := rt.Fleet(ctx, id)
		return f.ID, err
	case ScopeGroup:
		g, err := rt.Group(ctx, id)
		return g.FleetID, err
	case ScopeAgent:
		a, err := rt.Agent(ctx, id)
		return a.FleetID, err
	case ScopeApproval:
		ap, err := rt.Approval(ctx, id)
		if err != nil {
			return "", err
		}
		a, err := rt.Authorization(ctx, ap.AuthorizationID)
		return a.FleetID, err
	case ScopeAlert:
		art, ok := rt.(store.AnomalyReadTx)
		if !ok {
			return "", store.ErrNotFound
		}
		a, err := art.Alert(ctx, id)
		return a.FleetID, err
	}
	return "", fmt.Errorf("payments: unknown scope kind %q", kind)
}
