package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
)

// Schedule is a rotation schedule: a key is due when it is older than MaxAge or
// has signed MaxSignatures payments (a zero field does not apply).
type Schedule struct {
	MaxAge        time.Duration
	MaxSignatures int64
	// FleetID limits the schedule to one fleet (empty: every fleet).
	FleetID string
}

// Due is an agent whose active key is due for rotation.
type Due struct {
	AgentID   string    `json:"agent_id"`
	KeyID     string    `json:"key_id"`
	CreatedAt time.Time `json:"created_at"`
	SignCount int64     `json:"sign_count"`
	Reason    string    `json:"reason"`
	// Outstanding is what the agent's policy says the rotation does with the old
	// key's outstanding authorizations (DueByPolicy only; empty: not set).
	Outstanding Outstanding `json:"outstanding,omitempty"`
}

// DueForRotation lists the active and frozen agents whose active key the
// schedule says to rotate. Run it (and Rotate on each) from a scheduler.
func (m *Manager) DueForRotation(ctx context.Context, s Schedule) ([]Due, error) {
	if s.MaxAge <= 0 && s.MaxSignatures <= 0 {
		return nil, errors.New("lifecycle: rotation schedule has neither a maximum age nor a maximum signature count")
	}
	now := m.clock()
	var out []Due
	err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		return eachRotatable(ctx, rt, s.FleetID, func(a store.Agent, k store.Key) error {
			if reason, due := dueReason(k, now, s.MaxAge, s.MaxSignatures); due {
				out = append(out, Due{AgentID: a.ID, KeyID: k.ID, CreatedAt: k.CreatedAt, SignCount: k.SignCount, Reason: reason})
			}
			return nil
		})
	})
	return out, err
}

// DueByPolicy lists the active and frozen agents (of one fleet, or of every fleet
// if fleetID is empty) whose active key the rotation rule of their effective
// policy says to rotate: the strictest max_key_age and max_signatures of the
// policies attached to the agent's fleet, group and agent (policy.Set.Rotation).
// Agents whose policies set no rotation rule are never due.
//
// An agent whose stored policy cannot be read is left out and named in the
// returned error, which then comes with the agents that are due: one bad policy
// does not hold up the fleet's rotations.
func (m *Manager) DueByPolicy(ctx context.Context, fleetID string) ([]Due, error) {
	now := m.clock()
	var (
		out  []Due
		errs []error
	)
	err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		return eachRotatable(ctx, rt, fleetID, func(a store.Agent, k store.Key) error {
			set, err := m.policySet(ctx, rt, a)
			if err != nil {
				if !errors.Is(err, errBadPolicy) {
					return err
				}
				errs = append(errs, fmt.Errorf("agent %s: %w", a.ID, err))
				return nil
			}
			r := set.Rotation()
			if reason, due := dueReason(k, now, r.MaxKeyAge, r.MaxSignatures); due {
				out = append(out, Due{AgentID: a.ID, KeyID: k.ID, CreatedAt: k.CreatedAt, SignCount: k.SignCount,
					Reason: reason + " (policy)", Outstanding: Outstanding(r.Outstanding)})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("lifecycle: rotation policy: %w", errors.Join(errs...))
	}
	return out, nil
}

// eachRotatable calls f with every active or frozen agent (of fleetID, or of
// every fleet) that has an active key, and that key.
func eachRotatable(ctx context.Context, rt store.ReadTx, fleetID string, f func(store.Agent, store.Key) error) error {
	agents, err := rt.Agents(ctx, store.AgentFilter{FleetID: fleetID})
	if err != nil {
		return err
	}
	for _, a := range agents {
		if a.Status != store.AgentActive && a.Status != store.AgentFrozen {
			continue
		}
		k, err := rt.ActiveKey(ctx, a.ID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if err := f(a, k); err != nil {
			return err
		}
	}
	return nil
}

// dueReason says whether a key is due by age or by signature count (a zero
// bound does not apply), and why.
func dueReason(k store.Key, now time.Time, maxAge time.Duration, maxSigs int64) (string, bool) {
	switch {
	case maxAge > 0 && now.Sub(k.CreatedAt) >= maxAge:
		return fmt.Sprintf("key older than %s", maxAge), true
	case maxSigs > 0 && k.SignCount >= maxSigs:
		return fmt.Sprintf("key signed %d payments (maximum %d)", k.SignCount, maxSigs), true
	}
	return "", false
}

// policySet reads the policies in force at the agent's fleet, group and agent
// level. A stored source that does not hash to its recorded hash is refused, as
// the payments service refuses it: the hash names the policy applied.
func (m *Manager) policySet(ctx context.Context, rt store.ReadTx, a store.Agent) (policy.Set, error) {
	var set policy.Set
	for _, lv := range []struct {
		level store.Level
		scope string
		dst   **policy.Policy
	}{
		{store.LevelFleet, a.FleetID, &set.Fleet},
		{store.LevelGroup, a.GroupID, &set.Group},
		{store.LevelAgent, a.ID, &set.Agent},
	} {
		if lv.scope == "" {
			continue
		}
		rec, err := rt.ActivePolicy(ctx, lv.level, lv.scope)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return set, err
		}
		if *lv.dst, err = m.parsePolicy(rec); err != nil {
			return set, err
		}
	}
	return set, nil
}

// errBadPolicy marks a stored policy that does not parse or hash as recorded.
var errBadPolicy = errors.New("unusable stored policy")

// parsePolicy compiles a stored policy version once per hash.
func (m *Manager) parsePolicy(rec store.PolicyRecord) (*policy.Policy, error) {
	if p, ok := m.policies.Load(rec.Hash); ok {
		return p.(*policy.Policy), nil
	}
	p, err := policy.Parse([]byte(rec.Source))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", errBadPolicy, rec.ID, err)
	}
	if p.Hash() != rec.Hash {
		return nil, fmt.Errorf("%w %s: hashes to %s, recorded as %s", errBadPolicy, rec.ID, p.Hash(), rec.Hash)
	}
	m.policies.Store(rec.Hash, p)
	return p, nil
}
