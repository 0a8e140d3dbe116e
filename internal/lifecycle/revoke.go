package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
)

// RevokeRequest revokes one agent.
type RevokeRequest struct {
	AgentID string
	// Actor is the audit actor (audit.OperatorActor of the operator's credential,
	// or audit.System).
	Actor string
}

// revokeParams are fixed when a revocation starts.
type revokeParams struct {
	Treasury string `json:"treasury"`
	Actor    string `json:"actor"`
}

// Revocation steps, in order.
const (
	StepCredentials    = "credentials"
	StepKey            = "key"
	StepAuthorizations = "authorizations"
	StepAllowances     = "allowances"
	StepSweep          = "sweep"
	StepRotateKey      = "rotate_key"
)

// Revoke revokes an agent as a resumable job: its credentials are revoked; the
// agent and its keys are marked revoked (refused by every payment from then on);
// its outstanding authorizations are cancelled on chain (reservations waiting
// for approval are released); every allowance it granted is set to zero; its
// tokens and native coin are swept to the fleet's treasury. An unfinished
// revocation of the agent is resumed from its first step not done. An unknown
// agent (store.ErrNotFound), an agent already revoked (ErrAlreadyRevoked), a
// fleet without treasury (ErrTreasuryUnset) and a Manager without chain
// (ErrNoChain) are refused before anything changes.
func (m *Manager) Revoke(ctx context.Context, r RevokeRequest) (*Report, error) {
	if r.Actor == "" {
		return nil, errors.New("lifecycle: revoke: no actor")
	}
	if err := m.needChain(true, true); err != nil {
		return nil, err
	}
	steps := m.revokeSteps()
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
			if j.Kind == store.JobRevoke {
				job, resumed = j, true
				if p, ok := paramsOf[revokeParams](j); ok && p.Actor != "" {
					actor = p.Actor
				}
				return nil
			}
		}
		if a.Status == store.AgentRevoked || a.Status == store.AgentRetired {
			return fmt.Errorf("%w: agent %s is %s", ErrAlreadyRevoked, a.ID, a.Status)
		}
		f, err := tx.Fleet(ctx, a.FleetID)
		if err != nil {
			return err
		}
		if f.Treasury == "" {
			return fmt.Errorf("%w: fleet %s (%s); set it first", ErrTreasuryUnset, f.ID, f.Name)
		}
		// A revocation supersedes an unfinished rotation: it does everything the
		// rotation still had to do, and more.
		for _, j := range running {
			j.Status, j.Error = store.JobDone, "superseded by a revocation"
			if _, err := tx.(store.JobWriter).UpdateJob(ctx, j); err != nil {
				return err
			}
		}
		job, err = m.newJob(ctx, tx, store.JobRevoke, a.ID, r.Actor, revokeParams{Treasury: f.Treasury, Actor: r.Actor}, steps)
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

func (m *Manager) revokeSteps() []step {
	return []step{
		{name: StepCredentials, tx: m.stepRevokeCredentials},
		{name: StepKey, tx: m.stepRevokeKeys},
		{name: StepAuthorizations, run: func(ctx context.Context, js *jobState) error { return m.cancelOutstanding(ctx, js, "", true) }},
		{name: StepAllowances, run: m.stepAllowances},
		{name: StepSweep, run: m.stepSweepToTreasury},
	}
}

func (m *Manager) stepRevokeCredentials(ctx context.Context, tx store.Tx, js *jobState) error {
	now := m.clock()
	creds, err := tx.Credentials(ctx, store.CredentialFilter{Kind: store.CredentialAgent, AgentID: js.job.AgentID, Usable: true, Now: now})
	if err != nil {
		return err
	}
	n, err := tx.RevokeAgentCredentials(ctx, js.job.AgentID, now)
	if err != nil {
		return err
	}
	for _, c := range creds {
		js.add(Action{What: "revoke_credential", Subject: c.ID})
		if _, err := m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: js.actor, Action: audit.ActionCredentialRevoke, Subject: c.ID,
			Data: map[string]any{"agent_id": js.job.AgentID, "job_id": js.job.ID}}); err != nil {
			return err
		}
	}
	if n == 0 {
		js.res.Note = "no usable credential left"
	}
	return nil
}

func (m *Manager) stepRevokeKeys(ctx context.Context, tx store.Tx, js *jobState) error {
	a, err := tx.Agent(ctx, js.job.AgentID)
	if err != nil {
		return err
	}
	if a.Status != store.AgentRevoked && a.Status != store.AgentRetired {
		if _, err := tx.SetAgentStatus(ctx, a.ID, store.AgentRevoked, m.clock()); err != nil {
			return err
		}
		js.add(Action{What: "revoke_agent", Subject: a.ID})
		if _, err := m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: js.actor, Action: audit.ActionAgentStatus, Subject: a.ID,
			Data: map[string]any{"from": string(a.Status), "to": string(store.AgentRevoked), "job_id": js.job.ID}}); err != nil {
			return err
		}
	}
	keys, err := tx.Keys(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Status != store.KeyActive && k.Status != store.KeyDraining {
			continue
		}
		if _, err := tx.SetKeyStatus(ctx, k.ID, store.KeyRevoked); err != nil {
			return err
		}
		js.add(Action{What: "revoke_key", Subject: k.ID, From: k.Address})
		if _, err := m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: js.actor, Action: audit.ActionKeyStatus, Subject: k.ID,
			Data: map[string]any{"agent_id": a.ID, "from": string(k.Status), "to": string(store.KeyRevoked), "job_id": js.job.ID}}); err != nil {
			return err
		}
	}
	return nil
}

// assetOf returns the registered asset of an authorization on the Manager's chain.
func (m *Manager) assetOf(network, address string) (signer.Asset, bool) {
	for _, a := range m.assets {
		if a.Network == network && strings.EqualFold(a.Address.Hex(), address) {
			return a, true
		}
	}
	return signer.Asset{}, false
}

// cancelOutstanding ends the agent's outstanding authorizations (of keyID only
// when set): a signed one still unused on chain is cancelled there
// (cancelAuthorization signed by its key, relayed) and released; one the chain
// has used is left to the reconciler, which records its settlement; with
// reserved, reservations never signed (waiting for approval) are released.
func (m *Manager) cancelOutstanding(ctx context.Context, js *jobState, keyID string, reserved bool) error {
	statuses := []store.AuthStatus{store.AuthSigned}
	if reserved {
		statuses = append(statuses, store.AuthReserved)
	}
	var (
		auths []store.Authorization
		keys  = map[string]store.Key{}
	)
	err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		var err error
		if auths, err = rt.Authorizations(ctx, store.AuthorizationFilter{AgentID: js.job.AgentID, KeyID: keyID, Statuses: statuses}); err != nil {
			return err
		}
		ks, err := rt.Keys(ctx, js.job.AgentID)
		for _, k := range ks {
			keys[k.ID] = k
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(auths) == 0 && len(js.res.Actions) == 0 {
		js.res.Note = "no outstanding authorization"
	}
	for _, a := range auths {
		if a.Status == store.AuthReserved {
			if err := m.release(ctx, js, a, "release_reservation", ""); err != nil {
				return err
			}
			continue
		}
		asset, ok := m.assetOf(a.Network, a.Asset)
		if !ok {
			js.add(Action{What: "skip", Subject: a.ID, Asset: a.Asset, Note: "asset not registered on the configured chain " + a.Network})
			continue
		}
		h, err := m.handle(keys[a.KeyID])
		if err != nil {
			return err
		}
		nonce := common.HexToHash(a.Nonce)
		tok, err := m.caller(asset)
		if err != nil {
			return err
		}
		used, err := tok.AuthorizationState(m.call(ctx), h.Address(), nonce)
		if err != nil {
			return fmt.Errorf("lifecycle: authorizationState: %w", err)
		}
		if used {
			// Cancelled already (by this job before it stopped, or by anyone holding the
			// key): record the cancellation; used by a transfer: the reconciler settles it.
			cancelTx, err := m.cancellation(ctx, asset, h.Address(), nonce)
			if err != nil {
				return err
			}
			if cancelTx == "" {
				js.add(Action{What: "skip", Subject: a.ID, Note: "already used on chain by a transfer; the reconciler records it"})
				continue
			}
			if err := m.release(ctx, js, a, "cancel_authorization", cancelTx); err != nil {
				return err
			}
			continue
		}
		tx, err := m.relayCancel(ctx, h, asset, nonce)
		if err != nil {
			return err
		}
		if err := js.submitted(ctx, tx.Hash().Hex()); err != nil {
			return err
		}
		if err := m.mined(ctx, tx); err != nil {
			return err
		}
		js.minedOK(tx.Hash().Hex())
		if used, err = tok.AuthorizationState(m.call(ctx), h.Address(), nonce); err != nil || !used {
			return fmt.Errorf("lifecycle: authorization %s not cancelled on chain after %s (%v)", a.ID, tx.Hash().Hex(), err)
		}
		if err := m.release(ctx, js, a, "cancel_authorization", tx.Hash().Hex()); err != nil {
			return err
		}
	}
	return nil
}

// cancellation returns the hash of the transaction that emitted
// AuthorizationCanceled(authorizer, nonce) on asset a, or "" when none did.
func (m *Manager) cancellation(ctx context.Context, a signer.Asset, authorizer common.Address, nonce [32]byte) (string, error) {
	tok, err := m.caller(a)
	if err != nil {
		return "", err
	}
	it, err := tok.FilterAuthorizationCanceled(&bind.FilterOpts{Start: m.cfg.LogsFromBlock, Context: ctx}, []common.Address{authorizer}, [][32]byte{nonce})
	if err != nil {
		return "", fmt.Errorf("lifecycle: AuthorizationCanceled logs: %w", err)
	}
	defer it.Close()
	hash := ""
	for it.Next() {
		hash = it.Event.Raw.TxHash.Hex()
	}
	return hash, it.Error()
}

// release marks an authorization cancelled with its audit record and saves the step.
func (m *Manager) release(ctx context.Context, js *jobState, a store.Authorization, what, txHash string) error {
	js.add(Action{What: what, Subject: a.ID, Asset: a.Asset, Amount: a.AmountAtomic, From: a.From, To: a.PayTo, TxHash: txHash})
	return m.cfg.Store.Tx(ctx, func(tx store.Tx) error {
		if _, err := tx.ReleaseAuthorization(ctx, a.ID, store.AuthCancelled, m.clock()); err != nil {
			return err
		}
		if _, err := m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: js.actor, Action: "payment.cancelled", Subject: a.ID,
			Data: map[string]any{"agent_id": a.AgentID, "job_id": js.job.ID, "tx_hash": txHash}}); err != nil {
			return err
		}
		return js.saveIn(ctx, tx, store.StepPending, "")
	})
}

// liveKeys returns the agent's keys that are not retired.
func (m *Manager) liveKeys(ctx context.Context, agentID string) ([]store.Key, error) {
	var out []store.Key
	err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		ks, err := rt.Keys(ctx, agentID)
		for _, k := range ks {
			if k.Status != store.KeyRetired {
				out = append(out, k)
			}
		}
		return err
	})
	return out, err
}

// stepAllowances sets every allowance the agent's keys granted to zero, with
// approve(spender, 0) from the key, after funding the key's gas from the sponsor.
func (m *Manager) stepAllowances(ctx context.Context, js *jobState) error {
	keys, err := m.liveKeys(ctx, js.job.AgentID)
	if err != nil {
		return err
	}
	approve, ok := m.token.Methods["approve"]
	if !ok {
		return errors.New("lifecycle: token abi has no approve")
	}
	found := 0
	for _, k := range keys {
		h, err := m.handle(k)
		if err != nil {
			return err
		}
		type reset struct {
			asset   signer.Asset
			spender common.Address
			value   *big.Int
			data    []byte
			gas     uint64
		}
		var resets []reset
		gasTotal := new(big.Int)
		for _, a := range m.assets {
			al, err := m.allowances(ctx, a, h.Address())
			if err != nil {
				return err
			}
			for sp, v := range al {
				data, err := approve.Inputs.Pack(sp, new(big.Int))
				if err != nil {
					return err
				}
				data = append(append([]byte{}, approve.ID...), data...)
				to := a.Address
				g, err := m.cfg.Backend.EstimateGas(ctx, ethereum.CallMsg{From: h.Address(), To: &to, Data: data})
				if err != nil {
					return fmt.Errorf("lifecycle: estimate approve(%s, 0) from %s: %w", sp.Hex(), h.Address().Hex(), err)
				}
				g += g / 4
				gasTotal.Add(gasTotal, new(big.Int).SetUint64(g))
				resets = append(resets, reset{asset: a, spender: sp, value: v, data: data, gas: g})
			}
		}
		found += len(resets)
		if len(resets) == 0 {
			continue
		}
		tip, feeCap, err := m.fee(ctx)
		if err != nil {
			return err
		}
		need := new(big.Int).Mul(gasTotal, feeCap)
		have, err := m.cfg.Backend.BalanceAt(ctx, h.Address(), nil)
		if err != nil {
			return fmt.Errorf("lifecycle: balance of %s: %w", h.Address().Hex(), err)
		}
		if have.Cmp(need) < 0 {
			fund := new(big.Int).Sub(need, have)
			to := h.Address()
			tx, err := m.cfg.GasSponsor.Send(ctx, chainTx(&to, fund))
			if err != nil {
				return fmt.Errorf("lifecycle: fund gas of %s: %w", to.Hex(), err)
			}
			if err := js.submitted(ctx, tx.Hash().Hex()); err != nil {
				return err
			}
			if err := m.mined(ctx, tx); err != nil {
				return err
			}
			js.minedOK(tx.Hash().Hex())
			js.add(Action{What: "fund_gas", Subject: k.ID, From: m.cfg.GasSponsor.From().Hex(), To: to.Hex(), Amount: fund.String(), Asset: "native", TxHash: tx.Hash().Hex(),
				Note: "gas for the key's own approve(spender, 0) transactions, from the gas sponsor"})
		}
		for _, r := range resets {
			tx, err := m.keyTx(ctx, h, r.asset.Address, new(big.Int), r.data, r.gas, tip, feeCap)
			if err != nil {
				return err
			}
			if err := js.submitted(ctx, tx.Hash().Hex()); err != nil {
				return err
			}
			if err := m.mined(ctx, tx); err != nil {
				return err
			}
			js.minedOK(tx.Hash().Hex())
			tok, err := m.caller(r.asset)
			if err != nil {
				return err
			}
			left, err := tok.Allowance(m.call(ctx), h.Address(), r.spender)
			if err != nil || left.Sign() != 0 {
				return fmt.Errorf("lifecycle: allowance of %s to %s is %v after %s (%v)", h.Address().Hex(), r.spender.Hex(), left, tx.Hash().Hex(), err)
			}
			js.add(Action{What: "approve_zero", Subject: r.spender.Hex(), Asset: r.asset.Address.Hex(), From: h.Address().Hex(),
				Amount: r.value.String(), TxHash: tx.Hash().Hex(), Note: "allowance was " + r.value.String() + ", now 0"})
			if err := js.save(ctx, store.StepPending, ""); err != nil {
				return err
			}
		}
	}
	if found == 0 && len(js.res.Actions) == 0 {
		js.res.Note = "no allowance granted"
	}
	return nil
}

// stepSweepToTreasury moves every token balance of the agent's keys to the
// treasury (EIP-3009, relayed) and their native coin when worth the gas.
func (m *Manager) stepSweepToTreasury(ctx context.Context, js *jobState) error {
	p, ok := paramsOf[revokeParams](js.job)
	if !ok || p.Treasury == "" {
		return ErrTreasuryUnset
	}
	keys, err := m.liveKeys(ctx, js.job.AgentID)
	if err != nil {
		return err
	}
	treasury := common.HexToAddress(p.Treasury)
	moved := 0
	for _, k := range keys {
		n, err := m.sweepKey(ctx, js, k, treasury, nil, true)
		if err != nil {
			return err
		}
		moved += n
	}
	if moved == 0 && len(js.res.Actions) == 0 {
		js.res.Note = "nothing to sweep"
	}
	return nil
}
