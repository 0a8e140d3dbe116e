// Package payments is the core of fleetkey's signing service, without HTTP:
// it provisions agents (keys and credentials), authenticates agent tokens, and
// turns an agent's x402 payment request (x402 v1/v2 "exact" scheme, an EIP-3009
// TransferWithAuthorization signed as EIP-712 typed data) into a signed payment
// header under policy, with the budget reserved atomically and every outcome in
// the hash-chained audit log. The HTTP API, the daemon and the SDK call it.
//
// # Provisioning
//
// ProvisionAgents runs one write transaction for the whole batch: agents are
// created idempotently by external id, each new one takes the fleet's next
// never-used index, gets its key at m/44'/60'/{fleet}'/{agent}'/0' (address
// derived by custody, stored with a unique constraint), an agent credential
// (stored only as its hash; the token is returned once) and one agent.created
// audit record. An agent that already exists is returned as Existing, with no new
// credential and no audit record. A failure anywhere leaves nothing behind.
//
// # Paying
//
// Pay proceeds in this order:
//
//  1. The request is checked and the demand parsed (signer.ParseDemand).
//  2. One read snapshot: the authorization stored under the idempotency key if
//     any (then the request is a replay: if the demand still names the same
//     payment, the stored answer is returned without a reservation or a policy
//     check; otherwise store.ErrIdempotencyMismatch), else the agent, its active
//     key, the active policies of its fleet, group and itself (parsed once per
//     content hash, refused if the source does not hash to the recorded hash) and
//     the window totals the policies read (policy.Set.SnapshotSpec). The agent,
//     key and policies are kept per agent and read again only once the store's
//     state version has changed (a store with StateVersion, as the SQLite one:
//     any committed change to a fleet, group, agent, key, credential or policy);
//     the idempotency record and the window totals are read for every payment.
//  3. signer.Choose picks the first requirement that the trusted registry
//     admits and policy allows (or needs approval for). Policy sees the agent's
//     resource URL, and the server's resource URL too when it differs.
//  4. signer.BuildAuthorization builds the authorization (fresh nonce,
//     validBefore capped by the policy's max_validity), and custody signs its
//     digest on the caller's goroutine, outside the store's write lock. The
//     signature is handed out only if step 5 commits; otherwise it is dropped
//     without ever leaving this package.
//  5. One write: ReserveAuthorization with every window limit of the decision at
//     its scope (the store re-checks them under its write lock, so concurrent
//     payments can never overspend: the snapshot of step 2 is advisory) and the
//     agent's and key's status, storing the record signed with its header (kept
//     for replays; store.ReserveRequest.Signed), and the payment.signed audit
//     record. A failure at any point undoes both: no reservation is left
//     without its signature and record.
//
// Writes are group-committed: the writes of concurrent payments that queue while
// a transaction runs are committed together in the next one, each in its own
// savepoint (store.Tx.Savepoint), so a refused or failed payment leaves no trace
// and undoes none of the others, while one WAL commit serves the whole batch.
// Provisioning runs in a transaction of its own.
//
// With a Config.Detector (package anomaly), the chosen payment is screened
// between steps 3 and 4: the detector may let it go on, send it to approval
// (its approval request is added to the policy's), or refuse it (a *DeniedError
// with an anomaly_ reason); an error from it fails the payment. After every Pay
// call's audit record, the detector observes the outcome.
//
// A payment that needs approval instead reserves its budget, creates one
// approval request per level that asks for one and appends approval.created,
// in one transaction; the reservation keeps the demand as received and the
// index of the chosen requirement.
//
// # Approvals
//
// Vote records an approver's decision (approval.voted). The vote that completes
// the last approval request of a payment signs it in the same call: the stored
// demand is parsed again, the stored requirement chosen again against the
// trusted registry (and checked to name the reserved payment), the authorization
// rebuilt with the reserved nonce and validAfter (signer.RebuildAuthorization)
// and a validBefore of the policy's validity counted from the vote, capped by
// the reservation's; custody signs before the write, and the vote, MarkSigned and
// payment.signed (actor: the approver) commit together. A denial, or a request
// that expires (found by Vote, Approval(s), Payment or ExpireApprovals), cancels
// the reservation and releases its budget (payment.cancelled). The agent polls
// with Payment or WaitPayment; the payment header is returned only once signed.
//
// # Operators
//
// AuthenticateOperator, credentials (BootstrapAdmin makes the first admin of a
// new database), fleets, groups, agents, freezing, policies and the listings are
// the operator API's core. Roles are checked by the HTTP layer; the methods take
// the acting operator for the audit record, which every state change appends in
// its own transaction.
//
// # What is recorded
//
// Every Pay call appends exactly one audit record: payment.signed or
// approval.created in the write that made the change; payment.denied (reason,
// rule, policy hash, limit, observed), payment.failed (the error) or
// payment.replayed in a write of its own, since nothing else changed.
// If that record cannot be written the outcome is not returned. A request the
// HTTP API refuses before Pay (a body that does not decode) is recorded by
// RecordRefused as the same payment.failed.
//
// # Limits of this version
//
// Policy request counts (rate.max_requests_per_minute) are not kept by the
// store: the Service counts requests that reach a decision per scope in memory,
// in one-second buckets, so a rate limit is per process (not shared by replicas)
// and forgets its counts on restart. CEL rules see agent.fleet and agent.group as
// the fleet's and group's names (agent.id is the agent's id).
package payments
