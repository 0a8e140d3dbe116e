package anomaly

import (
	"math"
	"time"
)

// ewma is an exponentially weighted mean and variance (West's incremental form).
// Early samples are weighted 1/n so that the first few average rather than jump.
type ewma struct {
	Mean float64 `json:"m"`
	Var  float64 `json:"v"`
	N    int64   `json:"n"`
}

func (e *ewma) add(x, alpha float64) {
	e.N++
	if e.N == 1 {
		e.Mean, e.Var = x, 0
		return
	}
	a := max(alpha, 1/float64(e.N))
	d := x - e.Mean
	e.Mean += a * d
	e.Var = (1 - a) * (e.Var + a*d*d)
}

func (e *ewma) std() float64 { return math.Sqrt(e.Var) }

// bucketed counts a quantity per fixed bucket of time and keeps an EWMA of the
// buckets that had any (an agent idle all night does not drag its baseline to
// zero).
type bucketed struct {
	Bucket int64   `json:"b"`
	Sum    float64 `json:"s"`
	Stat   ewma    `json:"e"`
}

// current is the sum of bucket idx so far (0 once the bucket has moved on).
func (b *bucketed) current(idx int64) float64 {
	if b.Bucket == idx {
		return b.Sum
	}
	return 0
}

func (b *bucketed) add(idx int64, x, alpha float64) {
	if idx > b.Bucket {
		if b.Sum > 0 {
			b.Stat.add(b.Sum, alpha)
		}
		b.Bucket, b.Sum = idx, 0
	}
	if idx == b.Bucket {
		b.Sum += x
	}
}

// exceeds reports whether v is above the baseline by z standard deviations (σ at
// least floorStd) and factor times its mean, once min buckets were seen.
func (b *bucketed) exceeds(v, z, factor, floorStd float64, min int64) bool {
	if b.Stat.N < min {
		return false
	}
	return v > b.Stat.Mean+z*max(b.Stat.std(), floorStd) && v > factor*b.Stat.Mean
}

// ring holds the last len(T) event times (Unix nanoseconds) for counting events
// within a window in constant time.
type ring struct {
	T []int64 `json:"t"`
	P int     `json:"p"`
}

func newRing(n int) ring { return ring{T: make([]int64, n)} }

func (r *ring) add(t time.Time) {
	if len(r.T) == 0 {
		return
	}
	r.T[r.P] = t.UnixNano()
	r.P = (r.P + 1) % len(r.T)
}

// since counts the events at or after t.
func (r *ring) since(t time.Time) int {
	n, from := 0, t.UnixNano()
	for _, x := range r.T {
		if x != 0 && x >= from {
			n++
		}
	}
	return n
}

// keyed is a ring of (time, key) pairs, for counting one key within a window.
type keyed struct {
	T []int64  `json:"t"`
	K []uint64 `json:"k"`
	P int      `json:"p"`
}

func newKeyed(n int) keyed { return keyed{T: make([]int64, n), K: make([]uint64, n)} }

func (r *keyed) add(t time.Time, k uint64) {
	if len(r.T) == 0 {
		return
	}
	r.T[r.P], r.K[r.P] = t.UnixNano(), k
	r.P = (r.P + 1) % len(r.T)
}

func (r *keyed) since(t time.Time, k uint64) int {
	n, from := 0, t.UnixNano()
	for i, x := range r.T {
		if x != 0 && x >= from && r.K[i] == k {
			n++
		}
	}
	return n
}

// fnv64 is FNV-1a over the parts, separated: a compact key for repeated payments.
func fnv64(parts ...string) uint64 {
	h := uint64(14695981039346656037)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	return h
}
