package store

import (
	"context"
	"time"
)

// Store is a fleetkey database. It is safe for concurrent use.
type Store interface {
	// Tx runs fn in a read-write transaction and commits it if fn returns nil; any
	// error (or panic) rolls everything back. Backends that can abort a transaction
	// for serialization may run fn more than once.
	Tx(ctx context.Context, fn func(Tx) error) error
	// ReadTx runs fn in a read-only transaction that sees one consistent snapshot.
	ReadTx(ctx context.Context, fn func(ReadTx) error) error
	Close() error
}

// ReadTx holds every read. The Tx values passed to fn are only valid during fn.
type ReadTx interface {
	Fleet(ctx context.Context, id string) (Fleet, error)
	Fleets(ctx context.Context) ([]Fleet, error)
	Group(ctx context.Context, id string) (Group, error)
	Groups(ctx context.Context, fleetID string) ([]Group, error)
	Agent(ctx context.Context, id string) (Agent, error)
	AgentByExternalID(ctx context.Context, fleetID, externalID string) (Agent, error)
	Agents(ctx context.Context, f AgentFilter) ([]Agent, error)

	Key(ctx context.Context, id string) (Key, error)
	KeyByAddress(ctx context.Context, address string) (Key, error)
	// ActiveKey returns the agent's key in status active (at most one exists).
	ActiveKey(ctx context.Context, agentID string) (Key, error)
	Keys(ctx context.Context, agentID string) ([]Key, error)

	Credential(ctx context.Context, id string) (Credential, error)
	// CredentialByHash finds a credential by the SHA-256 of its token; the caller
	// hashes. Revoked and expired credentials are returned too: check Usable.
	CredentialByHash(ctx context.Context, hash [32]byte) (Credential, error)
	Credentials(ctx context.Context, f CredentialFilter) ([]Credential, error)

	// ActivePolicy returns the version in force at a scope.
	ActivePolicy(ctx context.Context, level Level, scopeID string) (PolicyRecord, error)
	// PolicyVersions returns every version at a scope, oldest first.
	PolicyVersions(ctx context.Context, level Level, scopeID string) ([]PolicyRecord, error)

	Authorization(ctx context.Context, id string) (Authorization, error)
	AuthorizationByIdempotencyKey(ctx context.Context, agentID, key string) (Authorization, error)
	Authorizations(ctx context.Context, f AuthorizationFilter) ([]Authorization, error)
	// Spend totals the authorizations that count toward budgets (reserved, signed,
	// settled) of scope (level, scopeID) created after now-window.
	Spend(ctx context.Context, level Level, scopeID string, window time.Duration, now time.Time) (Spend, error)

	Approval(ctx context.Context, id string) (Approval, error)
	ApprovalsForAuthorization(ctx context.Context, authorizationID string) ([]Approval, error)
	// PendingApprovals lists pending approvals, oldest first; approver filters to the
	// ones naming that approver when not empty.
	PendingApprovals(ctx context.Context, approver string, limit int) ([]Approval, error)
	// Approvals lists approvals in any status, newest first; see ApprovalFilter.
	Approvals(ctx context.Context, f ApprovalFilter) ([]Approval, error)

	// AuditHead returns the last record of the audit chain (ErrNotFound when empty).
	AuditHead(ctx context.Context) (AuditRecord, error)
	// AuditRecords returns up to limit records with Seq > afterSeq in Seq order.
	AuditRecords(ctx context.Context, afterSeq uint64, limit int) ([]AuditRecord, error)
	// AuditCheckpoints returns every checkpoint in Seq order.
	AuditCheckpoints(ctx context.Context) ([]AuditCheckpoint, error)
}

// Tx is a read-write transaction.
type Tx interface {
	ReadTx

	// Savepoint runs fn as a nested transaction: if fn returns an error, everything
	// it wrote is undone and the error returned, while the enclosing Tx goes on. It
	// lets one write transaction carry a batch of independent payments (group
	// commit) where a refused payment leaves no trace and does not undo the others.
	Savepoint(ctx context.Context, fn func(Tx) error) error

	// CreateFleet inserts a fleet; ID and CreatedAt are filled in when zero.
	CreateFleet(ctx context.Context, f Fleet) (Fleet, error)
	// SetFleetTreasury sets (or, with "", clears) the fleet's treasury address.
	SetFleetTreasury(ctx context.Context, fleetID, treasury string) (Fleet, error)
	CreateGroup(ctx context.Context, g Group) (Group, error)
	// NextAgentIndex allocates the fleet's next agent index. The counter only moves
	// forward: an index handed out is never handed out again, even if the
	// transaction that used it created nothing (on rollback it is simply not spent).
	NextAgentIndex(ctx context.Context, fleetID string) (uint32, error)
	// CreateAgents creates a batch of agents in one fleet. An agent whose ExternalID
	// already exists in the fleet is not created again: its existing record is
	// returned with Created false, and it takes no index.
	CreateAgents(ctx context.Context, r CreateAgentsRequest) ([]CreatedAgent, error)
	// SetAgentStatus moves an agent between states. Retired is final; revoked can
	// only become retired.
	SetAgentStatus(ctx context.Context, id string, status AgentStatus, at time.Time) (Agent, error)

	// CreateKey inserts a key (Status defaults to active). The address must be new
	// to the whole store and an agent has at most one active key.
	CreateKey(ctx context.Context, k Key) (Key, error)
	// SetKeyStatus moves a key between states. Revoked and retired keys never
	// become active or draining again.
	SetKeyStatus(ctx context.Context, id string, status KeyStatus) (Key, error)

	CreateCredential(ctx context.Context, c Credential) (Credential, error)
	MarkCredentialUsed(ctx context.Context, id string, at time.Time) error
	// RevokeCredential revokes a credential; revoking a revoked one changes nothing.
	RevokeCredential(ctx context.Context, id string, at time.Time) (Credential, error)
	// RevokeAgentCredentials revokes every unrevoked credential of an agent and
	// returns how many it revoked.
	RevokeAgentCredentials(ctx context.Context, agentID string, at time.Time) (int, error)

	// PutPolicy stores a new active version at a scope and deactivates the previous
	// one. If the active version already has r.Hash, it is returned unchanged.
	PutPolicy(ctx context.Context, r PutPolicyRequest) (PolicyRecord, error)

	// ReserveAuthorization is the ledger primitive; see ReserveRequest. existing is
	// true when the idempotency key was already used: the stored record is returned
	// (with ErrIdempotencyMismatch if the request differs) and nothing is written.
	ReserveAuthorization(ctx context.Context, r ReserveRequest) (a Authorization, existing bool, err error)
	// MarkSigned records the signed response of a reserved authorization and counts
	// the signature on its key.
	MarkSigned(ctx context.Context, id string, response PaymentHeader, at time.Time) (Authorization, error)
	// MarkSettled records the on-chain settlement of a signed authorization. An
	// authorization already marked expired can still settle: the chain is the truth,
	// and it counts again from then on.
	MarkSettled(ctx context.Context, id string, txHash string, at time.Time) (Authorization, error)
	// ReleaseAuthorization ends a reservation that will not be paid: status failed
	// (only from reserved: it was never signed) or cancelled (from reserved or
	// signed; the caller cancels a signed one on chain first). Its budget is released.
	ReleaseAuthorization(ctx context.Context, id string, status AuthStatus, at time.Time) (Authorization, error)
	// ExpireAuthorizations marks reserved and signed authorizations whose
	// ValidBefore is before now as expired, releasing their budget, and returns them.
	ExpireAuthorizations(ctx context.Context, now time.Time) ([]Authorization, error)

	CreateApproval(ctx context.Context, a Approval) (Approval, error)
	// VoteApproval records one vote and decides the approval when the quorum is
	// reached (approved) or can no longer be reached (denied).
	VoteApproval(ctx context.Context, r VoteRequest) (Approval, error)
	// ExpireApprovals marks pending approvals whose ExpiresAt is not after now as
	// expired and returns them.
	ExpireApprovals(ctx context.Context, now time.Time) ([]Approval, error)

	// AppendAudit stores the next audit record; its Seq must be the head's Seq+1
	// (1 for the first), else ErrConflict. Package audit computes the hashes.
	AppendAudit(ctx context.Context, r AuditRecord) error
	// PutAuditCheckpoint stores a checkpoint for an existing record.
	PutAuditCheckpoint(ctx context.Context, c AuditCheckpoint) error
}

// AgentFilter selects agents; zero fields do not filter. Results are ordered by ID;
// After is the last ID of the previous page.
type AgentFilter struct {
	FleetID string
	GroupID string
	Status  AgentStatus
	After   string
	Limit   int // 0: no limit
}

// CredentialFilter selects credentials; zero fields do not filter.
type CredentialFilter struct {
	Kind    CredentialKind
	AgentID string
	// Usable, when set, keeps only credentials neither revoked nor expired at Now.
	Usable bool
	Now    time.Time
}

// AuthorizationFilter selects authorizations, ordered by ID; zero fields do not filter.
type AuthorizationFilter struct {
	AgentID  string
	KeyID    string
	FleetID  string
	Statuses []AuthStatus
	After    string
	Limit    int
}

// ApprovalFilter selects approvals; zero fields do not filter. Results are ordered
// newest first (by creation time, then ID).
type ApprovalFilter struct {
	Status ApprovalStatus
	// Approver keeps only approvals naming this approver.
	Approver string
	Limit    int // 0: no limit
}

// NewAgent is one agent of a CreateAgentsRequest.
type NewAgent struct {
	ID         string // optional; generated when empty
	GroupID    string
	ExternalID string
	Name       string
	Labels     map[string]string
}

// CreateAgentsRequest creates agents in one fleet at time Now.
type CreateAgentsRequest struct {
	FleetID string
	Agents  []NewAgent
	Now     time.Time
}

// CreatedAgent is the result for one NewAgent, in request order.
type CreatedAgent struct {
	Agent   Agent
	Created bool // false: an agent with this ExternalID already existed
}

// PutPolicyRequest stores a policy version.
type PutPolicyRequest struct {
	Level   Level
	ScopeID string
	Name    string
	Hash    string
	Source  string
	Now     time.Time
}

// ReserveRequest asks for a new authorization. The store fills FleetID, GroupID and
// From from the agent and its key (never from the caller), and refuses unless the
// agent and the key are active. Every window's ScopeID must be the authorization's
// fleet, group or agent at that level.
type ReserveRequest struct {
	Authorization Authorization
	Windows       []WindowLimit
	// Now is the reservation time: CreatedAt of the record and the end of every
	// window.
	Now time.Time
	// Signed, when it has a name and a value, is the signed response of a payment
	// signed before its reservation: the record is stored signed (SignedAt = Now)
	// and the signature counted on its key in the same step, as MarkSigned would.
	// Empty: the record is stored reserved.
	Signed PaymentHeader
}

// VoteRequest is one approver's vote.
type VoteRequest struct {
	ApprovalID string
	Approver   string
	Decision   VoteDecision
	At         time.Time
}
