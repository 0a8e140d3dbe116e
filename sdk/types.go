package sdk

import (
	"encoding/json"
	"time"
)

// The values below are the API's JSON objects (snake_case, times RFC 3339 UTC, amounts in
// atomic units as decimal strings). Enumerations stay strings so that a value added by a
// newer server still decodes.

// Roles of operator credentials.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleApprover = "approver"
	RoleAuditor  = "auditor"
)

// Policy levels.
const (
	LevelFleet = "fleet"
	LevelGroup = "group"
	LevelAgent = "agent"
)

// Agent statuses.
const (
	AgentActive  = "active"
	AgentFrozen  = "frozen"
	AgentRevoked = "revoked"
	AgentRetired = "retired"
)

// Authorization (payment) statuses. A payment waiting for approval is reserved.
const (
	PaymentReserved  = "reserved"
	PaymentSigned    = "signed"
	PaymentSettled   = "settled"
	PaymentExpired   = "expired"
	PaymentCancelled = "cancelled"
	PaymentFailed    = "failed"
)

// Approval statuses.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
	ApprovalExpired  = "expired"
)

// AgentIdentity is GET /v1/agent: whom an agent token acts for.
type AgentIdentity struct {
	AgentID string `json:"agent_id"`
	FleetID string `json:"fleet_id"`
	GroupID string `json:"group_id,omitempty"`
}

// OperatorIdentity is GET /v1/operator: whom an operator token acts for.
type OperatorIdentity struct {
	CredentialID string `json:"credential_id"`
	Name         string `json:"name"`
	Role         string `json:"role"`
	// FleetID is the fleet the credential is scoped to; empty: every fleet.
	FleetID string `json:"fleet_id,omitempty"`
}

// Credential is a credential as the API shows it: never its token or hash.
type Credential struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	AgentID string `json:"agent_id,omitempty"`
	Role    string `json:"role,omitempty"`
	// FleetID is the fleet an operator credential is scoped to; empty: every fleet.
	FleetID    string     `json:"fleet_id,omitempty"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// IssuedCredential is a new credential and its token, which the API shows this once.
type IssuedCredential struct {
	Credential Credential `json:"credential"`
	Token      Token      `json:"token"`
}

// NewCredential is the request of CreateCredential.
type NewCredential struct {
	Name string `json:"name"`
	// Role is one of RoleAdmin, RoleOperator, RoleApprover, RoleAuditor.
	Role string `json:"role"`
	// ExpiresAt is when the credential stops working; nil means never.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// FleetID scopes the credential to one fleet: it then acts only on that
	// fleet's records, and the API answers 404 for any other fleet's. Empty:
	// every fleet. Only an unscoped admin may create credentials.
	FleetID string `json:"fleet_id,omitempty"`
}

// Fleet is a fleet of agents; Index is its BIP-44 account level.
type Fleet struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Index     uint32    `json:"index"`
	Treasury  string    `json:"treasury,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Group is a group of agents within a fleet.
type Group struct {
	ID        string    `json:"id"`
	FleetID   string    `json:"fleet_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Agent is one agent.
type Agent struct {
	ID         string            `json:"id"`
	FleetID    string            `json:"fleet_id"`
	GroupID    string            `json:"group_id,omitempty"`
	ExternalID string            `json:"external_id,omitempty"`
	Name       string            `json:"name"`
	Index      uint32            `json:"index"`
	Status     string            `json:"status"`
	Labels     map[string]string `json:"labels,omitempty"`
	Address    string            `json:"address,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Key is one of an agent's keys (its derivation path and address; never key material).
type Key struct {
	ID         string    `json:"id"`
	Generation uint32    `json:"generation"`
	Path       string    `json:"path"`
	Address    string    `json:"address"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	SignCount  int64     `json:"sign_count"`
}

// AgentDetail is GET /v1/agents/{id}.
type AgentDetail struct {
	Agent       Agent        `json:"agent"`
	Keys        []Key        `json:"keys"`
	Credentials []Credential `json:"credentials"`
}

// NewAgent is one agent to provision.
type NewAgent struct {
	// ExternalID is the caller's own id of the agent, unique in the fleet: provisioning the
	// same ExternalID again returns the existing agent (Created false) and no new token.
	ExternalID string            `json:"external_id"`
	Name       string            `json:"name,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}

// CreateAgentsRequest is the request of CreateAgents.
type CreateAgentsRequest struct {
	FleetID string     `json:"fleet_id"`
	GroupID string     `json:"group_id,omitempty"`
	Agents  []NewAgent `json:"agents"`
}

// ProvisionedAgent is one answer of CreateAgents. Token is set only when Created.
type ProvisionedAgent struct {
	Agent        Agent  `json:"agent"`
	Address      string `json:"address"`
	Created      bool   `json:"created"`
	CredentialID string `json:"credential_id,omitempty"`
	Token        Token  `json:"token,omitempty"`
}

// AgentFilter selects agents for Agents; empty fields do not filter.
type AgentFilter struct {
	FleetID, GroupID, Status string
	// After is the Next of the previous page; Limit 0 leaves the page size to the server.
	After string
	Limit int
}

// AgentPage is one page of agents; Next is empty on the last page.
type AgentPage struct {
	Agents []Agent `json:"agents"`
	Next   string  `json:"next,omitempty"`
}

// Policy is one version of the policy at a scope.
type Policy struct {
	ID        string    `json:"id"`
	Level     string    `json:"level"`
	ScopeID   string    `json:"scope_id"`
	Name      string    `json:"name"`
	Hash      string    `json:"hash"`
	Source    string    `json:"source"`
	Version   int       `json:"version"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// AppliedPolicy is the answer of ApplyPolicy. Changed is false when the source's hash equals
// the active version's (nothing new was stored).
type AppliedPolicy struct {
	Policy  Policy `json:"policy"`
	Changed bool   `json:"changed"`
}

// PolicyVersions is GET /v1/policies/{level}/{scope_id}: the active version (nil when none)
// and every version, oldest first.
type PolicyVersions struct {
	Active   *Policy  `json:"active"`
	Versions []Policy `json:"versions"`
}

// Vote is one approver's decision ("approve" or "deny").
type Vote struct {
	Approver string    `json:"approver"`
	Decision string    `json:"decision"`
	At       time.Time `json:"at"`
}

// Approval is a request for human approval of a payment, with the payment.
type Approval struct {
	ID              string        `json:"id"`
	AuthorizationID string        `json:"authorization_id"`
	Rule            string        `json:"rule"`
	Quorum          int           `json:"quorum"`
	Approvers       []string      `json:"approvers"`
	Votes           []Vote        `json:"votes"`
	Status          string        `json:"status"`
	CreatedAt       time.Time     `json:"created_at"`
	ExpiresAt       time.Time     `json:"expires_at"`
	DecidedAt       *time.Time    `json:"decided_at,omitempty"`
	Payment         Authorization `json:"payment"`
}

// ApprovalFilter selects approvals. Status empty means the server's default (pending);
// "all" lists every status. Approver keeps the approvals that name that approver.
type ApprovalFilter struct {
	Status   string
	Approver string
	Limit    int
}

// Authorization is a payment as the ledger records it (never the signed header).
type Authorization struct {
	ID          string     `json:"id"`
	AgentID     string     `json:"agent_id"`
	KeyID       string     `json:"key_id"`
	FleetID     string     `json:"fleet_id"`
	GroupID     string     `json:"group_id,omitempty"`
	Network     string     `json:"network"`
	Asset       string     `json:"asset"`
	PayTo       string     `json:"pay_to"`
	From        string     `json:"from"`
	ResourceURL string     `json:"resource_url"`
	Amount      string     `json:"amount"`
	AmountMicro int64      `json:"amount_micro"`
	Nonce       string     `json:"nonce"`
	ValidAfter  time.Time  `json:"valid_after"`
	ValidBefore time.Time  `json:"valid_before"`
	Status      string     `json:"status"`
	PolicyHash  string     `json:"policy_hash"`
	TxHash      string     `json:"tx_hash,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	SignedAt    *time.Time `json:"signed_at,omitempty"`
	SettledAt   *time.Time `json:"settled_at,omitempty"`
}

// AuthorizationFilter selects authorizations; empty fields do not filter. Status may list
// several statuses separated by commas.
type AuthorizationFilter struct {
	AgentID, FleetID, Status string
	After                    string
	Limit                    int
}

// AuthorizationPage is one page of authorizations; Next is empty on the last page.
type AuthorizationPage struct {
	Authorizations []Authorization `json:"authorizations"`
	Next           string          `json:"next,omitempty"`
}

// AuditRecord is one record of the hash-chained audit log, in the shape `fleetkey audit
// export` writes (JSON Lines, "type":"record"). Time is RFC 3339 with nanoseconds, exactly
// the hashed value; Data is the record's JSON data, or DataText when it is not JSON; hashes
// are hex.
type AuditRecord struct {
	Type     string          `json:"type,omitempty"`
	Seq      uint64          `json:"seq"`
	Time     string          `json:"time"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject"`
	Data     json.RawMessage `json:"data,omitempty"`
	DataText string          `json:"data_text,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// AuditCheckpoint is a signed chain head ("type":"checkpoint" in the export). Signature is
// 0x-hex r || s || v by the audit key whose address AuditKey returns.
type AuditCheckpoint struct {
	Type      string `json:"type,omitempty"`
	Seq       uint64 `json:"seq"`
	Hash      string `json:"hash"`
	Time      string `json:"time"`
	Signer    string `json:"signer"`
	Signature string `json:"signature"`
}

// PaymentHeader is the header an agent retries its request with: PAYMENT-SIGNATURE (x402
// v2) or X-PAYMENT (v1).
type PaymentHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PayRequest is the request of Pay: an x402 demand as received, for fleetkey to parse, check
// against policy and sign.
type PayRequest struct {
	// Version is the x402 version of the demand, 1 or 2.
	Version int
	// Demand is the demand exactly as received: for v2 the PAYMENT-REQUIRED header value,
	// for v1 the 402 response body (a JSON object).
	Demand []byte
	// ResourceURL and Method are the request that was answered with 402 (Method defaults
	// to GET).
	ResourceURL, Method string
	// Preferred optionally names the index of the demand's accepts to use.
	Preferred *int
	// IdempotencyKey makes a retry safe: the same key with the same request gets the same
	// answer and never a second payment. 1 to 128 printable ASCII bytes; NewIdempotencyKey
	// makes one.
	IdempotencyKey string
}

// PaymentResult is the answer of Pay and Payment. A signed payment has Header (and Status
// signed, or settled later); one that needs approval has NeedsApproval, ApprovalIDs and
// ExpiresAt and no Header until the approvers decide.
type PaymentResult struct {
	AuthorizationID string        `json:"authorization_id"`
	Status          string        `json:"status,omitempty"`
	Header          PaymentHeader `json:"header"`
	Amount          string        `json:"amount,omitempty"`
	Asset           string        `json:"asset,omitempty"`
	PayTo           string        `json:"pay_to,omitempty"`
	Network         string        `json:"network,omitempty"`
	ValidBefore     *time.Time    `json:"valid_before,omitempty"`
	PolicyHash      string        `json:"policy_hash,omitempty"`
	Replayed        bool          `json:"replayed"`
	ApprovalIDs     []string      `json:"approval_ids,omitempty"`
	ExpiresAt       *time.Time    `json:"expires_at,omitempty"`
	// NeedsApproval is true when the payment waits for approvers: the API answered 202, or
	// the payment is reserved without a header.
	NeedsApproval bool `json:"-"`
}
