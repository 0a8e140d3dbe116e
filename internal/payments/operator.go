package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/credential"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
)

// ErrForbidden is a refusal by role or by approver name: the caller is who it
// says, but may not do this.
var ErrForbidden = errors.New("payments: forbidden")

// Audit actions of the operator methods that package audit does not name.
const (
	ActionCredentialCreated = "credential.created"
	ActionFleetCreated      = "fleet.created"
	ActionGroupCreated      = "group.created"
	// ActionPaymentCancelled records a reservation released because its approval
	// was denied or expired.
	ActionPaymentCancelled = "payment.cancelled"
)

// MaxNameLen bounds the names operators give credentials, fleets and groups, in bytes.
const MaxNameLen = 128

// OperatorIdentity is the operator credential a valid token acts for. Name is
// what approval requests name as approvers.
type OperatorIdentity struct {
	CredentialID string
	Name         string
	Role         store.Role
	// FleetID, when set, scopes the credential to that fleet: see InScope.
	FleetID string
}

func (o OperatorIdentity) actor() string { return audit.OperatorActor(o.CredentialID) }

// AuthenticateOperator turns an operator token's text into the identity it acts
// for. As with Authenticate, every refusal is ErrUnauthenticated (an agent token
// included); a store failure is returned as itself.
func (s *Service) AuthenticateOperator(ctx context.Context, tokenText string) (OperatorIdentity, error) {
	tok, err := credential.Parse(tokenText)
	if err != nil || tok.Kind() != credential.Operator {
		return OperatorIdentity{}, ErrUnauthenticated
	}
	defer tok.Wipe()
	hash := tok.Hash()
	var id OperatorIdentity
	err = s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		c, err := rt.CredentialByHash(ctx, hash)
		if err != nil {
			return err
		}
		if c.Kind != store.CredentialOperator || c.AgentID != "" || !validRole(c.Role) || !c.Usable(s.clock()) ||
			!tok.Matches(credential.Hash(c.Hash)) {
			return ErrUnauthenticated
		}
		id = OperatorIdentity{CredentialID: c.ID, Name: c.Name, Role: c.Role, FleetID: c.FleetID}
		return nil
	})
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, store.ErrNotFound):
		return OperatorIdentity{}, ErrUnauthenticated
	default:
		return OperatorIdentity{}, err
	}
}

func validRole(r store.Role) bool {
	return r == store.RoleAdmin || r == store.RoleOperator || r == store.RoleApprover || r == store.RoleAuditor
}

// checkName refuses an empty, overlong or unprintable name.
func checkName(what, name string) error {
	if name == "" || len(name) > MaxNameLen || !utf8.ValidString(name) || strings.TrimSpace(name) != name {
		return fmt.Errorf("%w: a %s name has 1 to %d bytes of UTF-8 without surrounding spaces", ErrBadRequest, what, MaxNameLen)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: a %s name must be printable", ErrBadRequest, what)
		}
	}
	return nil
}

// NewCredential asks for an operator credential.
type NewCredential struct {
	// Name identifies the holder; approval requests name approvers by it.
	Name string
	Role store.Role
	// ExpiresAt is when the credential stops working; zero means never.
	ExpiresAt time.Time
	// FleetID, when set, scopes the credential to that fleet (which must exist):
	// it acts on nothing outside it. Empty: every fleet.
	FleetID string
}

// IssuedCredential is a new credential and its token, shown this once: only its
// hash is stored. The token redacts itself when printed.
type IssuedCredential struct {
	Credential store.Credential
	Token      credential.Token
}

// CreateOperatorCredential issues an operator credential (the caller has checked
// that actor may: admin only) and records credential.created. A fleet-scoped
// actor is refused with ErrUnscopedOnly: a scoped credential never makes
// credentials, so it cannot widen its own reach.
func (s *Service) CreateOperatorCredential(ctx context.Context, actor OperatorIdentity, r NewCredential) (IssuedCredential, error) {
	if err := actor.RequireUnscoped(); err != nil {
		return IssuedCredential{}, err
	}
	if err := checkName("credential", r.Name); err != nil {
		return IssuedCredential{}, err
	}
	if !validRole(r.Role) {
		return IssuedCredential{}, fmt.Errorf("%w: role %q is not admin, operator, approver or auditor", ErrBadRequest, r.Role)
	}
	now := s.clock()
	if !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(now) {
		return IssuedCredential{}, fmt.Errorf("%w: the expiry is not in the future", ErrBadRequest)
	}
	var out IssuedCredential
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		if r.FleetID != "" {
			if _, err := tx.Fleet(ctx, r.FleetID); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: fleet_id: fleet %s does not exist", ErrBadRequest, r.FleetID)
			} else if err != nil {
				return err
			}
		}
		var err error
		out, err = createOperator(ctx, tx, s.log, actor.actor(), r, now)
		return err
	})
	return out, err
}

// createOperator stores a new operator credential and its audit record in tx.
func createOperator(ctx context.Context, tx store.Tx, log *audit.Log, actor string, r NewCredential, now time.Time) (IssuedCredential, error) {
	tok, err := credential.New(credential.Operator)
	if err != nil {
		return IssuedCredential{}, err
	}
	c, err := tx.CreateCredential(ctx, store.Credential{
		Kind: store.CredentialOperator, Role: r.Role, FleetID: r.FleetID, Name: r.Name, Hash: tok.Hash(), CreatedAt: now, ExpiresAt: r.ExpiresAt.UTC(),
	})
	if err != nil {
		tok.Wipe()
		return IssuedCredential{}, err
	}
	if _, err := log.Append(ctx, tx, audit.Entry{
		Actor: actor, Action: ActionCredentialCreated, Subject: c.ID, Data: credentialData(c),
	}); err != nil {
		tok.Wipe()
		return IssuedCredential{}, err
	}
	return IssuedCredential{Credential: c, Token: tok}, nil
}

func credentialData(c store.Credential) map[string]any {
	d := map[string]any{"kind": string(c.Kind), "name": c.Name}
	if c.Role != "" {
		d["role"] = string(c.Role)
	}
	if c.AgentID != "" {
		d["agent_id"] = c.AgentID
	}
	if c.FleetID != "" {
		d["fleet_id"] = c.FleetID
	}
	if !c.ExpiresAt.IsZero() {
		d["expires_at"] = c.ExpiresAt.Format(time.RFC3339Nano)
	}
	return d
}

// ErrAlreadyInitialized is BootstrapAdmin's refusal when an operator credential
// exists already. It matches store.ErrConflict.
var ErrAlreadyInitialized = fmt.Errorf("payments: an operator credential exists already: %w", store.ErrConflict)

// BootstrapAdmin creates the first admin credential of a new database, named name,
// with the audit record credential.created by audit.System, in one transaction.
// It refuses with ErrAlreadyInitialized if any operator credential exists, usable
// or not: the first admin is made once.
func BootstrapAdmin(ctx context.Context, st store.Store, log *audit.Log, name string, now time.Time) (IssuedCredential, error) {
	if err := checkName("credential", name); err != nil {
		return IssuedCredential{}, err
	}
	if st == nil || log == nil {
		return IssuedCredential{}, errors.New("payments: bootstrap needs a store and an audit log")
	}
	var out IssuedCredential
	err := st.Tx(ctx, func(tx store.Tx) error {
		out.Token.Wipe()
		existing, err := tx.Credentials(ctx, store.CredentialFilter{Kind: store.CredentialOperator})
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			return ErrAlreadyInitialized
		}
		out, err = createOperator(ctx, tx, log, audit.System, NewCredential{Name: name, Role: store.RoleAdmin}, now.UTC())
		return err
	})
	if err != nil {
		out.Token.Wipe()
		return IssuedCredential{}, err
	}
	return out, nil
}

// OperatorCredentials lists every operator credential, revoked and expired ones too.
func (s *Service) OperatorCredentials(ctx context.Context) ([]store.Credential, error) {
	var out []store.Credential
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) (err error) {
		out, err = rt.Credentials(ctx, store.CredentialFilter{Kind: store.CredentialOperator})
		return err
	})
	return out, err
}

// RevokeCredential revokes an operator or agent credential and records
// credential.revoked. Revoking a revoked credential changes and records nothing.
// A fleet-scoped actor is refused with ErrUnscopedOnly.
func (s *Service) RevokeCredential(ctx context.Context, actor OperatorIdentity, id string) (store.Credential, error) {
	if err := actor.RequireUnscoped(); err != nil {
		return store.Credential{}, err
	}
	var out store.Credential
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		prev, err := tx.Credential(ctx, id)
		if err != nil {
			return err
		}
		if !prev.RevokedAt.IsZero() {
			out = prev
			return nil
		}
		if out, err = tx.RevokeCredential(ctx, id, s.clock()); err != nil {
			return err
		}
		_, err = s.log.Append(ctx, tx, audit.Entry{Actor: actor.actor(), Action: audit.ActionCredentialRevoke, Subject: id, Data: credentialData(out)})
		return err
	})
	return out, err
}

// IssueAgentCredential issues another credential for an existing agent that is
// not revoked or retired, and records credential.created.
func (s *Service) IssueAgentCredential(ctx context.Context, actor OperatorIdentity, agentID string, expiresAt time.Time) (IssuedCredential, error) {
	now := s.clock()
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return IssuedCredential{}, fmt.Errorf("%w: the expiry is not in the future", ErrBadRequest)
	}
	var out IssuedCredential
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		out.Token.Wipe()
		out = IssuedCredential{}
		a, err := tx.Agent(ctx, agentID)
		if err != nil {
			return err
		}
		if a.Status != store.AgentActive && a.Status != store.AgentFrozen {
			return &store.StateError{Entity: "agent", ID: a.ID, Status: string(a.Status), Op: "issue a credential"}
		}
		tok, err := credential.New(credential.Agent)
		if err != nil {
			return err
		}
		out.Token = tok
		if out.Credential, err = tx.CreateCredential(ctx, store.Credential{
			Kind: store.CredentialAgent, AgentID: a.ID, Name: a.Name, Hash: tok.Hash(), CreatedAt: now, ExpiresAt: expiresAt.UTC(),
		}); err != nil {
			return err
		}
		_, err = s.log.Append(ctx, tx, audit.Entry{Actor: actor.actor(), Action: ActionCredentialCreated, Subject: out.Credential.ID, Data: credentialData(out.Credential)})
		return err
	})
	if err != nil {
		out.Token.Wipe()
		return IssuedCredential{}, err
	}
	return out, nil
}

// CreateFleet creates a fleet with the next unused fleet index (one more than the
// highest so far) and records fleet.created. treasury is optional. A
// fleet-scoped actor is refused with ErrUnscopedOnly.
func (s *Service) CreateFleet(ctx context.Context, actor OperatorIdentity, name, treasury string) (store.Fleet, error) {
	if err := actor.RequireUnscoped(); err != nil {
		return store.Fleet{}, err
	}
	if err := checkName("fleet", name); err != nil {
		return store.Fleet{}, err
	}
	if treasury != "" {
		t, err := store.NormalizeAddress(treasury)
		if err != nil {
			return store.Fleet{}, fmt.Errorf("%w: treasury: %w", ErrBadRequest, err)
		}
		treasury = t
	}
	var out store.Fleet
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		fleets, err := tx.Fleets(ctx)
		if err != nil {
			return err
		}
		var index uint32
		for _, f := range fleets {
			if f.Index >= index {
				index = f.Index + 1
			}
		}
		if index >= store.ReservedFleetIndexes {
			return errors.New("payments: no fleet index is left")
		}
		if out, err = tx.CreateFleet(ctx, store.Fleet{Name: name, Index: index, Treasury: treasury, CreatedAt: s.clock()}); err != nil {
			return err
		}
		_, err = s.log.Append(ctx, tx, audit.Entry{Actor: actor.actor(), Action: ActionFleetCreated, Subject: out.ID,
			Data: map[string]any{"name": out.Name, "index": out.Index, "treasury": out.Treasury}})
		return err
	})
	return out, err
}

// Fleets lists every fleet.
func (s *Service) Fleets(ctx context.Context) ([]store.Fleet, error) {
	var out []store.Fleet
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) (err error) {
		out, err = rt.Fleets(ctx)
		return err
	})
	return out, err
}

// CreateGroup creates a group in a fleet and records group.created.
func (s *Service) CreateGroup(ctx context.Context, actor OperatorIdentity, fleetID, name string) (store.Group, error) {
	if err := checkName("group", name); err != nil {
		return store.Group{}, err
	}
	var out store.Group
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		if _, err := tx.Fleet(ctx, fleetID); err != nil {
			return err
		}
		var err error
		if out, err = tx.CreateGroup(ctx, store.Group{FleetID: fleetID, Name: name, CreatedAt: s.clock()}); err != nil {
			return err
		}
		_, err = s.log.Append(ctx, tx, audit.Entry{Actor: actor.actor(), Action: ActionGroupCreated, Subject: out.ID,
			Data: map[string]any{"fleet_id": fleetID, "name": name}})
		return err
	})
	return out, err
}

// Groups lists the groups of a fleet (store.ErrNotFound if the fleet does not exist).
func (s *Service) Groups(ctx context.Context, fleetID string) ([]store.Group, error) {
	var out []store.Group
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		if _, err := rt.Fleet(ctx, fleetID); err != nil {
			return err
		}
		var err error
		out, err = rt.Groups(ctx, fleetID)
		return err
	})
	return out, err
}

// Agents lists agents by filter (ordered by id; After pages).
func (s *Service) Agents(ctx context.Context, f store.AgentFilter) ([]store.Agent, error) {
	if f.Status != "" && f.Status != store.AgentActive && f.Status != store.AgentFrozen && f.Status != store.AgentRevoked && f.Status != store.AgentRetired {
		return nil, fmt.Errorf("%w: agent status %q", ErrBadRequest, f.Status)
	}
	var out []store.Agent
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) (err error) {
		out, err = rt.Agents(ctx, f)
		return err
	})
	return out, err
}

// AgentDetail is an agent with its keys and credentials.
type AgentDetail struct {
	Agent       store.Agent
	Keys        []store.Key
	Credentials []store.Credential
}

// AgentDetail reads an agent, its keys and its credentials in one snapshot.
func (s *Service) AgentDetail(ctx context.Context, agentID string) (AgentDetail, error) {
	var out AgentDetail
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		var err error
		if out.Agent, err = rt.Agent(ctx, agentID); err != nil {
			return err
		}
		if out.Keys, err = rt.Keys(ctx, agentID); err != nil {
			return err
		}
		out.Credentials, err = rt.Credentials(ctx, store.CredentialFilter{Kind: store.CredentialAgent, AgentID: agentID})
		return err
	})
	return out, err
}

// SetAgentStatus freezes (frozen) or unfreezes (active) an agent and records
// agent.status. A frozen agent's tokens are refused and it cannot pay; its
// credentials stay, so unfreezing restores it. Other statuses are refused here
// (revocation and retirement sweep funds and are not operator toggles).
func (s *Service) SetAgentStatus(ctx context.Context, actor OperatorIdentity, agentID string, status store.AgentStatus) (store.Agent, error) {
	if status != store.AgentActive && status != store.AgentFrozen {
		return store.Agent{}, fmt.Errorf("%w: an agent can be set active or frozen, not %q", ErrBadRequest, status)
	}
	var out store.Agent
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		prev, err := tx.Agent(ctx, agentID)
		if err != nil {
			return err
		}
		if prev.Status == status {
			out = prev
			return nil
		}
		if out, err = tx.SetAgentStatus(ctx, agentID, status, s.clock()); err != nil {
			return err
		}
		_, err = s.log.Append(ctx, tx, audit.Entry{Actor: actor.actor(), Action: audit.ActionAgentStatus, Subject: agentID,
			Data: map[string]any{"from": string(prev.Status), "to": string(status)}})
		return err
	})
	return out, err
}

// ApplyPolicy parses source as a policy and makes it the active version at
// (level, scopeID), recording policy.applied. A source that does not parse is an
// error wrapping ErrBadRequest whose message names the line; a scope that does not
// exist is store.ErrNotFound. If the active version has the same hash, nothing
// changes (changed false, no audit record). name, when set, must match the
// policy's own name.
func (s *Service) ApplyPolicy(ctx context.Context, actor OperatorIdentity, level store.Level, scopeID, name, source string) (store.PolicyRecord, bool, error) {
	if !level.Valid() {
		return store.PolicyRecord{}, false, fmt.Errorf("%w: policy level %q is not fleet, group or agent", ErrBadRequest, level)
	}
	p, err := policy.Parse([]byte(source))
	if err != nil {
		return store.PolicyRecord{}, false, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if name == "" {
		name = p.Name()
	}
	if name != p.Name() {
		return store.PolicyRecord{}, false, fmt.Errorf("%w: the request names policy %q, the source %q", ErrBadRequest, name, p.Name())
	}
	var (
		out     store.PolicyRecord
		changed bool
	)
	err = s.store.Tx(ctx, func(tx store.Tx) error {
		switch level {
		case store.LevelFleet:
			_, err = tx.Fleet(ctx, scopeID)
		case store.LevelGroup:
			_, err = tx.Group(ctx, scopeID)
		case store.LevelAgent:
			_, err = tx.Agent(ctx, scopeID)
		}
		if err != nil {
			return err
		}
		prev, err := tx.ActivePolicy(ctx, level, scopeID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && prev.Hash == p.Hash() {
			out, changed = prev, false
			return nil
		}
		if out, err = tx.PutPolicy(ctx, store.PutPolicyRequest{Level: level, ScopeID: scopeID, Name: name, Hash: p.Hash(), Source: source, Now: s.clock()}); err != nil {
			return err
		}
		changed = true
		data := map[string]any{"level": string(level), "scope_id": scopeID, "name": name, "hash": out.Hash, "version": out.Version, "policy_id": out.ID}
		if prev.Hash != "" {
			data["previous_hash"] = prev.Hash
		}
		_, err = s.log.Append(ctx, tx, audit.Entry{Actor: actor.actor(), Action: audit.ActionPolicyApplied, Subject: out.ID, Data: data})
		return err
	})
	if err != nil {
		return store.PolicyRecord{}, false, err
	}
	return out, changed, nil
}

// Policies returns the active version at a scope (nil when none) and every version,
// oldest first.
func (s *Service) Policies(ctx context.Context, level store.Level, scopeID string) (*store.PolicyRecord, []store.PolicyRecord, error) {
	if !level.Valid() {
		return nil, nil, fmt.Errorf("%w: policy level %q is not fleet, group or agent", ErrBadRequest, level)
	}
	var (
		active   *store.PolicyRecord
		versions []store.PolicyRecord
	)
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		active = nil
		a, err := rt.ActivePolicy(ctx, level, scopeID)
		switch {
		case err == nil:
			active = &a
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		versions, err = rt.PolicyVersions(ctx, level, scopeID)
		return err
	})
	return active, versions, err
}

// Authorizations lists authorization records by filter (ordered by id; After pages).
func (s *Service) Authorizations(ctx context.Context, f store.AuthorizationFilter) ([]store.Authorization, error) {
	var out []store.Authorization
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) (err error) {
		out, err = rt.Authorizations(ctx, f)
		return err
	})
	return out, err
}
