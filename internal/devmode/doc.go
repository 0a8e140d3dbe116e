// Package devmode assembles `fleetkey dev`: the whole fleetkey system in one process, for
// development and demonstrations only. It starts the in-process devnet (internal/chain/devnet)
// with its EIP-3009 TestUSD token, the x402 facilitator (x402/facilitator) on its own port, the
// signing daemon (internal/server) on SQLite in a data directory, the demo paid API with its
// honest and hostile endpoints (internal/demo), the demo fleet with its policies, an approver
// credential and, unless asked not to, simulated agent traffic with a live summary.
//
// Custody is sealed with a passphrase generated on first start and stored next to the seal in
// the data directory, so the data directory alone unseals it: that is what makes this mode
// unsafe for anything but development, and every start says so.
//
// What persists across restarts is the data directory: the sealed root (so every agent keeps its
// keys and addresses), the database (fleet, groups, agents, credentials, policies, payments,
// approvals, audit chain) and the token files. What does not persist is the chain: the devnet
// lives in memory, so every start deploys TestUSD again (at the same address: it is the first
// transaction of dev account 0) and funds the agents again. Payments signed against an earlier
// chain were never settled on this one; chain reconciliation marks them expired once their
// validity ends.
//
// The data directory's dev.json (Manifest) tells scripts and tests where everything is; it
// exists while the environment runs.
package devmode
