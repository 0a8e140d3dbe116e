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

	testJobLease(t, s, j, other)
}

// testJobLease checks JobWriter.LeaseJob and ReleaseJob on a running job (other)
// and a done one (done).
func testJobLease(t *testing.T, s store.Store, done, other store.Job) {
	jobs := func(tx store.Tx) store.JobWriter { return tx.(store.JobWriter) }
	lease := func(owner string, now time.Time) (store.Job, error) {
		var got store.Job
		err := s.Tx(ctx(), func(tx store.Tx) error {
			var err error
			got, err = jobs(tx).LeaseJob(ctx(), other.ID, owner, now, now.Add(30*time.Second))
			return err
		})
		return got, err
	}
	got, err := lease("mgr_a", t0)
	if err != nil || got.LeaseOwner != "mgr_a" || !got.LeaseUntil.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("first lease = %+v, %v", got, err)
	}
	// Held by another until it ends: refused, naming the holder and the end.
	_, err = lease("mgr_b", t0.Add(10*time.Second))
	wantErr(t, err, store.ErrConflict)
	var le *store.LeaseError
	if !errors.As(err, &le) || le.JobID != other.ID || le.Owner != "mgr_a" || !le.Until.Equal(t0.Add(30*time.Second)) {
		t.Errorf("lease held by another: %v, want a LeaseError naming mgr_a", err)
	}
	// The holder renews it; the job's steps can be written meanwhile without losing it.
	if got, err = lease("mgr_a", t0.Add(20*time.Second)); err != nil || !got.LeaseUntil.Equal(t0.Add(50*time.Second)) {
		t.Fatalf("renewal = %+v, %v", got, err)
	}
	write(t, s, func(tx store.Tx) error {
		u := got
		u.Error, u.UpdatedAt = "step key: again", t0.Add(21*time.Second)
		_, err := jobs(tx).UpdateJob(ctx(), u)
		return err
	})
	read(t, s, func(rt store.ReadTx) error {
		j, err := rt.(store.JobReader).Job(ctx(), other.ID)
		if err == nil && (j.LeaseOwner != "mgr_a" || !j.LeaseUntil.Equal(t0.Add(50*time.Second))) {
			t.Errorf("lease after UpdateJob = %q until %v", j.LeaseOwner, j.LeaseUntil)
		}
		return err
	})
	// Expired (its holder crashed): taken over.
	if got, err = lease("mgr_b", t0.Add(51*time.Second)); err != nil || got.LeaseOwner != "mgr_b" {
		t.Fatalf("taking over an expired lease = %+v, %v", got, err)
	}
	// The old holder's release leaves the new holder's lease alone; the holder's clears it.
	write(t, s, func(tx store.Tx) error { return jobs(tx).ReleaseJob(ctx(), other.ID, "mgr_a") })
	if _, err = lease("mgr_c", t0.Add(52*time.Second)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("lease after a stale release: %v, want ErrConflict", err)
	}
	write(t, s, func(tx store.Tx) error { return jobs(tx).ReleaseJob(ctx(), other.ID, "mgr_b") })
	read(t, s, func(rt store.ReadTx) error {
		j, err := rt.(store.JobReader).Job(ctx(), other.ID)
		if err == nil && (j.LeaseOwner != "" || !j.LeaseUntil.IsZero()) {
			t.Errorf("released lease = %q until %v", j.LeaseOwner, j.LeaseUntil)
		}
		return err
	})
	if _, err = lease("mgr_c", t0.Add(53*time.Second)); err != nil {
		t.Errorf("lease after release: %v", err)
	}
	// A done job, an unknown job, no owner and an empty period are refused.
	err = s.Tx(ctx(), func(tx store.Tx) error {
		_, err := jobs(tx).LeaseJob(ctx(), done.ID, "mgr_a", t0, t0.Add(time.Minute))
		return err
	})
	wantErr(t, err, store.ErrState)
	err = s.Tx(ctx(), func(tx store.Tx) error {
		_, err := jobs(tx).LeaseJob(ctx(), "job_missing", "mgr_a", t0, t0.Add(time.Minute))
		return err
	})
	wantErr(t, err, store.ErrNotFound)
	for _, bad := range []struct {
		owner      string
		now, until time.Time
	}{{"", t0, t0.Add(time.Minute)}, {"mgr_a", t0, t0}} {
		err = s.Tx(ctx(), func(tx store.Tx) error {
			_, err := jobs(tx).LeaseJob(ctx(), other.ID, bad.owner, bad.now, bad.until)
			return err
		})
		if err == nil {
			t.Errorf("LeaseJob(%q, %v, %v) succeeded", bad.owner, bad.now, bad.until)
		}
	}
}

// RunJobs runs the conformance tests of lifecycle jobs (store.JobWriter) against a
// backend that keeps them; a backend without them skips.
func RunJobs(t *testing.T, open Opener) {
	t.Run("Jobs", func(t *testing.T) { testJobs(t, open(t)) })
}
