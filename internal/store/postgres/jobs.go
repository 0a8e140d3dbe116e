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

// ---- lifecycle jobs (store.JobWriter) ----

const jobCols = `id, kind, agent_id, status, params, steps, error, created_at, updated_at, finished_at`

// jobRead is what reads of a job select: its columns and its lease.
const jobRead = jobCols + `, lease_owner, lease_until`

var (
	qJob    = q(`SELECT ` + jobRead + ` FROM jobs WHERE id = ?`)
	qJobIns = q(`INSERT INTO jobs (` + jobCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qJobUpd = q(`UPDATE jobs SET status = ?, steps = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ? AND status = 'running'`)
	// qJobLease takes the lease in one statement, so two processes racing for it
	// cannot both win: the row lock (PostgreSQL) or the write lock (SQLite) orders
	// them, and the second sees the first's lease.
	qJobLease = q(`UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id = ? AND status = 'running'
		AND (lease_owner IS NULL OR lease_until < ? OR lease_owner = ?)`)
	qJobRelease = q(`UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?`)
)

var (
	_ store.JobWriter = (*tx)(nil)
	_ store.JobReader = (*tx)(nil)
)

func scanJob(s scanner) (store.Job, error) {
	var (
		j          store.Job
		params     []byte
		steps      string
		errText    sql.NullString
		ca, ua     int64
		finishedAt sql.NullInt64
		leaseOwner sql.NullString
		leaseUntil sql.NullInt64
	)
	if err := s.Scan(&j.ID, &j.Kind, &j.AgentID, &j.Status, &params, &steps, &errText, &ca, &ua, &finishedAt,
		&leaseOwner, &leaseUntil); err != nil {
		return j, err
	}
	if len(params) > 0 {
		j.Params = params
	}
	if err := json.Unmarshal([]byte(steps), &j.Steps); err != nil {
		return j, fmt.Errorf("postgres: job %s: stored steps: %w", j.ID, err)
	}
	j.Error = errText.String
	j.CreatedAt, j.UpdatedAt, j.FinishedAt = fromNSReq(ca), fromNSReq(ua), fromNS(finishedAt)
	j.LeaseOwner, j.LeaseUntil = leaseOwner.String, fromNS(leaseUntil)
	return j, nil
}

func (t *tx) Job(ctx context.Context, id string) (store.Job, error) {
	return one(t.queryRow(ctx, qJob, id), scanJob, "job", id)
}

func (t *tx) Jobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var (
		where []string
		args  []any
	)
	if f.AgentID != "" {
		where, args = append(where, "agent_id = ?"), append(args, f.AgentID)
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(f.Kind))
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	query := `SELECT ` + jobRead + ` FROM jobs`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at, id`
	return queryAll(ctx, t, scanJob, query, args...)
}

func checkSteps(steps []store.JobStep) error {
	for i, s := range steps {
		switch {
		case s.Name == "":
			return fmt.Errorf("postgres: job step %d has no name", i)
		case s.Status != store.StepPending && s.Status != store.StepDone && s.Status != store.StepFailed:
			return fmt.Errorf("postgres: job step %s: status %q", s.Name, s.Status)
		case len(s.Result) > 0 && !json.Valid(s.Result):
			return fmt.Errorf("postgres: job step %s: result is not JSON", s.Name)
		}
	}
	return nil
}

func (t *tx) CreateJob(ctx context.Context, j store.Job) (store.Job, error) {
	if j.Kind != store.JobRevoke && j.Kind != store.JobRotate {
		return store.Job{}, fmt.Errorf("postgres: job kind %q", j.Kind)
	}
	if j.AgentID == "" {
		return store.Job{}, errors.New("postgres: job has no agent")
	}
	if len(j.Params) > 0 && !json.Valid(j.Params) {
		return store.Job{}, errors.New("postgres: job params are not JSON")
	}
	if err := checkSteps(j.Steps); err != nil {
		return store.Job{}, err
	}
	if j.ID == "" {
		j.ID = store.NewID("job")
	}
	j.Status, j.FinishedAt = store.JobRunning, time.Time{}
	j.CreatedAt = now(j.CreatedAt)
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = j.CreatedAt
	}
	if j.Steps == nil {
		j.Steps = []store.JobStep{}
	}
	steps, err := encodeJSON(j.Steps)
	if err != nil {
		return store.Job{}, err
	}
	if _, err := t.exec(ctx, qJobIns, j.ID, string(j.Kind), j.AgentID, string(j.Status), nullBytes(j.Params), steps,
		nullStr(j.Error), nsReq(j.CreatedAt), nsReq(j.UpdatedAt), nil); err != nil {
		return store.Job{}, fmt.Errorf("postgres: create job: %w", err)
	}
	return j, nil
}

func (t *tx) UpdateJob(ctx context.Context, j store.Job) (store.Job, error) {
	if j.Status != store.JobRunning && j.Status != store.JobDone {
		return store.Job{}, fmt.Errorf("postgres: job status %q", j.Status)
	}
	if err := checkSteps(j.Steps); err != nil {
		return store.Job{}, err
	}
	old, err := t.Job(ctx, j.ID)
	if err != nil {
		return store.Job{}, err
	}
	if old.Status == store.JobDone {
		return store.Job{}, &store.StateError{Entity: "job", ID: j.ID, Status: string(old.Status), Op: "update"}
	}
	j.UpdatedAt = now(j.UpdatedAt)
	if j.Status == store.JobDone && j.FinishedAt.IsZero() {
		j.FinishedAt = j.UpdatedAt
	}
	if j.Status == store.JobRunning {
		j.FinishedAt = time.Time{}
	}
	if j.Steps == nil {
		j.Steps = []store.JobStep{}
	}
	steps, err := encodeJSON(j.Steps)
	if err != nil {
		return store.Job{}, err
	}
	res, err := t.exec(ctx, qJobUpd, string(j.Status), steps, nullStr(j.Error), nsReq(j.UpdatedAt), ns(j.FinishedAt), j.ID)
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: update job: %w", err)
	}
	if err := affected(res, "job", j.ID); err != nil {
		return store.Job{}, err
	}
	j.Kind, j.AgentID, j.Params, j.CreatedAt = old.Kind, old.AgentID, old.Params, old.CreatedAt
	j.LeaseOwner, j.LeaseUntil = old.LeaseOwner, old.LeaseUntil
	return j, nil
}

func (t *tx) LeaseJob(ctx context.Context, id, owner string, now, until time.Time) (store.Job, error) {
	if owner == "" {
		return store.Job{}, errors.New("postgres: job lease has no owner")
	}
	if !until.After(now) {
		return store.Job{}, fmt.Errorf("postgres: job lease until %s is not after now (%s)", until, now)
	}
	res, err := t.exec(ctx, qJobLease, owner, nsReq(until), id, nsReq(now), owner)
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: lease job: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: lease job: %w", err)
	}
	j, err := t.Job(ctx, id)
	if err != nil {
		return store.Job{}, err
	}
	if n == 1 {
		return j, nil
	}
	if j.Status != store.JobRunning {
		return store.Job{}, &store.StateError{Entity: "job", ID: id, Status: string(j.Status), Op: "lease"}
	}
	return store.Job{}, &store.LeaseError{JobID: id, Owner: j.LeaseOwner, Until: j.LeaseUntil}
}

func (t *tx) ReleaseJob(ctx context.Context, id, owner string) error {
	if _, err := t.exec(ctx, qJobRelease, id, owner); err != nil {
		return fmt.Errorf("postgres: release job: %w", err)
	}
	return nil
}
