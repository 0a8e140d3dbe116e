package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// ---- fleets ----

const fleetCols = `id, name, idx, treasury, created_at`

var (
	qFleet       = q(`SELECT ` + fleetCols + ` FROM fleets WHERE id = ?`)
	qFleets      = q(`SELECT ` + fleetCols + ` FROM fleets ORDER BY idx`)
	qFleetIns    = q(`INSERT INTO fleets (id, name, idx, treasury, created_at) VALUES (?, ?, ?, ?, ?)`)
	qFleetTrea   = q(`UPDATE fleets SET treasury = ? WHERE id = ?`)
	qFleetLockID = q(`SELECT id FROM fleets WHERE id = ? FOR NO KEY UPDATE`)
	qNextIndex   = q(`UPDATE fleets SET next_agent_index = next_agent_index + 1 WHERE id = ? RETURNING next_agent_index`)
)

func scanFleet(s scanner) (store.Fleet, error) {
	var (
		f  store.Fleet
		ca int64
	)
	if err := s.Scan(&f.ID, &f.Name, &f.Index, &f.Treasury, &ca); err != nil {
		return f, err
	}
	f.CreatedAt = fromNSReq(ca)
	return f, nil
}

func (t *tx) Fleet(ctx context.Context, id string) (store.Fleet, error) {
	return one(t.queryRow(ctx, qFleet, id), scanFleet, "fleet", id)
}

func (t *tx) Fleets(ctx context.Context) ([]store.Fleet, error) {
	return queryAll(ctx, t, scanFleet, qFleets)
}

func (t *tx) CreateFleet(ctx context.Context, f store.Fleet) (store.Fleet, error) {
	if f.Name == "" {
		return store.Fleet{}, errors.New("postgres: fleet name is empty")
	}
	if f.Index >= store.ReservedFleetIndexes {
		return store.Fleet{}, fmt.Errorf("postgres: fleet index %d is reserved or not below 2^31", f.Index)
	}
	if f.Treasury != "" {
		a, err := store.NormalizeAddress(f.Treasury)
		if err != nil {
			return store.Fleet{}, err
		}
		f.Treasury = a
	}
	if f.ID == "" {
		f.ID = store.NewID("flt")
	}
	f.CreatedAt = now(f.CreatedAt)
	if _, err := t.exec(ctx, qFleetIns, f.ID, f.Name, f.Index, f.Treasury, nsReq(f.CreatedAt)); err != nil {
		return store.Fleet{}, fmt.Errorf("postgres: create fleet: %w", err)
	}
	return f, nil
}

func (t *tx) SetFleetTreasury(ctx context.Context, fleetID, treasury string) (store.Fleet, error) {
	if treasury != "" {
		a, err := store.NormalizeAddress(treasury)
		if err != nil {
			return store.Fleet{}, err
		}
		treasury = a
	}
	res, err := t.exec(ctx, qFleetTrea, treasury, fleetID)
	if err != nil {
		return store.Fleet{}, fmt.Errorf("postgres: set treasury: %w", err)
	}
	if err := affected(res, "fleet", fleetID); err != nil {
		return store.Fleet{}, err
	}
	return t.Fleet(ctx, fleetID)
}

// lockFleet locks the fleet row (FOR NO KEY UPDATE: foreign keys to it still pass).
func (t *tx) lockFleet(ctx context.Context, fleetID string) error {
	var id string
	err := t.queryRow(ctx, qFleetLockID, fleetID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return &store.NotFoundError{Entity: "fleet", Key: fleetID}
	}
	if err != nil {
		return fmt.Errorf("postgres: lock fleet: %w", err)
	}
	t.markFleetLocked(fleetID)
	return nil
}

func (t *tx) markFleetLocked(fleetID string) {
	if t.fleetsLocked == nil {
		t.fleetsLocked = map[string]bool{}
	}
	t.fleetsLocked[fleetID] = true
}

func (t *tx) NextAgentIndex(ctx context.Context, fleetID string) (uint32, error) {
	var next int64
	err := t.queryRow(ctx, qNextIndex, fleetID).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, &store.NotFoundError{Entity: "fleet", Key: fleetID}
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: next agent index: %w", err)
	}
	idx := next - 1
	if idx > store.MaxIndex {
		return 0, fmt.Errorf("postgres: fleet %s has used every agent index", fleetID)
	}
	return uint32(idx), nil
}

// ---- groups ----

const groupCols = `id, fleet_id, name, created_at`

var (
	qGroup    = q(`SELECT ` + groupCols + ` FROM agent_groups WHERE id = ?`)
	qGroups   = q(`SELECT ` + groupCols + ` FROM agent_groups WHERE fleet_id = ? ORDER BY name`)
	qGroupIns = q(`INSERT INTO agent_groups (id, fleet_id, name, created_at) VALUES (?, ?, ?, ?)`)
)

func scanGroup(s scanner) (store.Group, error) {
	var (
		g  store.Group
		ca int64
	)
	if err := s.Scan(&g.ID, &g.FleetID, &g.Name, &ca); err != nil {
		return g, err
	}
	g.CreatedAt = fromNSReq(ca)
	return g, nil
}

func (t *tx) Group(ctx context.Context, id string) (store.Group, error) {
	return one(t.queryRow(ctx, qGroup, id), scanGroup, "group", id)
}

func (t *tx) Groups(ctx context.Context, fleetID string) ([]store.Group, error) {
	return queryAll(ctx, t, scanGroup, qGroups, fleetID)
}

func (t *tx) CreateGroup(ctx context.Context, g store.Group) (store.Group, error) {
	if g.Name == "" {
		return store.Group{}, errors.New("postgres: group name is empty")
	}
	if _, err := t.Fleet(ctx, g.FleetID); err != nil {
		return store.Group{}, err
	}
	if g.ID == "" {
		g.ID = store.NewID("grp")
	}
	g.CreatedAt = now(g.CreatedAt)
	if _, err := t.exec(ctx, qGroupIns, g.ID, g.FleetID, g.Name, nsReq(g.CreatedAt)); err != nil {
		return store.Group{}, fmt.Errorf("postgres: create group: %w", err)
	}
	return g, nil
}

// ---- agents ----

const agentCols = `id, fleet_id, group_id, external_id, name, idx, status, labels, created_at, updated_at`

var (
	qAgent      = q(`SELECT ` + agentCols + ` FROM agents WHERE id = ?`)
	qAgentByExt = q(`SELECT ` + agentCols + ` FROM agents WHERE fleet_id = ? AND external_id = ?`)
	qAgentIns   = q(`INSERT INTO agents (` + agentCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qAgentLock  = q(`SELECT ` + agentCols + ` FROM agents WHERE id = ? FOR NO KEY UPDATE`)
	qAgentStat  = q(`UPDATE agents SET status = ?, updated_at = ? WHERE id = ?`)
)

func scanAgent(s scanner) (store.Agent, error) {
	var (
		a          store.Agent
		group, ext sql.NullString
		labels     string
		ca, ua     int64
	)
	if err := s.Scan(&a.ID, &a.FleetID, &group, &ext, &a.Name, &a.Index, &a.Status, &labels, &ca, &ua); err != nil {
		return a, err
	}
	a.GroupID, a.ExternalID = group.String, ext.String
	if labels != "{}" {
		if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
			return a, fmt.Errorf("postgres: agent %s labels: %w", a.ID, err)
		}
	}
	a.CreatedAt, a.UpdatedAt = fromNSReq(ca), fromNSReq(ua)
	return a, nil
}

func (t *tx) Agent(ctx context.Context, id string) (store.Agent, error) {
	return one(t.queryRow(ctx, qAgent, id), scanAgent, "agent", id)
}

func (t *tx) AgentByExternalID(ctx context.Context, fleetID, externalID string) (store.Agent, error) {
	return one(t.queryRow(ctx, qAgentByExt, fleetID, externalID), scanAgent, "agent", fleetID+"/"+externalID)
}

func (t *tx) Agents(ctx context.Context, f store.AgentFilter) ([]store.Agent, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.FleetID != "" {
		add("fleet_id = ?", f.FleetID)
	}
	if f.GroupID != "" {
		add("group_id = ?", f.GroupID)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.After != "" {
		add("id > ?", f.After)
	}
	return queryAll(ctx, t, scanAgent, `SELECT `+agentCols+` FROM agents`+whereClause(where)+` ORDER BY id`+limitClause(f.Limit), args...)
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func limitClause(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", n)
}

func (t *tx) CreateAgents(ctx context.Context, r store.CreateAgentsRequest) ([]store.CreatedAgent, error) {
	// The fleet lock makes the external-ID check and the insert one step against
	// concurrent batches of the same fleet.
	if err := t.lockFleet(ctx, r.FleetID); err != nil {
		return nil, err
	}
	at := now(r.Now)
	groupOK := map[string]bool{}
	out := make([]store.CreatedAgent, 0, len(r.Agents))
	for i, na := range r.Agents {
		if na.ExternalID != "" {
			a, err := t.AgentByExternalID(ctx, r.FleetID, na.ExternalID)
			if err == nil {
				out = append(out, store.CreatedAgent{Agent: a})
				continue
			}
			if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		if na.Name == "" {
			return nil, fmt.Errorf("postgres: agent %d of the batch has no name", i)
		}
		if na.GroupID != "" && !groupOK[na.GroupID] {
			g, err := t.Group(ctx, na.GroupID)
			if err != nil {
				return nil, err
			}
			if g.FleetID != r.FleetID {
				return nil, fmt.Errorf("postgres: group %s is not in fleet %s", na.GroupID, r.FleetID)
			}
			groupOK[na.GroupID] = true
		}
		idx, err := t.NextAgentIndex(ctx, r.FleetID)
		if err != nil {
			return nil, err
		}
		a := store.Agent{
			ID: na.ID, FleetID: r.FleetID, GroupID: na.GroupID, ExternalID: na.ExternalID,
			Name: na.Name, Index: idx, Status: store.AgentActive, CreatedAt: at, UpdatedAt: at,
		}
		if len(na.Labels) > 0 {
			a.Labels = make(map[string]string, len(na.Labels))
			for k, v := range na.Labels {
				a.Labels[k] = v
			}
		}
		if a.ID == "" {
			a.ID = store.NewID("agt")
		}
		labels := "{}"
		if a.Labels != nil {
			if labels, err = encodeJSON(a.Labels); err != nil {
				return nil, err
			}
		}
		if _, err := t.exec(ctx, qAgentIns, a.ID, a.FleetID, nullStr(a.GroupID), nullStr(a.ExternalID), a.Name,
			a.Index, string(a.Status), labels, nsReq(at), nsReq(at)); err != nil {
			return nil, fmt.Errorf("postgres: create agent: %w", err)
		}
		out = append(out, store.CreatedAgent{Agent: a, Created: true})
	}
	return out, nil
}

// agentTransition reports whether an agent may move from one status to another.
func agentTransition(from, to store.AgentStatus) bool {
	switch from {
	case store.AgentActive, store.AgentFrozen:
		return to == store.AgentActive || to == store.AgentFrozen || to == store.AgentRevoked || to == store.AgentRetired
	case store.AgentRevoked:
		return to == store.AgentRetired
	}
	return false
}

func (t *tx) SetAgentStatus(ctx context.Context, id string, status store.AgentStatus, at time.Time) (store.Agent, error) {
	a, err := one(t.queryRow(ctx, qAgentLock, id), scanAgent, "agent", id)
	if err != nil {
		return a, err
	}
	if a.Status == status {
		return a, nil
	}
	if !agentTransition(a.Status, status) {
		return store.Agent{}, &store.StateError{Entity: "agent", ID: id, Status: string(a.Status), Op: "set status " + string(status)}
	}
	a.Status, a.UpdatedAt = status, now(at)
	if _, err := t.exec(ctx, qAgentStat, string(status), nsReq(a.UpdatedAt), id); err != nil {
		return store.Agent{}, fmt.Errorf("postgres: set agent status: %w", err)
	}
	return a, nil
}

// ---- keys ----

const keySignedSQL = `UPDATE keys SET sign_count = sign_count + 1 WHERE id = ?`

const keyCols = `id, agent_id, generation, path, address, status, created_at, sign_count`

var (
	qKey       = q(`SELECT ` + keyCols + ` FROM keys WHERE id = ?`)
	qKeyByAddr = q(`SELECT ` + keyCols + ` FROM keys WHERE address = ?`)
	qKeyActive = q(`SELECT ` + keyCols + ` FROM keys WHERE agent_id = ? AND status = 'active'`)
	qKeys      = q(`SELECT ` + keyCols + ` FROM keys WHERE agent_id = ? ORDER BY generation`)
	qKeyIns    = q(`INSERT INTO keys (` + keyCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, 0)`)
	qKeyLock   = q(`SELECT ` + keyCols + ` FROM keys WHERE id = ? FOR NO KEY UPDATE`)
	qKeyStat   = q(`UPDATE keys SET status = ? WHERE id = ?`)
	qKeySigned = q(keySignedSQL)
)

func scanKey(s scanner) (store.Key, error) {
	var (
		k  store.Key
		ca int64
	)
	if err := s.Scan(&k.ID, &k.AgentID, &k.Generation, &k.Path, &k.Address, &k.Status, &ca, &k.SignCount); err != nil {
		return k, err
	}
	k.CreatedAt = fromNSReq(ca)
	return k, nil
}

func (t *tx) Key(ctx context.Context, id string) (store.Key, error) {
	return one(t.queryRow(ctx, qKey, id), scanKey, "key", id)
}

func (t *tx) KeyByAddress(ctx context.Context, address string) (store.Key, error) {
	a, err := store.NormalizeAddress(address)
	if err != nil {
		return store.Key{}, err
	}
	return one(t.queryRow(ctx, qKeyByAddr, a), scanKey, "key", a)
}

func (t *tx) ActiveKey(ctx context.Context, agentID string) (store.Key, error) {
	return one(t.queryRow(ctx, qKeyActive, agentID), scanKey, "active key of agent", agentID)
}

func (t *tx) Keys(ctx context.Context, agentID string) ([]store.Key, error) {
	return queryAll(ctx, t, scanKey, qKeys, agentID)
}

func (t *tx) CreateKey(ctx context.Context, k store.Key) (store.Key, error) {
	if k.Path == "" {
		return store.Key{}, errors.New("postgres: key path is empty")
	}
	a, err := store.NormalizeAddress(k.Address)
	if err != nil {
		return store.Key{}, err
	}
	k.Address = a
	if k.Status == "" {
		k.Status = store.KeyActive
	}
	switch k.Status {
	case store.KeyActive, store.KeyDraining, store.KeyRevoked, store.KeyRetired:
	default:
		return store.Key{}, fmt.Errorf("postgres: invalid key status %q", k.Status)
	}
	if _, err := t.Agent(ctx, k.AgentID); err != nil {
		return store.Key{}, err
	}
	if k.ID == "" {
		k.ID = store.NewID("key")
	}
	k.CreatedAt = now(k.CreatedAt)
	k.SignCount = 0
	if _, err := t.exec(ctx, qKeyIns, k.ID, k.AgentID, k.Generation, k.Path, k.Address, string(k.Status), nsReq(k.CreatedAt)); err != nil {
		return store.Key{}, fmt.Errorf("postgres: create key: %w", err)
	}
	return k, nil
}

func keyTransition(from, to store.KeyStatus) bool {
	switch from {
	case store.KeyActive:
		return to == store.KeyDraining || to == store.KeyRevoked || to == store.KeyRetired
	case store.KeyDraining:
		return to == store.KeyRevoked || to == store.KeyRetired
	case store.KeyRevoked:
		return to == store.KeyRetired
	}
	return false
}

func (t *tx) SetKeyStatus(ctx context.Context, id string, status store.KeyStatus) (store.Key, error) {
	k, err := one(t.queryRow(ctx, qKeyLock, id), scanKey, "key", id)
	if err != nil {
		return k, err
	}
	if k.Status == status {
		return k, nil
	}
	if !keyTransition(k.Status, status) {
		return store.Key{}, &store.StateError{Entity: "key", ID: id, Status: string(k.Status), Op: "set status " + string(status)}
	}
	if _, err := t.exec(ctx, qKeyStat, string(status), id); err != nil {
		return store.Key{}, fmt.Errorf("postgres: set key status: %w", err)
	}
	k.Status = status
	return k, nil
}

// ---- credentials ----

const credCols = `id, kind, agent_id, role, name, hash, created_at, expires_at, revoked_at, last_used_at, fleet_id`

var (
	qCred       = q(`SELECT ` + credCols + ` FROM credentials WHERE id = ?`)
	qCredByHash = q(`SELECT ` + credCols + ` FROM credentials WHERE hash = ?`)
	qCredIns    = q(`INSERT INTO credentials (` + credCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`)
	qCredUsed   = q(`UPDATE credentials SET last_used_at = ? WHERE id = ?`)
	qCredRevoke = q(`UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`)
	qCredRevAll = q(`UPDATE credentials SET revoked_at = ? WHERE agent_id = ? AND revoked_at IS NULL`)
)

func scanCred(s scanner) (store.Credential, error) {
	var (
		c          store.Credential
		agent      sql.NullString
		role       sql.NullString
		fleet      sql.NullString
		hash       string
		ca         int64
		ex, rv, lu sql.NullInt64
	)
	if err := s.Scan(&c.ID, &c.Kind, &agent, &role, &c.Name, &hash, &ca, &ex, &rv, &lu, &fleet); err != nil {
		return c, err
	}
	h, err := parseHash(hash)
	if err != nil {
		return c, err
	}
	c.AgentID, c.Role, c.FleetID, c.Hash = agent.String, store.Role(role.String), fleet.String, h
	c.CreatedAt, c.ExpiresAt, c.RevokedAt, c.LastUsedAt = fromNSReq(ca), fromNS(ex), fromNS(rv), fromNS(lu)
	return c, nil
}

func (t *tx) Credential(ctx context.Context, id string) (store.Credential, error) {
	return one(t.queryRow(ctx, qCred, id), scanCred, "credential", id)
}

func (t *tx) CredentialByHash(ctx context.Context, hash [32]byte) (store.Credential, error) {
	return one(t.queryRow(ctx, qCredByHash, hexHash(hash)), scanCred, "credential", "with this hash")
}

func (t *tx) Credentials(ctx context.Context, f store.CredentialFilter) ([]store.Credential, error) {
	var (
		where []string
		args  []any
	)
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(f.Kind))
	}
	if f.AgentID != "" {
		where, args = append(where, "agent_id = ?"), append(args, f.AgentID)
	}
	if f.Usable {
		n := now(f.Now).UnixNano()
		where = append(where, "revoked_at IS NULL", "(expires_at IS NULL OR expires_at > ?)")
		args = append(args, n)
	}
	return queryAll(ctx, t, scanCred, `SELECT `+credCols+` FROM credentials`+whereClause(where)+` ORDER BY id`, args...)
}

func (t *tx) CreateCredential(ctx context.Context, c store.Credential) (store.Credential, error) {
	switch c.Kind {
	case store.CredentialAgent:
		if c.AgentID == "" || c.Role != "" || c.FleetID != "" {
			return store.Credential{}, errors.New("postgres: an agent credential needs an agent and no role or fleet scope")
		}
		if _, err := t.Agent(ctx, c.AgentID); err != nil {
			return store.Credential{}, err
		}
	case store.CredentialOperator:
		switch c.Role {
		case store.RoleAdmin, store.RoleOperator, store.RoleApprover, store.RoleAuditor:
		default:
			return store.Credential{}, fmt.Errorf("postgres: invalid operator role %q", c.Role)
		}
		if c.AgentID != "" {
			return store.Credential{}, errors.New("postgres: an operator credential has no agent")
		}
		if c.FleetID != "" {
			if _, err := t.Fleet(ctx, c.FleetID); err != nil {
				return store.Credential{}, err
			}
		}
	default:
		return store.Credential{}, fmt.Errorf("postgres: invalid credential kind %q", c.Kind)
	}
	if c.Hash == ([32]byte{}) {
		return store.Credential{}, errors.New("postgres: credential hash is empty")
	}
	if c.ID == "" {
		c.ID = store.NewID("cred")
	}
	c.CreatedAt = now(c.CreatedAt)
	c.RevokedAt, c.LastUsedAt = time.Time{}, time.Time{}
	if !c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.ExpiresAt.UTC()
	}
	if _, err := t.exec(ctx, qCredIns, c.ID, string(c.Kind), nullStr(c.AgentID), nullStr(string(c.Role)), c.Name,
		hexHash(c.Hash), nsReq(c.CreatedAt), ns(c.ExpiresAt), nullStr(c.FleetID)); err != nil {
		return store.Credential{}, fmt.Errorf("postgres: create credential: %w", err)
	}
	return c, nil
}

func (t *tx) MarkCredentialUsed(ctx context.Context, id string, at time.Time) error {
	res, err := t.exec(ctx, qCredUsed, nsReq(now(at)), id)
	if err != nil {
		return fmt.Errorf("postgres: mark credential used: %w", err)
	}
	return affected(res, "credential", id)
}

func (t *tx) RevokeCredential(ctx context.Context, id string, at time.Time) (store.Credential, error) {
	if _, err := t.exec(ctx, qCredRevoke, nsReq(now(at)), id); err != nil {
		return store.Credential{}, fmt.Errorf("postgres: revoke credential: %w", err)
	}
	return t.Credential(ctx, id)
}

func (t *tx) RevokeAgentCredentials(ctx context.Context, agentID string, at time.Time) (int, error) {
	if _, err := t.Agent(ctx, agentID); err != nil {
		return 0, err
	}
	res, err := t.exec(ctx, qCredRevAll, nsReq(now(at)), agentID)
	if err != nil {
		return 0, fmt.Errorf("postgres: revoke agent credentials: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ---- policies ----

const policyCols = `id, level, scope_id, name, hash, source, version, created_at, active`

var (
	qPolicyActive   = q(`SELECT ` + policyCols + ` FROM policies WHERE level = ? AND scope_id = ? AND active = 1`)
	qPolicyVersions = q(`SELECT ` + policyCols + ` FROM policies WHERE level = ? AND scope_id = ? ORDER BY version`)
	qPolicyOff      = q(`UPDATE policies SET active = 0 WHERE level = ? AND scope_id = ? AND active = 1`)
	qPolicyMax      = q(`SELECT COALESCE(MAX(version), 0) FROM policies WHERE level = ? AND scope_id = ?`)
	qPolicyLock     = q(`SELECT pg_advisory_xact_lock(hashtextextended(? || ':' || ?, 0))`)
	qPolicyIns      = q(`INSERT INTO policies (` + policyCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`)
)

func scanPolicy(s scanner) (store.PolicyRecord, error) {
	var (
		p      store.PolicyRecord
		ca     int64
		active int
	)
	if err := s.Scan(&p.ID, &p.Level, &p.ScopeID, &p.Name, &p.Hash, &p.Source, &p.Version, &ca, &active); err != nil {
		return p, err
	}
	p.CreatedAt, p.Active = fromNSReq(ca), active == 1
	return p, nil
}

func (t *tx) ActivePolicy(ctx context.Context, level store.Level, scopeID string) (store.PolicyRecord, error) {
	return one(t.queryRow(ctx, qPolicyActive, string(level), scopeID), scanPolicy, "policy", string(level)+":"+scopeID)
}

func (t *tx) PolicyVersions(ctx context.Context, level store.Level, scopeID string) ([]store.PolicyRecord, error) {
	return queryAll(ctx, t, scanPolicy, qPolicyVersions, string(level), scopeID)
}

func (t *tx) PutPolicy(ctx context.Context, r store.PutPolicyRequest) (store.PolicyRecord, error) {
	if r.Hash == "" || r.Source == "" {
		return store.PolicyRecord{}, errors.New("postgres: policy hash and source are required")
	}
	var err error
	switch r.Level {
	case store.LevelFleet:
		_, err = t.Fleet(ctx, r.ScopeID)
	case store.LevelGroup:
		_, err = t.Group(ctx, r.ScopeID)
	case store.LevelAgent:
		_, err = t.Agent(ctx, r.ScopeID)
	default:
		return store.PolicyRecord{}, fmt.Errorf("postgres: invalid policy level %q", r.Level)
	}
	if err != nil {
		return store.PolicyRecord{}, err
	}
	// Versions of one scope are numbered under a lock: two concurrent puts queue
	// instead of colliding on the version number.
	if _, err := t.exec(ctx, qPolicyLock, string(r.Level), r.ScopeID); err != nil {
		return store.PolicyRecord{}, fmt.Errorf("postgres: lock policy scope: %w", err)
	}
	cur, err := t.ActivePolicy(ctx, r.Level, r.ScopeID)
	switch {
	case err == nil && cur.Hash == r.Hash:
		return cur, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.PolicyRecord{}, err
	}
	var maxV int64
	if err := t.queryRow(ctx, qPolicyMax, string(r.Level), r.ScopeID).Scan(&maxV); err != nil {
		return store.PolicyRecord{}, fmt.Errorf("postgres: policy version: %w", err)
	}
	if _, err := t.exec(ctx, qPolicyOff, string(r.Level), r.ScopeID); err != nil {
		return store.PolicyRecord{}, fmt.Errorf("postgres: deactivate policy: %w", err)
	}
	p := store.PolicyRecord{
		ID: store.NewID("pol"), Level: r.Level, ScopeID: r.ScopeID, Name: r.Name, Hash: r.Hash,
		Source: r.Source, Version: maxV + 1, CreatedAt: now(r.Now), Active: true,
	}
	if _, err := t.exec(ctx, qPolicyIns, p.ID, string(p.Level), p.ScopeID, p.Name, p.Hash, p.Source, p.Version, nsReq(p.CreatedAt)); err != nil {
		return store.PolicyRecord{}, fmt.Errorf("postgres: put policy: %w", err)
	}
	return p, nil
}
