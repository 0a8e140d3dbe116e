package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Bounds on policy values, chosen to reject mistakes rather than to constrain use.
const (
	minWindow       = time.Second
	maxWindow       = 31 * 24 * time.Hour
	maxCount        = 1_000_000_000
	maxListLen      = 1000
	maxApprovers    = 100
	defaultApproval = 15 * time.Minute
)

// document is the decoded, normalized policy. Marshalled to JSON it is the canonical
// form that Hash covers, and it is itself a valid policy document (JSON is YAML), so
// Parse(p.Canonical()) yields the same policy.
type document struct {
	Version     int          `json:"version"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Limits      *docLimits   `json:"limits,omitempty"`
	Allow       *docList     `json:"allow,omitempty"`
	Deny        *docList     `json:"deny,omitempty"`
	AllowHTTP   bool         `json:"allow_http,omitempty"`
	MaxValidity string       `json:"max_validity,omitempty"`
	Rate        *docRate     `json:"rate,omitempty"`
	TimeOfDay   []docTOD     `json:"time_of_day,omitempty"`
	Approval    *docApproval `json:"approval,omitempty"`
	CEL         []docCEL     `json:"cel,omitempty"`
	// Rotation is last and omitted when absent, so the canonical form (and the hash)
	// of every policy without it is what it was before the section existed.
	Rotation *docRotation `json:"rotation,omitempty"`
}

type docLimits struct {
	PerPayment *string     `json:"per_payment,omitempty"`
	Windows    []docWindow `json:"windows,omitempty"`
}

type docWindow struct {
	Window    string  `json:"window"`
	MaxAmount *string `json:"max_amount,omitempty"`
	MaxCount  *int64  `json:"max_count,omitempty"`
}

type docList struct {
	PayTo    []string `json:"pay_to,omitempty"`
	Origins  []string `json:"origins,omitempty"`
	Assets   []string `json:"assets,omitempty"`
	Networks []string `json:"networks,omitempty"`
}

type docRate struct {
	MaxRequestsPerMinute int64 `json:"max_requests_per_minute"`
}

type docTOD struct {
	Days []string `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
	TZ   string   `json:"tz"`
}

type docApproval struct {
	Above        string   `json:"above"`
	Quorum       int64    `json:"quorum"`
	Approvers    []string `json:"approvers"`
	ExpiresAfter string   `json:"expires_after"`
}

type docRotation struct {
	MaxKeyAge     string `json:"max_key_age,omitempty"`
	MaxSignatures *int64 `json:"max_signatures,omitempty"`
	Outstanding   string `json:"outstanding,omitempty"`
}

type docCEL struct {
	Name       string `json:"name"`
	Expr       string `json:"expr"`
	DenyReason string `json:"deny_reason,omitempty"`
}

// Policy is a parsed, validated and compiled policy document. It is immutable and safe
// for concurrent use.
type Policy struct {
	doc       document
	canonical []byte
	hash      string

	perPayment    int64
	hasPerPayment bool
	windows       []windowRule // ascending by duration, unique durations
	allow, deny   matchList
	allowHTTP     bool
	maxValidity   time.Duration
	rate          int64
	hasRate       bool
	timeOfDay     []todRule
	approval      *approvalRule
	cel           []celRule
	rotation      Rotation
	hasRotation   bool

	windowLimits [3][]WindowLimit // per attachment level, see Set.Windows
}

type windowRule struct {
	dur          time.Duration
	label        string
	path         string // "limits.windows[1h]"
	maxAmount    int64
	hasMaxAmount bool
	maxCount     int64
	hasMaxCount  bool
}

type approvalRule struct {
	above        int64
	quorum       int
	approvers    []string
	expiresAfter time.Duration
}

// Name is the policy's name.
func (p *Policy) Name() string { return p.doc.Name }

// Description is the policy's optional free-text description.
func (p *Policy) Description() string { return p.doc.Description }

// Hash identifies the policy's content: "sha256:" and the hex SHA-256 of Canonical.
// Formatting, comments, key order, the order of set-like lists and equivalent
// spellings ("$0.250" and "0.25", "60m" and "1h", address case) do not change it; any
// change in meaning does.
func (p *Policy) Hash() string { return p.hash }

// Canonical is the normalized JSON form of the policy that Hash covers. It is a valid
// policy document: Parse(Canonical()) yields a policy with the same hash.
func (p *Policy) Canonical() []byte { return bytes.Clone(p.canonical) }

// Parse decodes, validates and compiles a policy document. Unknown keys, wrong types,
// and invalid values are refused; the error is an ErrorList whose entries name the
// line, the key path and the reason.
func Parse(src []byte) (*Policy, error) {
	root, err := parseDocument(src, "policy")
	if err != nil {
		return nil, err
	}
	d := &decoder{}
	p := &Policy{}
	p.decode(d, root)
	if err := d.err(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&p.doc); err != nil {
		return nil, fmt.Errorf("policy: canonical form: %w", err)
	}
	p.canonical = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	sum := sha256.Sum256(p.canonical)
	p.hash = "sha256:" + hex.EncodeToString(sum[:])
	p.computeWindowLimits()
	return p, nil
}

func (p *Policy) decode(d *decoder, root *yaml.Node) {
	d.mapping(root, "", []field{
		{name: "version", required: true, set: func(v *yaml.Node, path string) {
			n, ok := d.count(v, path, 0, 1<<31)
			if ok && n != 1 {
				d.errorf(v, path, "unsupported version %d (this fleetkey reads version 1)", n)
			}
			p.doc.Version = 1
		}},
		{name: "name", required: true, set: func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if err := checkName(s); err != nil {
					d.errorf(v, path, "%s", err)
				}
				p.doc.Name = s
			}
		}},
		{name: "description", set: func(v *yaml.Node, path string) {
			if s, ok := d.text(v, path, 4096, true); ok {
				p.doc.Description = strings.TrimSpace(s)
			}
		}},
		{name: "limits", set: func(v *yaml.Node, path string) { p.decodeLimits(d, v, path) }},
		{name: "allow", set: func(v *yaml.Node, path string) { p.doc.Allow = decodeList(d, v, path, &p.allow) }},
		{name: "deny", set: func(v *yaml.Node, path string) { p.doc.Deny = decodeList(d, v, path, &p.deny) }},
		{name: "allow_http", set: func(v *yaml.Node, path string) {
			p.allowHTTP, _ = d.boolean(v, path)
			p.doc.AllowHTTP = p.allowHTTP
		}},
		{name: "max_validity", set: func(v *yaml.Node, path string) {
			if dur, ok := d.duration(v, path, time.Second, maxWindow); ok {
				p.maxValidity = dur
				p.doc.MaxValidity = formatDuration(dur)
			}
		}},
		{name: "rate", set: func(v *yaml.Node, path string) {
			d.mapping(v, path, []field{
				{name: "max_requests_per_minute", required: true, set: func(v *yaml.Node, path string) {
					if n, ok := d.count(v, path, 0, maxCount); ok {
						p.rate, p.hasRate = n, true
						p.doc.Rate = &docRate{MaxRequestsPerMinute: n}
					}
				}},
			})
		}},
		{name: "time_of_day", set: func(v *yaml.Node, path string) { p.decodeTimeOfDay(d, v, path) }},
		{name: "approval", set: func(v *yaml.Node, path string) { p.decodeApproval(d, v, path) }},
		{name: "cel", set: func(v *yaml.Node, path string) { p.decodeCEL(d, v, path) }},
		{name: "rotation", set: func(v *yaml.Node, path string) { p.decodeRotation(d, v, path) }},
	})
}

// checkName keeps policy names usable as identifiers in the CLI, logs and metrics.
func checkName(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%q must be 1 to 64 characters", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && (c == '.' || c == '_' || c == '-'))) {
			return fmt.Errorf("%q may contain only letters, digits, '.', '_' and '-', starting with a letter or digit", s)
		}
	}
	return nil
}

// text decodes a free-text string: valid UTF-8, printable, bounded.
func (d *decoder) text(n *yaml.Node, path string, max int, multiline bool) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if len(s) > max {
		d.errorf(n, path, "longer than %d bytes", max)
		return "", false
	}
	if !utf8.ValidString(s) {
		d.errorf(n, path, "not valid UTF-8")
		return "", false
	}
	for _, r := range s {
		if unicode.IsPrint(r) || r == '\t' || (multiline && r == '\n') {
			continue
		}
		d.errorf(n, path, "contains the non-printable character %U", r)
		return "", false
	}
	return s, true
}

func (p *Policy) decodeLimits(d *decoder, n *yaml.Node, path string) {
	lim := &docLimits{}
	d.mapping(n, path, []field{
		{name: "per_payment", set: func(v *yaml.Node, path string) {
			if a, ok := d.amount(v, path); ok {
				p.perPayment, p.hasPerPayment = a, true
				s := FormatAmount(a)
				lim.PerPayment = &s
			}
		}},
		{name: "windows", set: func(v *yaml.Node, path string) {
			seen := map[time.Duration]bool{}
			d.sequence(v, path, func(i int, v *yaml.Node, path string) {
				var w windowRule
				hasDur := false
				d.mapping(v, path, []field{
					{name: "window", required: true, set: func(v *yaml.Node, path string) {
						if dur, ok := d.duration(v, path, minWindow, maxWindow); ok {
							if seen[dur] {
								d.errorf(v, path, "a window of %s is already defined", formatDuration(dur))
								return
							}
							seen[dur] = true
							w.dur, w.label, hasDur = dur, formatDuration(dur), true
							w.path = "limits.windows[" + w.label + "]"
						}
					}},
					{name: "max_amount", set: func(v *yaml.Node, path string) {
						w.maxAmount, w.hasMaxAmount = d.amount(v, path)
					}},
					{name: "max_count", set: func(v *yaml.Node, path string) {
						w.maxCount, w.hasMaxCount = d.count(v, path, 0, maxCount)
					}},
				})
				if v.Kind == yaml.MappingNode && !hasMaxKey(v) {
					d.errorf(v, path, "a window needs max_amount, max_count or both")
				}
				if hasDur {
					p.windows = append(p.windows, w)
				}
			})
		}},
	})
	// Windows are checked shortest first whatever order they were written in, so their
	// order carries no meaning and is normalized away.
	sort.Slice(p.windows, func(i, j int) bool { return p.windows[i].dur < p.windows[j].dur })
	for _, w := range p.windows {
		dw := docWindow{Window: w.label}
		if w.hasMaxAmount {
			s := FormatAmount(w.maxAmount)
			dw.MaxAmount = &s
		}
		if w.hasMaxCount {
			c := w.maxCount
			dw.MaxCount = &c
		}
		lim.Windows = append(lim.Windows, dw)
	}
	if lim.PerPayment != nil || lim.Windows != nil {
		p.doc.Limits = lim
	}
}

func hasMaxKey(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k == "max_amount" || k == "max_count" {
			return true
		}
	}
	return false
}

// decodeList decodes an allow or deny section into m and returns its canonical form.
func decodeList(d *decoder, n *yaml.Node, path string, m *matchList) *docList {
	out := &docList{}
	// each decodes a list of strings, normalizing every entry and refusing duplicates.
	each := func(v *yaml.Node, path string, norm func(string) (string, error)) []string {
		var list []string
		seen := map[string]int{}
		if v.Kind == yaml.SequenceNode && len(v.Content) > maxListLen {
			d.errorf(v, path, "more than %d entries", maxListLen)
			return nil
		}
		d.sequence(v, path, func(i int, v *yaml.Node, path string) {
			s, ok := d.str(v, path)
			if !ok {
				return
			}
			c, err := norm(s)
			if err != nil {
				d.errorf(v, path, "%s", err)
				return
			}
			if j, dup := seen[c]; dup {
				d.errorf(v, path, "%q repeats entry %d", s, j)
				return
			}
			seen[c] = i
			list = append(list, c)
		})
		slices.Sort(list)
		return list
	}
	d.mapping(n, path, []field{
		{name: "pay_to", set: func(v *yaml.Node, path string) {
			m.payTo = each(v, path, normalizeAddress)
			out.PayTo = m.payTo
		}},
		{name: "origins", set: func(v *yaml.Node, path string) {
			out.Origins = each(v, path, func(s string) (string, error) {
				o, err := parseOriginPattern(s)
				return o.text, err
			})
			for _, s := range out.Origins {
				o, _ := parseOriginPattern(s)
				m.origins = append(m.origins, o)
			}
		}},
		{name: "assets", set: func(v *yaml.Node, path string) {
			m.assets = each(v, path, func(s string) (string, error) {
				if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
					return normalizeAddress(s)
				}
				return normalizeSymbol(s)
			})
			out.Assets = m.assets
		}},
		{name: "networks", set: func(v *yaml.Node, path string) {
			out.Networks = each(v, path, func(s string) (string, error) {
				nw, err := parseNetwork(s, true)
				return nw.String(), err
			})
			for _, s := range out.Networks {
				nw, _ := parseNetwork(s, true)
				m.networks = append(m.networks, nw)
			}
		}},
	})
	if m.empty() {
		return nil
	}
	return out
}

func (p *Policy) decodeTimeOfDay(d *decoder, n *yaml.Node, path string) {
	d.sequence(n, path, func(i int, v *yaml.Node, path string) {
		r := todRule{days: 0x7f, loc: time.UTC, tz: "UTC"}
		okFrom, okTo := false, false
		d.mapping(v, path, []field{
			{name: "days", set: func(v *yaml.Node, path string) {
				r.days = 0
				d.sequence(v, path, func(i int, v *yaml.Node, path string) {
					s, ok := d.str(v, path)
					if !ok {
						return
					}
					day, ok := parseDay(s)
					if !ok {
						d.errorf(v, path, "%q is not a day (mon, tue, wed, thu, fri, sat, sun)", s)
						return
					}
					if r.dayAllowed(day) {
						d.errorf(v, path, "%q is listed twice", s)
					}
					r.days |= 1 << uint(day)
				})
			}},
			{name: "from", required: true, set: func(v *yaml.Node, path string) {
				if s, ok := d.str(v, path); ok {
					m, err := parseClock(s)
					switch {
					case err != nil:
						d.errorf(v, path, "%s", err)
					case m == 24*60:
						d.errorf(v, path, "a window cannot start at 24:00 (use 00:00)")
					default:
						r.from, okFrom = m, true
					}
				}
			}},
			{name: "to", required: true, set: func(v *yaml.Node, path string) {
				if s, ok := d.str(v, path); ok {
					m, err := parseClock(s)
					if err != nil {
						d.errorf(v, path, "%s", err)
						return
					}
					r.to, okTo = m, true
				}
			}},
			{name: "tz", set: func(v *yaml.Node, path string) {
				s, ok := d.str(v, path)
				if !ok {
					return
				}
				loc, err := loadLocation(s)
				if err != nil {
					d.errorf(v, path, "%s", err)
					return
				}
				r.loc, r.tz = loc, s
			}},
		})
		if okTo && r.to == 0 {
			// "to: 00:00" ends at midnight, which is spelled 24:00 canonically.
			r.to = 24 * 60
		}
		if okFrom && okTo && r.from == r.to {
			d.errorf(v, path, "from and to are equal (for a whole day write from: \"00:00\", to: \"24:00\")")
			return
		}
		if r.days == 0 {
			return
		}
		p.timeOfDay = append(p.timeOfDay, r)
	})
	for _, r := range p.timeOfDay {
		p.doc.TimeOfDay = append(p.doc.TimeOfDay, docTOD{Days: r.daysList(), From: formatClock(r.from), To: formatClock(r.to), TZ: r.tz})
	}
	// Any one window allows, so their order carries no meaning.
	sort.Slice(p.doc.TimeOfDay, func(i, j int) bool {
		a, _ := json.Marshal(p.doc.TimeOfDay[i])
		b, _ := json.Marshal(p.doc.TimeOfDay[j])
		return string(a) < string(b)
	})
}

// loadLocation loads an IANA zone by name. "Local" is refused: a policy must mean the
// same thing on every host that evaluates it.
func loadLocation(s string) (*time.Location, error) {
	if s == "" || s == "Local" || strings.EqualFold(s, "local") {
		return nil, fmt.Errorf("%q is not an IANA time zone like Europe/Berlin or UTC", s)
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone like Europe/Berlin or UTC", s)
	}
	return loc, nil
}

func (p *Policy) decodeApproval(d *decoder, n *yaml.Node, path string) {
	a := &approvalRule{expiresAfter: defaultApproval}
	okAbove, okQuorum, okApprovers := false, false, false
	var quorumNode *yaml.Node
	d.mapping(n, path, []field{
		{name: "above", required: true, set: func(v *yaml.Node, path string) {
			a.above, okAbove = d.amount(v, path)
		}},
		{name: "quorum", required: true, set: func(v *yaml.Node, path string) {
			var q int64
			q, okQuorum = d.count(v, path, 1, maxApprovers)
			a.quorum, quorumNode = int(q), v
		}},
		{name: "approvers", required: true, set: func(v *yaml.Node, path string) {
			okApprovers = true
			seen := map[string]bool{}
			if v.Kind == yaml.SequenceNode && len(v.Content) > maxApprovers {
				d.errorf(v, path, "more than %d approvers", maxApprovers)
				okApprovers = false
				return
			}
			d.sequence(v, path, func(i int, v *yaml.Node, path string) {
				s, ok := d.str(v, path)
				if !ok {
					okApprovers = false
					return
				}
				if err := checkApprover(s); err != nil {
					d.errorf(v, path, "%s", err)
					okApprovers = false
					return
				}
				if seen[s] {
					d.errorf(v, path, "%q is listed twice", s)
					okApprovers = false
					return
				}
				seen[s] = true
				a.approvers = append(a.approvers, s)
			})
			if len(a.approvers) == 0 {
				okApprovers = false
			}
		}},
		{name: "expires_after", set: func(v *yaml.Node, path string) {
			if dur, ok := d.duration(v, path, time.Minute, maxWindow); ok {
				a.expiresAfter = dur
			}
		}},
	})
	if okQuorum && okApprovers && a.quorum > len(a.approvers) {
		d.errorf(quorumNode, join(path, "quorum"), "quorum %d is larger than the %d approvers listed", a.quorum, len(a.approvers))
		return
	}
	if !okAbove || !okQuorum || !okApprovers {
		return
	}
	slices.Sort(a.approvers)
	p.approval = a
	p.doc.Approval = &docApproval{
		Above:        FormatAmount(a.above),
		Quorum:       int64(a.quorum),
		Approvers:    a.approvers,
		ExpiresAfter: formatDuration(a.expiresAfter),
	}
}

// checkApprover accepts operator names and ids: printable, no spaces, bounded.
func checkApprover(s string) error {
	if s == "" || len(s) > 128 {
		return fmt.Errorf("%q must be 1 to 128 characters", s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("%q must not contain spaces or control characters", s)
		}
	}
	return nil
}

func (p *Policy) decodeCEL(d *decoder, n *yaml.Node, path string) {
	names := map[string]bool{}
	d.sequence(n, path, func(i int, v *yaml.Node, path string) {
		var r celRule
		var exprNode *yaml.Node
		okName, okExpr := false, false
		d.mapping(v, path, []field{
			{name: "name", required: true, set: func(v *yaml.Node, path string) {
				s, ok := d.str(v, path)
				if !ok {
					return
				}
				if err := checkName(s); err != nil {
					d.errorf(v, path, "%s", err)
					return
				}
				if names[s] {
					d.errorf(v, path, "a rule named %q is already defined", s)
					return
				}
				names[s] = true
				r.name, okName = s, true
			}},
			{name: "expr", required: true, set: func(v *yaml.Node, path string) {
				if s, ok := d.text(v, path, maxCELExprLen, true); ok {
					r.expr, exprNode, okExpr = strings.TrimSpace(s), v, true
				}
			}},
			{name: "deny_reason", set: func(v *yaml.Node, path string) {
				if s, ok := d.text(v, path, 512, false); ok {
					r.denyReason = s
				}
			}},
		})
		if !okExpr {
			return
		}
		prg, reads, issues := compileCEL(r.expr)
		for _, is := range issues {
			d.celError(exprNode, join(path, "expr"), is)
		}
		if len(issues) > 0 || !okName {
			return
		}
		r.prg, r.reads = prg, reads
		p.cel = append(p.cel, r)
		p.doc.CEL = append(p.doc.CEL, docCEL{Name: r.name, Expr: r.expr, DenyReason: r.denyReason})
	})
}

// celError reports a CEL compile issue at its line in the YAML file: the expression's
// own line offset is added to where the scalar starts (block scalars start on the line
// after their "|" indicator).
func (d *decoder) celError(n *yaml.Node, path string, is celIssue) {
	e := &Error{Line: n.Line, Column: n.Column, Path: path, Msg: "CEL: " + is.msg}
	if is.line > 0 {
		switch n.Style {
		case yaml.LiteralStyle, yaml.FoldedStyle:
			e.Line = n.Line + is.line
			e.Column = is.col
		default:
			e.Line = n.Line + is.line - 1
			if is.line == 1 {
				e.Column = n.Column + is.col - 1
				if n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle {
					e.Column++
				}
			}
		}
		e.Msg = fmt.Sprintf("CEL (column %d of the expression): %s", is.col, is.msg)
	}
	if len(d.errs) < maxErrors {
		d.errs = append(d.errs, e)
	}
}
