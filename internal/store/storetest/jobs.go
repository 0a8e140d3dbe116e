package storetest

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// testJobs checks lifecycle jobs on backends that keep them (store.JobWriter);
// a backend without them skips.
func testJobs(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	var supported bool
	_ = s.Tx(ctx(), func(tx store.Tx) error { _, supported = tx.(store.JobWriter); return nil })
	if !supported {
		t.Skip("backend keeps no lifecycle jobs (store.JobWriter)")
	}
	jobs := func(tx store.Tx) store.JobWriter { return tx.(store.JobWriter) }
	steps := []store.JobStep{
		{Name: "credentials", Status: store.StepPending, UpdatedAt: t0},
		{Name: "key", Status: store.StepPending, UpdatedAt: t0},
	}
	var j store.Job
	write(t, s, func(tx store.Tx) error {
		var err error
		j, err = jobs(tx).CreateJob(ctx(), store.Job{Kind: store.JobRevoke, AgentID: fx.agents[0].ID,
			Params: json.RawMessage(`{"treasury":"0x01"}`), Steps: steps, CreatedAt: t0})
		return err
	})
	if j.ID == "" || j.Status != store.JobRunning || !j.CreatedAt.Equal(t0) || !j.UpdatedAt.Equal(t0) {
		t.Fatalf("created job = %+v", j)
	}
	// A second running job for the same agent is refused; another agent's is not.
	err := s.Tx(ctx(), func(tx store.Tx) error {
		_, err := jobs(tx).CreateJob(ctx(), store.Job{Kind: store.JobRotate, AgentID: fx.agents[0].ID, CreatedAt: t0})
		return err
	})
	wantErr(t, err, store.ErrConflict)
	var other store.Job
	write(t, s, func(tx store.Tx) error {
		var err error
		other, err = jobs(tx).CreateJob(ctx(), store.Job{Kind: store.JobRotate, AgentID: fx.agents[1].ID, CreatedAt: t0.Add(time.Second)})
		return err
	})
	for _, bad := range []store.Job{
		{Kind: "explode", AgentID: fx.agents[1].ID},
		{Kind: store.JobRevoke},
		{Kind: store.JobRevoke, AgentID: "agt_missing"},
		{Kind: store.JobRevoke, AgentID: fx.agents[1].ID, Params: []byte("{")},
		{Kind: store.JobRevoke, AgentID: fx.agents[1].ID, Steps: []store.JobStep{{Name: "", Status: store.StepDone}}},
	} {
		err := s.Tx(ctx(), func(tx store.Tx) error { _, err := jobs(tx).CreateJob(ctx(), bad); return err })
		if err == nil {
			t.Errorf("CreateJob(%+v) succeeded", bad)
		}
	}

	// Steps advance one by one and are read back as written.
	j.Steps[0].Status, j.Steps[0].Result, j.Steps[0].UpdatedAt = store.StepDone, json.RawMessage(`{"revoked":1}`), t0.Add(time.Minute)
	j.Error = "step key: boom"
	j.UpdatedAt = t0.Add(time.Minute)
	write(t, s, func(tx store.Tx) error { _, err := jobs(tx).UpdateJob(ctx(), j); return err })
	read(t, s, func(rt store.ReadTx) error {
		got, err := rt.(store.JobReader).Job(ctx(), j.ID)
		if err != nil {
			return err
		}
		if got.Status != store.JobRunning || got.Error != j.Error || !reflect.DeepEqual(got.Steps, j.Steps) ||
			string(got.Params) != `{"treasury":"0x01"}` || !got.FinishedAt.IsZero() {
			t.Errorf("Job = %+v, want steps %+v", got, j.Steps)
		}
		_, err = rt.(store.JobReader).Job(ctx(), "job_missing")
		wantErr(t, err, store.ErrNotFound)
		all, err := rt.(store.JobReader).Jobs(ctx(), store.JobFilter{})
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].ID != j.ID || all[1].ID != other.ID {
			t.Errorf("Jobs = %+v", all)
		}
		mine, err := rt.(store.JobReader).Jobs(ctx(), store.JobFilter{AgentID: fx.agents[0].ID, Kind: store.JobRevoke, Status: store.JobRunning})
		if err != nil {
			return err
		}
		if len(mine) != 1 || mine[0].ID != j.ID {
			t.Errorf("Jobs(agent 0, revoke, running) = %+v", mine)
		}
		return nil
	})

	// Done is final, and frees the agent for a new job.
	j.Steps[1].Status, j.Status, j.Error, j.UpdatedAt = store.StepDone, store.JobDone, "", t0.Add(2*time.Minute)
	write(t, s, func(tx store.Tx) error {
		got, err := jobs(tx).UpdateJob(ctx(), j)
		if err == nil && !got.FinishedAt.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("FinishedAt = %v", got.FinishedAt)
		}
		return err
	})
	err = s.Tx(ctx(), func(tx store.Tx) error { _, err := jobs(tx).UpdateJob(ctx(), j); return err })
	var se *store.StateError
	if !errors.As(err, &se) {
		t.Errorf("updating a done job: %v, want a StateError", err)
	}
	write(t, s, func(tx store.Tx) error {
		_, err := jobs(tx).CreateJob(ctx(), store.Job{Kind: store.JobRotate, AgentID: fx.agents[0].ID, CreatedAt: t0.Add(3 * time.Minute)})
		return err
	})
	err = s.Tx(ctx(), func(tx store.Tx) error {
		_, err := jobs(tx).UpdateJob(ctx(), store.Job{ID: "job_missing", Status: store.JobDone})
		return err
	})
	wantErr(t, err, store.ErrNotFound)
}

// RunJobs runs the conformance tests of lifecycle jobs (store.JobWriter) against a
// backend that keeps them; a backend without them skips.
func RunJobs(t *testing.T, open Opener) {
	t.Run("Jobs", func(t *testing.T) { testJobs(t, open(t)) })
}
