package payments

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
)

// fixedDetector answers every Screen with one verdict (or error) and keeps what
// it observed: the hook's contract, apart from any detector (package anomaly
// tests the real one through this hook).
type fixedDetector struct {
	v        Verdict
	err      error
	screened []Candidate
	observed []Observation
}

func (d *fixedDetector) Screen(_ context.Context, c Candidate) (Verdict, error) {
	d.screened = append(d.screened, c)
	return d.v, d.err
}

func (d *fixedDetector) Observe(_ context.Context, o Observation) { d.observed = append(d.observed, o) }

func detectorEnv(t *testing.T, d Detector) (*env, string) {
	t.Helper()
	e := newEnv(t)
	svc, err := New(Config{Store: e.st, Keys: e.vault, Registry: e.Registry, Audit: e.Audit, Detector: d})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	a := e.provision("", "a1")[0].Agent.ID
	e.putPolicy(store.LevelAgent, a, agentPolicy)
	return e, a
}

func TestDetectorVerdicts(t *testing.T) {
	approval := policy.Approval{Quorum: 1, Approvers: []string{"secops"}, ExpiresAfter: time.Hour}
	for _, tc := range []struct {
		name    string
		v       Verdict
		err     error
		outcome Outcome
		reason  string
	}{
		{"allow", Verdict{}, nil, OutcomeSigned, ""},
		{"deny", Verdict{Action: VerdictDeny, Reason: "anomaly_x", Rule: "anomaly:x"}, nil, OutcomeDenied, "anomaly_x"},
		{"hold", Verdict{Action: VerdictRequireApproval, Reason: "anomaly_y", Rule: "anomaly:y", Approval: approval}, nil, OutcomeHeld, ""},
		// Nobody could approve it: refused, not signed.
		{"hold without approvers", Verdict{Action: VerdictRequireApproval, Reason: "anomaly_y", Rule: "anomaly:y"}, nil, OutcomeDenied, "anomaly_y"},
		// A detector that fails fails the payment (closed).
		{"error", Verdict{}, errors.New("disk on fire"), OutcomeFailed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fixedDetector{v: tc.v, err: tc.err}
			e, agent := detectorEnv(t, d)
			res, err := e.svc.Pay(e.ctx, agent, payReq(t, "k1", requirement("10000")))
			switch tc.outcome {
			case OutcomeSigned:
				if err != nil || res.Value == "" {
					t.Fatalf("%+v, %v", res, err)
				}
			case OutcomeHeld:
				if err != nil || !res.NeedsApproval || len(res.ApprovalIDs) != 1 {
					t.Fatalf("%+v, %v", res, err)
				}
				v, err := e.svc.Approval(e.ctx, res.ApprovalIDs[0])
				if err != nil || v.Approval.Rule != "anomaly:y" {
					t.Fatalf("approval %+v, %v", v.Approval, err)
				}
			case OutcomeDenied:
				var de *DeniedError
				if !errors.As(err, &de) || de.Reason != tc.reason {
					t.Fatalf("error %v, want denial %s", err, tc.reason)
				}
				if len(e.authorizations(agent)) != 0 {
					t.Error("a denied payment left an authorization")
				}
			case OutcomeFailed:
				if err == nil || !strings.Contains(err.Error(), "anomaly detector") || len(e.authorizations(agent)) != 0 {
					t.Fatalf("%+v, %v", res, err)
				}
				if r := e.lastAudit(); r.Action != audit.ActionPaymentFailed {
					t.Errorf("last audit record %s", r.Action)
				}
			}
			if len(d.screened) != 1 || d.screened[0].AgentID != agent || d.screened[0].AmountMicro != 10000 ||
				d.screened[0].PayTo != strings.ToLower(payee) || d.screened[0].Origin != "api.example.com" {
				t.Errorf("screened %+v", d.screened)
			}
			if len(d.observed) != 1 || d.observed[0].Outcome != tc.outcome || d.observed[0].Reason != tc.reason {
				t.Errorf("observed %+v, want outcome %s", d.observed, tc.outcome)
			}
		})
	}
}

func TestDetectorObservesWhatNeverReachesScreen(t *testing.T) {
	d := &fixedDetector{}
	e, agent := detectorEnv(t, d)
	// Denied by policy (above per_payment): observed, not screened.
	_, err := e.svc.Pay(e.ctx, agent, payReq(t, "k1", requirement("90000")))
	if !errors.Is(err, ErrDenied) {
		t.Fatal(err)
	}
	if _, err := e.svc.Pay(e.ctx, agent, payReq(t, "k2", requirement("10000"))); err != nil {
		t.Fatal(err)
	}
	// A replay and a mismatch.
	if _, err := e.svc.Pay(e.ctx, agent, payReq(t, "k2", requirement("10000"))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Pay(e.ctx, agent, payReq(t, "k2", requirement("20000"))); !errors.Is(err, store.ErrIdempotencyMismatch) {
		t.Fatal(err)
	}
	var got []Outcome
	for _, o := range d.observed {
		got = append(got, o.Outcome)
	}
	want := []Outcome{OutcomeDenied, OutcomeSigned, OutcomeReplayed, OutcomeMismatch}
	if len(got) != len(want) || len(d.screened) != 1 {
		t.Fatalf("observed %v (screened %d), want %v", got, len(d.screened), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("observed %v, want %v", got, want)
		}
	}
	if d.observed[0].Reason != string(policy.ReasonAbovePerPayment) || d.observed[0].PayTo != "" {
		t.Errorf("policy denial observed as %+v", d.observed[0])
	}
}
