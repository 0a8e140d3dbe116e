package facilitator

import (
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// authKey identifies one EIP-3009 authorization: the token contract on its chain, the
// authorizer and the nonce. The token enforces that each (from, nonce) is used once.
type authKey struct {
	chainID uint64
	asset   common.Address
	from    common.Address
	nonce   [32]byte
}

type entryState int

const (
	// stateActive: a settle call is working on the authorization right now.
	stateActive entryState = iota
	// statePending: a transaction was sent, but its receipt did not arrive before the settle
	// call gave up; a retry of the same payload resumes waiting on it.
	statePending
	// stateSettled: the transfer is on chain; the nonce is used.
	stateSettled
)

type entry struct {
	state entryState
	// fingerprint binds the entry to one payload (EIP-712 digest and signature) so that only
	// a retry of the very same payment resumes a pending settlement.
	fingerprint common.Hash
	tx          common.Hash
	// expires is when the entry stops mattering: a settled nonce is also refused by the token
	// (one RPC away), and after validBefore the authorization is refused by the time check.
	expires time.Time
}

// registry is the in-flight and recently-settled set of authorizations.
type registry struct {
	mu        sync.Mutex
	m         map[authKey]*entry
	lastSweep time.Time
}

func newRegistry() *registry { return &registry{m: make(map[authKey]*entry)} }

// sweepEvery bounds how often the registry scans for expired entries.
const sweepEvery = 30 * time.Second

func (r *registry) sweepLocked(now time.Time) {
	if now.Sub(r.lastSweep) < sweepEvery {
		return
	}
	r.lastSweep = now
	for k, e := range r.m {
		if e.state != stateActive && now.After(e.expires) {
			delete(r.m, k)
		}
	}
}

func (r *registry) getLocked(k authKey, now time.Time) *entry {
	e := r.m[k]
	if e != nil && e.state != stateActive && now.After(e.expires) {
		delete(r.m, k)
		return nil
	}
	return e
}

// lookup reports the state of k, if the registry knows it.
func (r *registry) lookup(k authKey, now time.Time) (entryState, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.getLocked(k, now)
	if e == nil {
		return 0, false
	}
	return e.state, true
}

// claimResult says what a settle call may do with an authorization.
type claimResult int

const (
	claimNew     claimResult = iota // nobody knows it: go ahead and send
	claimResume                     // the same payload has a pending transaction: wait for it
	claimRefused                    // in flight or settled: refuse
)

// claim marks k active for the caller. A pending entry with the same fingerprint is resumed
// (and its transaction returned); anything else already present is refused.
func (r *registry) claim(k authKey, fp common.Hash, now, expires time.Time) (claimResult, common.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now)
	e := r.getLocked(k, now)
	switch {
	case e == nil:
		r.m[k] = &entry{state: stateActive, fingerprint: fp, expires: expires}
		return claimNew, common.Hash{}
	case e.state == statePending && e.fingerprint == fp:
		e.state = stateActive
		return claimResume, e.tx
	default:
		return claimRefused, e.tx
	}
}

// sent records the transaction of an active entry.
func (r *registry) sent(k authKey, tx common.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.m[k]; e != nil {
		e.tx = tx
	}
}

// park turns an active entry whose receipt did not come in time into a pending one.
func (r *registry) park(k authKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.m[k]; e != nil && e.state == stateActive {
		e.state = statePending
	}
}

// settle records that k is used on chain until until.
func (r *registry) settle(k authKey, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.m[k]; e != nil {
		e.state, e.expires = stateSettled, until
	}
}

// release forgets k: the settlement failed without using the nonce, or did not start.
func (r *registry) release(k authKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, k)
}

// size returns the number of entries, for tests.
func (r *registry) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}
