package payments

import (
	"sync"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
)

// stateVersioner is a store that tells when the state a payment reads before
// deciding (agents, keys, policies) may have changed; the SQLite store is one. With
// it the service keeps what it read per agent and reads it again only after a
// change; without it every payment reads everything.
type stateVersioner interface {
	// StateVersion changes once a write transaction that changed a fleet, group,
	// agent, key, credential or policy has returned (see sqlite.Store.StateVersion).
	StateVersion() uint64
}

// agentState is what a payment reads about its agent before deciding, other than
// window totals: the agent, its active key, the names policies see and the
// compiled policies of its three levels. It is immutable once cached.
type agentState struct {
	version              uint64
	agent                store.Agent
	key                  store.Key
	fleetName, groupName string
	set                  policy.Set
}

// agentCache holds an agentState per agent, each valid while the store's state
// version is the one read before it was loaded. A stale entry is simply replaced;
// the cache holds at most one entry per agent. Nothing it holds is trusted for the
// ledger: the reservation re-reads the agent's and the key's status in its own
// write transaction.
type agentCache struct {
	m sync.Map // agent id → *agentState
}

// get returns the agent's cached state if it was loaded at version v.
func (c *agentCache) get(agentID string, v uint64) *agentState {
	if e, ok := c.m.Load(agentID); ok {
		if st := e.(*agentState); st.version == v {
			return st
		}
	}
	return nil
}

func (c *agentCache) put(st *agentState) { c.m.Store(st.agent.ID, st) }
