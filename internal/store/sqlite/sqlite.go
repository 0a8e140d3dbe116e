// Package sqlite is fleetkey's default store backend: SQLite 3 in WAL mode through the
// pure-Go driver modernc.org/sqlite, implementing the store interfaces and passing the
// store/storetest conformance suite.
//
// # Connections and locking
//
// A Store holds two connection pools on one database file: a write pool of exactly one
// connection, whose transactions begin with BEGIN IMMEDIATE (so the write lock is held
// from the first statement and a transaction's reads and writes see no other writer),
// and a pool of read-only connections (PRAGMA query_only) for ReadTx, which in WAL mode
// read a consistent snapshot without blocking the writer. Go callers of Tx queue for
// the single write connection; another process writing the same file waits up to
// Options.BusyTimeout for the lock.
//
// # Durability
//
// By default synchronous=FULL: the WAL is fsynced at every commit, so a transaction
// whose Tx call returned survives a power loss. Options.SynchronousNormal switches to
// synchronous=NORMAL, which fsyncs only at checkpoints: still never corrupt, but the
// last transactions before a power loss (not a process crash) can be lost, and with
// them a reservation whose signature was already returned — a budget under-count and a
// missing audit record. Use it only where that is acceptable.
//
// # Window totals
//
// spend_buckets aggregates the counted authorizations per scope at 10 ms, 1 s, 1 min
// and 1 h resolution, changed only in the transaction that changes a record's counted
// flag; a window total reads the records of its first partial 10 ms and then whole
// buckets, coarsest first, so its cost does not grow with the window's contents (see
// docs/storage.md). PruneSpendBuckets drops buckets no window can reach any more.
// A write transaction sums its bucket changes in memory (Spend inside it adds
// them; a rolled-back savepoint takes its own back) and writes each bucket once,
// just before it commits, so a group-committed batch of one fleet's payments
// writes the fleet's and group's buckets once.
//
// # State version
//
// StateVersion lets callers cache agents, keys, credentials and policies: it
// changes once a write transaction that changed any of them returns, and, at this
// Store's next write transaction, after another process committed to the file
// (PRAGMA data_version of the write connection).
//
// # Migrations
//
// migrations/NNNN_name.sql files are embedded and applied in order at Open, each in
// the same write transaction that records it in schema_migrations. A database whose
// schema version is newer than the highest embedded migration is refused with
// store.ErrSchemaTooNew.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tune a Store. The zero value is a sensible default.
type Options struct {
	// BusyTimeout is how long a connection waits for a lock held by another process
	// (default 5s).
	BusyTimeout time.Duration
	// ReadConns is the size of the read pool (default 4).
	ReadConns int
	// SynchronousNormal trades durability of the last commits before a power loss
	// for speed (see the package doc). Default: synchronous=FULL.
	SynchronousNormal bool
}

// Store is a store.Store on one SQLite database file.
type Store struct {
	w, r  *sql.DB
	wst   map[string]*sql.Stmt
	rst   map[string]*sql.Stmt
	close func() error

	// version is StateVersion; dataVersion the write connection's last
	// PRAGMA data_version (changed only by commits of other connections, that is
	// of other processes: this one writes through that connection alone).
	version     atomic.Uint64
	dataVersion int64
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database at path, applies pending migrations
// and returns the store.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = 5 * time.Second
	}
	if opt.ReadConns <= 0 {
		opt.ReadConns = 4
	}
	sync := "FULL"
	if opt.SynchronousNormal {
		sync = "NORMAL"
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	common := "_pragma=busy_timeout(" + strconv.FormatInt(opt.BusyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(" + sync + ")" +
		// 32 MiB of page cache per connection (SQLite's default is 2 MiB): the hot
		// pages of the ledger's indexes stay in memory as the database grows.
		"&_pragma=cache_size(-32768)" +
		// Statement and savepoint sub-journals in memory rather than temp files.
		"&_pragma=temp_store(MEMORY)"
	w, err := sql.Open("sqlite", base+"?"+common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", base+"?"+common+"&_pragma=query_only(1)&_txlock=deferred")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	r.SetMaxOpenConns(opt.ReadConns)
	r.SetMaxIdleConns(opt.ReadConns)
	r.SetConnMaxIdleTime(0)
	s.r = r
	s.close = func() error { return errors.Join(r.Close(), w.Close()) }
	// Statements are prepared up front: with one write connection, preparing
	// lazily from inside a transaction would wait for the connection the
	// transaction itself holds.
	if s.wst, err = prepareAll(ctx, w); err != nil {
		s.close()
		return nil, err
	}
	if s.rst, err = prepareAll(ctx, r); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func prepareAll(ctx context.Context, db *sql.DB) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(statements))
	for _, q := range statements {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("sqlite: prepare %q: %w", q, err)
		}
		m[q] = st
	}
	return m, nil
}

// Close closes both pools.
func (s *Store) Close() error { return s.close() }

// Tx runs fn in a write transaction (BEGIN IMMEDIATE on the single write connection).
func (s *Store) Tx(ctx context.Context, fn func(store.Tx) error) error {
	changed := false
	err := s.run(ctx, s.w, s.wst, func(t *tx) error {
		// Another process's commit since this connection's last transaction may
		// have changed any state: count it as a change.
		var dv int64
		if err := t.queryRow(ctx, qDataVersion).Scan(&dv); err != nil {
			return fmt.Errorf("sqlite: data version: %w", err)
		}
		if dv != s.dataVersion {
			s.dataVersion = dv
			s.version.Add(1)
		}
		defer func() { changed = t.stateChanged }()
		return fn(t)
	})
	if changed {
		// After the commit (or rollback), never before: a reader that saw the new
		// version must also see the new state. Counted even when the transaction
		// did not commit; a spurious change only costs a cache its entries.
		s.version.Add(1)
	}
	return err
}

// StateVersion changes (grows) after every write transaction of this Store that
// changed a fleet, group, agent, key, credential or policy, once that transaction
// has ended, and after a write transaction of this Store that follows a commit by
// another process on the same file. A cache of that state, stamped with the
// version read before the state was, is current while the version is unchanged:
// a change by this process is seen as soon as its Tx returns; one by another
// process, from the end of this process's next write transaction.
func (s *Store) StateVersion() uint64 { return s.version.Load() }

var qDataVersion = q(`PRAGMA data_version`)

// ReadTx runs fn in a read transaction on the read pool.
func (s *Store) ReadTx(ctx context.Context, fn func(store.ReadTx) error) error {
	return s.run(ctx, s.r, s.rst, func(t *tx) error { return fn(t) })
}

func (s *Store) run(ctx context.Context, db *sql.DB, st map[string]*sql.Stmt, fn func(*tx) error) (err error) {
	stx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", mapErr(err))
	}
	t := &tx{tx: stx, stmts: st}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		return err
	}
	if len(t.pending) > 0 {
		if err := t.flushBuckets(ctx); err != nil {
			_ = stx.Rollback()
			return err
		}
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", mapErr(err))
	}
	return nil
}

// migrate applies the embedded migrations that the database lacks.
func (s *Store) migrate(ctx context.Context) error {
	type migration struct {
		version int
		name    string
		sql     string
	}
	var ms []migration
	err := fs.WalkDir(migrationFS, "migrations", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		base := strings.TrimPrefix(p, "migrations/")
		num, rest, ok := strings.Cut(base, "_")
		v, perr := strconv.Atoi(num)
		if !ok || perr != nil || v <= 0 || !strings.HasSuffix(rest, ".sql") {
			return fmt.Errorf("sqlite: bad migration file name %q", base)
		}
		b, err := migrationFS.ReadFile(p)
		if err != nil {
			return err
		}
		ms = append(ms, migration{v, strings.TrimSuffix(rest, ".sql"), string(b)})
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return fmt.Errorf("sqlite: migrations are not numbered 1..n (found %d at position %d)", m.version, i+1)
		}
	}
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin migration: %w", err)
	}
	defer t.Rollback()
	if _, err := t.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	var cur int
	if err := t.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if cur > len(ms) {
		return fmt.Errorf("%w: database at version %d, this program knows %d", store.ErrSchemaTooNew, cur, len(ms))
	}
	for _, m := range ms[cur:] {
		if _, err := t.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("sqlite: migration %04d_%s: %w", m.version, m.name, err)
		}
		if _, err := t.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("sqlite: record migration %d: %w", m.version, err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit migrations: %w", err)
	}
	return nil
}

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// constraints maps SQLite's "UNIQUE constraint failed: <columns>" text to store names.
var constraints = map[string]string{
	"fleets.name": store.ConstraintFleetName,
	"fleets.idx":  store.ConstraintFleetIndex,
	"agent_groups.fleet_id, agent_groups.name":                store.ConstraintGroupName,
	"agents.fleet_id, agents.idx":                             store.ConstraintAgentIndex,
	"agents.fleet_id, agents.external_id":                     store.ConstraintAgentExternalID,
	"keys.address":                                            store.ConstraintKeyAddress,
	"keys.path":                                               store.ConstraintKeyPath,
	"keys.agent_id, keys.generation":                          store.ConstraintKeyGeneration,
	"keys.agent_id":                                           store.ConstraintKeyActive,
	"credentials.hash":                                        store.ConstraintCredentialHash,
	"policies.level, policies.scope_id, policies.version":     store.ConstraintPolicyVersion,
	"policies.level, policies.scope_id":                       store.ConstraintPolicyActive,
	"authorizations.agent_id, authorizations.idempotency_key": store.ConstraintIdempotencyKey,
	"authorizations.asset, authorizations.from_address, authorizations.nonce": store.ConstraintNonce,
	"approval_votes.approval_id, approval_votes.approver":                     store.ConstraintApprovalVote,
	"audit_records.seq":     store.ConstraintAuditSeq,
	"audit_checkpoints.seq": store.ConstraintAuditCheckpoint,
}

// mapErr turns SQLite unique violations into *store.ConflictError.
func mapErr(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	code := se.Code()
	if code != sqlite3.SQLITE_CONSTRAINT_UNIQUE && code != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return err
	}
	msg := se.Error()
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return &store.ConflictError{Constraint: store.ConstraintUnknown, Err: err}
	}
	cols := msg[i+len(marker):]
	if j := strings.LastIndex(cols, " ("); j >= 0 {
		cols = cols[:j]
	}
	name, ok := constraints[cols]
	if !ok {
		if strings.HasSuffix(cols, ".id") && !strings.Contains(cols, ",") {
			name = store.ConstraintPrimaryKey
		} else {
			name = store.ConstraintUnknown
		}
	}
	if name == store.ConstraintNonce {
		err = fmt.Errorf("%w (%v)", store.ErrNonceReused, err)
	}
	return &store.ConflictError{Constraint: name, Err: err}
}
