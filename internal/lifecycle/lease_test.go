package lifecycle

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// checkLease: two Managers on one database (two processes) resume the same
// unfinished rotation at the same moment; exactly one runs its steps, the other
// gets ErrBusy naming the other process, and the job ends done once. Then a
// lease left by a crashed process is taken over once it has expired, and one
// not yet expired is not.
func checkLease(t *testing.T, e *env) {
	ag := e.provision("lease")[0]
	e.m.failAfter = StepRotateKey
	if _, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator}); err != errInjected {
		t.Fatalf("first run: %v", err)
	}
	e.m.failAfter = ""
	m2, err := New(Config{Store: e.replica(), Keys: e.m.cfg.Keys, Registry: e.m.cfg.Registry, Audit: e.m.cfg.Audit,
		Backend: e.m.cfg.Backend, ChainID: e.m.cfg.ChainID, Relayer: e.m.cfg.Relayer, GasSponsor: e.m.cfg.GasSponsor})
	if err != nil {
		t.Fatal(err)
	}

	// Both start together; whichever takes the lease first holds it (blocked in
	// the hook) until the other has answered.
	type result struct {
		who string
		rep *Report
		err error
	}
	var (
		ran     = make(chan string, 2)
		proceed = make(chan struct{})
		results = make(chan result, 2)
		start   sync.WaitGroup
	)
	start.Add(1)
	for who, m := range map[string]*Manager{"m1": e.m, "m2": m2} {
		m.leased = func(string) { ran <- who; <-proceed }
		go func() {
			start.Wait()
			rep, err := m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator})
			results <- result{who, rep, err}
		}()
	}
	start.Done()
	winner := <-ran
	var loser result
	select {
	case loser = <-results:
	case other := <-ran:
		close(proceed)
		t.Fatalf("%s and %s both run the job's steps", winner, other)
	}
	if loser.who == winner || !errors.Is(loser.err, ErrBusy) || !strings.Contains(loser.err.Error(), "running in another process until") {
		t.Fatalf("%s ran; %s answered %v, want ErrBusy (running in another process)", winner, loser.who, loser.err)
	}
	close(proceed)
	won := <-results
	if won.who != winner || won.err != nil || won.rep.Status != store.JobDone || !won.rep.Resumed {
		t.Fatalf("%s: %v %s", won.who, won.err, mustJSON(won.rep))
	}
	select {
	case who := <-ran:
		t.Fatalf("%s also ran the job's steps", who)
	default:
	}
	e.m.leased, m2.leased = nil, nil
	if n := len(e.keys(ag.Agent.ID)); n != 2 {
		t.Errorf("%d keys after one rotation", n)
	}
	job := e.job(won.rep.JobID)
	if job.LeaseOwner != "" || !job.LeaseUntil.IsZero() {
		t.Errorf("finished job still leased by %q until %v", job.LeaseOwner, job.LeaseUntil)
	}

	// A crashed process's lease: refused while it lasts, taken over once expired.
	e.m.failAfter = StepRotateKey
	if _, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator}); err != errInjected {
		t.Fatalf("second rotation, first run: %v", err)
	}
	e.m.failAfter = ""
	running, err := e.m.Jobs(e.ctx, store.JobFilter{AgentID: ag.Agent.ID, Status: store.JobRunning})
	if err != nil || len(running) != 1 {
		t.Fatalf("running jobs: %v %d", err, len(running))
	}
	id := running[0].JobID
	setLease := func(now time.Time) {
		if err := e.st.Tx(e.ctx, func(tx store.Tx) error {
			_, err := tx.(store.JobWriter).LeaseJob(e.ctx, id, "mgr_crashed", now, now.Add(leaseTTL))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	setLease(time.Now())
	if _, err := m2.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator}); !errors.Is(err, ErrBusy) {
		t.Fatalf("resuming a job another process holds: %v, want ErrBusy", err)
	}
	if j := e.job(id); j.Status != store.JobRunning || j.LeaseOwner != "mgr_crashed" {
		t.Fatalf("refused resume changed the job: %s %q", j.Status, j.LeaseOwner)
	}
	e.m.now = func() time.Time { return time.Now().Add(leaseTTL + time.Second) } // the crashed lease has expired
	rep, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator})
	e.m.now = time.Now
	if err != nil || rep.Status != store.JobDone || !rep.Resumed {
		t.Fatalf("taking over an expired lease: %v %s", err, mustJSON(rep))
	}
	if n := len(e.keys(ag.Agent.ID)); n != 3 {
		t.Errorf("%d keys after two rotations", n)
	}
}

// job reads a job as stored.
func (e *env) job(id string) store.Job {
	e.t.Helper()
	var j store.Job
	if err := e.st.ReadTx(e.ctx, func(rt store.ReadTx) error {
		var err error
		j, err = rt.(store.JobReader).Job(e.ctx, id)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return j
}

// TestLeaseTwoProcesses runs checkLease on one SQLite file opened twice.
func TestLeaseTwoProcesses(t *testing.T) { checkLease(t, newEnv(t)) }

// TestLeaseTakenOver: a Manager whose lease another process took over (it stopped
// renewing in time, e.g. paused) records nothing more: its next step is refused
// with ErrBusy and the job is as the other process left it.
func TestLeaseTakenOver(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("taken")[0]
	e.m.leased = func(id string) {
		later := time.Now().Add(leaseTTL + time.Second) // this Manager's lease has run out by then
		if err := e.st.Tx(e.ctx, func(tx store.Tx) error {
			_, err := tx.(store.JobWriter).LeaseJob(e.ctx, id, "mgr_other", later, later.Add(leaseTTL))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator})
	e.m.leased = nil
	if !errors.Is(err, ErrBusy) || rep == nil {
		t.Fatalf("run after the lease was taken over: %v", err)
	}
	j := e.job(rep.JobID)
	if j.LeaseOwner != "mgr_other" || j.Status != store.JobRunning {
		t.Fatalf("job after takeover: %s leased by %q", j.Status, j.LeaseOwner)
	}
	for _, s := range j.Steps {
		if s.Status != store.StepPending {
			t.Errorf("step %s is %s: recorded without the lease", s.Name, s.Status)
		}
	}
	if n := len(e.keys(ag.Agent.ID)); n != 1 {
		t.Errorf("%d keys: the key step's store writes were kept", n)
	}
	// Once the other process lets go, the job resumes and finishes.
	if err := e.st.Tx(e.ctx, func(tx store.Tx) error { return tx.(store.JobWriter).ReleaseJob(e.ctx, j.ID, "mgr_other") }); err != nil {
		t.Fatal(err)
	}
	rep, err = e.m.Rotate(e.ctx, RotateRequest{AgentID: ag.Agent.ID, Actor: operator})
	if err != nil || rep.Status != store.JobDone || !rep.Resumed {
		t.Fatalf("resume: %v %s", err, mustJSON(rep))
	}
}
