package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/store"
)

// OrphanFilter chooses which keys count as orphaned.
type OrphanFilter struct {
	// FleetID limits the search to one fleet (empty: every fleet).
	FleetID string
	// IdleFor, when positive, also counts the active key of an agent that has made
	// no payment (and was not created) in that long.
	IdleFor time.Duration
}

// Orphan is a key that holds funds but belongs to no agent that will use it:
// a revoked or retired agent's, a drained generation, a revoked key, or (with
// OrphanFilter.IdleFor) an idle agent's.
type Orphan struct {
	AgentID     string            `json:"agent_id"`
	AgentStatus store.AgentStatus `json:"agent_status"`
	FleetID     string            `json:"fleet_id"`
	Treasury    string            `json:"treasury,omitempty"`
	KeyID       string            `json:"key_id"`
	Generation  uint32            `json:"generation"`
	Address     string            `json:"address"`
	KeyStatus   store.KeyStatus   `json:"key_status"`
	Reason      string            `json:"reason"`
	Balances    []TokenBalance    `json:"balances"`
	Native      string            `json:"native"`
	// NativeSweepable is true when the native balance is worth the gas of moving
	// it (more than twice a transfer's cost); dust left by gas funding is not.
	NativeSweepable bool `json:"native_sweepable"`
	// Outstanding is the number of signed authorizations of the key still open:
	// their amounts stay behind in a sweep and the key is not retired.
	Outstanding int `json:"outstanding"`

	key  store.Key
	keep map[common.Address]*big.Int
}

// empty reports whether the orphan holds nothing.
func (o Orphan) empty() bool { return len(o.Balances) == 0 && !o.NativeSweepable }

// SweepReport is what an orphan sweep found and moved.
type SweepReport struct {
	DryRun  bool      `json:"dry_run"`
	Found   []Orphan  `json:"found"`
	Actions []Action  `json:"actions"`
	Retired []string  `json:"retired"`
	Errors  []string  `json:"errors,omitempty"`
	At      time.Time `json:"at"`
}

// Orphans lists orphaned keys that still hold tokens or native coin on the
// configured chain.
func (m *Manager) Orphans(ctx context.Context, f OrphanFilter) ([]Orphan, error) {
	all, err := m.orphanCandidates(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []Orphan
	for _, o := range all {
		if !o.empty() {
			out = append(out, o)
		}
	}
	return out, nil
}

func (m *Manager) orphanCandidates(ctx context.Context, f OrphanFilter) ([]Orphan, error) {
	if err := m.needChain(false, false); err != nil {
		return nil, err
	}
	now := m.clock()
	var cands []Orphan
	err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		agents, err := rt.Agents(ctx, store.AgentFilter{FleetID: f.FleetID})
		if err != nil {
			return err
		}
		treasuries := map[string]string{}
		for _, a := range agents {
			busy, err := jobsOf(ctx, rt, store.JobFilter{AgentID: a.ID, Status: store.JobRunning})
			if err != nil && !errors.Is(err, ErrNoJobs) {
				return err
			}
			if len(busy) > 0 {
				continue // a running job owns the agent's keys
			}
			keys, err := rt.Keys(ctx, a.ID)
			if err != nil {
				return err
			}
			var idle string
			if f.IdleFor > 0 && (a.Status == store.AgentActive || a.Status == store.AgentFrozen) {
				last := a.CreatedAt
				auths, err := rt.Authorizations(ctx, store.AuthorizationFilter{AgentID: a.ID})
				if err != nil {
					return err
				}
				for _, au := range auths {
					if au.CreatedAt.After(last) {
						last = au.CreatedAt
					}
				}
				if now.Sub(last) >= f.IdleFor {
					idle = "idle since " + last.Format(time.RFC3339)
				}
			}
			for _, k := range keys {
				var reason string
				switch {
				case k.Status == store.KeyRetired:
					continue
				case a.Status == store.AgentRevoked || a.Status == store.AgentRetired:
					reason = "agent " + string(a.Status)
				case k.Status == store.KeyDraining:
					reason = "drained generation"
				case k.Status == store.KeyRevoked:
					reason = "key revoked"
				case idle != "":
					reason = idle
				default:
					continue
				}
				tr, ok := treasuries[a.FleetID]
				if !ok {
					fl, err := rt.Fleet(ctx, a.FleetID)
					if err != nil {
						return err
					}
					tr, treasuries[a.FleetID] = fl.Treasury, fl.Treasury
				}
				open, err := rt.Authorizations(ctx, store.AuthorizationFilter{AgentID: a.ID, KeyID: k.ID, Statuses: []store.AuthStatus{store.AuthSigned}})
				if err != nil {
					return err
				}
				o := Orphan{AgentID: a.ID, AgentStatus: a.Status, FleetID: a.FleetID, Treasury: tr, KeyID: k.ID, Generation: k.Generation,
					Address: k.Address, KeyStatus: k.Status, Reason: reason, Outstanding: len(open), key: k, keep: map[common.Address]*big.Int{}}
				for _, au := range open {
					if v, ok := new(big.Int).SetString(au.AmountAtomic, 10); ok {
						addr := common.HexToAddress(au.Asset)
						if o.keep[addr] == nil {
							o.keep[addr] = new(big.Int)
						}
						o.keep[addr].Add(o.keep[addr], v)
					}
				}
				cands = append(cands, o)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return nil, nil
	}
	_, feeCap, err := m.fee(ctx)
	if err != nil {
		return nil, err
	}
	dust := new(big.Int).Mul(big.NewInt(2*nativeTransferGas), feeCap)
	for i := range cands {
		o := &cands[i]
		owner := common.HexToAddress(o.Address)
		for _, a := range m.assets {
			tok, err := m.caller(a)
			if err != nil {
				return nil, err
			}
			b, err := tok.BalanceOf(m.call(ctx), owner)
			if err != nil {
				return nil, fmt.Errorf("lifecycle: balanceOf(%s) on %s: %w", o.Address, a.Symbol, err)
			}
			if b.Sign() > 0 {
				o.Balances = append(o.Balances, TokenBalance{Asset: a.Address.Hex(), Symbol: a.Symbol, Amount: b.String()})
			}
		}
		nb, err := m.cfg.Backend.BalanceAt(ctx, owner, nil)
		if err != nil {
			return nil, fmt.Errorf("lifecycle: balance of %s: %w", o.Address, err)
		}
		o.Native, o.NativeSweepable = nb.String(), nb.Cmp(dust) > 0
	}
	return cands, nil
}

// SweepOrphans moves the funds of every orphaned key to its fleet's treasury
// (tokens by relayed EIP-3009, native coin by a transaction from the key when
// worth the gas) and retires the keys that are not active once they hold no
// token and have no open authorization. With dryRun it only reports what it
// found. A key whose sweep fails is reported and the others go on.
func (m *Manager) SweepOrphans(ctx context.Context, f OrphanFilter, dryRun bool, actor string) (*SweepReport, error) {
	if actor == "" {
		return nil, errors.New("lifecycle: sweep: no actor")
	}
	if err := m.needChain(!dryRun, false); err != nil {
		return nil, err
	}
	cands, err := m.orphanCandidates(ctx, f)
	if err != nil {
		return nil, err
	}
	rep := &SweepReport{DryRun: dryRun, At: m.clock(), Actions: []Action{}, Retired: []string{}, Found: []Orphan{}}
	for _, o := range cands {
		if !o.empty() {
			rep.Found = append(rep.Found, o)
		}
	}
	if dryRun {
		return rep, nil
	}
	for _, o := range cands {
		if !o.empty() {
			if o.Treasury == "" {
				rep.Actions = append(rep.Actions, Action{What: "skip", Subject: o.KeyID, From: o.Address, Note: "fleet " + o.FleetID + " has no treasury"})
				continue
			}
			rec := &listRecorder{}
			_, err := m.sweepKey(ctx, rec, o.key, common.HexToAddress(o.Treasury), o.keep, true)
			rep.Actions = append(rep.Actions, rec.actions...)
			if err != nil {
				rep.Errors = append(rep.Errors, fmt.Sprintf("key %s: %v", o.KeyID, err))
				continue
			}
		}
		if o.KeyStatus == store.KeyActive || o.Outstanding > 0 {
			continue
		}
		retired, err := m.retireIfEmpty(ctx, o, actor)
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("key %s: %v", o.KeyID, err))
			continue
		}
		if retired {
			rep.Retired = append(rep.Retired, o.KeyID)
			rep.Actions = append(rep.Actions, Action{What: "retire_key", Subject: o.KeyID, From: o.Address})
		}
	}
	if len(rep.Errors) > 0 {
		return rep, fmt.Errorf("lifecycle: sweep: %s", strings.Join(rep.Errors, "; "))
	}
	return rep, nil
}

func (m *Manager) retireIfEmpty(ctx context.Context, o Orphan, actor string) (bool, error) {
	owner := common.HexToAddress(o.Address)
	for _, a := range m.assets {
		tok, err := m.caller(a)
		if err != nil {
			return false, err
		}
		b, err := tok.BalanceOf(m.call(ctx), owner)
		if err != nil {
			return false, err
		}
		if b.Sign() > 0 {
			return false, nil
		}
	}
	err := m.cfg.Store.Tx(ctx, func(tx store.Tx) error {
		k, err := tx.SetKeyStatus(ctx, o.KeyID, store.KeyRetired)
		if err != nil {
			return err
		}
		_, err = m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: audit.ActionKeyStatus, Subject: k.ID,
			Data: map[string]any{"agent_id": o.AgentID, "from": string(o.KeyStatus), "to": string(store.KeyRetired), "reason": "orphan sweep: " + o.Reason}})
		return err
	})
	return err == nil, err
}

// Selector chooses agents for a fleet-wide revocation. Every set field must
// match; at least one of FleetID, GroupID, AgentIDs and PaidTo must be set.
type Selector struct {
	FleetID  string
	GroupID  string
	AgentIDs []string
	// PaidTo keeps agents with a signed or settled payment to this address
	// created at or after Since (zero: ever).
	PaidTo string
	Since  time.Time
}

// Select returns the active and frozen agents the selector matches, by id.
func (m *Manager) Select(ctx context.Context, s Selector) ([]store.Agent, error) {
	if s.FleetID == "" && s.GroupID == "" && len(s.AgentIDs) == 0 && s.PaidTo == "" {
		return nil, errors.New("lifecycle: select: no criterion (fleet, group, agents or paid-to)")
	}
	var payee string
	if s.PaidTo != "" {
		var err error
		if payee, err = store.NormalizeAddress(s.PaidTo); err != nil {
			return nil, fmt.Errorf("lifecycle: select: %w", err)
		}
	}
	var out []store.Agent
	err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		var agents []store.Agent
		if len(s.AgentIDs) > 0 {
			for _, id := range s.AgentIDs {
				a, err := rt.Agent(ctx, id)
				if err != nil {
					return err
				}
				agents = append(agents, a)
			}
		} else {
			var err error
			if agents, err = rt.Agents(ctx, store.AgentFilter{FleetID: s.FleetID, GroupID: s.GroupID}); err != nil {
				return err
			}
		}
		for _, a := range agents {
			if a.Status != store.AgentActive && a.Status != store.AgentFrozen ||
				s.FleetID != "" && a.FleetID != s.FleetID || s.GroupID != "" && a.GroupID != s.GroupID {
				continue
			}
			if payee != "" {
				auths, err := rt.Authorizations(ctx, store.AuthorizationFilter{AgentID: a.ID, Statuses: []store.AuthStatus{store.AuthSigned, store.AuthSettled}})
				if err != nil {
					return err
				}
				if !slices.ContainsFunc(auths, func(au store.Authorization) bool {
					return strings.EqualFold(au.PayTo, payee) && !au.CreatedAt.Before(s.Since)
				}) {
					continue
				}
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// Outcome is one agent's result in RevokeAll.
type Outcome struct {
	AgentID string  `json:"agent_id"`
	Report  *Report `json:"report,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// RevokeAll revokes every agent in ids, at most concurrency at a time (default
// 4), and returns one outcome per agent in order; one agent's failure does not
// stop the others (its job stays resumable).
func (m *Manager) RevokeAll(ctx context.Context, ids []string, actor string, concurrency int) []Outcome {
	if concurrency <= 0 {
		concurrency = 4
	}
	out := make([]Outcome, len(ids))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rep, err := m.Revoke(ctx, RevokeRequest{AgentID: id, Actor: actor})
			out[i] = Outcome{AgentID: id, Report: rep}
			if err != nil {
				out[i].Error = err.Error()
			}
		}()
	}
	wg.Wait()
	return out
}
