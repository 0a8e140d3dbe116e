package policy

import (
	"context"
	"math"
	"strconv"
	"time"
)

// denial is a stage's verdict against a request at one level; path is the rule path
// without the level prefix.
type denial struct {
	reason                Reason
	path, limit, observed string
	message               string
}

// checked is a request after validation, in canonical form.
type checked struct {
	payTo, asset, symbol string
	network              network
	target               target
}

// evaluation carries one Evaluate call through the stages.
type evaluation struct {
	set         *Set
	req         *Request
	rc          checked
	snap        *Snapshot
	now         time.Time
	maxValidity time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	vars   *celVars
}

// stage is one step of the fixed evaluation order, run for each level in turn.
type stage func(e *evaluation, l Level, p *Policy) *denial

// stages is the evaluation order (docs/policy.md, "Evaluation order"). Cheap checks
// of who is paid and where come before budgets, and CEL comes last so that it only
// runs for payments every declarative rule already allows.
var stages = []stage{
	stageDenyLists,
	stageAllowLists,
	stageTimeOfDay,
	stageRate,
	stagePerPayment,
	stageWindows,
	stageCEL,
}

// Evaluate decides one payment against the effective policy set, the spend snapshot
// and the clock. It is pure: the same inputs always give the same decision (CEL rules
// aside that exceed their wall-clock backstop, which deny). Every present level must
// allow; within each stage levels are checked fleet, group, agent, and the first
// failing rule decides.
func Evaluate(set Set, req Request, snap Snapshot, now time.Time) Decision {
	d := Decision{Outcome: Deny}
	present := false
	for _, l := range levels {
		if p := set.at(l); p != nil {
			switch l {
			case Fleet:
				d.PolicyHashes.Fleet = p.hash
			case Group:
				d.PolicyHashes.Group = p.hash
			case Agent:
				d.PolicyHashes.Agent = p.hash
			}
			present = true
		}
	}
	if !present {
		d.Reason, d.Message = ReasonNoPolicy, "no policy is attached at the fleet, group or agent level"
		return d
	}
	e := &evaluation{set: &set, req: &req, snap: &snap, now: now}
	if den := e.checkRequest(); den != nil {
		d.Reason, d.Rule, d.Observed, d.Message = den.reason, den.path, den.observed, den.message
		return d
	}
	for _, l := range levels {
		if p := set.at(l); p != nil && p.maxValidity > 0 && (e.maxValidity == 0 || p.maxValidity < e.maxValidity) {
			e.maxValidity = p.maxValidity
		}
	}
	defer func() {
		if e.cancel != nil {
			e.cancel()
		}
	}()
	for _, st := range stages {
		for _, l := range levels {
			p := set.at(l)
			if p == nil {
				continue
			}
			if den := st(e, l, p); den != nil {
				d.Reason, d.Level, d.Rule = den.reason, l, l.String()+":"+den.path
				d.Limit, d.Observed, d.Message, d.PolicyHash = den.limit, den.observed, den.message, p.hash
				return d
			}
		}
	}
	d.Outcome = Allow
	d.MaxValidity = e.maxValidity
	d.Windows = set.Windows()
	for _, l := range levels {
		p := set.at(l)
		if p == nil || p.approval == nil || req.Amount <= p.approval.above {
			continue
		}
		a := p.approval
		d.Approvals = append(d.Approvals, Approval{
			Level: l, Quorum: a.quorum, Approvers: append([]string(nil), a.approvers...),
			ExpiresAfter: a.expiresAfter, Threshold: a.above,
			Rule: l.String() + ":approval.above", PolicyHash: p.hash,
		})
	}
	if len(d.Approvals) > 0 {
		d.Outcome = NeedsApproval
	}
	return d
}

func (e *evaluation) checkRequest() *denial {
	bad := func(path, observed, msg string) *denial {
		return &denial{reason: ReasonInvalidRequest, path: path, observed: observed, message: msg}
	}
	r := e.req
	var err error
	if e.rc.payTo, err = requestAddress(r.PayTo); err != nil {
		return bad("request.pay_to", r.PayTo, err.Error())
	}
	if e.rc.asset, err = requestAddress(r.Asset); err != nil {
		return bad("request.asset", r.Asset, err.Error())
	}
	if r.AssetSymbol != "" {
		if e.rc.symbol, err = normalizeSymbol(r.AssetSymbol); err != nil {
			return bad("request.asset_symbol", r.AssetSymbol, err.Error())
		}
	}
	if e.rc.network, err = parseNetwork(r.Network, false); err != nil {
		return bad("request.network", r.Network, err.Error())
	}
	if e.rc.target, err = parseTarget(r.URL); err != nil {
		return bad("request.url", "", err.Error())
	}
	if r.Amount < 0 {
		return bad("request.amount", strconv.FormatInt(r.Amount, 10), "negative amount")
	}
	if r.Validity < 0 {
		return bad("request.validity", r.Validity.String(), "negative validity")
	}
	return nil
}

func stageDenyLists(e *evaluation, _ Level, p *Policy) *denial {
	m := &p.deny
	if s, ok := m.matchPayTo(e.rc.payTo); ok {
		return &denial{reason: ReasonPayToDenied, path: "deny.pay_to", limit: s, observed: e.rc.payTo}
	}
	if s, ok := m.matchOrigin(&e.rc.target); ok {
		return &denial{reason: ReasonOriginDenied, path: "deny.origins", limit: s, observed: e.rc.target.origin}
	}
	if s, ok := m.matchAsset(e.rc.asset, e.rc.symbol); ok {
		return &denial{reason: ReasonAssetDenied, path: "deny.assets", limit: s, observed: e.assetObserved()}
	}
	if nw, ok := m.matchNetwork(e.rc.network); ok {
		return &denial{reason: ReasonNetworkDenied, path: "deny.networks", limit: nw.String(), observed: e.req.Network}
	}
	return nil
}

func (e *evaluation) assetObserved() string {
	if e.rc.symbol != "" {
		return e.rc.asset + " (" + e.rc.symbol + ")"
	}
	return e.rc.asset
}

func stageAllowLists(e *evaluation, _ Level, p *Policy) *denial {
	m := &p.allow
	if m.payTo != nil {
		if _, ok := m.matchPayTo(e.rc.payTo); !ok {
			return &denial{reason: ReasonPayToNotAllowed, path: "allow.pay_to", observed: e.rc.payTo}
		}
	}
	if e.rc.target.scheme != "https" && !p.allowHTTP {
		return &denial{reason: ReasonInsecureOrigin, path: "allow_http", limit: "https", observed: e.rc.target.scheme,
			message: "plain http resource URLs need allow_http: true at every level"}
	}
	if m.origins != nil {
		if _, ok := m.matchOrigin(&e.rc.target); !ok {
			return &denial{reason: ReasonOriginNotAllowed, path: "allow.origins", observed: e.rc.target.origin}
		}
	}
	if m.assets != nil {
		if _, ok := m.matchAsset(e.rc.asset, e.rc.symbol); !ok {
			return &denial{reason: ReasonAssetNotAllowed, path: "allow.assets", observed: e.assetObserved()}
		}
	}
	if m.networks != nil {
		if _, ok := m.matchNetwork(e.rc.network); !ok {
			return &denial{reason: ReasonNetworkNotAllowed, path: "allow.networks", observed: e.req.Network}
		}
	}
	return nil
}

func stageTimeOfDay(e *evaluation, _ Level, p *Policy) *denial {
	if p.timeOfDay == nil {
		return nil
	}
	for i := range p.timeOfDay {
		if p.timeOfDay[i].contains(e.now) {
			return nil
		}
	}
	// Observed in the zone of the first window: the one the operator most likely
	// thinks in.
	r := &p.timeOfDay[0]
	return &denial{reason: ReasonOutsideTimeWindow, path: "time_of_day",
		observed: e.now.In(r.loc).Format("Mon 15:04 ") + r.tz}
}

func stageRate(e *evaluation, l Level, p *Policy) *denial {
	if !p.hasRate {
		return nil
	}
	const path = "rate.max_requests_per_minute"
	prior, ok := e.snap.Requests[l]
	if !ok || prior < 0 {
		return &denial{reason: ReasonSnapshotIncomplete, path: path,
			message: "the snapshot has no request count for the " + l.String() + " level"}
	}
	if n := satAdd(prior, 1); n > p.rate {
		return &denial{reason: ReasonRateLimited, path: path,
			limit: strconv.FormatInt(p.rate, 10), observed: strconv.FormatInt(n, 10)}
	}
	return nil
}

func stagePerPayment(e *evaluation, _ Level, p *Policy) *denial {
	if p.hasPerPayment && e.req.Amount > p.perPayment {
		return &denial{reason: ReasonAbovePerPayment, path: "limits.per_payment",
			limit: FormatAmount(p.perPayment), observed: FormatAmount(e.req.Amount)}
	}
	return nil
}

func stageWindows(e *evaluation, l Level, p *Policy) *denial {
	for i := range p.windows {
		w := &p.windows[i]
		path := w.path
		s, ok := e.snap.Spend[SpendKey{l, w.dur}]
		if !ok || s.Amount < 0 || s.Count < 0 {
			return &denial{reason: ReasonSnapshotIncomplete, path: path,
				message: "the snapshot has no valid " + w.label + " total for the " + l.String() + " level"}
		}
		if w.hasMaxAmount {
			if total := satAdd(s.Amount, e.req.Amount); total > w.maxAmount {
				return &denial{reason: ReasonWindowAmountExceeded, path: path + ".max_amount",
					limit: FormatAmount(w.maxAmount), observed: FormatAmount(total)}
			}
		}
		if w.hasMaxCount {
			if n := satAdd(s.Count, 1); n > w.maxCount {
				return &denial{reason: ReasonWindowCountExceeded, path: path + ".max_count",
					limit: strconv.FormatInt(w.maxCount, 10), observed: strconv.FormatInt(n, 10)}
			}
		}
	}
	return nil
}

// satAdd adds two non-negative values, saturating instead of wrapping so that an
// absurd snapshot can only deny.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func stageCEL(e *evaluation, _ Level, p *Policy) *denial {
	if len(p.cel) == 0 {
		return nil
	}
	if e.vars == nil {
		e.vars = &celVars{e: e}
		e.ctx, e.cancel = context.WithTimeout(context.Background(), celTimeout)
	}
	for i := range p.cel {
		r := &p.cel[i]
		path := "cel[" + r.name + "]"
		for _, k := range r.reads {
			if s, ok := e.snap.Spend[k]; !ok || s.Amount < 0 || s.Count < 0 {
				return &denial{reason: ReasonSnapshotIncomplete, path: path,
					message: "the snapshot has no valid " + formatDuration(k.Window) + " total for the " + k.Level.String() + " level"}
			}
		}
		ok, err := r.eval(e.ctx, e.vars)
		if err != nil {
			return &denial{reason: ReasonCELError, path: path, message: err.Error()}
		}
		if !ok {
			msg := r.denyReason
			if msg == "" {
				msg = "CEL rule " + r.name + " is false"
			}
			return &denial{reason: ReasonCELDenied, path: path, limit: r.expr, message: msg}
		}
	}
	return nil
}

// celRequest is the CEL view of the request.
func (e *evaluation) celRequest() *celRequest {
	r := e.req
	validity := r.Validity
	if e.maxValidity > 0 && (validity == 0 || validity > e.maxValidity) {
		validity = e.maxValidity
	}
	return &celRequest{
		Amount: r.Amount, AmountAtomic: r.AmountAtomic,
		PayTo: e.rc.payTo, Asset: e.rc.asset, AssetSymbol: e.rc.symbol,
		Network: r.Network, Scheme: e.rc.target.scheme,
		Host: e.rc.target.host, Origin: e.rc.target.origin, URL: r.URL,
		Method: r.Method, ValidForSeconds: int64(validity / time.Second),
	}
}

// celSpend is the CEL view of the snapshot: windows keyed by their canonical spelling
// ("1m", "1h", "24h", "168h").
func (e *evaluation) celSpend() *celSpend {
	spend := &celSpend{
		Fleet:    map[string]celWindow{},
		Group:    map[string]celWindow{},
		Agent:    map[string]celWindow{},
		Requests: make(map[string]int64, len(e.snap.Requests)),
	}
	for k, v := range e.snap.Spend {
		var m map[string]celWindow
		switch k.Level {
		case Fleet:
			m = spend.Fleet
		case Group:
			m = spend.Group
		case Agent:
			m = spend.Agent
		default:
			continue
		}
		m[formatDuration(k.Window)] = celWindow{Amount: v.Amount, Count: v.Count}
	}
	for l, n := range e.snap.Requests {
		spend.Requests[l.String()] = n
	}
	return spend
}
