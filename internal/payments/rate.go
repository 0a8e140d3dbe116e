package payments

import (
	"sync"
	"time"

	"github.com/fleetkey/fleetkey/internal/policy"
)

// requestCounter counts payment requests per scope over the trailing minute, for
// policy rate rules (rate.max_requests_per_minute). The store keeps only
// authorizations, and a rate rule must also count requests that were denied, so
// the count lives here: per process, in one-second buckets (a count may include
// requests up to one second older than a minute), and lost on restart.
type requestCounter struct {
	mu sync.Mutex
	m  map[rateKey]*minuteRing
}

type rateKey struct {
	level policy.Level
	scope string
}

// minuteRing holds 60 one-second buckets; sec[i] is the Unix second bucket i counts.
type minuteRing struct {
	sec [60]int64
	n   [60]int64
}

// countAndAdd returns, for each level, the requests at its scope in the trailing
// minute before now, and counts this request at every level's scope.
func (c *requestCounter) countAndAdd(scopes map[policy.Level]string, now time.Time) map[policy.Level]int64 {
	s := now.Unix()
	out := make(map[policy.Level]int64, len(scopes))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[rateKey]*minuteRing)
	}
	for level, scope := range scopes {
		if scope == "" {
			continue
		}
		k := rateKey{level, scope}
		r := c.m[k]
		if r == nil {
			r = &minuteRing{}
			c.m[k] = r
		}
		var total int64
		for i := range r.sec {
			if r.sec[i] > s-60 && r.sec[i] <= s {
				total += r.n[i]
			}
		}
		out[level] = total
		i := s % 60
		if r.sec[i] != s {
			r.sec[i], r.n[i] = s, 0
		}
		r.n[i]++
	}
	return out
}
