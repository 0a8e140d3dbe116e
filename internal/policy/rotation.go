package policy

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Bounds on the rotation section: a key rotated more often than hourly is a mistake,
// and ten years is longer than any key should live.
const (
	minKeyAge = time.Hour
	maxKeyAge = 3650 * 24 * time.Hour
)

// Outstanding authorizations at a rotation: cancelled on chain, or left to expire.
const (
	OutstandingCancel = "cancel"
	OutstandingExpire = "expire"
)

// Rotation is a scheduled-rotation rule: an agent's key is due for rotation once it is
// MaxKeyAge old or has signed MaxSignatures payments; a zero field does not apply.
// Outstanding says what the rotation does with the old key's outstanding
// authorizations: OutstandingCancel, OutstandingExpire, or "" (not set; the rotation's
// default, cancel, applies).
type Rotation struct {
	MaxKeyAge     time.Duration
	MaxSignatures int64
	Outstanding   string
}

// IsZero reports whether the rule sets nothing.
func (r Rotation) IsZero() bool { return r == Rotation{} }

// Scheduled reports whether the rule makes keys due: it has a maximum age or a maximum
// signature count.
func (r Rotation) Scheduled() bool { return r.MaxKeyAge > 0 || r.MaxSignatures > 0 }

// Rotation is the policy's rotation section, and whether it has one.
func (p *Policy) Rotation() (Rotation, bool) { return p.rotation, p.hasRotation }

// Rotation is the effective rotation rule of the agent: for each field, the strictest
// value among the levels that set it (the shortest maximum age, the smallest maximum
// signature count, and cancel over expire). A level cannot loosen what another level
// sets.
func (s Set) Rotation() Rotation {
	var out Rotation
	for _, l := range levels {
		p := s.at(l)
		if p == nil || !p.hasRotation {
			continue
		}
		r := p.rotation
		if r.MaxKeyAge > 0 && (out.MaxKeyAge == 0 || r.MaxKeyAge < out.MaxKeyAge) {
			out.MaxKeyAge = r.MaxKeyAge
		}
		if r.MaxSignatures > 0 && (out.MaxSignatures == 0 || r.MaxSignatures < out.MaxSignatures) {
			out.MaxSignatures = r.MaxSignatures
		}
		if r.Outstanding == OutstandingCancel || (r.Outstanding == OutstandingExpire && out.Outstanding == "") {
			out.Outstanding = r.Outstanding
		}
	}
	return out
}

func (p *Policy) decodeRotation(d *decoder, n *yaml.Node, path string) {
	var (
		r   Rotation
		doc docRotation
		bad bool
	)
	d.mapping(n, path, []field{
		{name: "max_key_age", set: func(v *yaml.Node, path string) {
			dur, ok := d.duration(v, path, minKeyAge, maxKeyAge)
			if !ok {
				bad = true
				return
			}
			r.MaxKeyAge, doc.MaxKeyAge = dur, formatDuration(dur)
		}},
		{name: "max_signatures", set: func(v *yaml.Node, path string) {
			c, ok := d.count(v, path, 1, maxCount)
			if !ok {
				bad = true
				return
			}
			r.MaxSignatures, doc.MaxSignatures = c, &c
		}},
		{name: "outstanding", set: func(v *yaml.Node, path string) {
			s, ok := d.str(v, path)
			if !ok {
				bad = true
				return
			}
			if s != OutstandingCancel && s != OutstandingExpire {
				d.errorf(v, path, "%q is not cancel or expire", s)
				bad = true
				return
			}
			r.Outstanding, doc.Outstanding = s, s
		}},
	})
	if n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		d.errorf(n, path, "empty section (set max_key_age, max_signatures or outstanding, or omit the key)")
		return
	}
	if bad || r.IsZero() {
		return
	}
	p.rotation, p.hasRotation = r, true
	p.doc.Rotation = &doc
}
