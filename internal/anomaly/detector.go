package anomaly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
)

// Audit actions of the detector. Every signal is an anomaly.signal record (with
// the action taken and the alert it opened, if any); a response that changes what
// agents may do is an anomaly.response record; acknowledging an alert is
// anomaly.ack. Freezing an agent also appends agent.status, as an operator's
// freeze does.
const (
	ActionSignal   = "anomaly.signal"
	ActionResponse = "anomaly.response"
	ActionAck      = "anomaly.ack"
)

// Reason codes of payments the detector refuses (payments.DeniedError.Reason).
const (
	ReasonPayeeBlocked = "anomaly_payee_blocked"
	ReasonAgentFrozen  = "anomaly_agent_frozen"
	// ReasonNoApprovers: a payment to hold for approval with no approvers
	// configured is refused instead.
	ReasonNoApprovers = "anomaly_no_approvers"
)

// stateKey is the key the detector's state is saved under.
const stateKey = "anomaly/detector/v1"

// ErrNoAnomalyStore is returned by New for a store without anomaly storage.
var ErrNoAnomalyStore = errors.New("anomaly: the store has no anomaly storage (store.AnomalyTx)")

type runtimeKey struct{}

// WithRuntime returns a context naming the agent runtime a request comes from
// (for example a hash of the client address and the SDK's instance id); the
// second-runtime detector compares it with the runtime the agent pays from.
// Requests without one are not judged by that detector.
func WithRuntime(ctx context.Context, runtime string) context.Context {
	return context.WithValue(ctx, runtimeKey{}, runtime)
}

func runtimeFrom(ctx context.Context) string {
	r, _ := ctx.Value(runtimeKey{}).(string)
	return r
}

// Detector is the streaming anomaly detector: it screens payments on the signing
// path (payments.Detector), keeps per-agent and per-fleet state in memory at
// constant cost per payment, saves it in the background and restores it at New
// (replaying the audit records after the saved state), and takes the configured
// response to every signal. It is safe for concurrent use.
type Detector struct {
	cfg Config
	th  Thresholds
	now func() time.Time

	mu     sync.Mutex
	agents map[string]*agentState
	fleets map[string]*fleetState
	// Responses in force, from open alerts: agents held for approval and blocked
	// payees ("fleet|payee"), each with the ids of the alerts that hold them; and
	// the open alert per dedup key, so a signal already alerted is only recorded.
	approval   map[string]map[string]bool
	blocked    map[string]map[string]bool
	open       map[string]string
	openAlerts map[string]store.Alert
	dirty      bool

	flushMu sync.Mutex
	stop    chan struct{}
	done    chan struct{}
	closed  bool
}

var _ payments.Detector = (*Detector)(nil)

// savedState is the saved form of the detector's state.
type savedState struct {
	Agents map[string]*agentState `json:"agents"`
	Fleets map[string]*fleetState `json:"fleets"`
}

// New restores the detector's state from the store (the saved state, then every
// audit record after it) and starts the background saver.
func New(ctx context.Context, cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg, th: cfg.Thresholds.withDefaults(), now: cfg.Now,
		agents: map[string]*agentState{}, fleets: map[string]*fleetState{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if d.now == nil {
		d.now = time.Now
	}
	if err := d.restore(ctx); err != nil {
		return nil, err
	}
	if err := d.reloadOpen(ctx); err != nil {
		return nil, err
	}
	every := cfg.FlushEvery
	if every == 0 {
		every = 5 * time.Second
	}
	if every < 0 {
		close(d.done)
		return d, nil
	}
	go d.saver(every)
	return d, nil
}

func (d *Detector) saver(every time.Duration) {
	defer close(d.done)
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-tk.C:
			// Errors are retried at the next tick; Close reports the last one.
			ctx := context.Background()
			_ = d.Flush(ctx)
			// Alerts acknowledged by another process (fleetkey alerts ack) lift
			// their responses here.
			_ = d.reloadOpen(ctx)
		}
	}
}

// Close stops the background saver and saves the state.
func (d *Detector) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	close(d.stop)
	<-d.done
	return d.Flush(ctx)
}

// Flush saves the state if it changed. The saved state names the audit head it
// covers: every outcome it learned from was recorded at or before that head (the
// payments service records before it calls Observe), so a restart replays the
// records after it. Outcomes recorded but not yet observed at the moment of the
// save are the only ones a crash can lose.
func (d *Detector) Flush(ctx context.Context) error {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	d.mu.Lock()
	if !d.dirty {
		d.mu.Unlock()
		return nil
	}
	var seq uint64
	err := d.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		h, err := rt.AuditHead(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		seq = h.Seq
		return err
	})
	if err != nil {
		d.mu.Unlock()
		return fmt.Errorf("anomaly: save state: %w", err)
	}
	data, err := json.Marshal(savedState{Agents: d.agents, Fleets: d.fleets})
	d.dirty = false
	d.mu.Unlock()
	if err != nil {
		return fmt.Errorf("anomaly: save state: %w", err)
	}
	err = d.cfg.Store.Tx(ctx, func(tx store.Tx) error {
		at, ok := tx.(store.AnomalyTx)
		if !ok {
			return ErrNoAnomalyStore
		}
		return at.PutAnomalyState(ctx, stateKey, data, seq, d.now())
	})
	if err != nil {
		d.mu.Lock()
		d.dirty = true
		d.mu.Unlock()
		return fmt.Errorf("anomaly: save state: %w", err)
	}
	return nil
}

// restore loads the saved state and replays the audit records after it.
func (d *Detector) restore(ctx context.Context) error {
	var (
		data []byte
		seq  uint64
	)
	err := d.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		ar, ok := rt.(store.AnomalyReadTx)
		if !ok {
			return ErrNoAnomalyStore
		}
		var err error
		data, seq, err = ar.AnomalyState(ctx, stateKey)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("anomaly: restore state: %w", err)
	}
	if len(data) > 0 {
		var s savedState
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("anomaly: restore state: %w", err)
		}
		for id, a := range s.Agents {
			d.agents[id] = d.fixAgent(a)
		}
		for id, f := range s.Fleets {
			d.fleets[id] = fixFleet(f)
		}
	}
	for {
		var recs []store.AuditRecord
		err := d.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) (err error) {
			recs, err = rt.AuditRecords(ctx, seq, 1000)
			return err
		})
		if err != nil {
			return fmt.Errorf("anomaly: replay audit: %w", err)
		}
		if len(recs) == 0 {
			return nil
		}
		for _, r := range recs {
			if r.Action == ActionAck {
				var al store.Alert
				var data struct {
					FleetID string `json:"fleet_id"`
					AgentID string `json:"agent_id"`
					PayTo   string `json:"pay_to"`
				}
				if json.Unmarshal(r.Data, &data) == nil {
					al.FleetID, al.AgentID, al.PayTo = data.FleetID, data.AgentID, data.PayTo
					d.vouch(al)
				}
			}
			if o, fleet, ok := observationOf(r); ok {
				d.apply(o, fleet, "")
				d.dirty = true
			}
			seq = r.Seq
		}
	}
}

// fixAgent makes a restored agent's rings the configured size (thresholds may
// have changed since it was saved).
func (d *Detector) fixAgent(a *agentState) *agentState {
	fresh := newAgentState(d.th, a.Fleet, time.Unix(0, a.First))
	if a.Payees == nil {
		a.Payees = fresh.Payees
	}
	if a.Origins == nil {
		a.Origins = fresh.Origins
	}
	for _, r := range []struct{ got, want *ring }{{&a.Attempts, &fresh.Attempts}, {&a.Denials, &fresh.Denials}, {&a.Replays, &fresh.Replays}, {&a.Near, &fresh.Near}} {
		if len(r.got.T) != len(r.want.T) || r.got.P >= len(r.got.T) {
			*r.got = *r.want
		}
	}
	if len(a.Recent.T) != len(fresh.Recent.T) || len(a.Recent.K) != len(a.Recent.T) || a.Recent.P >= len(a.Recent.T) {
		a.Recent = fresh.Recent
	}
	return a
}

func fixFleet(f *fleetState) *fleetState {
	if f.Known == nil {
		f.Known = map[string]uint32{}
	}
	if f.Pending == nil {
		f.Pending = map[string]*spread{}
	}
	if f.Rush == nil {
		f.Rush = map[string]*rush{}
	}
	return f
}

// observationOf maps an audit record written by the payments service for an
// agent's request to the observation Observe heard for it.
func observationOf(r store.AuditRecord) (payments.Observation, string, bool) {
	agentID, ok := strings.CutPrefix(r.Actor, "agent:")
	if !ok {
		return payments.Observation{}, "", false
	}
	var data struct {
		FleetID     string `json:"fleet_id"`
		PayTo       string `json:"pay_to"`
		AmountMicro int64  `json:"amount_micro"`
		ResourceURL string `json:"resource_url"`
		Reason      string `json:"reason"`
		Error       string `json:"error"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		return payments.Observation{}, "", false
	}
	o := payments.Observation{AgentID: agentID, At: r.Time, PayTo: strings.ToLower(data.PayTo), AmountMicro: data.AmountMicro,
		ResourceURL: data.ResourceURL, Origin: originOf(data.ResourceURL), Reason: data.Reason}
	switch r.Action {
	case audit.ActionPaymentSigned:
		o.Outcome = payments.OutcomeSigned
	case audit.ActionApprovalCreated:
		o.Outcome = payments.OutcomeHeld
	case audit.ActionPaymentDenied:
		o.Outcome = payments.OutcomeDenied
	case payments.ActionPaymentReplayed:
		o.Outcome = payments.OutcomeReplayed
	case audit.ActionPaymentFailed:
		o.Outcome = payments.OutcomeFailed
		if strings.Contains(data.Error, store.ErrIdempotencyMismatch.Error()) {
			o.Outcome = payments.OutcomeMismatch
		}
	default:
		return payments.Observation{}, "", false
	}
	return o, data.FleetID, true
}

func originOf(raw string) string {
	if raw == "" {
		return ""
	}
	return strings.SplitN(resourceKey(raw), "/", 2)[0]
}

// agent returns the state of an agent, creating it. Called with d.mu held.
func (d *Detector) agent(id, fleet string, at time.Time) (*agentState, *fleetState) {
	a := d.agents[id]
	if a == nil {
		a = newAgentState(d.th, fleet, at)
		d.agents[id] = a
		if fleet != "" {
			d.fleet(fleet, at).Agents++
		}
	} else if a.Fleet == "" && fleet != "" {
		a.Fleet = fleet
		d.fleet(fleet, at).Agents++
	}
	if a.Fleet == "" {
		return a, nil
	}
	return a, d.fleet(a.Fleet, at)
}

func (d *Detector) fleet(id string, at time.Time) *fleetState {
	f := d.fleets[id]
	if f == nil {
		f = newFleetState(at)
		d.fleets[id] = f
	}
	return f
}

// apply learns one observation. Called with d.mu held (or during restore).
func (d *Detector) apply(o payments.Observation, fleet, runtime string) {
	a, f := d.agent(o.AgentID, fleet, o.At)
	d.learn(a, f, o, runtime)
}

// Screen implements payments.Detector: it refuses a blocked payee, holds the
// payments of an agent under a require-approval response, runs every detector and
// takes the configured response to what they find.
func (d *Detector) Screen(ctx context.Context, c payments.Candidate) (payments.Verdict, error) {
	runtime := runtimeFrom(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	a, f := d.agent(c.AgentID, c.FleetID, c.At)
	d.dirty = true
	findings := d.judge(a, f, c, runtime)
	var v payments.Verdict
	if len(findings) > 0 {
		var err error
		if v, err = d.respond(ctx, c.FleetID, c.AgentID, findings); err != nil {
			return payments.Verdict{}, err
		}
	}
	if v.Action != payments.VerdictDeny && len(d.blocked[c.FleetID+"|"+c.PayTo]) > 0 {
		v = payments.Verdict{Action: payments.VerdictDeny, Reason: ReasonPayeeBlocked, Rule: "anomaly:" + string(SignalPayeeSpread)}
	}
	if v.Action == payments.VerdictAllow && len(d.approval[c.AgentID]) > 0 {
		v = d.hold("approval_required")
	}
	return v, nil
}

// hold is the verdict that sends a payment to the configured approvers.
func (d *Detector) hold(rule string) payments.Verdict {
	if len(d.cfg.Approvers) == 0 {
		return payments.Verdict{Action: payments.VerdictDeny, Reason: ReasonNoApprovers, Rule: "anomaly:" + rule}
	}
	return payments.Verdict{Action: payments.VerdictRequireApproval, Reason: "anomaly_" + rule, Rule: "anomaly:" + rule,
		Approval: policy.Approval{Level: policy.Fleet, Quorum: d.cfg.Quorum, Approvers: slices.Clone(d.cfg.Approvers),
			ExpiresAfter: d.cfg.ApprovalExpiresAfter, Rule: "anomaly:" + rule}}
}

// Observe implements payments.Detector: it learns the outcome and, for denials
// and replays (which never reach Screen), runs the burst detectors.
func (d *Detector) Observe(ctx context.Context, o payments.Observation) {
	runtime := runtimeFrom(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	a, _ := d.agent(o.AgentID, "", o.At)
	d.apply(o, "", runtime)
	d.dirty = true
	var findings []finding
	switch o.Outcome {
	case payments.OutcomeDenied:
		n := a.Denials.since(o.At.Add(-d.th.DenialWindow))
		switch {
		case n >= d.th.DenialHigh:
			findings = append(findings, finding{Signal: SignalDenialBurst, Severity: High, Detail: map[string]any{"denials": n, "window": d.th.DenialWindow.String()}})
		case n >= d.th.DenialMedium:
			findings = append(findings, finding{Signal: SignalDenialBurst, Severity: Medium, Detail: map[string]any{"denials": n, "window": d.th.DenialWindow.String()}})
		}
	case payments.OutcomeReplayed, payments.OutcomeMismatch:
		if n := a.Replays.since(o.At.Add(-d.th.ReplayWindow)); n >= d.th.ReplayCount {
			findings = append(findings, finding{Signal: SignalReplayBurst, Severity: Medium, Detail: map[string]any{"replays": n, "window": d.th.ReplayWindow.String()}})
		}
	}
	if len(findings) > 0 {
		// The outcome is decided already; the response applies to what follows. A
		// failure to record it is retried by the next burst.
		_, _ = d.respond(ctx, a.Fleet, o.AgentID, findings)
	}
}

// respond records the findings and takes their responses in one transaction,
// then updates the responses in force and notifies. Called with d.mu held.
func (d *Detector) respond(ctx context.Context, fleetID, agentID string, fs []finding) (payments.Verdict, error) {
	type taken struct {
		f      finding
		action Action
		key    string
		alert  store.Alert
	}
	var (
		actions []taken
		created []store.Alert
		froze   bool
	)
	now := d.now().UTC()
	err := d.cfg.Store.Tx(ctx, func(tx store.Tx) error {
		actions, created, froze = actions[:0], created[:0], false
		atx, ok := tx.(store.AnomalyTx)
		if !ok {
			return ErrNoAnomalyStore
		}
		if fleetID == "" && agentID != "" {
			// An agent whose requests never reached Screen (all refused by policy).
			ag, err := tx.Agent(ctx, agentID)
			if err != nil {
				return err
			}
			fleetID = ag.FleetID
		}
		for _, f := range fs {
			act := d.cfg.response(f.Signal, f.Severity)
			if act == BlockPayee && f.PayTo == "" {
				act = Alert
			}
			tk := taken{f: f, action: act, key: dedupKey(fleetID, agentID, f)}
			data := map[string]any{"signal": string(f.Signal), "severity": string(f.Severity), "action": string(act),
				"fleet_id": fleetID, "agent_id": agentID, "pay_to": f.PayTo, "detail": f.Detail}
			if act.rank() >= Alert.rank() {
				if id, dup := d.open[tk.key]; dup {
					data["alert_id"], data["duplicate"] = id, true
				} else {
					detail, err := json.Marshal(f.Detail)
					if err != nil {
						return err
					}
					agent := agentID
					if fleetSignals[f.Signal] {
						agent = ""
					}
					al, err := atx.CreateAlert(ctx, store.Alert{FleetID: fleetID, AgentID: agent, PayTo: f.PayTo, Signal: string(f.Signal),
						Severity: string(f.Severity), Action: string(act), Detail: string(detail), CreatedAt: now})
					if err != nil {
						return err
					}
					tk.alert = al
					created = append(created, al)
					data["alert_id"] = al.ID
				}
			}
			subject := agentID
			if subject == "" {
				subject = fleetID
			}
			if _, err := d.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: ActionSignal, Subject: subject, Data: data}); err != nil {
				return err
			}
			if act == FreezeAgent && !froze && agentID != "" {
				ag, err := tx.Agent(ctx, agentID)
				if err != nil {
					return err
				}
				if ag.Status == store.AgentActive {
					if _, err := tx.SetAgentStatus(ctx, agentID, store.AgentFrozen, now); err != nil {
						return err
					}
					if _, err := d.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: audit.ActionAgentStatus, Subject: agentID,
						Data: map[string]any{"from": string(ag.Status), "to": string(store.AgentFrozen), "signal": string(f.Signal)}}); err != nil {
						return err
					}
				}
				froze = true
			}
			if tk.alert.ID != "" && act.rank() >= RequireApproval.rank() {
				if _, err := d.cfg.Audit.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: ActionResponse, Subject: subject,
					Data: map[string]any{"action": string(act), "alert_id": tk.alert.ID, "fleet_id": fleetID, "agent_id": agentID, "pay_to": f.PayTo, "signal": string(f.Signal)}}); err != nil {
					return err
				}
			}
			actions = append(actions, tk)
		}
		return nil
	})
	if err != nil {
		return payments.Verdict{}, fmt.Errorf("anomaly: respond: %w", err)
	}
	var v payments.Verdict
	strongest := -1
	for _, tk := range actions {
		if tk.alert.ID != "" {
			d.track(tk.alert, tk.key)
		}
		if r := tk.action.rank(); r > strongest && r >= RequireApproval.rank() {
			strongest = r
			switch tk.action {
			case RequireApproval:
				v = d.hold(string(tk.f.Signal))
			case FreezeAgent:
				v = payments.Verdict{Action: payments.VerdictDeny, Reason: ReasonAgentFrozen, Rule: "anomaly:" + string(tk.f.Signal)}
			case BlockPayee:
				v = payments.Verdict{Action: payments.VerdictDeny, Reason: ReasonPayeeBlocked, Rule: "anomaly:" + string(tk.f.Signal)}
			}
		}
	}
	for _, al := range created {
		for _, n := range d.cfg.Notifiers {
			n.Notify(al)
		}
	}
	return v, nil
}

// dedupKey names what an open alert covers: one per agent, signal, severity and
// payee (so an escalation is a new alert), and one per fleet, signal and payee or
// resource for a fleet-wide signal (per bucket for a spend spike).
func dedupKey(fleetID, agentID string, f finding) string {
	switch f.Signal {
	case SignalPayeeSpread:
		return fleetID + "|" + string(f.Signal) + "|" + f.PayTo
	case SignalResourceRush:
		return fleetID + "|" + string(f.Signal) + "|" + fmt.Sprint(f.Detail["resource"])
	case SignalFleetSpend:
		return fleetID + "|" + string(f.Signal) + "|" + fmt.Sprint(f.Detail["bucket"])
	}
	return fleetID + "|" + agentID + "|" + string(f.Signal) + "|" + string(f.Severity) + "|" + f.PayTo
}

// track puts an open alert's response in force. Called with d.mu held.
func (d *Detector) track(al store.Alert, key string) {
	if d.open == nil {
		d.open = map[string]string{}
	}
	if key != "" {
		d.open[key] = al.ID
	}
	if d.openAlerts == nil {
		d.openAlerts = map[string]store.Alert{}
	}
	d.openAlerts[al.ID] = al
	add := func(m *map[string]map[string]bool, k string) {
		if *m == nil {
			*m = map[string]map[string]bool{}
		}
		if (*m)[k] == nil {
			(*m)[k] = map[string]bool{}
		}
		(*m)[k][al.ID] = true
	}
	switch Action(al.Action) {
	case RequireApproval:
		if al.AgentID != "" {
			add(&d.approval, al.AgentID)
		}
	case BlockPayee:
		if al.PayTo != "" {
			add(&d.blocked, al.FleetID+"|"+al.PayTo)
		}
	}
}

// vouch makes an acknowledged alert's payee known to its agent and fleet: the
// operator who acknowledged it vouched for it, and it is not raised again.
// Called with d.mu held.
func (d *Detector) vouch(al store.Alert) {
	if al.PayTo == "" {
		return
	}
	if f := d.fleets[al.FleetID]; f != nil {
		f.Known[al.PayTo]++
		delete(f.Pending, al.PayTo)
	}
	if a := d.agents[al.AgentID]; a != nil {
		a.Payees[al.PayTo]++
	}
	d.dirty = true
}

// reloadOpen rebuilds the responses in force from the open alerts.
func (d *Detector) reloadOpen(ctx context.Context) error {
	var open []store.Alert
	err := d.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		ar, ok := rt.(store.AnomalyReadTx)
		if !ok {
			return ErrNoAnomalyStore
		}
		var err error
		open, err = ar.Alerts(ctx, store.AlertFilter{Status: store.AlertOpen})
		return err
	})
	if err != nil {
		return fmt.Errorf("anomaly: open alerts: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	still := make(map[string]bool, len(open))
	for _, al := range open {
		still[al.ID] = true
	}
	for id, al := range d.openAlerts {
		if !still[id] {
			d.vouch(al)
		}
	}
	d.approval, d.blocked, d.open, d.openAlerts = nil, nil, nil, nil
	for _, al := range open {
		var detail map[string]any
		_ = json.Unmarshal([]byte(al.Detail), &detail)
		d.track(al, dedupKey(al.FleetID, al.AgentID, finding{Signal: Signal(al.Signal), Severity: Severity(al.Severity), PayTo: al.PayTo, Detail: detail}))
	}
	return nil
}

// Ack acknowledges an alert for an operator (actor is an audit actor such as
// audit.OperatorActor(id)) and lifts its response: an agent held for approval by
// it pays again without, a payee blocked by it is paid again, and the alert's
// payee counts as known to its agent and fleet from then on (the operator vouched
// for it). A frozen agent stays frozen until an operator unfreezes it.
func (d *Detector) Ack(ctx context.Context, alertID, actor string) (store.Alert, error) {
	al, err := AckAlert(ctx, d.cfg.Store, d.cfg.Audit, alertID, actor, d.now())
	if err != nil {
		return al, err
	}
	return al, d.reloadOpen(ctx)
}

// AckAlert acknowledges an alert in the store and records anomaly.ack, without a
// running Detector (a running one lifts the response at its next reload).
func AckAlert(ctx context.Context, st store.Store, log *audit.Log, alertID, actor string, at time.Time) (store.Alert, error) {
	var out store.Alert
	err := st.Tx(ctx, func(tx store.Tx) error {
		atx, ok := tx.(store.AnomalyTx)
		if !ok {
			return ErrNoAnomalyStore
		}
		prev, err := atx.Alert(ctx, alertID)
		if err != nil {
			return err
		}
		if out, err = atx.AckAlert(ctx, alertID, actor, at); err != nil {
			return err
		}
		if prev.Status == store.AlertAcked {
			return nil
		}
		_, err = log.Append(ctx, tx, audit.Entry{Actor: actor, Action: ActionAck, Subject: alertID,
			Data: map[string]any{"signal": out.Signal, "action": out.Action, "fleet_id": out.FleetID, "agent_id": out.AgentID, "pay_to": out.PayTo}})
		return err
	})
	return out, err
}

// Alerts lists alerts newest first.
func Alerts(ctx context.Context, st store.Store, f store.AlertFilter) ([]store.Alert, error) {
	var out []store.Alert
	err := st.ReadTx(ctx, func(rt store.ReadTx) error {
		ar, ok := rt.(store.AnomalyReadTx)
		if !ok {
			return ErrNoAnomalyStore
		}
		var err error
		out, err = ar.Alerts(ctx, f)
		return err
	})
	return out, err
}

// Alerts lists the store's alerts, newest first (for the HTTP API).
func (d *Detector) Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	return Alerts(ctx, d.cfg.Store, f)
}
