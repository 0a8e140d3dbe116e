package policy

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// CaseResult is the outcome of one fixture case of CheckCases.
type CaseResult struct {
	Name string
	Line int
	Pass bool
	// Expected outcome, and reason and rule when the case names them.
	Expect       Outcome
	ExpectReason Reason
	ExpectRule   string
	Decision     Decision
	// Failure says what differed; empty when Pass.
	Failure string
}

type testCase struct {
	name   string
	line   int
	level  Level
	now    time.Time
	req    Request
	snap   Snapshot
	expect Outcome
	reason Reason
	rule   string
}

// CheckCases evaluates a policy against fixture cases without signing anything (the
// engine behind `fleetkey policy test FILE CASES`). casesYAML is a list of cases:
//
//   - name: small payment is allowed
//     level: agent                 # where the policy is attached; default agent
//     now: 2026-03-02T10:00:00Z
//     agent: {id: a1, group: research, labels: {env: prod}}
//     request: {amount: "0.10", pay_to: "0x…", asset: "0x…", asset_symbol: USDC,
//     network: "eip155:8453", url: "https://api.example.com/x"}
//     spend: {agent: {1h: {amount: "1.00", count: 3}}}   # absent totals are zero
//     requests: {agent: 4}                               # absent counts are zero
//     expect: deny                 # allow | deny | needs_approval
//     reason: window_amount_exceeded   # optional
//     rule: agent:limits.windows[1h].max_amount # optional
//
// An error is returned only for a malformed cases document; failing cases are results.
func CheckCases(p *Policy, casesYAML []byte) ([]CaseResult, error) {
	if p == nil {
		return nil, fmt.Errorf("policy: CheckCases needs a policy")
	}
	root, err := parseDocument(casesYAML, "cases")
	if err != nil {
		return nil, err
	}
	d := &decoder{}
	var cases []testCase
	d.sequence(root, "", func(i int, v *yaml.Node, path string) {
		if c, ok := decodeCase(d, v, path); ok {
			cases = append(cases, c)
		}
	})
	if err := d.err(); err != nil {
		return nil, err
	}
	out := make([]CaseResult, 0, len(cases))
	for _, c := range cases {
		var set Set
		switch c.level {
		case Fleet:
			set.Fleet = p
		case Group:
			set.Group = p
		default:
			set.Agent = p
		}
		// Fixtures name only the totals they care about; the rest are zero.
		spec := set.SnapshotSpec()
		for _, k := range spec.Windows {
			if _, ok := c.snap.Spend[k]; !ok {
				c.snap.Spend[k] = Spend{}
			}
		}
		for _, l := range spec.Requests {
			if _, ok := c.snap.Requests[l]; !ok {
				c.snap.Requests[l] = 0
			}
		}
		dec := Evaluate(set, c.req, c.snap, c.now)
		r := CaseResult{Name: c.name, Line: c.line, Expect: c.expect, ExpectReason: c.reason,
			ExpectRule: c.rule, Decision: dec, Pass: true}
		switch {
		case dec.Outcome != c.expect:
			r.Failure = fmt.Sprintf("expected %s, got %s", c.expect, dec.Outcome)
		case c.reason != "" && dec.Reason != c.reason:
			r.Failure = fmt.Sprintf("expected reason %s, got %s", c.reason, dec.Reason)
		case c.rule != "" && dec.Rule != c.rule:
			r.Failure = fmt.Sprintf("expected rule %s, got %s", c.rule, dec.Rule)
		}
		if r.Failure != "" {
			r.Pass = false
			if dec.Outcome == Deny {
				r.Failure += fmt.Sprintf(" (%s at %s", dec.Reason, dec.Rule)
				if dec.Limit != "" || dec.Observed != "" {
					r.Failure += fmt.Sprintf(": limit %s, observed %s", dec.Limit, dec.Observed)
				}
				if dec.Message != "" {
					r.Failure += ": " + dec.Message
				}
				r.Failure += ")"
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func decodeCase(d *decoder, n *yaml.Node, path string) (testCase, bool) {
	c := testCase{line: n.Line, level: Agent, snap: Snapshot{
		Spend: map[SpendKey]Spend{}, Requests: map[Level]int64{},
	}}
	before := len(d.errs)
	levelMap := func(v *yaml.Node, path string, each func(l Level, v *yaml.Node, path string)) {
		fields := make([]field, 0, 3)
		for _, l := range levels {
			l := l
			fields = append(fields, field{name: l.String(), set: func(v *yaml.Node, path string) { each(l, v, path) }})
		}
		d.mapping(v, path, fields)
	}
	d.mapping(n, path, []field{
		{name: "name", required: true, set: func(v *yaml.Node, path string) {
			c.name, _ = d.text(v, path, 256, false)
		}},
		{name: "level", set: func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				l, ok := parseLevel(s)
				if !ok {
					d.errorf(v, path, "%q is not a level (fleet, group, agent)", s)
				}
				c.level = l
			}
		}},
		{name: "now", required: true, set: func(v *yaml.Node, path string) {
			s, ok := d.scalar(v, path, "an RFC 3339 time", "!!str", "!!timestamp")
			if !ok {
				return
			}
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				d.errorf(v, path, "%q is not an RFC 3339 time like 2026-03-02T10:00:00Z", s)
			}
			c.now = t
		}},
		{name: "agent", set: func(v *yaml.Node, path string) {
			a := &c.req.Agent
			str := func(dst *string) func(v *yaml.Node, path string) {
				return func(v *yaml.Node, path string) { *dst, _ = d.str(v, path) }
			}
			d.mapping(v, path, []field{
				{name: "id", set: str(&a.ID)},
				{name: "name", set: str(&a.Name)},
				{name: "group", set: str(&a.Group)},
				{name: "fleet", set: str(&a.Fleet)},
				{name: "labels", set: func(v *yaml.Node, path string) {
					if !d.kind(v, path, yaml.MappingNode, "a mapping") {
						return
					}
					a.Labels = map[string]string{}
					for i := 0; i+1 < len(v.Content); i += 2 {
						k, ok1 := d.str(v.Content[i], path)
						val, ok2 := d.str(v.Content[i+1], join(path, k))
						if ok1 && ok2 {
							a.Labels[k] = val
						}
					}
				}},
			})
		}},
		{name: "request", required: true, set: func(v *yaml.Node, path string) {
			r := &c.req
			str := func(dst *string) func(v *yaml.Node, path string) {
				return func(v *yaml.Node, path string) { *dst, _ = d.str(v, path) }
			}
			d.mapping(v, path, []field{
				{name: "amount", required: true, set: func(v *yaml.Node, path string) { r.Amount, _ = d.amount(v, path) }},
				{name: "amount_atomic", set: str(&r.AmountAtomic)},
				{name: "pay_to", required: true, set: str(&r.PayTo)},
				{name: "asset", required: true, set: str(&r.Asset)},
				{name: "asset_symbol", set: str(&r.AssetSymbol)},
				{name: "network", required: true, set: str(&r.Network)},
				{name: "url", required: true, set: str(&r.URL)},
				{name: "method", set: str(&r.Method)},
				{name: "valid_for", set: func(v *yaml.Node, path string) {
					r.Validity, _ = d.duration(v, path, 0, maxWindow)
				}},
			})
		}},
		{name: "spend", set: func(v *yaml.Node, path string) {
			levelMap(v, path, func(l Level, v *yaml.Node, path string) {
				if !d.kind(v, path, yaml.MappingNode, "a mapping of windows") {
					return
				}
				for i := 0; i+1 < len(v.Content); i += 2 {
					kn, vn := v.Content[i], v.Content[i+1]
					ks, ok := d.str(kn, path)
					if !ok {
						continue
					}
					w, ok := d.duration(kn, join(path, ks), minWindow, maxWindow)
					if !ok {
						continue
					}
					var s Spend
					d.mapping(vn, join(path, ks), []field{
						{name: "amount", set: func(v *yaml.Node, path string) { s.Amount, _ = d.amount(v, path) }},
						{name: "count", set: func(v *yaml.Node, path string) { s.Count, _ = d.count(v, path, 0, maxCount) }},
					})
					key := SpendKey{l, w}
					if _, dup := c.snap.Spend[key]; dup {
						d.errorf(kn, join(path, ks), "window defined twice")
					}
					c.snap.Spend[key] = s
				}
			})
		}},
		{name: "requests", set: func(v *yaml.Node, path string) {
			levelMap(v, path, func(l Level, v *yaml.Node, path string) {
				c.snap.Requests[l], _ = d.count(v, path, 0, maxCount)
			})
		}},
		{name: "expect", required: true, set: func(v *yaml.Node, path string) {
			s, ok := d.str(v, path)
			if !ok {
				return
			}
			switch o := Outcome(s); o {
			case Allow, Deny, NeedsApproval:
				c.expect = o
			default:
				d.errorf(v, path, "%q is not an outcome (allow, deny, needs_approval)", s)
			}
		}},
		{name: "reason", set: func(v *yaml.Node, path string) {
			s, ok := d.str(v, path)
			if !ok {
				return
			}
			for _, r := range Reasons() {
				if string(r) == s {
					c.reason = r
					return
				}
			}
			d.errorf(v, path, "%q is not a known reason code", s)
		}},
		{name: "rule", set: func(v *yaml.Node, path string) { c.rule, _ = d.str(v, path) }},
	})
	if c.expect != "" && c.expect != Deny && (c.reason != "" || c.rule != "") {
		d.errorf(n, path, "reason and rule can only be expected with expect: deny")
	}
	return c, len(d.errs) == before
}
