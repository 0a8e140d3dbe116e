package store

import (
	"context"
	"fmt"
	"time"
)

// JobKind names what a lifecycle job does (package lifecycle runs them).
type JobKind string

const (
	JobRevoke JobKind = "revoke"
	JobRotate JobKind = "rotate"
)

// JobStatus is the state of a lifecycle job: running until its last step is
// done, then done. A job that failed part-way stays running, with the error of
// its last attempt, so that running it again resumes it.
type JobStatus string

const (
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
)

// StepStatus is the state of one step of a job.
type StepStatus string

const (
	StepPending StepStatus = "pending"
	StepDone    StepStatus = "done"
	StepFailed  StepStatus = "failed"
)

// JobStep is one recorded step of a job. Result is the step's report (JSON chosen
// by package lifecycle): what it changed, with transaction hashes, or, while a
// step is pending, the transactions it has submitted and must wait for.
type JobStep struct {
	Name      string     `json:"name"`
	Status    StepStatus `json:"status"`
	Result    []byte     `json:"result,omitempty"`
	Error     string     `json:"error,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Job is a resumable lifecycle operation on one agent, recorded step by step.
// At most one job per agent is running at a time.
type Job struct {
	ID      string
	Kind    JobKind
	AgentID string
	Status  JobStatus
	// Params is the job's input as JSON, fixed at creation.
	Params []byte
	Steps  []JobStep
	// Error is the error of the last failed attempt; empty when none.
	Error      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time // zero while running
	// LeaseOwner is the process (a lifecycle Manager's random id) that runs the
	// job's steps until LeaseUntil; empty when none does (see JobWriter.LeaseJob).
	LeaseOwner string
	LeaseUntil time.Time
}

// JobFilter selects jobs, oldest first; zero fields do not filter.
type JobFilter struct {
	AgentID string
	Kind    JobKind
	Status  JobStatus
}

// JobReader is the optional part of a ReadTx of a backend that keeps lifecycle
// jobs; find it with a type assertion. The SQLite backend has it. It is not part
// of ReadTx so that a backend without lifecycle jobs still is a store.
type JobReader interface {
	Job(ctx context.Context, id string) (Job, error)
	Jobs(ctx context.Context, f JobFilter) ([]Job, error)
}

// JobWriter is the optional part of a Tx of a backend that keeps lifecycle jobs.
type JobWriter interface {
	JobReader
	// CreateJob inserts a running job (ID and times filled in when zero). A second
	// running job for the same agent is refused with ErrConflict.
	CreateJob(ctx context.Context, j Job) (Job, error)
	// UpdateJob stores a job's status, steps, error, UpdatedAt and FinishedAt;
	// its kind, agent and params never change. A done job cannot change again
	// (*StateError).
	UpdateJob(ctx context.Context, j Job) (Job, error)
	// LeaseJob takes or renews the lease on a running job for owner until until,
	// in one statement: it succeeds when the job has no lease, its lease ended
	// before now, or owner already holds it. A lease another owner holds past now
	// is refused with a *LeaseError (matching ErrConflict); a done job with a
	// *StateError; an unknown one with ErrNotFound.
	LeaseJob(ctx context.Context, id, owner string, now, until time.Time) (Job, error)
	// ReleaseJob clears owner's lease on the job (running or done). A lease owner
	// does not hold (taken over after it expired) is left as it is.
	ReleaseJob(ctx context.Context, id, owner string) error
}

// LeaseError says that another process holds a job's lease. It matches
// ErrConflict.
type LeaseError struct {
	JobID string
	Owner string
	Until time.Time
}

func (e *LeaseError) Error() string {
	return fmt.Sprintf("store: job %s is leased by %s until %s", e.JobID, e.Owner, e.Until.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrConflict.
func (e *LeaseError) Is(target error) bool { return target == ErrConflict }
