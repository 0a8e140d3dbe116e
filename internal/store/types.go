package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Level is where a policy or a budget window applies.
type Level string

const (
	LevelFleet Level = "fleet"
	LevelGroup Level = "group"
	LevelAgent Level = "agent"
)

// Valid reports whether l is one of the three levels.
func (l Level) Valid() bool { return l == LevelFleet || l == LevelGroup || l == LevelAgent }

// AgentStatus is the lifecycle state of an agent.
type AgentStatus string

const (
	AgentActive  AgentStatus = "active"
	AgentFrozen  AgentStatus = "frozen"
	AgentRevoked AgentStatus = "revoked"
	AgentRetired AgentStatus = "retired"
)

// KeyStatus is the lifecycle state of a key. Only an active key signs payments; a
// draining key still signs its own sweep during a rotation.
type KeyStatus string

const (
	KeyActive   KeyStatus = "active"
	KeyDraining KeyStatus = "draining"
	KeyRevoked  KeyStatus = "revoked"
	KeyRetired  KeyStatus = "retired"
)

// CredentialKind says which API a credential opens.
type CredentialKind string

const (
	CredentialAgent    CredentialKind = "agent"
	CredentialOperator CredentialKind = "operator"
)

// Role is an operator credential's role.
type Role string

const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleApprover Role = "approver"
	RoleAuditor  Role = "auditor"
)

// AuthStatus is the state of an authorization. Reserved, signed and settled count
// toward budget windows; expired, cancelled and failed do not.
type AuthStatus string

const (
	AuthReserved  AuthStatus = "reserved"
	AuthSigned    AuthStatus = "signed"
	AuthSettled   AuthStatus = "settled"
	AuthExpired   AuthStatus = "expired"
	AuthCancelled AuthStatus = "cancelled"
	AuthFailed    AuthStatus = "failed"
)

// Counts reports whether an authorization in status s consumes budget.
func (s AuthStatus) Counts() bool {
	return s == AuthReserved || s == AuthSigned || s == AuthSettled
}

// ApprovalStatus is the state of an approval request.
type ApprovalStatus string

const (
	ApprovalPending  ApprovalStatus = "pending"
	ApprovalApproved ApprovalStatus = "approved"
	ApprovalDenied   ApprovalStatus = "denied"
	ApprovalExpired  ApprovalStatus = "expired"
)

// VoteDecision is one approver's answer.
type VoteDecision string

const (
	VoteApprove VoteDecision = "approve"
	VoteDeny    VoteDecision = "deny"
)

// MaxIndex is the largest BIP-32 index below the hardened offset: fleet and agent
// indexes are used as hardened path components, so they must fit in 31 bits.
const MaxIndex = 1<<31 - 1

// ReservedFleetIndexes are fleet-level indexes kept for fleetkey's own keys (the audit
// checkpoint key lives at m/44'/60'/2147483646'/0'/0'); no fleet may take them.
const ReservedFleetIndexes = 2147483646

// Fleet is a set of agents sharing a BIP-44 account-level index and a treasury.
type Fleet struct {
	ID   string
	Name string
	// Index is the fleet level of the agent key path m/44'/60'/{fleet}'/{agent}'/{gen}'.
	Index uint32
	// Treasury is where orphaned and revoked wallets are swept; empty when unset.
	Treasury  string
	CreatedAt time.Time
}

// Group is a named set of agents inside a fleet; budgets and policies can attach to it.
type Group struct {
	ID        string
	FleetID   string
	Name      string
	CreatedAt time.Time
}

// Agent is one paying identity. Its Index comes from a per-fleet counter that is never
// decremented, so no two agents of a fleet (even a retired and a new one) ever share a
// derivation path.
type Agent struct {
	ID      string
	FleetID string
	// GroupID is empty when the agent is in no group.
	GroupID string
	// ExternalID is the operator's own identifier, unique per fleet; it makes batch
	// creation idempotent. Empty means none.
	ExternalID string
	Name       string
	Index      uint32
	Status     AgentStatus
	Labels     map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Key is one generation of an agent's key. The private key is never stored: Path is
// re-derived by custody. Address is unique across the whole store.
type Key struct {
	ID         string
	AgentID    string
	Generation uint32
	Path       string
	Address    string
	Status     KeyStatus
	CreatedAt  time.Time
	// SignCount is the number of payments signed with this key (MarkSigned).
	SignCount int64
}

// Credential is a bearer credential, stored only as the SHA-256 of its token.
type Credential struct {
	ID   string
	Kind CredentialKind
	// AgentID is set for agent credentials, empty for operator credentials.
	AgentID string
	// Role is set for operator credentials, empty for agent credentials.
	Role Role
	// FleetID, set only on an operator credential, scopes it to that fleet: it
	// acts on nothing outside it. Empty: every fleet.
	FleetID string
	Name    string
	// Hash is SHA-256 of the token. Looking a credential up by it leaks nothing useful
	// through timing: an attacker would have to find a preimage.
	Hash       [32]byte
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	RevokedAt  time.Time // zero: not revoked
	LastUsedAt time.Time // zero: never used
}

// Usable reports whether the credential is neither revoked nor expired at now.
func (c Credential) Usable(now time.Time) bool {
	return c.RevokedAt.IsZero() && (c.ExpiresAt.IsZero() || now.Before(c.ExpiresAt))
}

// PolicyRecord is one version of the policy attached at a scope.
type PolicyRecord struct {
	ID      string
	Level   Level
	ScopeID string
	Name    string
	// Hash is the policy's content hash (policy.Policy.Hash); Source its YAML text.
	Hash   string
	Source string
	// Version counts up from 1 per (Level, ScopeID) and is never reused.
	Version   int64
	CreatedAt time.Time
	// Active marks the version in force; at most one per scope.
	Active bool
}

// PaymentHeader is the HTTP header the agent sends with its paid request, kept so that
// a repeated request with the same idempotency key gets the same answer.
type PaymentHeader struct {
	Name, Value string
}

// Authorization is one EIP-3009 transferWithAuthorization fleetkey reserved budget for
// and (usually) signed.
type Authorization struct {
	ID      string
	AgentID string
	KeyID   string
	FleetID string
	GroupID string
	// IdempotencyKey is the agent's key for this request, unique per agent.
	IdempotencyKey string
	Network        string // CAIP-2
	Asset          string // token contract address
	PayTo          string
	Origin         string
	ResourceURL    string
	// AmountAtomic is the on-chain integer amount in decimal; AmountMicro the same
	// amount in micro-units of the reference currency, which budgets add up.
	AmountAtomic string
	AmountMicro  int64
	// Nonce is the EIP-3009 nonce, 0x + 64 hex, unique per (Asset, From).
	Nonce       string
	From        string
	ValidAfter  time.Time
	ValidBefore time.Time
	Status      AuthStatus
	PolicyHash  string
	// DemandVersion, Demand and RequirementIndex keep what signing needs later for
	// a payment that waits for approval: the x402 version of the 402 demand, the
	// demand exactly as the agent received it, and the index of the chosen
	// requirement in its accepts. Zero and nil for a payment signed at once.
	DemandVersion    int
	Demand           []byte
	RequirementIndex int
	Response         PaymentHeader
	TxHash           string
	CreatedAt        time.Time
	SignedAt         time.Time
	SettledAt        time.Time
	// UpdatedAt is the time of the last status change.
	UpdatedAt time.Time
}

// Vote is one approver's recorded decision.
type Vote struct {
	Approver string
	Decision VoteDecision
	At       time.Time
}

// Approval asks Quorum of the named Approvers to approve an authorization. A policy
// with approval requirements at several levels creates one Approval per level (Rule
// names it); the payment proceeds when all of them are approved.
type Approval struct {
	ID              string
	AuthorizationID string
	Rule            string
	Quorum          int
	Approvers       []string
	Votes           []Vote
	Status          ApprovalStatus
	CreatedAt       time.Time
	ExpiresAt       time.Time
	DecidedAt       time.Time
}

// AuditRecord is one stored link of the audit hash chain; package audit defines how
// Hash is computed and verified. The store only keeps the rows.
type AuditRecord struct {
	Seq      uint64
	Time     time.Time
	Actor    string
	Action   string
	Subject  string
	Data     []byte // canonical JSON
	PrevHash [32]byte
	Hash     [32]byte
}

// AuditCheckpoint is a signed statement that the chain up to Seq has head Hash.
type AuditCheckpoint struct {
	Seq       uint64
	Hash      [32]byte
	Time      time.Time
	Signer    string // address of the checkpoint key
	Signature [65]byte
}

// Spend is a rolling-window total of the authorizations that count toward budgets.
type Spend struct {
	AmountMicro int64
	Count       int64
}

// NewID returns a fresh identifier: prefix, '_', then 26 lower-case Crockford base32
// characters of a 48-bit millisecond timestamp and 80 random bits from crypto/rand, so
// that identifiers sort roughly by creation time and never collide in practice.
func NewID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		// crypto/rand.Read does not fail on supported platforms (Go 1.24+ crashes
		// the program instead); this keeps the contract explicit.
		panic("store: crypto/rand failed: " + err.Error())
	}
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	var out [26]byte
	// 128 bits as 26 base32 digits (130 bits, top two zero), most significant first.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return prefix + "_" + string(out[:])
}

// NormalizeAddress checks that s is an Ethereum address (0x + 40 hex digits, any case)
// and returns it in lower case.
func NormalizeAddress(s string) (string, error) {
	if len(s) != 42 || (s[:2] != "0x" && s[:2] != "0X") {
		return "", fmt.Errorf("store: %q is not a 0x-prefixed 20-byte hex address", s)
	}
	if _, err := hex.DecodeString(s[2:]); err != nil {
		return "", fmt.Errorf("store: %q is not a 0x-prefixed 20-byte hex address", s)
	}
	return "0x" + strings.ToLower(s[2:]), nil
}

// NormalizeNonce checks that s is an EIP-3009 nonce (0x + 64 hex digits) and returns it
// in lower case.
func NormalizeNonce(s string) (string, error) {
	if len(s) != 66 || (s[:2] != "0x" && s[:2] != "0X") {
		return "", fmt.Errorf("store: nonce %q is not 0x + 32 bytes of hex", s)
	}
	if _, err := hex.DecodeString(s[2:]); err != nil {
		return "", fmt.Errorf("store: nonce %q is not 0x + 32 bytes of hex", s)
	}
	return "0x" + strings.ToLower(s[2:]), nil
}
