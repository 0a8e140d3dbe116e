package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/store"
)

// Action is one thing a step did or decided not to do.
type Action struct {
	// What names the action: revoke_credentials, revoke_key, rotate_key,
	// cancel_authorization, release_reservation, fund_gas, approve_zero,
	// sweep_token, sweep_native, retire_key, confirm_tx (a transaction submitted
	// before the job stopped, seen mined when it resumed), skip.
	What string `json:"what"`
	// Subject is what it applied to: an authorization id, a spender, a key id.
	Subject string `json:"subject,omitempty"`
	// Asset and Amount (atomic units, decimal) for value moves.
	Asset  string `json:"asset,omitempty"`
	Amount string `json:"amount,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	TxHash string `json:"tx_hash,omitempty"`
	Note   string `json:"note,omitempty"`
}

// StepResult is what a step records: its actions and the transactions it has
// submitted but not yet seen mined (waited for before the step runs again).
type StepResult struct {
	Actions []Action `json:"actions,omitempty"`
	Pending []string `json:"pending,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// StepReport is one step of a Report.
type StepReport struct {
	Name   string           `json:"name"`
	Status store.StepStatus `json:"status"`
	StepResult
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// Report is a job's state as recorded: every step with its result and
// transaction hashes.
type Report struct {
	JobID   string          `json:"job_id"`
	Kind    store.JobKind   `json:"kind"`
	AgentID string          `json:"agent_id"`
	Status  store.JobStatus `json:"status"`
	// Resumed is true when this call continued a job an earlier call started.
	Resumed    bool            `json:"resumed,omitempty"`
	Params     json.RawMessage `json:"params,omitempty"`
	Steps      []StepReport    `json:"steps"`
	Error      string          `json:"error,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
}

func reportOf(j store.Job) *Report {
	r := &Report{JobID: j.ID, Kind: j.Kind, AgentID: j.AgentID, Status: j.Status, Params: json.RawMessage(j.Params),
		Error: j.Error, StartedAt: j.CreatedAt, FinishedAt: j.FinishedAt}
	for _, s := range j.Steps {
		sr := StepReport{Name: s.Name, Status: s.Status, Error: s.Error, At: s.UpdatedAt}
		if len(s.Result) > 0 {
			_ = json.Unmarshal(s.Result, &sr.StepResult)
		}
		r.Steps = append(r.Steps, sr)
	}
	return r
}

// step is one step of a job. Exactly one of tx and run is set: tx does store
// work in the same transaction that records the step done; run does chain work
// and records its submitted transactions through js as it goes. Both start
// from the current state, so running a step again does nothing twice.
type step struct {
	name string
	tx   func(ctx context.Context, tx store.Tx, js *jobState) error
	run  func(ctx context.Context, js *jobState) error
}

// jobState is the running job and the result of its current step.
type jobState struct {
	m     *Manager
	job   store.Job
	idx   int
	res   StepResult
	actor string
}

func (js *jobState) add(a Action) { js.res.Actions = append(js.res.Actions, a) }

// save writes the job with the current step's result (in tx when given).
func (js *jobState) saveIn(ctx context.Context, tx store.Tx, status store.StepStatus, errText string) error {
	b, err := json.Marshal(js.res)
	if err != nil {
		return err
	}
	now := js.m.clock()
	js.job.Steps[js.idx] = store.JobStep{Name: js.job.Steps[js.idx].Name, Status: status, Result: b, Error: errText, UpdatedAt: now}
	js.job.UpdatedAt = now
	js.job.Error = errText
	jw, ok := tx.(store.JobWriter)
	if !ok {
		return ErrNoJobs
	}
	if err := js.m.holdLease(ctx, jw, js.job.ID); err != nil {
		return err
	}
	j, err := jw.UpdateJob(ctx, js.job)
	if err != nil {
		return err
	}
	js.job = j
	return nil
}

func (js *jobState) save(ctx context.Context, status store.StepStatus, errText string) error {
	return js.m.cfg.Store.Tx(ctx, func(tx store.Tx) error { return js.saveIn(ctx, tx, status, errText) })
}

// submitted records a transaction as pending in the current step before the
// step waits for it, so that a crash while waiting is resumed by waiting again.
func (js *jobState) submitted(ctx context.Context, hash string) error {
	js.res.Pending = append(js.res.Pending, hash)
	if err := js.save(ctx, store.StepPending, ""); err != nil {
		return err
	}
	if js.m.failAfterSubmit == js.job.Steps[js.idx].Name {
		return errInjected
	}
	return nil
}

// minedOK clears a mined transaction from the pending list (saved with the step).
func (js *jobState) minedOK(hash string) {
	out := js.res.Pending[:0]
	for _, h := range js.res.Pending {
		if h != hash {
			out = append(out, h)
		}
	}
	js.res.Pending = out
}

// errInjected is the failure tests inject after a step (Manager.failAfter).
var errInjected = errors.New("lifecycle: injected failure")

// ActionJobStep is the audit action of a completed job step; ActionJobDone of a
// finished job.
const (
	ActionJobStarted = "lifecycle.job.started"
	ActionJobStep    = "lifecycle.job.step"
	ActionJobDone    = "lifecycle.job.done"
)

// runJob runs the job's steps from the first one not done.
func (m *Manager) runJob(ctx context.Context, job store.Job, actor string, steps []step) (*Report, error) {
	if len(job.Steps) != len(steps) {
		return nil, fmt.Errorf("lifecycle: job %s has %d steps, %s jobs have %d", job.ID, len(job.Steps), job.Kind, len(steps))
	}
	if _, busy := m.running.LoadOrStore(job.AgentID, struct{}{}); busy {
		return nil, fmt.Errorf("%w: job %s is running now in this process", ErrBusy, job.ID)
	}
	defer m.running.Delete(job.AgentID)
	// Another process may have run steps since job was read: run from the state
	// the lease is taken on.
	job, ctx, release, err := m.lease(ctx, job.ID)
	if err != nil {
		return nil, err
	}
	defer release()
	if m.leased != nil {
		m.leased(job.ID)
	}
	js := &jobState{m: m, job: job, actor: actor}
	for i, st := range steps {
		if job.Steps[i].Name != st.name {
			return nil, fmt.Errorf("lifecycle: job %s step %d is %q, want %q", job.ID, i, job.Steps[i].Name, st.name)
		}
		if js.job.Steps[i].Status == store.StepDone {
			continue
		}
		js.idx, js.res = i, StepResult{}
		if r := js.job.Steps[i].Result; len(r) > 0 {
			if err := json.Unmarshal(r, &js.res); err != nil {
				return nil, fmt.Errorf("lifecycle: job %s step %s: %w", job.ID, st.name, err)
			}
		}
		if len(js.res.Pending) > 0 {
			// Submitted before the last run stopped: wait for them and record how they
			// ended; the step then starts from the chain's state, which includes them.
			oks, err := m.waitAll(ctx, js.res.Pending)
			if err != nil {
				return m.failStep(ctx, js, err)
			}
			for i, h := range js.res.Pending {
				status := "succeeded"
				if !oks[i] {
					status = "reverted"
				}
				js.add(Action{What: "confirm_tx", TxHash: h, Note: "submitted before the job stopped; " + status})
			}
			js.res.Pending = nil
		}
		var err error
		if st.tx != nil {
			err = m.cfg.Store.Tx(ctx, func(tx store.Tx) error {
				if err := st.tx(ctx, tx, js); err != nil {
					return err
				}
				return m.stepDone(ctx, tx, js)
			})
		} else {
			if err = st.run(ctx, js); err == nil {
				err = m.cfg.Store.Tx(ctx, func(tx store.Tx) error { return m.stepDone(ctx, tx, js) })
			}
		}
		if err != nil {
			return m.failStep(ctx, js, err)
		}
		if m.failAfter == st.name {
			return reportOf(js.job), errInjected
		}
	}
	err = m.cfg.Store.Tx(ctx, func(tx store.Tx) error {
		js.job.Status, js.job.Error, js.job.UpdatedAt = store.JobDone, "", m.clock()
		jw := tx.(store.JobWriter)
		if err := m.holdLease(ctx, jw, js.job.ID); err != nil {
			return err
		}
		j, err := jw.UpdateJob(ctx, js.job)
		if err != nil {
			return err
		}
		js.job = j
		_, err = m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: ActionJobDone, Subject: job.AgentID,
			Data: map[string]any{"job_id": job.ID, "kind": string(job.Kind)}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return reportOf(js.job), nil
}

// A job's lease lasts leaseTTL and is renewed every leaseRenew while its steps
// run, so a crashed process holds up its job for at most leaseTTL.
const (
	leaseTTL   = 30 * time.Second
	leaseRenew = 10 * time.Second
)

// takeLease takes or renews this Manager's lease on a running job, in one
// transaction, and returns the job as stored. A lease another process holds is
// ErrBusy.
func (m *Manager) takeLease(ctx context.Context, jobID string) (store.Job, error) {
	now := m.clock()
	var j store.Job
	err := m.cfg.Store.Tx(ctx, func(tx store.Tx) error {
		jw, ok := tx.(store.JobWriter)
		if !ok {
			return ErrNoJobs
		}
		var err error
		j, err = jw.LeaseJob(ctx, jobID, m.owner, now, now.Add(leaseTTL))
		return err
	})
	if le := (*store.LeaseError)(nil); errors.As(err, &le) {
		return store.Job{}, fmt.Errorf("%w: job %s is running in another process until %s", ErrBusy, jobID, le.Until.UTC().Format(time.RFC3339))
	}
	return j, err
}

// holdLease renews the lease in the transaction that records a step, so that a
// step is recorded (with its store writes) only while this Manager still holds
// the job: if another process took it over, the whole transaction is refused.
func (m *Manager) holdLease(ctx context.Context, jw store.JobWriter, jobID string) error {
	now := m.clock()
	_, err := jw.LeaseJob(ctx, jobID, m.owner, now, now.Add(leaseTTL))
	if le := (*store.LeaseError)(nil); errors.As(err, &le) {
		return fmt.Errorf("%w: job %s was taken over by another process (lease until %s)", ErrBusy, jobID, le.Until.UTC().Format(time.RFC3339))
	}
	return err
}

// lease takes the job's lease and keeps renewing it until release is called;
// the returned context ends when the lease is lost (taken over after this
// process failed to renew it in time, or the job ended elsewhere), so that no
// step runs without it. release stops the renewal and clears the lease.
func (m *Manager) lease(ctx context.Context, jobID string) (store.Job, context.Context, func(), error) {
	job, err := m.takeLease(ctx, jobID)
	if err != nil {
		return store.Job{}, ctx, nil, err
	}
	until := job.LeaseUntil
	lctx, cancel := context.WithCancelCause(ctx)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(leaseRenew)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-lctx.Done():
				return
			case <-t.C:
			}
			j, err := m.takeLease(lctx, jobID)
			if err == nil {
				until = j.LeaseUntil
				continue
			}
			// A database hiccup is retried at the next tick while the lease still
			// holds; a lease held by another, or running out, stops the job.
			if errors.Is(err, ErrBusy) || errors.Is(err, store.ErrState) || !m.clock().Add(leaseRenew).Before(until) {
				cancel(fmt.Errorf("lifecycle: job %s: lease lost: %w", jobID, err))
				return
			}
		}
	}()
	release := func() {
		close(stop)
		<-stopped
		cancel(nil)
		// Cleared with a fresh context: the caller's may be what ended.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer rcancel()
		// A lease left behind (database down) expires by itself after leaseTTL.
		_ = m.cfg.Store.Tx(rctx, func(tx store.Tx) error { return tx.(store.JobWriter).ReleaseJob(rctx, jobID, m.owner) })
	}
	return job, lctx, release, nil
}

func (m *Manager) stepDone(ctx context.Context, tx store.Tx, js *jobState) error {
	js.res.Pending = nil
	if err := js.saveIn(ctx, tx, store.StepDone, ""); err != nil {
		return err
	}
	b, _ := json.Marshal(js.res)
	_, err := m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: js.actor, Action: ActionJobStep, Subject: js.job.AgentID,
		Data: map[string]any{"job_id": js.job.ID, "kind": string(js.job.Kind), "step": js.job.Steps[js.idx].Name, "result": json.RawMessage(b)}})
	return err
}

// failStep records the step's failure (its actions so far stay recorded) and
// returns the report with the error. The job stays running: the next call resumes.
func (m *Manager) failStep(ctx context.Context, js *jobState, cause error) (*Report, error) {
	if c := context.Cause(ctx); c != nil && errors.Is(cause, context.Canceled) && !errors.Is(c, context.Canceled) {
		cause = fmt.Errorf("%w: %w", cause, c) // say why: the lease was lost
	}
	msg := cause.Error()
	// Recorded with a fresh context: the caller's may be what ended.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := js.save(sctx, store.StepFailed, msg); err != nil {
		return reportOf(js.job), errors.Join(cause, fmt.Errorf("lifecycle: record failure: %w", err))
	}
	return reportOf(js.job), fmt.Errorf("lifecycle: job %s step %s: %w", js.job.ID, js.job.Steps[js.idx].Name, cause)
}

// newJob creates a running job with the named steps pending, in tx.
func (m *Manager) newJob(ctx context.Context, tx store.Tx, kind store.JobKind, agentID, actor string, params any, steps []step) (store.Job, error) {
	jw, ok := tx.(store.JobWriter)
	if !ok {
		return store.Job{}, ErrNoJobs
	}
	p, err := json.Marshal(params)
	if err != nil {
		return store.Job{}, err
	}
	now := m.clock()
	j := store.Job{Kind: kind, AgentID: agentID, Params: p, CreatedAt: now, UpdatedAt: now}
	for _, s := range steps {
		j.Steps = append(j.Steps, store.JobStep{Name: s.name, Status: store.StepPending, UpdatedAt: now})
	}
	if j, err = jw.CreateJob(ctx, j); err != nil {
		return store.Job{}, err
	}
	_, err = m.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: ActionJobStarted, Subject: agentID,
		Data: map[string]any{"job_id": j.ID, "kind": string(kind), "params": json.RawMessage(p)}})
	return j, err
}

// jobsOf returns the agent's jobs (rt must be a store.JobReader).
func jobsOf(ctx context.Context, rt store.ReadTx, f store.JobFilter) ([]store.Job, error) {
	jr, ok := rt.(store.JobReader)
	if !ok {
		return nil, ErrNoJobs
	}
	return jr.Jobs(ctx, f)
}

// Jobs lists recorded jobs as reports, oldest first.
func (m *Manager) Jobs(ctx context.Context, f store.JobFilter) ([]*Report, error) {
	var out []*Report
	err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		js, err := jobsOf(ctx, rt, f)
		for _, j := range js {
			out = append(out, reportOf(j))
		}
		return err
	})
	return out, err
}
