// Package reconcile keeps fleetkey's ledger true to the chain. A Reconciler reads, for every
// signed EIP-3009 authorization on its chain, authorizationState(authorizer, nonce) through
// Multicall3 (one eth_call per batch, all at one pinned block), and for the ones the chain
// has used finds the AuthorizationUsed or AuthorizationCanceled event (EIP-3009) that used
// them. A transfer marks the authorization settled with its transaction hash; a
// cancellation releases its budget. Then it expires the reservations whose validBefore has
// passed, expires approval requests that lapsed and releases the budget they held, and
// drops spend aggregates no window can reach. Every change is written with its audit
// record, actor "system", in one store transaction.
//
// # Order and safety
//
// The chain is read before anything is written, so an RPC failure changes nothing: the
// pass returns the error and budgets stay reserved (fail closed: a budget held too long
// only refuses payments, one released too early could overspend). Settlement runs before
// expiry, and every signed authorization whose validBefore has passed was checked on chain
// in the same pass, so one used just before its validBefore ends settled, not expired. An
// authorization used after that check but before the expiry is written is expired for one
// pass: expired authorizations are checked again until the chain's pinned block is past
// their validBefore (after which EIP-3009 forbids their use), and MarkSettled moves them
// from expired to settled, where they count again.
//
// Only authorizations whose network is the RPC's chain and whose asset the registry knows
// on that chain are checked; others are left to a reconciler of their own chain (their
// expiry is still written, as it is for reserved ones that were never signed).
package reconcile
