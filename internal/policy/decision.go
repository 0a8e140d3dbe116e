package policy

import (
	"fmt"
	"slices"
	"time"
)

// Level is where a policy is attached. Budgets at a level are shared by every agent
// under it: a fleet window limits the total of all the fleet's payments.
type Level int

const (
	Fleet Level = iota + 1
	Group
	Agent
)

// levels is the fixed order in which levels are checked within each stage.
var levels = [3]Level{Fleet, Group, Agent}

func (l Level) String() string {
	switch l {
	case Fleet:
		return "fleet"
	case Group:
		return "group"
	case Agent:
		return "agent"
	}
	return "none"
}

// MarshalText renders the level as "fleet", "group" or "agent", and the zero Level (no
// level, as in an allow decision) as "".
func (l Level) MarshalText() ([]byte, error) {
	if l == 0 {
		return []byte{}, nil
	}
	if l < Fleet || l > Agent {
		return nil, fmt.Errorf("policy: invalid level %d", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText parses "fleet", "group", "agent", or "" as the zero Level.
func (l *Level) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*l = 0
		return nil
	}
	v, ok := parseLevel(string(b))
	if !ok {
		return fmt.Errorf("policy: %q is not a level (fleet, group, agent)", b)
	}
	*l = v
	return nil
}

func parseLevel(s string) (Level, bool) {
	for _, l := range levels {
		if l.String() == s {
			return l, true
		}
	}
	return 0, false
}

// Outcome is what the signer does with a payment.
type Outcome string

const (
	Allow         Outcome = "allow"
	Deny          Outcome = "deny"
	NeedsApproval Outcome = "needs_approval"
)

// Reason is the machine-readable cause of a denial. The values are stable: they appear
// in API responses, audit records and metrics.
type Reason string

const (
	// ReasonNoPolicy: the set has no policy at any level; fleetkey fails closed.
	ReasonNoPolicy Reason = "no_policy"
	// ReasonInvalidRequest: the request itself is malformed (bad address, URL, network,
	// negative amount); fails closed before any rule runs.
	ReasonInvalidRequest Reason = "invalid_request"
	// ReasonSnapshotIncomplete: the spend snapshot lacks a total that a rule needs
	// (see Set.SnapshotSpec); fails closed.
	ReasonSnapshotIncomplete Reason = "snapshot_incomplete"

	ReasonPayToDenied       Reason = "pay_to_denied"
	ReasonOriginDenied      Reason = "origin_denied"
	ReasonAssetDenied       Reason = "asset_denied"
	ReasonNetworkDenied     Reason = "network_denied"
	ReasonNetworkNotAllowed Reason = "network_not_allowed"
	ReasonAssetNotAllowed   Reason = "asset_not_allowed"
	ReasonPayToNotAllowed   Reason = "pay_to_not_allowed"
	ReasonInsecureOrigin    Reason = "insecure_origin"
	ReasonOriginNotAllowed  Reason = "origin_not_allowed"

	ReasonOutsideTimeWindow Reason = "outside_time_window"
	ReasonRateLimited       Reason = "rate_limited"

	ReasonAbovePerPayment      Reason = "amount_above_per_payment_limit"
	ReasonWindowAmountExceeded Reason = "window_amount_exceeded"
	ReasonWindowCountExceeded  Reason = "window_count_exceeded"

	// ReasonCELDenied: a CEL rule returned false.
	ReasonCELDenied Reason = "cel_denied"
	// ReasonCELError: a CEL rule failed to evaluate (missing key, overflow, cost limit,
	// timeout); fails closed.
	ReasonCELError Reason = "cel_error"
)

// Reasons lists every reason code, in evaluation order.
func Reasons() []Reason {
	return []Reason{
		ReasonNoPolicy, ReasonInvalidRequest, ReasonSnapshotIncomplete,
		ReasonPayToDenied, ReasonOriginDenied, ReasonAssetDenied, ReasonNetworkDenied,
		ReasonNetworkNotAllowed, ReasonAssetNotAllowed, ReasonPayToNotAllowed,
		ReasonInsecureOrigin, ReasonOriginNotAllowed,
		ReasonOutsideTimeWindow, ReasonRateLimited,
		ReasonAbovePerPayment, ReasonWindowAmountExceeded, ReasonWindowCountExceeded,
		ReasonCELDenied, ReasonCELError,
	}
}

// Set is the effective policy of one agent: the policy attached at each level, nil
// where none is.
type Set struct {
	Fleet, Group, Agent *Policy
}

func (s *Set) at(l Level) *Policy {
	switch l {
	case Fleet:
		return s.Fleet
	case Group:
		return s.Group
	case Agent:
		return s.Agent
	}
	return nil
}

// AgentInfo identifies the paying agent; CEL rules see it as `agent`.
type AgentInfo struct {
	ID, Name, Group, Fleet string
	Labels                 map[string]string
}

// Request is one payment as the signer is about to build it. Every field comes from the
// signer's own validated view: the requirement it selected from the 402, checked
// against the trusted asset registry, never from the agent's say-so.
type Request struct {
	Agent AgentInfo
	// PayTo is the payee address (0x + 40 hex, any case).
	PayTo string
	// Asset is the token contract address; AssetSymbol its symbol in the trusted
	// registry (optional; allow/deny entries may name either).
	Asset, AssetSymbol string
	// Network is the CAIP-2 chain id, e.g. "eip155:8453" (x402 v1 network names must be
	// mapped by the caller).
	Network string
	// URL is the resource URL being paid for; Method its HTTP method (informational,
	// for CEL).
	URL, Method string
	// Amount is the payment in micro-units of the asset's reference currency, rounded
	// up (see AtomicToMicro); AmountAtomic the on-chain integer amount, for CEL.
	Amount       int64
	AmountAtomic string
	// Validity is the validity window the signer would use before any policy cap (e.g.
	// the requirement's maxTimeoutSeconds); zero if unknown.
	Validity time.Duration
}

// SpendKey names one rolling-window total: the payments at a level's scope (the whole
// fleet, the agent's group, the agent) during the trailing Window.
type SpendKey struct {
	Level  Level
	Window time.Duration
}

// Spend is a rolling-window total: reserved plus settled payments, excluding the
// request being evaluated.
type Spend struct {
	Amount int64 // micro-units
	Count  int64
}

// Snapshot is the spend state the ledger read before the decision. It is advisory: the
// ledger re-checks Decision.Windows inside the transaction that reserves the budget.
type Snapshot struct {
	Spend map[SpendKey]Spend
	// Requests is, per level, the number of payment requests at that level's scope in
	// the trailing minute before this one, whatever their outcome.
	Requests map[Level]int64
}

// WindowLimit is one window limit of the effective policy, for the ledger's
// authoritative check. A negative MaxAmount or MaxCount means no limit of that kind.
type WindowLimit struct {
	Level     Level
	Window    time.Duration
	MaxAmount int64 // micro-units
	MaxCount  int64
	// Rule is the window's rule path, e.g. "group:limits.windows[1h]".
	Rule       string
	PolicyHash string
}

// Hashes holds the policy hash of each level; empty where the level has no policy.
type Hashes struct {
	Fleet string `json:"fleet,omitempty"`
	Group string `json:"group,omitempty"`
	Agent string `json:"agent,omitempty"`
}

// Get returns the hash at level l.
func (h Hashes) Get(l Level) string {
	switch l {
	case Fleet:
		return h.Fleet
	case Group:
		return h.Group
	case Agent:
		return h.Agent
	}
	return ""
}

// Approval is one level's requirement of human approval.
type Approval struct {
	Level Level
	// Quorum distinct approvers out of Approvers must approve.
	Quorum       int
	Approvers    []string
	ExpiresAfter time.Duration
	// Threshold is the amount (micro-units) above which approval is needed.
	Threshold  int64
	Rule       string
	PolicyHash string
}

// Decision is the engine's answer for one payment.
type Decision struct {
	Outcome Outcome

	// For Deny: what decided it. Rule is a stable path "level:key.path", e.g.
	// "group:limits.windows[1h].max_amount"; Limit and Observed are the configured
	// value and the value seen (amounts in whole units, like "0.25"). Message is a human
	// explanation (a CEL rule's deny_reason, or the error text).
	Reason     Reason
	Level      Level
	Rule       string
	Limit      string
	Observed   string
	Message    string
	PolicyHash string

	// PolicyHashes names the policy at every level that has one.
	PolicyHashes Hashes

	// For Allow and NeedsApproval. MaxValidity is the smallest max_validity of all
	// levels (zero: no level caps it); the signer must cap validBefore accordingly.
	MaxValidity time.Duration
	// Windows is every window limit at every level, for the ledger to re-check.
	Windows []WindowLimit
	// Approvals holds, for NeedsApproval, the requirement of every level whose
	// threshold the amount exceeds. ALL of them must be met (see ApprovalSatisfied).
	Approvals []Approval
}

// ApprovalSatisfied reports whether the distinct approvers in approvedBy meet every
// approval requirement of the decision: each level's quorum counted among that level's
// named approvers. One approver named at several levels counts at each of them.
func (d *Decision) ApprovalSatisfied(approvedBy []string) bool {
	for _, a := range d.Approvals {
		n := 0
		seen := make(map[string]bool, len(approvedBy))
		for _, who := range approvedBy {
			if !seen[who] && slices.Contains(a.Approvers, who) {
				seen[who] = true
				n++
			}
		}
		if n < a.Quorum {
			return false
		}
	}
	return len(d.Approvals) > 0
}

// ApprovalExpiresAfter is how long approvers have: the shortest expires_after of the
// requirements (zero when none).
func (d *Decision) ApprovalExpiresAfter() time.Duration {
	var min time.Duration
	for i, a := range d.Approvals {
		if i == 0 || a.ExpiresAfter < min {
			min = a.ExpiresAfter
		}
	}
	return min
}

// SnapshotSpec lists what Evaluate needs in a Snapshot for this set.
type SnapshotSpec struct {
	Windows  []SpendKey
	Requests []Level
}

// SnapshotSpec returns the window totals and request counts the set's rules read:
// the windows of every level, the windows CEL rules read with a constant key
// (spend.agent["1h"]), and the request count of every level with a rate rule. A
// snapshot missing any of them is denied with snapshot_incomplete.
func (s Set) SnapshotSpec() SnapshotSpec {
	var spec SnapshotSpec
	add := func(k SpendKey) {
		if !slices.Contains(spec.Windows, k) {
			spec.Windows = append(spec.Windows, k)
		}
	}
	for _, l := range levels {
		p := s.at(l)
		if p == nil {
			continue
		}
		for _, w := range p.windows {
			add(SpendKey{l, w.dur})
		}
		if p.hasRate {
			spec.Requests = append(spec.Requests, l)
		}
	}
	for _, l := range levels {
		if p := s.at(l); p != nil {
			for _, r := range p.cel {
				for _, k := range r.reads {
					add(k)
				}
			}
		}
	}
	return spec
}

// Windows returns every window limit at every level of the set, fleet first, each
// level's windows shortest first.
func (s Set) Windows() []WindowLimit {
	n := 0
	for _, l := range levels {
		if p := s.at(l); p != nil {
			n += len(p.windows)
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]WindowLimit, 0, n)
	for _, l := range levels {
		if p := s.at(l); p != nil {
			out = append(out, p.windowLimits[l-Fleet]...)
		}
	}
	return out
}

// windowLimits precomputes a policy's WindowLimit list for each level it may be
// attached at, so that Evaluate only copies them.
func (p *Policy) computeWindowLimits() {
	for _, l := range levels {
		for _, w := range p.windows {
			wl := WindowLimit{Level: l, Window: w.dur, MaxAmount: -1, MaxCount: -1,
				Rule: l.String() + ":limits.windows[" + w.label + "]", PolicyHash: p.hash}
			if w.hasMaxAmount {
				wl.MaxAmount = w.maxAmount
			}
			if w.hasMaxCount {
				wl.MaxCount = w.maxCount
			}
			p.windowLimits[l-Fleet] = append(p.windowLimits[l-Fleet], wl)
		}
	}
}
