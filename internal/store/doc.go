// Package store is fleetkey's persistence contract: the domain records (fleets, groups,
// agents, keys, credentials, policies, authorizations, approvals, audit records), the
// transaction-centred interfaces every backend implements, and the errors callers
// branch on. The conformance suite in store/storetest is run by every backend
// (store/sqlite today, store/postgres next); a backend is correct when it passes it.
//
// # Transactions
//
// Everything goes through Store.Tx (read-write) or Store.ReadTx (read-only). A change
// and the audit record that describes it are written in the same Tx, so they commit or
// roll back together; a function that returns an error rolls its Tx back and leaves
// nothing behind. Tx functions may be retried by a backend whose isolation level can
// abort a transaction (see below), so they must not have side effects outside the Tx
// other than ones that are safe to repeat, such as signing.
//
// # The ledger rule
//
// Tx.ReserveAuthorization is the only way budget is consumed. Inside one write
// transaction it checks idempotency, re-reads the agent and key states, totals every
// window limit (authorizations of the scope with status reserved, signed or settled and
// CreatedAt after Now-Window), refuses with ErrBudgetExceeded if the new amount or count
// would exceed any of them, and inserts the record. Budget is released only by a status
// change to expired, cancelled or failed. Window totals are a function of the records
// alone (ReadTx.Spend). A backend may keep an aggregate to compute them faster (SQLite
// keeps time buckets), but only if every change that moves a record into or out of the
// counted statuses updates it in the same transaction, and it must return exactly the
// records' totals: the conformance suite checks Spend against a sum over the records
// after random histories and after every concurrency test.
//
// # Concurrency model
//
// SQLite (store/sqlite) has exactly one writer at a time. The backend keeps one
// dedicated write connection and a pool of read connections on a WAL database: readers
// never block the writer or each other and see the last committed snapshot, and write
// transactions start with BEGIN IMMEDIATE, so the write lock is taken before the first
// read of the transaction. A reservation's SUM and its INSERT therefore run with no
// other writer in between, in this process or any other one (busy_timeout makes another
// process wait for the lock instead of failing at once). That single serialisation
// point is what makes budgets and the audit chain exact.
//
// PostgreSQL (store/postgres, later) has many concurrent writers across replicas and
// must get the same guarantees another way. Under READ COMMITTED, two reservations can
// both read a window total below the limit and both insert. A backend must therefore
// either run write transactions at SERIALIZABLE and retry the whole Tx function on
// serialization failures (SQLSTATE 40001) and deadlocks (40P01), or take explicit row
// locks before summing: lock the fleet, group and agent rows (SELECT ... FOR UPDATE, in
// that fixed order to avoid deadlocks) that scope the windows being checked, and lock a
// single audit-head row before appending to the chain. The row-lock variant is the
// cheaper one when one fleet's budget is hot (every payment of the fleet queues on the
// fleet row, as it would on SQLite's write lock, instead of failing and retrying); the
// fleet row lock also serialises the per-fleet agent index counter and the bucket
// upserts. Savepoint maps to SQL SAVEPOINT in both backends. Unique constraints (idempotency
// key, nonce, address, audit sequence number) are the last line of defence in both
// backends; their violations map to ErrConflict (or ErrNonceReused) and never to a
// second record.
//
// # Encodings
//
// Times are stored as UTC Unix nanoseconds in 64-bit integers and returned in UTC; the
// zero time.Time means "not set" and is stored as NULL. Money is an int64 of
// micro-units (AmountMicro) beside the on-chain integer as a decimal string
// (AmountAtomic), never a float. Ethereum addresses are stored and returned as
// lower-case 0x-prefixed hex so that uniqueness does not depend on checksum casing;
// hashes as lower-case hex.
package store
