package policy

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxDocumentSize bounds the size of a policy or cases document: policies are written
// by people, and a bound keeps a hostile upload from costing the parser much.
const MaxDocumentSize = 256 << 10

// Error is one problem found in a document, located by line and column (1-based) and
// by the path of the offending key, e.g. "limits.windows[1].max_amount".
type Error struct {
	Line, Column int
	Path         string
	Msg          string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("policy: ")
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a document, in document order. Parse returns one
// so that an operator fixes a policy in one round instead of one error at a time.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// maxErrors stops collecting after this many problems: past that point the document
// is probably not a policy at all.
const maxErrors = 20

// decoder walks a yaml.Node tree and collects located errors. It is strict: unknown
// keys, duplicate keys, aliases, wrong scalar types and multi-document input are all
// refused, because a silently ignored typo in a spending policy is a silent hole.
type decoder struct {
	errs ErrorList
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		return
	}
	e := &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	sort.SliceStable(d.errs, func(i, j int) bool {
		a, b := d.errs[i], d.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return d.errs
}

// parseDocument decodes exactly one YAML document into its root node.
func parseDocument(src []byte, what string) (*yaml.Node, error) {
	if len(src) > MaxDocumentSize {
		return nil, ErrorList{{Msg: fmt.Sprintf("%s is larger than %d bytes", what, MaxDocumentSize)}}
	}
	dec := yaml.NewDecoder(strings.NewReader(string(src)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrorList{{Msg: what + " is empty"}}
		}
		return nil, ErrorList{yamlSyntaxError(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := 0
		if err == nil {
			line = extra.Line
		}
		return nil, ErrorList{{Line: line, Msg: what + " must be a single YAML document"}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, ErrorList{{Msg: what + " is empty"}}
	}
	return doc.Content[0], nil
}

// yamlSyntaxError turns yaml.v3's "yaml: line N: msg" into a located Error.
func yamlSyntaxError(err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, convErr := strconv.Atoi(num); convErr == nil {
				e.Line, e.Msg = n, tail
			}
		}
	}
	e.Msg = "invalid YAML: " + e.Msg
	return e
}

// field is one key of a mapping; set is called with the value node.
type field struct {
	name     string
	required bool
	set      func(v *yaml.Node, path string)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// mapping decodes a mapping node strictly against the given fields.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) {
	if !d.kind(n, path, yaml.MappingNode, "a mapping") {
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			d.errorf(k, path, "keys must be plain strings")
			continue
		}
		if seen[k.Value] {
			d.errorf(k, join(path, k.Value), "duplicate key")
			continue
		}
		seen[k.Value] = true
		var f *field
		for j := range fields {
			if fields[j].name == k.Value {
				f = &fields[j]
				break
			}
		}
		if f == nil {
			names := make([]string, len(fields))
			for j := range fields {
				names[j] = fields[j].name
			}
			d.errorf(k, path, "unknown key %q (expected one of: %s)", k.Value, strings.Join(names, ", "))
			continue
		}
		if v.Kind == yaml.AliasNode {
			d.errorf(v, join(path, k.Value), "YAML aliases are not supported")
			continue
		}
		f.set(v, join(path, k.Value))
	}
	for _, f := range fields {
		if f.required && !seen[f.name] {
			d.errorf(n, path, "missing required key %q", f.name)
		}
	}
}

// sequence decodes a non-empty sequence node, calling each for every element.
func (d *decoder) sequence(n *yaml.Node, path string, each func(i int, v *yaml.Node, path string)) {
	if !d.kind(n, path, yaml.SequenceNode, "a list") {
		return
	}
	if len(n.Content) == 0 {
		d.errorf(n, path, "empty list (omit the key instead)")
		return
	}
	for i, v := range n.Content {
		if v.Kind == yaml.AliasNode {
			d.errorf(v, index(path, i), "YAML aliases are not supported")
			continue
		}
		each(i, v, index(path, i))
	}
}

func (d *decoder) kind(n *yaml.Node, path string, k yaml.Kind, what string) bool {
	if n.Kind == yaml.AliasNode {
		d.errorf(n, path, "YAML aliases are not supported")
		return false
	}
	if n.Kind != k {
		d.errorf(n, path, "must be %s", what)
		return false
	}
	return true
}

// scalar returns the literal text of a scalar node whose resolved tag is one of tags.
func (d *decoder) scalar(n *yaml.Node, path, what string, tags ...string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "must be %s", what)
		return "", false
	}
	tag := n.ShortTag()
	for _, t := range tags {
		if tag == t {
			return n.Value, true
		}
	}
	d.errorf(n, path, "must be %s", what)
	return "", false
}

func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	return d.scalar(n, path, "a string", "!!str")
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	s, ok := d.scalar(n, path, "true or false", "!!bool")
	if !ok {
		return false, false
	}
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	d.errorf(n, path, "must be true or false")
	return false, false
}

// count decodes a non-negative integer no larger than max.
func (d *decoder) count(n *yaml.Node, path string, min, max int64) (int64, bool) {
	s, ok := d.scalar(n, path, "an integer", "!!int", "!!str", "!!float")
	if !ok {
		return 0, false
	}
	if strings.HasPrefix(s, "-") {
		d.errorf(n, path, "%q must not be negative", s)
		return 0, false
	}
	if s == "" || !allDigits(s) {
		d.errorf(n, path, "%q is not an integer", s)
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > max {
		d.errorf(n, path, "%q is too large (at most %d)", s, max)
		return 0, false
	}
	if v < min {
		d.errorf(n, path, "%q must be at least %d", s, min)
		return 0, false
	}
	return v, true
}

// amount decodes a decimal amount into micro-units. Unquoted YAML numbers are read from
// their literal text, never through a float, so 0.1 means exactly 100000 micro-units.
func (d *decoder) amount(n *yaml.Node, path string) (int64, bool) {
	s, ok := d.scalar(n, path, "a decimal amount", "!!str", "!!int", "!!float")
	if !ok {
		return 0, false
	}
	v, err := parseAmount(s)
	if err != nil {
		d.errorf(n, path, "%s", err)
		return 0, false
	}
	return v, true
}

// duration decodes a whole-second duration within [min, max].
func (d *decoder) duration(n *yaml.Node, path string, min, max time.Duration) (time.Duration, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := parseDuration(s)
	if err != nil {
		d.errorf(n, path, "%s", err)
		return 0, false
	}
	if v < min || v > max {
		d.errorf(n, path, "%q must be between %s and %s", s, formatDuration(min), formatDuration(max))
		return 0, false
	}
	return v, true
}

// parseDuration accepts Go durations ("90s", "1h30m") and whole days ("7d"), in whole
// seconds.
func parseDuration(s string) (time.Duration, error) {
	var v time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok && days != "" && allDigits(days) {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n > 10000 {
			return 0, fmt.Errorf("%q is not a valid duration", s)
		}
		v = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		v, err = time.ParseDuration(s)
		if err != nil || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			return 0, fmt.Errorf("%q is not a valid duration (like 30s, 5m, 1h or 7d)", s)
		}
	}
	if v%time.Second != 0 {
		return 0, fmt.Errorf("%q is not a whole number of seconds", s)
	}
	return v, nil
}

// formatDuration renders a duration in its shortest Go form without zero units:
// "1h", "24h", "1h30m", "90s" → "1m30s". It is the canonical spelling of windows in
// rule paths, the canonical document and CEL's spend maps.
func formatDuration(v time.Duration) string {
	s := v.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
