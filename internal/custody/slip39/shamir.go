package slip39

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
)

// randReader is the only source of randomness (identifier, polynomial
// coefficients, digest key). Tests replace it to check that its failures
// propagate; production code never does.
var randReader io.Reader = rand.Reader

func randomBytes(b []byte) error {
	if _, err := io.ReadFull(randReader, b); err != nil {
		return fmt.Errorf("slip39: reading randomness: %w", err)
	}
	return nil
}

const (
	digestIndex = 254
	secretIndex = 255
	digestLen   = 4
)

func digest(r, s []byte) []byte {
	m := hmac.New(sha256.New, r)
	m.Write(s)
	sum := m.Sum(nil)
	d := make([]byte, digestLen)
	copy(d, sum)
	clear(sum)
	return d
}

// splitSecret is SLIP-0039 SplitSecret(T, N, S): share i (index i) is the
// value at x = i of the byte-wise polynomials of degree T−1 fixed by T−2
// random shares at x = 0..T−3, the digest share D at x = 254 and S at x = 255.
func splitSecret(threshold, count int, secret []byte) ([][]byte, error) {
	shares := make([][]byte, count)
	if threshold == 1 {
		for i := range shares {
			shares[i] = append([]byte(nil), secret...)
		}
		return shares, nil
	}
	n := len(secret)
	d := make([]byte, n)
	defer clear(d)
	if err := randomBytes(d[digestLen:]); err != nil {
		return nil, err
	}
	dg := digest(d[digestLen:], secret)
	copy(d, dg)
	clear(dg)

	base := make([]point, 0, threshold)
	for i := range threshold - 2 {
		y := make([]byte, n)
		if err := randomBytes(y); err != nil {
			clear(y)
			wipeShares(shares)
			return nil, err
		}
		shares[i] = y
		base = append(base, point{x: byte(i), y: y})
	}
	base = append(base, point{x: digestIndex, y: d}, point{x: secretIndex, y: secret})
	for i := threshold - 2; i < count; i++ {
		shares[i] = make([]byte, n)
		interpolate(shares[i], byte(i), base)
	}
	return shares, nil
}

// recoverSecret is SLIP-0039 RecoverSecret(T, pts) for exactly T points
// with distinct x, followed by a check that every extra point lies on the
// same polynomials (extra shares are accepted but must agree).
func recoverSecret(threshold int, pts, extra []point) ([]byte, error) {
	n := len(pts[0].y)
	s := make([]byte, n)
	if threshold == 1 {
		copy(s, pts[0].y)
	} else {
		interpolate(s, secretIndex, pts)
		d := make([]byte, n)
		interpolate(d, digestIndex, pts)
		want := digest(d[digestLen:], s)
		ok := subtle.ConstantTimeCompare(want, d[:digestLen]) == 1
		clear(want)
		clear(d)
		if !ok {
			clear(s)
			return nil, ErrInvalidDigest
		}
	}
	if len(extra) > 0 {
		y := make([]byte, n)
		defer clear(y)
		for _, e := range extra {
			interpolate(y, e.x, pts)
			if subtle.ConstantTimeCompare(y, e.y) != 1 {
				clear(s)
				return nil, fmt.Errorf("%w: an extra share disagrees with the others", ErrInvalidDigest)
			}
		}
	}
	return s, nil
}

func wipeShares(shares [][]byte) {
	for _, s := range shares {
		clear(s)
	}
}
