package slip39

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// GroupSpec is one group of the two-level scheme: MemberThreshold of its
// MemberCount member shares recover the group's share.
type GroupSpec struct{ MemberThreshold, MemberCount int }

const (
	minSplitBytes = 16
	maxSplitBytes = 32
)

// Split encrypts masterSecret (16..32 bytes, even length) with passphrase
// (printable ASCII, may be empty) and splits it so that any groupThreshold
// of the groups, each with at least its member threshold of member shares,
// recover it. The result has one slice of mnemonics per group, in group
// order. A group with member threshold 1 must have exactly one member
// (SLIP-0039 GenerateShares step 1). New share sets should be extendable
// (the specification's recommendation: the encrypted master secret then
// does not depend on the random identifier). iterationExponent e (0..15)
// sets 10000·2^e PBKDF2 iterations.
//
// The returned mnemonics are strings, which Go cannot wipe; hand them out
// and drop them.
func Split(masterSecret, passphrase []byte, groupThreshold int, groups []GroupSpec, extendable bool, iterationExponent int) ([][]string, error) {
	if n := len(masterSecret); n < minSplitBytes || n > maxSplitBytes || n%2 != 0 {
		return nil, fmt.Errorf("slip39: master secret is %d bytes; it must be an even length from %d to %d", n, minSplitBytes, maxSplitBytes)
	}
	if err := checkPassphrase(passphrase); err != nil {
		return nil, err
	}
	if iterationExponent < 0 || iterationExponent > maxIterationExp {
		return nil, fmt.Errorf("slip39: iteration exponent %d out of range 0..%d", iterationExponent, maxIterationExp)
	}
	if len(groups) < 1 || len(groups) > maxCount {
		return nil, fmt.Errorf("slip39: %d groups; there must be 1 to %d", len(groups), maxCount)
	}
	if groupThreshold < 1 || groupThreshold > len(groups) {
		return nil, fmt.Errorf("slip39: group threshold %d out of range 1..%d", groupThreshold, len(groups))
	}
	for i, g := range groups {
		if g.MemberThreshold < 1 || g.MemberThreshold > g.MemberCount || g.MemberCount > maxCount {
			return nil, fmt.Errorf("slip39: group %d: member threshold %d of %d; need 1 <= threshold <= count <= %d", i+1, g.MemberThreshold, g.MemberCount, maxCount)
		}
		if g.MemberThreshold == 1 && g.MemberCount > 1 {
			return nil, fmt.Errorf("slip39: group %d: a 1-of-%d group gives every member the same share; use 1-of-1", i+1, g.MemberCount)
		}
	}

	var idBytes [2]byte
	if err := randomBytes(idBytes[:]); err != nil {
		return nil, err
	}
	id := (uint16(idBytes[0])<<8 | uint16(idBytes[1])) & (1<<idBits - 1)

	ems, err := feistel(masterSecret, passphrase, iterationExponent, id, extendable, false)
	if err != nil {
		return nil, fmt.Errorf("slip39: encrypting the master secret: %w", err)
	}
	defer clear(ems)
	groupShares, err := splitSecret(groupThreshold, len(groups), ems)
	if err != nil {
		return nil, err
	}
	defer wipeShares(groupShares)

	out := make([][]string, len(groups))
	for gi, g := range groups {
		members, err := splitSecret(g.MemberThreshold, g.MemberCount, groupShares[gi])
		if err != nil {
			return nil, err
		}
		out[gi] = make([]string, len(members))
		for mi, v := range members {
			s := Share{
				Identifier:        id,
				Extendable:        extendable,
				IterationExponent: iterationExponent,
				GroupIndex:        gi,
				GroupThreshold:    groupThreshold,
				GroupCount:        len(groups),
				MemberIndex:       mi,
				MemberThreshold:   g.MemberThreshold,
				value:             v,
			}
			out[gi][mi] = s.mnemonic()
		}
		wipeShares(members)
	}
	return out, nil
}

// Combine recovers the master secret from mnemonics, given in any order.
// Shares beyond the thresholds are allowed (duplicates of a share are
// ignored) but must agree with the others; groups without enough members
// are ignored when enough other groups are complete. The caller owns and
// must clear the result.
//
// A wrong passphrase is not detected: by design (SLIP-0039 "Passphrase")
// it yields a different, valid-looking master secret.
func Combine(mnemonics []string, passphrase []byte) ([]byte, error) {
	if err := checkPassphrase(passphrase); err != nil {
		return nil, err
	}
	if len(mnemonics) == 0 {
		return nil, fmt.Errorf("%w: no shares given", ErrInsufficientShares)
	}
	shares := make([]*Share, 0, len(mnemonics))
	defer func() {
		for _, s := range shares {
			s.Wipe()
		}
	}()
	for i, m := range mnemonics {
		s, err := ParseShare(m)
		if err != nil {
			return nil, &shareError{index: i + 1, err: err}
		}
		shares = append(shares, s)
	}

	first := shares[0]
	for i, s := range shares[1:] {
		if what := mismatch(first, s); what != "" {
			return nil, &shareError{index: i + 2, err: fmt.Errorf("%w: %s differs from share 1", ErrMismatchedShares, what)}
		}
	}

	// members[g] lists the distinct member shares of group index g.
	var members [maxCount][]*Share
	for i, s := range shares {
		g := members[s.GroupIndex]
		if len(g) > 0 && g[0].MemberThreshold != s.MemberThreshold {
			return nil, &shareError{index: i + 1, err: fmt.Errorf("%w: member threshold differs from another share of group index %d", ErrMismatchedShares, s.GroupIndex)}
		}
		dup := false
		for _, o := range g {
			if o.MemberIndex != s.MemberIndex {
				continue
			}
			if subtle.ConstantTimeCompare(o.value, s.value) != 1 {
				return nil, &shareError{index: i + 1, err: fmt.Errorf("%w: another share has group index %d and member index %d but a different value", ErrMismatchedShares, s.GroupIndex, s.MemberIndex)}
			}
			dup = true
		}
		if !dup {
			members[s.GroupIndex] = append(g, s)
		}
	}

	var groupPts []point
	defer func() {
		for _, p := range groupPts {
			clear(p.y)
		}
	}()
	var short []string
	for gi, g := range members {
		if len(g) == 0 {
			continue
		}
		t := g[0].MemberThreshold
		if len(g) < t {
			short = append(short, fmt.Sprintf("group index %d has %d of %d", gi, len(g), t))
			continue
		}
		slices.SortFunc(g, func(a, b *Share) int { return a.MemberIndex - b.MemberIndex })
		pts := make([]point, len(g))
		for i, s := range g {
			pts[i] = point{x: byte(s.MemberIndex), y: s.value}
		}
		secret, err := recoverSecret(t, pts[:t], pts[t:])
		if err != nil {
			return nil, fmt.Errorf("slip39: group index %d: %w", gi, err)
		}
		groupPts = append(groupPts, point{x: byte(gi), y: secret})
	}
	gt := first.GroupThreshold
	if len(groupPts) < gt {
		msg := fmt.Sprintf("%d of %d groups complete", len(groupPts), gt)
		if len(short) > 0 {
			msg += " (" + strings.Join(short, ", ") + " member shares)"
		}
		return nil, fmt.Errorf("%w: %s", ErrInsufficientShares, msg)
	}
	ems, err := recoverSecret(gt, groupPts[:gt], groupPts[gt:])
	if err != nil {
		return nil, err
	}
	defer clear(ems)
	ms, err := feistel(ems, passphrase, first.IterationExponent, first.Identifier, first.Extendable, true)
	if err != nil {
		return nil, fmt.Errorf("slip39: decrypting the master secret: %w", err)
	}
	return ms, nil
}

// mismatch names the first common parameter in which b differs from a.
func mismatch(a, b *Share) string {
	switch {
	case a.Identifier != b.Identifier:
		return "identifier"
	case a.Extendable != b.Extendable:
		return "extendable flag"
	case a.IterationExponent != b.IterationExponent:
		return "iteration exponent"
	case a.GroupThreshold != b.GroupThreshold:
		return "group threshold"
	case a.GroupCount != b.GroupCount:
		return "group count"
	case len(a.value) != len(b.value):
		return "length"
	}
	return ""
}

func checkPassphrase(p []byte) error {
	for _, c := range p {
		if c < 32 || c > 126 {
			return errors.New("slip39: passphrase must be printable ASCII (32..126)")
		}
	}
	return nil
}

// shareError names the position (1-based) of the offending mnemonic in the
// caller's list and wraps the sentinel.
type shareError struct {
	index int
	err   error
}

func (e *shareError) Error() string {
	return fmt.Sprintf("slip39: share %d: %s", e.index, strings.TrimPrefix(e.err.Error(), "slip39: "))
}

func (e *shareError) Unwrap() error { return e.err }
