package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

const authCols = `id, agent_id, key_id, fleet_id, group_id, idempotency_key, network, asset, pay_to, origin,
	resource_url, amount_atomic, amount_micro, nonce, from_address, valid_after, valid_before, status,
	policy_hash, response_name, response_value, tx_hash, created_at, signed_at, settled_at, updated_at,
	demand_version, demand, requirement_index`

// counted selects the authorizations that consume budget; the counted column mirrors
// the status (a CHECK constraint keeps them equal) so that status changes that keep a
// record counted do not touch the spend indexes.
const counted = `counted = 1`

const authInsSQL = `INSERT INTO authorizations (` + authCols + `, counted) VALUES
		(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, NULL, ?, ?, ?, ?, 1)`

// reserveInsert is the write of a reservation in one statement (one round trip):
// the record, its bucket additions at scopes (2: agent and fleet, 3: and group)
// and, when signed, the key's signature count. Placeholders are numbered in that
// order.
func reserveInsert(scopes int, signed bool) string {
	s := `WITH a AS (` + authInsSQL + `), b AS (` + upsertBuckets(scopes) + `)`
	if signed {
		s += `, k AS (` + keySignedSQL + `)`
	}
	return q(s + ` SELECT 1`)
}

var qReserve = [2][2]string{
	{reserveInsert(2, false), reserveInsert(2, true)},
	{reserveInsert(3, false), reserveInsert(3, true)},
}

var (
	qAuth       = q(`SELECT ` + authCols + ` FROM authorizations WHERE id = ?`)
	qAuthByIdk  = q(`SELECT ` + authCols + ` FROM authorizations WHERE agent_id = ? AND idempotency_key = ?`)
	qAuthIns    = q(authInsSQL)
	qAuthSigned = q(`UPDATE authorizations SET status = 'signed', response_name = ?, response_value = ?, signed_at = ?, updated_at = ?
		WHERE id = ? AND status = 'reserved' RETURNING ` + authCols)
	qPayer = q(`SELECT a.status, a.fleet_id, a.group_id, k.agent_id, k.status, k.address
		FROM agents a, keys k WHERE a.id = ? AND k.id = ?`)
	qAuthLock    = q(`SELECT ` + authCols + ` FROM authorizations WHERE id = ? FOR UPDATE`)
	qFleetLock   = q(`SELECT id FROM fleets WHERE id = (SELECT fleet_id FROM agents WHERE id = ?) FOR NO KEY UPDATE`)
	qAuthSettled = q(`UPDATE authorizations SET status = 'settled', counted = 1, tx_hash = ?, settled_at = ?, updated_at = ? WHERE id = ?`)
	qAuthStatus  = q(`UPDATE authorizations SET status = ?, counted = 0, updated_at = ? WHERE id = ?`)
	// One statement picks and changes the due records: a concurrent expiry waits for
	// the row locks and then skips the rows this one changed, so no reservation is
	// released (and its buckets decremented) twice.
	qAuthExpire = q(`UPDATE authorizations SET status = 'expired', counted = 0, updated_at = ?
		WHERE status IN ('reserved', 'signed') AND valid_before < ? RETURNING ` + authCols)
)

func scanAuth(s scanner) (store.Authorization, error) {
	var (
		a                   store.Authorization
		group               sql.NullString
		va, vb, ca, ua      int64
		signedAt, settledAt sql.NullInt64
	)
	err := s.Scan(&a.ID, &a.AgentID, &a.KeyID, &a.FleetID, &group, &a.IdempotencyKey, &a.Network, &a.Asset,
		&a.PayTo, &a.Origin, &a.ResourceURL, &a.AmountAtomic, &a.AmountMicro, &a.Nonce, &a.From, &va, &vb,
		&a.Status, &a.PolicyHash, &a.Response.Name, &a.Response.Value, &a.TxHash, &ca, &signedAt, &settledAt, &ua,
		&a.DemandVersion, &a.Demand, &a.RequirementIndex)
	if err != nil {
		return a, err
	}
	if len(a.Demand) == 0 {
		a.Demand = nil
	}
	a.GroupID = group.String
	a.ValidAfter, a.ValidBefore = fromNSReq(va), fromNSReq(vb)
	a.CreatedAt, a.UpdatedAt = fromNSReq(ca), fromNSReq(ua)
	a.SignedAt, a.SettledAt = fromNS(signedAt), fromNS(settledAt)
	return a, nil
}

func (t *tx) Authorization(ctx context.Context, id string) (store.Authorization, error) {
	return one(t.queryRow(ctx, qAuth, id), scanAuth, "authorization", id)
}

func (t *tx) AuthorizationByIdempotencyKey(ctx context.Context, agentID, key string) (store.Authorization, error) {
	return one(t.queryRow(ctx, qAuthByIdk, agentID, key), scanAuth, "authorization", agentID+"/"+key)
}

func (t *tx) Authorizations(ctx context.Context, f store.AuthorizationFilter) ([]store.Authorization, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.AgentID != "" {
		add("agent_id = ?", f.AgentID)
	}
	if f.KeyID != "" {
		add("key_id = ?", f.KeyID)
	}
	if f.FleetID != "" {
		add("fleet_id = ?", f.FleetID)
	}
	if f.After != "" {
		add("id > ?", f.After)
	}
	if len(f.Statuses) > 0 {
		in := "status IN ("
		for i, s := range f.Statuses {
			if i > 0 {
				in += ", "
			}
			in += "?"
			args = append(args, string(s))
		}
		where = append(where, in+")")
	}
	return queryAll(ctx, t, scanAuth, `SELECT `+authCols+` FROM authorizations`+whereClause(where)+` ORDER BY id`+limitClause(f.Limit), args...)
}

func (t *tx) Spend(ctx context.Context, level store.Level, scopeID string, window time.Duration, at time.Time) (store.Spend, error) {
	var query string
	switch level {
	case store.LevelAgent:
		query = qSpendAgent
	case store.LevelGroup:
		query = qSpendGroup
	case store.LevelFleet:
		query = qSpendFleet
	default:
		return store.Spend{}, fmt.Errorf("postgres: invalid level %q", level)
	}
	if window <= 0 {
		return store.Spend{}, fmt.Errorf("postgres: window %s is not positive", window)
	}
	var s store.Spend
	if err := t.queryRow(ctx, query, spendArgs(scopeID, at.Add(-window).UnixNano())...).Scan(&s.AmountMicro, &s.Count); err != nil {
		return s, fmt.Errorf("postgres: spend: %w", err)
	}
	return s, nil
}

func (t *tx) ReserveAuthorization(ctx context.Context, r store.ReserveRequest) (store.Authorization, bool, error) {
	a := r.Authorization
	if err := store.NormalizeReservation(&a, r); err != nil {
		return store.Authorization{}, false, err
	}
	// The fleet row lock serialises every reservation that could share a window
	// with this one, on every replica; everything below reads what was committed
	// before it was granted (READ COMMITTED takes a new snapshot per statement).
	if err := t.lockAgentFleet(ctx, a.AgentID); err != nil {
		return store.Authorization{}, false, err
	}
	prev, err := t.AuthorizationByIdempotencyKey(ctx, a.AgentID, a.IdempotencyKey)
	if err == nil {
		if !store.SameRequest(prev, a) {
			return prev, true, fmt.Errorf("%w: agent %s key %q", store.ErrIdempotencyMismatch, a.AgentID, a.IdempotencyKey)
		}
		return prev, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Authorization{}, false, err
	}
	// One read for the payer: the agent and the key, with their states, as of this
	// write transaction (so a freeze or revocation committed before is always seen).
	var (
		agentStatus, keyStatus, keyAgent, from, fleetID string
		groupID                                         sql.NullString
	)
	err = t.queryRow(ctx, qPayer, a.AgentID, a.KeyID).Scan(&agentStatus, &fleetID, &groupID, &keyAgent, &keyStatus, &from)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := t.Agent(ctx, a.AgentID); err != nil {
			return store.Authorization{}, false, err
		}
		return store.Authorization{}, false, &store.NotFoundError{Entity: "key", Key: a.KeyID}
	}
	if err != nil {
		return store.Authorization{}, false, fmt.Errorf("postgres: reserve: %w", err)
	}
	if agentStatus != string(store.AgentActive) {
		return store.Authorization{}, false, &store.StateError{Entity: "agent", ID: a.AgentID, Status: agentStatus, Op: "reserve"}
	}
	if keyAgent != a.AgentID {
		return store.Authorization{}, false, fmt.Errorf("postgres: key %s does not belong to agent %s", a.KeyID, a.AgentID)
	}
	if keyStatus != string(store.KeyActive) {
		return store.Authorization{}, false, &store.StateError{Entity: "key", ID: a.KeyID, Status: keyStatus, Op: "reserve"}
	}
	a.FleetID, a.GroupID, a.From = fleetID, groupID.String, from
	if err := t.checkWindows(ctx, a, r); err != nil {
		return store.Authorization{}, false, err
	}
	if a.ID == "" {
		a.ID = store.NewID("auth")
	}
	a.Status = store.AuthReserved
	a.CreatedAt, a.UpdatedAt = r.Now, r.Now
	a.Response, a.TxHash, a.SignedAt, a.SettledAt = store.PaymentHeader{}, "", time.Time{}, time.Time{}
	signed := r.Signed.Name != "" && r.Signed.Value != ""
	if signed {
		// Signed before the reservation: one INSERT instead of INSERT then UPDATE.
		a.Status, a.Response, a.SignedAt = store.AuthSigned, r.Signed, r.Now
	}
	args := []any{a.ID, a.AgentID, a.KeyID, a.FleetID, nullStr(a.GroupID), a.IdempotencyKey,
		a.Network, a.Asset, a.PayTo, a.Origin, a.ResourceURL, a.AmountAtomic, a.AmountMicro, a.Nonce, a.From,
		nsReq(a.ValidAfter), nsReq(a.ValidBefore), string(a.Status), a.PolicyHash, a.Response.Name, a.Response.Value,
		nsReq(a.CreatedAt), ns(a.SignedAt), nsReq(a.UpdatedAt),
		a.DemandVersion, nullBytes(a.Demand), a.RequirementIndex}
	scopes, bargs := bucketArgs(a, +1)
	args = append(args, bargs...)
	query := qReserve[scopes-2][0]
	if signed {
		query = qReserve[scopes-2][1]
		args = append(args, a.KeyID)
	}
	if _, err := t.exec(ctx, query, args...); err != nil {
		return store.Authorization{}, false, fmt.Errorf("postgres: reserve: %w", err)
	}
	return a, false, nil
}

// lockAgentFleet locks the agent's fleet row, once per transaction (a batch of
// payments in savepoints pays the round trip once per fleet).
func (t *tx) lockAgentFleet(ctx context.Context, agentID string) error {
	if f, ok := t.agentFleet.Load(agentID); ok {
		if t.fleetsLocked[f.(string)] {
			return nil
		}
		return t.lockFleet(ctx, f.(string))
	}
	var fleetID string
	if err := t.queryRow(ctx, qFleetLock, agentID).Scan(&fleetID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return &store.NotFoundError{Entity: "agent", Key: agentID}
		}
		return fmt.Errorf("postgres: lock fleet: %w", err)
	}
	t.agentFleet.Store(agentID, fleetID)
	t.markFleetLocked(fleetID)
	return nil
}

// checkWindows sums every window over the records and refuses the reservation if it
// would exceed any limit. It runs inside the write transaction that inserts the record.
func (t *tx) checkWindows(ctx context.Context, a store.Authorization, r store.ReserveRequest) error {
	type key struct {
		level store.Level
		scope string
		w     time.Duration
	}
	seen := make(map[key]store.Spend, len(r.Windows))
	for _, w := range r.Windows {
		if err := store.CheckWindowScope(w, a); err != nil {
			return err
		}
		if w.MaxAmountMicro < 0 && w.MaxCount < 0 {
			continue
		}
		k := key{w.Level, w.ScopeID, w.Window}
		spent, ok := seen[k]
		if !ok {
			var err error
			if spent, err = t.Spend(ctx, w.Level, w.ScopeID, w.Window, r.Now); err != nil {
				return err
			}
			seen[k] = spent
		}
		if err := store.CheckWindow(w, spent, a.AmountMicro); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) MarkSigned(ctx context.Context, id string, response store.PaymentHeader, at time.Time) (store.Authorization, error) {
	if response.Name == "" || response.Value == "" {
		return store.Authorization{}, errors.New("postgres: signed response needs a header name and value")
	}
	at = now(at)
	// One statement on the hot path: update only a reserved record and read it back.
	a, err := scanAuth(t.queryRow(ctx, qAuthSigned, response.Name, response.Value, nsReq(at), nsReq(at), id))
	if errors.Is(err, sql.ErrNoRows) {
		cur, err := t.Authorization(ctx, id)
		if err != nil {
			return cur, err
		}
		return store.Authorization{}, &store.StateError{Entity: "authorization", ID: id, Status: string(cur.Status), Op: "mark signed"}
	}
	if err != nil {
		return store.Authorization{}, fmt.Errorf("postgres: mark signed: %w", mapErr(err))
	}
	if _, err := t.exec(ctx, qKeySigned, a.KeyID); err != nil {
		return store.Authorization{}, fmt.Errorf("postgres: count signature: %w", err)
	}
	return a, nil
}

func (t *tx) MarkSettled(ctx context.Context, id string, txHash string, at time.Time) (store.Authorization, error) {
	a, err := one(t.queryRow(ctx, qAuthLock, id), scanAuth, "authorization", id)
	if err != nil {
		return a, err
	}
	if txHash == "" {
		return store.Authorization{}, errors.New("postgres: settlement needs a transaction hash")
	}
	if a.Status == store.AuthSettled && a.TxHash == txHash {
		return a, nil
	}
	if a.Status != store.AuthSigned && a.Status != store.AuthExpired {
		return store.Authorization{}, &store.StateError{Entity: "authorization", ID: id, Status: string(a.Status), Op: "mark settled"}
	}
	at = now(at)
	if _, err := t.exec(ctx, qAuthSettled, txHash, nsReq(at), nsReq(at), id); err != nil {
		return store.Authorization{}, fmt.Errorf("postgres: mark settled: %w", err)
	}
	if !a.Status.Counts() {
		if err := t.adjustBuckets(ctx, a, +1); err != nil {
			return store.Authorization{}, err
		}
	}
	a.Status, a.TxHash, a.SettledAt, a.UpdatedAt = store.AuthSettled, txHash, at, at
	return a, nil
}

func (t *tx) ReleaseAuthorization(ctx context.Context, id string, status store.AuthStatus, at time.Time) (store.Authorization, error) {
	a, err := one(t.queryRow(ctx, qAuthLock, id), scanAuth, "authorization", id)
	if err != nil {
		return a, err
	}
	switch {
	case status != store.AuthFailed && status != store.AuthCancelled:
		return store.Authorization{}, fmt.Errorf("postgres: release to %q: only failed or cancelled", status)
	case a.Status == status:
		return a, nil
	case a.Status == store.AuthReserved, status == store.AuthCancelled && a.Status == store.AuthSigned:
	default:
		return store.Authorization{}, &store.StateError{Entity: "authorization", ID: id, Status: string(a.Status), Op: "release as " + string(status)}
	}
	at = now(at)
	if _, err := t.exec(ctx, qAuthStatus, string(status), nsReq(at), id); err != nil {
		return store.Authorization{}, fmt.Errorf("postgres: release: %w", err)
	}
	if a.Status.Counts() {
		if err := t.adjustBuckets(ctx, a, -1); err != nil {
			return store.Authorization{}, err
		}
	}
	a.Status, a.UpdatedAt = status, at
	return a, nil
}

func (t *tx) ExpireAuthorizations(ctx context.Context, at time.Time) ([]store.Authorization, error) {
	at = now(at)
	due, err := queryAll(ctx, t, scanAuth, qAuthExpire, nsReq(at), nsReq(at))
	if err != nil || len(due) == 0 {
		return nil, err
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].ValidBefore.Equal(due[j].ValidBefore) {
			return due[i].ValidBefore.Before(due[j].ValidBefore)
		}
		return due[i].ID < due[j].ID
	})
	for i := range due {
		if err := t.adjustBuckets(ctx, due[i], -1); err != nil {
			return nil, err
		}
	}
	return due, nil
}
