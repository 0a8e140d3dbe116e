package anomaly

import (
	"errors"
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/store"
)

// Signal names what a detector saw.
type Signal string

// Per-agent signals.
const (
	// SignalAmountOutlier: an amount far above the agent's own (log-amount EWMA
	// with variance, and twice its decayed maximum).
	SignalAmountOutlier Signal = "amount_outlier"
	// SignalSpendRate: the agent's spend this hour far above its active-hour
	// baseline.
	SignalSpendRate Signal = "spend_rate"
	// SignalRequestRate: the agent's requests in a ten-minute bucket far above its
	// baseline (medium), or a runaway count within one minute (high).
	SignalRequestRate Signal = "request_rate"
	// SignalRepeat: the same payment (payee, resource, amount) repeated within a
	// short window: a loop, or a captured request replayed under fresh keys.
	SignalRepeat Signal = "repeat_payment"
	// SignalNewPayee: a payee the agent never paid (low), or one nobody in the
	// fleet ever paid (medium).
	SignalNewPayee Signal = "new_payee"
	// SignalNewOrigin: a resource origin the agent never paid.
	SignalNewOrigin Signal = "new_origin"
	// SignalDenialBurst: many denials in a short window (probing, a prompt-injected
	// loop).
	SignalDenialBurst Signal = "denial_burst"
	// SignalReplayBurst: requests answered from an earlier idempotency key, or
	// reusing one for another payment, several times in a short window.
	SignalReplayBurst Signal = "replay_burst"
	// SignalUnusualHour: activity in an hour of the day the agent is not active in.
	SignalUnusualHour Signal = "unusual_hour"
	// SignalNearLimit: repeated payments just under the per-payment limit.
	SignalNearLimit Signal = "near_limit"
	// SignalSecondRuntime: the agent's credential used from a second runtime while
	// the first is active (high), or a runtime replaced after a pause (low).
	SignalSecondRuntime Signal = "second_runtime"
)

// Fleet-wide signals.
const (
	// SignalPayeeSpread: a payee new to the fleet tried by several agents within a
	// window (a compromised dependency).
	SignalPayeeSpread Signal = "payee_spread"
	// SignalFleetSpend: the fleet's spend in a ten-minute bucket far above its
	// baseline.
	SignalFleetSpend Signal = "fleet_spend_spike"
	// SignalResourceRush: many agents paying the same resource within one minute.
	SignalResourceRush Signal = "resource_rush"
)

// Severity grades a signal.
type Severity string

// Severities, weakest first.
const (
	Low    Severity = "low"
	Medium Severity = "medium"
	High   Severity = "high"
)

// Action is a response to a signal. Every action records the signal in the audit
// log; each one after Record also stores an alert. BlockPayee needs a payee: for a
// signal that names none it is an alert.
type Action string

// Actions, weakest first.
const (
	// Record only writes the anomaly.signal audit record.
	Record Action = "record"
	// Alert stores an alert (fleetkey alerts list) and sends it to the webhook.
	Alert Action = "alert"
	// RequireApproval holds this and every later payment of the agent for approval
	// until the alert is acknowledged.
	RequireApproval Action = "require_approval"
	// FreezeAgent freezes the agent (an operator unfreezes it).
	FreezeAgent Action = "freeze_agent"
	// BlockPayee refuses the payee to every agent of the fleet until the alert is
	// acknowledged.
	BlockPayee Action = "block_payee"
)

func (a Action) rank() int {
	switch a {
	case Alert:
		return 1
	case RequireApproval:
		return 2
	case FreezeAgent:
		return 3
	case BlockPayee:
		return 4
	}
	return 0
}

func (a Action) valid() bool { return a == Record || a.rank() > 0 }

func (s Severity) valid() bool { return s == Low || s == Medium || s == High }

// Responses maps a signal and a severity to the action taken. A pair it does not
// name is recorded only.
type Responses map[Signal]map[Severity]Action

// DefaultResponses is the response table used for every pair Config.Responses
// does not name.
func DefaultResponses() Responses {
	return Responses{
		SignalAmountOutlier: {Medium: RequireApproval, High: RequireApproval},
		SignalSpendRate:     {Medium: RequireApproval},
		SignalRequestRate:   {Medium: Alert, High: FreezeAgent},
		SignalRepeat:        {High: FreezeAgent},
		SignalNewPayee:      {Low: Record, Medium: RequireApproval},
		SignalNewOrigin:     {Low: Record},
		SignalDenialBurst:   {Medium: Alert, High: FreezeAgent},
		SignalReplayBurst:   {Medium: RequireApproval},
		SignalUnusualHour:   {Low: Record},
		SignalNearLimit:     {Medium: RequireApproval},
		SignalSecondRuntime: {Low: Record, High: RequireApproval},
		SignalPayeeSpread:   {High: BlockPayee},
		SignalFleetSpend:    {Medium: Alert},
		SignalResourceRush:  {Medium: Alert},
	}
}

var fleetSignals = map[Signal]bool{SignalPayeeSpread: true, SignalFleetSpend: true, SignalResourceRush: true}

var defaultResponses = DefaultResponses()

func knownSignal(s Signal) bool { _, ok := defaultResponses[s]; return ok }

// Thresholds tune the detectors. A zero field takes its default (see
// DefaultThresholds).
type Thresholds struct {
	// MinHistory payments learned and Warmup elapsed since its first request
	// before an agent's own baselines judge it; FleetMinHistory and FleetWarmup
	// for the fleet's (longer: a fleet's regular merchants include some that are
	// paid only now and then).
	MinHistory      int
	FleetMinHistory int
	Warmup          time.Duration
	FleetWarmup     time.Duration
	// Alpha is the EWMA weight of a new sample.
	Alpha float64
	// OutlierZ is how many standard deviations above its log-amount mean an amount
	// must be (and above OutlierFactor times the agent's decayed maximum).
	OutlierZ      float64
	OutlierFactor float64
	// RateZ and RateMinCount: a ten-minute request count above mean+RateZ·σ of the
	// agent's active buckets and at least RateMinCount; spend per hour likewise and
	// above SpendFactor times the mean.
	RateZ        float64
	RateMinCount int
	SpendFactor  float64
	// RunawayPerMinute requests within one minute are a runaway.
	RunawayPerMinute int
	// RepeatCount identical payments within RepeatWindow.
	RepeatCount  int
	RepeatWindow time.Duration
	// DenialMedium and DenialHigh denials within DenialWindow.
	DenialMedium int
	DenialHigh   int
	DenialWindow time.Duration
	// ReplayCount replays or idempotency mismatches within ReplayWindow.
	ReplayCount  int
	ReplayWindow time.Duration
	// UnusualHourShare: an hour (with its neighbours) holding less than this share
	// of the agent's activity, once it has UnusualMinHistory payments.
	UnusualHourShare  float64
	UnusualMinHistory int
	// NearLimitFraction of Config.PerPaymentLimit and above is near the limit;
	// NearLimitCount such payments within NearLimitWindow is a signal.
	NearLimitFraction float64
	NearLimitCount    int
	NearLimitWindow   time.Duration
	// RuntimeOverlap: a second runtime appearing while the first was seen within
	// this long is concurrent use.
	RuntimeOverlap time.Duration
	// SpreadAgents distinct agents trying one payee new to the fleet within
	// SpreadWindow.
	SpreadAgents int
	SpreadWindow time.Duration
	// RushAgents distinct agents (and RushShare of the fleet's agents) paying one
	// resource within a minute.
	RushAgents int
	RushShare  float64
	// FleetSpendZ and FleetSpendFactor judge the fleet's ten-minute spend.
	FleetSpendZ      float64
	FleetSpendFactor float64
}

// DefaultThresholds returns the thresholds used for zero fields.
func DefaultThresholds() Thresholds {
	return Thresholds{
		MinHistory: 20, FleetMinHistory: 200, Warmup: 24 * time.Hour, FleetWarmup: 48 * time.Hour, Alpha: 0.05,
		OutlierZ: 4.5, OutlierFactor: 3, RateZ: 6, RateMinCount: 12, SpendFactor: 8,
		RunawayPerMinute: 15, RepeatCount: 3, RepeatWindow: 2 * time.Minute,
		DenialMedium: 5, DenialHigh: 10, DenialWindow: 10 * time.Minute,
		ReplayCount: 3, ReplayWindow: 10 * time.Minute,
		UnusualHourShare: 0.005, UnusualMinHistory: 100,
		NearLimitFraction: 0.9, NearLimitCount: 3, NearLimitWindow: 24 * time.Hour,
		RuntimeOverlap: time.Hour, SpreadAgents: 3, SpreadWindow: time.Hour,
		RushAgents: 10, RushShare: 0.25, FleetSpendZ: 10, FleetSpendFactor: 8,
	}
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds()
	setI := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setI(&t.MinHistory, d.MinHistory)
	setI(&t.FleetMinHistory, d.FleetMinHistory)
	setD(&t.Warmup, d.Warmup)
	setD(&t.FleetWarmup, d.FleetWarmup)
	setF(&t.Alpha, d.Alpha)
	setF(&t.OutlierZ, d.OutlierZ)
	setF(&t.OutlierFactor, d.OutlierFactor)
	setF(&t.RateZ, d.RateZ)
	setI(&t.RateMinCount, d.RateMinCount)
	setF(&t.SpendFactor, d.SpendFactor)
	setI(&t.RunawayPerMinute, d.RunawayPerMinute)
	setI(&t.RepeatCount, d.RepeatCount)
	setD(&t.RepeatWindow, d.RepeatWindow)
	setI(&t.DenialMedium, d.DenialMedium)
	setI(&t.DenialHigh, d.DenialHigh)
	setD(&t.DenialWindow, d.DenialWindow)
	setI(&t.ReplayCount, d.ReplayCount)
	setD(&t.ReplayWindow, d.ReplayWindow)
	setF(&t.UnusualHourShare, d.UnusualHourShare)
	setI(&t.UnusualMinHistory, d.UnusualMinHistory)
	setF(&t.NearLimitFraction, d.NearLimitFraction)
	setI(&t.NearLimitCount, d.NearLimitCount)
	setD(&t.NearLimitWindow, d.NearLimitWindow)
	setD(&t.RuntimeOverlap, d.RuntimeOverlap)
	setI(&t.SpreadAgents, d.SpreadAgents)
	setD(&t.SpreadWindow, d.SpreadWindow)
	setI(&t.RushAgents, d.RushAgents)
	setF(&t.RushShare, d.RushShare)
	setF(&t.FleetSpendZ, d.FleetSpendZ)
	setF(&t.FleetSpendFactor, d.FleetSpendFactor)
	return t
}

// maxRing bounds the count thresholds: each is kept in a ring of that size.
const maxRing = 32

func (t Thresholds) validate() error {
	switch {
	case t.MinHistory < 0 || t.FleetMinHistory < 0 || t.Warmup < 0 || t.FleetWarmup < 0:
		return errors.New("anomaly: negative warm-up")
	case t.Alpha <= 0 || t.Alpha >= 1:
		return fmt.Errorf("anomaly: alpha %v is not in (0, 1)", t.Alpha)
	case t.NearLimitFraction <= 0 || t.NearLimitFraction >= 1:
		return fmt.Errorf("anomaly: near-limit fraction %v is not in (0, 1)", t.NearLimitFraction)
	case t.UnusualHourShare < 0 || t.UnusualHourShare >= 1 || t.RushShare < 0 || t.RushShare > 1:
		return errors.New("anomaly: a share is not in [0, 1)")
	}
	for name, n := range map[string]int{"runaway_per_minute": t.RunawayPerMinute, "repeat_count": t.RepeatCount,
		"denial_high": t.DenialHigh, "replay_count": t.ReplayCount, "near_limit_count": t.NearLimitCount, "spread_agents": t.SpreadAgents} {
		if n < 1 || n > maxRing {
			return fmt.Errorf("anomaly: %s %d is not in [1, %d]", name, n, maxRing)
		}
	}
	if t.DenialMedium < 1 || t.DenialMedium > t.DenialHigh {
		return fmt.Errorf("anomaly: denial_medium %d is not in [1, denial_high]", t.DenialMedium)
	}
	return nil
}

// Notifier hears every alert once it is stored. *Webhook implements it.
type Notifier interface {
	Notify(a store.Alert)
}

// Config configures a Detector. Store and Audit are required.
type Config struct {
	Store store.Store
	Audit *audit.Log
	// Now is the clock of the detector's own records (default time.Now); signals
	// are judged at the payment's time.
	Now func() time.Time
	// Responses overrides DefaultResponses pair by pair.
	Responses  Responses
	Thresholds Thresholds
	// PerPaymentLimit (micro-units) is the limit SignalNearLimit watches; 0 turns
	// that detector off.
	PerPaymentLimit int64
	// Approvers, Quorum and ApprovalExpiresAfter are the approval a held payment
	// needs. Without approvers, RequireApproval refuses the payment instead (fail
	// closed).
	Approvers            []string
	Quorum               int
	ApprovalExpiresAfter time.Duration
	// Notifiers hear every alert (webhooks).
	Notifiers []Notifier
	// FlushEvery is how often the state is saved in the background (default 5s;
	// negative: only by Flush and Close).
	FlushEvery time.Duration
}

// Validate checks the configuration (after defaults).
func (c *Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("anomaly: config has no store")
	case c.Audit == nil:
		return errors.New("anomaly: config has no audit log")
	}
	return c.validateSettings()
}

// validateSettings checks everything but the store and the audit log.
func (c *Config) validateSettings() error {
	switch {
	case c.PerPaymentLimit < 0:
		return errors.New("anomaly: negative per-payment limit")
	case len(c.Approvers) > 0 && (c.Quorum < 1 || c.Quorum > len(c.Approvers)):
		return fmt.Errorf("anomaly: quorum %d of %d approvers", c.Quorum, len(c.Approvers))
	case len(c.Approvers) > 0 && c.ApprovalExpiresAfter <= 0:
		return errors.New("anomaly: approvers need an approval expiry")
	}
	for sig, m := range c.Responses {
		if !knownSignal(sig) {
			return fmt.Errorf("anomaly: unknown signal %q in responses", sig)
		}
		for sev, act := range m {
			if !sev.valid() {
				return fmt.Errorf("anomaly: signal %s: unknown severity %q", sig, sev)
			}
			if !act.valid() {
				return fmt.Errorf("anomaly: signal %s %s: unknown action %q", sig, sev, act)
			}
		}
	}
	return c.Thresholds.withDefaults().validate()
}

// response is the action configured for a signal at a severity.
func (c *Config) response(s Signal, sev Severity) Action {
	if a, ok := c.Responses[s][sev]; ok {
		return a
	}
	if a, ok := defaultResponses[s][sev]; ok {
		return a
	}
	return Record
}
