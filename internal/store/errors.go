package store

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Backends return them wrapped, often inside one of the typed errors
// below; test with errors.Is and read details with errors.As.
var (
	// ErrNotFound: the record asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique constraint refused the write (see ConflictError).
	ErrConflict = errors.New("store: conflict")
	// ErrBudgetExceeded: a reservation would exceed a window limit (see BudgetError).
	ErrBudgetExceeded = errors.New("store: budget exceeded")
	// ErrIdempotencyMismatch: an idempotency key was reused for a different request.
	ErrIdempotencyMismatch = errors.New("store: idempotency key reused with a different request")
	// ErrNonceReused: an EIP-3009 nonce already exists for this asset and payer.
	ErrNonceReused = errors.New("store: nonce reused")
	// ErrState: the record is not in a state that allows the operation (see
	// StateError), e.g. paying from a frozen agent or signing an expired reservation.
	ErrState = errors.New("store: invalid state")
	// ErrNotApprover: a vote came from someone the approval does not name.
	ErrNotApprover = errors.New("store: not an approver of this request")
	// ErrSchemaTooNew: the database was migrated by a newer fleetkey; refusing to
	// touch it.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this program")
	// ErrUnavailable: the database cannot be reached (connection refused, lost or
	// timed out). Nothing was written; the caller may retry later. Backends wrap
	// the driver's error with it so that the API can say so (503) instead of
	// reporting an internal error.
	ErrUnavailable = errors.New("store: database unavailable")
)

// Constraint names reported by ConflictError. Backends map their own unique-violation
// errors to these, so callers never parse database messages.
const (
	ConstraintPrimaryKey      = "primary_key"
	ConstraintFleetName       = "fleet_name"
	ConstraintFleetIndex      = "fleet_index"
	ConstraintGroupName       = "group_name"
	ConstraintAgentIndex      = "agent_index"
	ConstraintAgentExternalID = "agent_external_id"
	ConstraintKeyAddress      = "key_address"
	ConstraintKeyPath         = "key_path"
	ConstraintKeyGeneration   = "key_generation"
	ConstraintKeyActive       = "key_active"
	ConstraintCredentialHash  = "credential_hash"
	ConstraintPolicyVersion   = "policy_version"
	ConstraintPolicyActive    = "policy_active"
	ConstraintIdempotencyKey  = "authorization_idempotency_key"
	ConstraintNonce           = "authorization_nonce"
	ConstraintApprovalVote    = "approval_vote"
	ConstraintAuditSeq        = "audit_seq"
	ConstraintAuditCheckpoint = "audit_checkpoint_seq"
	ConstraintUnknown         = "unknown"
)

// ConflictError is a unique-constraint violation. It matches ErrConflict.
type ConflictError struct {
	Constraint string
	Err        error // the backend's error, for logs
}

func (e *ConflictError) Error() string {
	return "store: conflict on " + e.Constraint
}

func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
func (e *ConflictError) Unwrap() error        { return e.Err }

// BudgetError names the window a reservation would have exceeded. It matches
// ErrBudgetExceeded.
type BudgetError struct {
	Window WindowLimit
	// Kind is "amount" or "count": which of the window's limits failed.
	Kind string
	// Spent is the window's total before the refused reservation.
	Spent Spend
	// Requested is the refused reservation's amount.
	RequestedMicro int64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("store: budget exceeded: %s %s window of %s %s (%s limit)",
		e.Window.Level, e.Window.Window, e.Window.Level, e.Window.ScopeID, e.Kind)
}

func (e *BudgetError) Is(target error) bool { return target == ErrBudgetExceeded }

// StateError says which record was in which state. It matches ErrState.
type StateError struct {
	Entity string // "agent", "key", "authorization", "approval", ...
	ID     string
	Status string
	Op     string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("store: cannot %s: %s %s is %s", e.Op, e.Entity, e.ID, e.Status)
}

func (e *StateError) Is(target error) bool { return target == ErrState }

// NotFoundError says what was not found. It matches ErrNotFound.
type NotFoundError struct {
	Entity string
	Key    string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("store: %s %s not found", e.Entity, e.Key)
}

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// WindowLimit is one rolling-window budget checked by ReserveAuthorization: the
// authorizations of scope (Level, ScopeID) created after Now-Window may total at most
// MaxAmountMicro and MaxCount. A negative maximum means no limit of that kind; zero
// admits nothing.
type WindowLimit struct {
	Level          Level
	ScopeID        string
	Window         time.Duration
	MaxAmountMicro int64
	MaxCount       int64
	// Rule names the policy rule that set the limit, for error messages and audit.
	Rule string
}
