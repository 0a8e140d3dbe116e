package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/store"
)

// Outstanding says what a rotation does with the old key's outstanding
// authorizations.
type Outstanding string

const (
	// OutstandingCancel cancels them on chain (relayed cancelAuthorization) and
	// sweeps the old key's whole balance.
	OutstandingCancel Outstanding = "cancel"
	// OutstandingExpire leaves them valid until their validBefore: the sweep leaves
	// their amounts behind so they can still settle, and a later orphan sweep takes
	// what is left.
	OutstandingExpire Outstanding = "expire"
)

// RotateRequest rotates one agent's key.
type RotateRequest struct {
	AgentID string
	Actor   string
	// Outstanding is cancel (default) or expire.
	Outstanding Outstanding
	// Reason, if set, says why the key is rotated (e.g. the schedule that made it
	// due); it is recorded with the job and in its job.started audit record.
	Reason string
	// OnlyKeyID, if set, starts a new rotation only while that key is still the
	// agent's active key: a scheduler that found the key due passes it, so that a
	// rotation another process finished in the meantime is not followed by a
	// second one (ErrAlreadyRotated, nothing written). Resuming an unfinished
	// rotation job is not affected.
	OnlyKeyID string
}

type rotateParams struct {
	Actor       string      `json:"actor"`
	OldKeyID    string      `json:"old_key_id"`
	OldAddress  string      `json:"old_address"`
	Generation  uint32      `json:"generation"`
	NewAddress  string      `json:"new_address"`
	Outstanding Outstanding `json:"outstanding"`
	Reason      string      `json:"reason,omitempty"`
}

// Rotate gives an agent its next key (generation+1) as a resumable job: the old
// key becomes draining (it signs no payment from then on) and the new key active
// in one transaction; the old key's outstanding authorizations are cancelled on
// chain or left to expire (r.Outstanding); its token balance is swept to the new
// address with an EIP-3009 transfer the old key signs and the relayer submits.
// The agent's credentials do not change. An unfinished rotation is resumed.
func (m *Manager) Rotate(ctx context.Context, r RotateRequest) (*Report, error) {
	if r.Actor == "" {
		return nil, errors.New("lifecycle: rotate: no actor")
	}
	switch r.Outstanding {
	case "":
		r.Outstanding = OutstandingCancel
	case OutstandingCancel, OutstandingExpire:
	default:
		return nil, fmt.Errorf("lifecycle: rotate: outstanding authorizations %q: want cancel or expire", r.Outstanding)
	}
	if err := m.needChain(true, false); err != nil {
		return nil, err
	}
	steps := m.rotateSteps()
	var (
		job     store.Job
		resumed bool
		actor   = r.Actor
	)
	err := m.cfg.Store.Tx(ctx, func(tx store.Tx) error {
		a, err := tx.Agent(ctx, r.AgentID)
		if err != nil {
			return err
		}
		running, err := jobsOf(ctx, tx, store.JobFilter{AgentID: a.ID, Status: store.JobRunning})
		if err != nil {
			return err
		}
		for _, j := range running {
			if j.Kind != store.JobRotate {
				return fmt.Errorf("%w: %s job %s; run it to its end first", ErrBusy, j.Kind, j.ID)
			}
			job, resumed = j, true
			if p, ok := paramsOf[rotateParams](j); ok {
				actor = p.Actor
			}
			return nil
		}
		if a.Status != store.AgentActive && a.Status != store.AgentFrozen {
			return &store.StateError{Entity: "agent", ID: a.ID, Status: string(a.Status), Op: "rotate"}
		}
		f, err := tx.Fleet(ctx, a.FleetID)
		if err != nil {
			return err
		}
		old, err := tx.ActiveKey(ctx, a.ID)
		if err != nil {
			return fmt.Errorf("lifecycle: rotate: agent %s has no active key: %w", a.ID, err)
		}
		if r.OnlyKeyID != "" && old.ID != r.OnlyKeyID {
			return fmt.Errorf("%w: agent %s's active key is %s, not %s", ErrAlreadyRotated, a.ID, old.ID, r.OnlyKeyID)
		}
		keys, err := tx.Keys(ctx, a.ID)
		if err != nil {
			return err
		}
		gen := old.Generation
		for _, k := range keys {
			gen = max(gen, k.Generation)
		}
		gen++
		path, err := hd.AgentPath(f.Index, a.Index, gen)
		if err != nil {
			return fmt.Errorf("lifecycle: rotate: %w", err)
		}
		h, err := m.cfg.Keys.Key(path)
		if err != nil {
			return err
		}
		p := rotateParams{Actor: r.Actor, OldKeyID: old.ID, OldAddress: old.Address, Generation: gen,
			NewAddress: h.Address().Hex(), Outstanding: r.Outstanding, Reason: r.Reason}
		job, err = m.newJob(ctx, tx, store.JobRotate, a.ID, r.Actor, p, steps)
		return err
	})
	if err != nil {
		return nil, err
	}
	rep, err := m.runJob(ctx, job, actor, steps)
	if rep != nil {
		rep.Resumed = resumed
	}
	return rep, err
}

func (m *Manager) rotateSteps() []step {
	return []step{
		{name: StepRotateKey, tx: m.stepRotateKey},
		{name: StepAuthorizations, run: m.stepRotateOutstanding},
		{name: StepSweep, run: m.stepRotateSweep},
	}
}

func (m *Manager) stepRotateKey(ctx context.Context, tx store.Tx, js *jobState) error {
	p, _ := paramsOf[rotateParams](js.job)
	a, err := tx.Agent(ctx, js.job.AgentID)
	if err != nil {
		return err
	}
	f, err := tx.Fleet(ctx, a.FleetID)
	if err != nil {
		return err
	}
	old, err := tx.Key(ctx, p.OldKeyID)
	if err != nil {
		return err
	}
	if old.Status == store.KeyActive {
		if _, err := tx.SetKeyStatus(ctx, old.ID, store.KeyDraining); err != nil {
			return err
		}
		if _, err := m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: js.actor, Action: audit.ActionKeyStatus, Subject: old.ID,
			Data: map[string]any{"agent_id": a.ID, "from": string(store.KeyActive), "to": string(store.KeyDraining), "job_id": js.job.ID}}); err != nil {
			return err
		}
	}
	path, err := hd.AgentPath(f.Index, a.Index, p.Generation)
	if err != nil {
		return err
	}
	h, err := m.cfg.Keys.Key(path)
	if err != nil {
		return err
	}
	if h.Address().Hex() != p.NewAddress {
		return fmt.Errorf("lifecycle: custody derives %s at %s, the rotation recorded %s", h.Address().Hex(), path, p.NewAddress)
	}
	k, err := tx.CreateKey(ctx, store.Key{AgentID: a.ID, Generation: p.Generation, Path: path.String(), Address: h.Address().Hex(), CreatedAt: m.clock()})
	if err != nil {
		return err
	}
	if _, err := m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: js.actor, Action: audit.ActionKeyCreated, Subject: k.ID,
		Data: map[string]any{"agent_id": a.ID, "generation": k.Generation, "path": k.Path, "address": k.Address, "previous_key_id": old.ID, "job_id": js.job.ID}}); err != nil {
		return err
	}
	js.add(Action{What: "rotate_key", Subject: k.ID, From: old.Address, To: k.Address,
		Note: fmt.Sprintf("generation %d active, key %s draining", k.Generation, old.ID)})
	return nil
}

func (m *Manager) stepRotateOutstanding(ctx context.Context, js *jobState) error {
	p, _ := paramsOf[rotateParams](js.job)
	if p.Outstanding == OutstandingExpire {
		var n int
		err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
			as, err := rt.Authorizations(ctx, store.AuthorizationFilter{AgentID: js.job.AgentID, KeyID: p.OldKeyID, Statuses: []store.AuthStatus{store.AuthSigned}})
			n = len(as)
			return err
		})
		js.res.Note = fmt.Sprintf("%d outstanding authorizations left to expire (policy: expire)", n)
		return err
	}
	return m.cancelOutstanding(ctx, js, p.OldKeyID, true)
}

func (m *Manager) stepRotateSweep(ctx context.Context, js *jobState) error {
	p, _ := paramsOf[rotateParams](js.job)
	var (
		old   store.Key
		auths []store.Authorization
	)
	err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		var err error
		if old, err = rt.Key(ctx, p.OldKeyID); err != nil {
			return err
		}
		auths, err = rt.Authorizations(ctx, store.AuthorizationFilter{AgentID: js.job.AgentID, KeyID: p.OldKeyID, Statuses: []store.AuthStatus{store.AuthSigned}})
		return err
	})
	if err != nil {
		return err
	}
	// What outstanding authorizations may still take stays behind.
	keep := map[common.Address]*big.Int{}
	for _, a := range auths {
		v, ok := new(big.Int).SetString(a.AmountAtomic, 10)
		if !ok {
			continue
		}
		addr := common.HexToAddress(a.Asset)
		if keep[addr] == nil {
			keep[addr] = new(big.Int)
		}
		keep[addr].Add(keep[addr], v)
	}
	n, err := m.sweepKey(ctx, js, old, common.HexToAddress(p.NewAddress), keep, false)
	if err == nil && n == 0 && len(js.res.Actions) == 0 {
		js.res.Note = "nothing to sweep"
	}
	return err
}
