// Package postgres is fleetkey's PostgreSQL store backend, for several fleetkey
// replicas sharing one database: it implements the store interfaces with
// github.com/jackc/pgx/v5 (through its database/sql driver on a pgxpool) and passes
// the store/storetest conformance suite. Open takes a postgres:// URL.
//
// # Concurrency control
//
// Write transactions run at READ COMMITTED and take explicit row locks before they
// read what they decide on; read transactions run at REPEATABLE READ, READ ONLY, so
// that each sees one snapshot. The locks:
//
//   - Every write transaction first locks the single row of audit_head_lock
//     (SELECT ... FOR UPDATE, held to commit). Write transactions therefore run one
//     at a time across all replicas, as on SQLite's single writer: the audit chain
//     has one appender (one chain, no fork, no gap; the unique seq is the last line
//     of defence), and since no two writers ever hold row locks at once, they cannot
//     deadlock however their statements are ordered (a group-committed batch may
//     lock several fleets, a reconciler touches buckets of many). Every payment
//     appends to the one chain, so a finer scheme would serialise there anyway.
//   - ReserveAuthorization also locks its agent's fleet row (SELECT ... FOR NO KEY
//     UPDATE, once per transaction) before it checks idempotency, re-reads the agent
//     and key and sums the windows. Every window of a reservation lies inside that
//     fleet (fleet, group or agent), so budgets stay exact by this lock alone, should
//     the global one ever be narrowed; it also covers CreateAgents (the agent index
//     counter) and the fleet's spend_buckets upserts.
//   - Read-modify-write of one record (agent and key status, releasing or settling
//     an authorization, a vote) reads it FOR UPDATE; expiries are one UPDATE ...
//     RETURNING, so a reservation is never released (and its buckets decremented)
//     twice.
//
// Locks rather than SERIALIZABLE because the hot case is many payments against one
// budget: with locks they queue and each runs once; at SERIALIZABLE most of them
// would abort with a serialization failure and be re-run. Tx still re-runs the whole
// function on SQLSTATE 40001 and 40P01 (a lock taken outside fleetkey, say), up to
// Options.MaxRetries times, so Tx functions must be safe to run more than once, as
// the store package requires.
//
// # Replicas and StateVersion
//
// Store.StateVersion lets the payments service cache agent, key and policy state.
// Every transaction that changes a fleet, group, agent, key, credential or policy
// increments the state_version row and sends NOTIFY fleetkey_state (payload: schema
// and version), both delivered at commit. Each Store keeps one extra connection that
// LISTENs and bumps the local version on every notification of its schema; it also
// reads the row whenever PollInterval has passed without reading it and bumps the
// version if the row moved, so a lost notification (or a dropped listening
// connection, after which the version is bumped too) delays a change by at most that
// interval. Nothing cached decides the ledger: a reservation re-reads
// the agent and key status under the fleet lock, so a freeze or key revocation
// through any replica refuses the next payment on every replica at once.
//
// # Failure
//
// When the database cannot be reached every transaction fails (the pool dials
// again on the next one): a caller that hands out a signature only after its
// reservation and audit record committed (as the payments service does) hands out
// none, and the Store recovers by itself when the database is back.
//
// # Migrations
//
// migrations/NNNN_name.sql mirror the SQLite migrations of the same numbers
// (INTEGER as BIGINT, BLOB as BYTEA); 0001 adds the audit_head_lock and
// state_version rows. Open applies the
// pending ones in one transaction under an advisory lock, so replicas starting
// together migrate once; a database migrated by a newer fleetkey is refused with
// store.ErrSchemaTooNew.
package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/fleetkey/fleetkey/internal/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tune a Store. The zero value is a sensible default.
type Options struct {
	// Schema, when set, is the schema the store lives in: created if missing and
	// made the search_path. Default: the URL's search_path parameter when it names
	// one schema (created if missing too), else the server's default ("public").
	Schema string
	// MaxConns is the pool size (default 16).
	MaxConns int32
	// MinConns is the number of connections kept open when idle (default 0).
	MinConns int32
	// MaxConnLifetime closes connections older than this (default 1h).
	MaxConnLifetime time.Duration
	// MaxConnIdleTime closes connections idle for this long (default 30m).
	MaxConnIdleTime time.Duration
	// ConnectTimeout bounds each dial (default 5s), so that an unreachable database
	// fails a request quickly instead of hanging it.
	ConnectTimeout time.Duration
	// PollInterval is how often the state version row is read in case a
	// notification was lost (default 1s).
	PollInterval time.Duration
	// MaxRetries is how many times Tx re-runs a function after a deadlock or
	// serialization failure (default 10).
	MaxRetries int
}

// Store is a store.Store on one PostgreSQL database (one schema of it).
type Store struct {
	pool    *pgxpool.Pool
	db      *sql.DB
	opt     Options
	version atomic.Uint64
	// agentFleet caches agent id → fleet id for the reservation's fleet lock.
	agentFleet sync.Map
	stop       context.CancelFunc
	done       chan struct{}
}

var _ store.Store = (*Store)(nil)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// IsURL reports whether s names a PostgreSQL database (postgres:// or postgresql://).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://user@host:port/db?sslmode=...),
// applies pending migrations, starts listening for state changes and returns the
// store. Errors never contain the URL's password.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	if opt.MaxConns <= 0 {
		opt.MaxConns = 16
	}
	if opt.MinConns < 0 || opt.MinConns > opt.MaxConns {
		return nil, fmt.Errorf("postgres: min conns %d is not between 0 and max conns %d", opt.MinConns, opt.MaxConns)
	}
	if opt.MaxConnLifetime <= 0 {
		opt.MaxConnLifetime = time.Hour
	}
	if opt.MaxConnIdleTime <= 0 {
		opt.MaxConnIdleTime = 30 * time.Minute
	}
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = 5 * time.Second
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = time.Second
	}
	if opt.MaxRetries <= 0 {
		opt.MaxRetries = 10
	}
	if opt.Schema != "" && !schemaName.MatchString(opt.Schema) {
		return nil, fmt.Errorf("postgres: schema name %q is not a lower-case identifier", opt.Schema)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: database URL: %w", err)
	}
	cfg.MaxConns, cfg.MinConns = opt.MaxConns, opt.MinConns
	cfg.MaxConnLifetime, cfg.MaxConnIdleTime = opt.MaxConnLifetime, opt.MaxConnIdleTime
	cfg.ConnConfig.ConnectTimeout = opt.ConnectTimeout
	if sp := cfg.ConnConfig.RuntimeParams["search_path"]; opt.Schema == "" && schemaName.MatchString(sp) {
		// A URL's search_path=NAME is the schema too: created if missing.
		opt.Schema = sp
	}
	if opt.Schema != "" {
		if err := createSchema(ctx, cfg.ConnConfig, opt.Schema); err != nil {
			return nil, err
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opt.Schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, db: stdlib.OpenDBFromPool(pool), opt: opt, done: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		pool.Close()
		return nil, err
	}
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.listen(lctx, cfg.ConnConfig)
	return s, nil
}

func createSchema(ctx context.Context, cc *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: create schema %s: %w", schema, err)
	}
	return nil
}

// Close stops listening and closes the pool.
func (s *Store) Close() error {
	s.stop()
	<-s.done
	err := s.db.Close()
	s.pool.Close()
	return err
}

// StateVersion changes after every transaction of this Store that changed a fleet,
// group, agent, key, credential or policy, once it has ended, and — through
// LISTEN/NOTIFY, or at the latest PollInterval later — after such a transaction of
// any other replica on the same database. See the package doc.
func (s *Store) StateVersion() uint64 { return s.version.Load() }

// Tx runs fn in a READ COMMITTED transaction, re-running it on a deadlock or a
// serialization failure.
func (s *Store) Tx(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 0; ; attempt++ {
		changed := false
		err := s.run(ctx, false, func(t *tx) error {
			err := fn(t)
			changed = t.stateChanged
			if err == nil && changed {
				if _, err := t.tx.ExecContext(ctx, qStateBump); err != nil {
					return fmt.Errorf("postgres: state version: %w", err)
				}
			}
			return err
		})
		if changed {
			// After the commit (or rollback), never before: a reader that saw the
			// new version must also see the new state.
			s.version.Add(1)
		}
		if err == nil || attempt >= s.opt.MaxRetries || !retryable(err) || ctx.Err() != nil {
			return unavailable(err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// qStateBump moves the version row and notifies listeners at commit. The payload
// names the schema: stores of other schemas on the same database ignore it.
const qStateBump = `WITH u AS (UPDATE state_version SET version = version + 1 WHERE id = 1 RETURNING version)
	SELECT pg_notify('fleetkey_state', current_schema() || ':' || version::text) FROM u`

// retryable reports a deadlock or a serialization failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// backoff is a random pause of up to 2^attempt ms (capped at 100 ms) so that the
// transactions of a deadlock do not meet again at once.
func backoff(attempt int) time.Duration {
	limit := int64(1) << min(attempt, 7)
	n, err := rand.Int(rand.Reader, big.NewInt(limit*int64(time.Millisecond)))
	if err != nil {
		return time.Millisecond
	}
	return min(time.Duration(n.Int64())+time.Millisecond, 100*time.Millisecond)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ReadTx runs fn in a READ ONLY, REPEATABLE READ transaction: one snapshot.
func (s *Store) ReadTx(ctx context.Context, fn func(store.ReadTx) error) error {
	return unavailable(s.run(ctx, true, func(t *tx) error { return fn(t) }))
}

// unavailable marks an error that says the database cannot be reached with
// store.ErrUnavailable: a refused, lost or timed-out connection, or a server
// shutting down. Errors of the caller's own making pass unchanged.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || !connectionError(err) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

func connectionError(err error) bool {
	var (
		ce *pgconn.ConnectError
		pe *pgconn.PgError
		ne net.Error
	)
	switch {
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P01-57P03: the server is shutting
		// down or starting.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	case errors.As(err, &ce), errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne), pgconn.Timeout(err):
		return true
	}
	return false
}

func (s *Store) run(ctx context.Context, readOnly bool, fn func(*tx) error) (err error) {
	opts := &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	if readOnly {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	stx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	t := &tx{tx: stx, write: !readOnly, agentFleet: &s.agentFleet}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if !readOnly {
		// One writer at a time across every replica, as on SQLite: no two write
		// transactions can take row locks in opposite orders, so none deadlock.
		if err := t.lockAudit(ctx); err != nil {
			_ = stx.Rollback()
			return err
		}
	}
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("postgres: commit: %w", mapErr(err))
	}
	return nil
}

// listen follows the state version of the database (see the package doc) until
// ctx ends.
func (s *Store) listen(ctx context.Context, cc *pgx.ConnConfig) {
	defer close(s.done)
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cc.Copy())
		if err == nil {
			var (
				schema string
				last   int64
			)
			_, err = conn.Exec(ctx, `LISTEN fleetkey_state`)
			if err == nil {
				// Read after LISTEN: a later change is either notified or seen
				// by the poll against this value.
				err = conn.QueryRow(ctx, `SELECT current_schema(), version FROM state_version WHERE id = 1`).Scan(&schema, &last)
			}
			if err == nil {
				// Whatever changed while nobody listened counts as a change.
				s.version.Add(1)
				s.follow(ctx, conn, schema+":", last)
			}
			conn.Close(context.Background())
		}
		s.version.Add(1)
		_ = sleep(ctx, s.opt.PollInterval)
	}
}

// follow counts the notifications of this schema (payload prefix) on conn and reads
// the version row whenever PollInterval has passed without reading it; it returns
// when the connection fails or ctx ends.
func (s *Store) follow(ctx context.Context, conn *pgx.Conn, prefix string, last int64) {
	polled := time.Now()
	for {
		wait := s.opt.PollInterval - time.Since(polled)
		if wait > 0 {
			wctx, cancel := context.WithTimeout(ctx, wait)
			n, err := conn.WaitForNotification(wctx)
			cancel()
			switch {
			case ctx.Err() != nil:
				return
			case err == nil:
				if strings.HasPrefix(n.Payload, prefix) {
					s.version.Add(1)
				}
				continue
			case conn.IsClosed() || !errors.Is(err, context.DeadlineExceeded):
				return
			}
		}
		var v int64
		if err := conn.QueryRow(ctx, `SELECT version FROM state_version WHERE id = 1`).Scan(&v); err != nil {
			return
		}
		polled = time.Now()
		if v != last {
			s.version.Add(1)
			last = v
		}
	}
}

// migrationLock is the advisory lock key under which Open migrates.
const migrationLock = 0x666c65657470 // "fleetp"

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
			return fmt.Errorf("postgres: bad migration file name %q", base)
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
			return fmt.Errorf("postgres: migrations are not numbered 1..n (found %d at position %d)", m.version, i+1)
		}
	}
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: begin migration: %w", err)
	}
	defer t.Rollback()
	if _, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	if _, err := t.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	var cur int
	if err := t.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("postgres: read schema version: %w", err)
	}
	if cur > len(ms) {
		return fmt.Errorf("%w: database at version %d, this program knows %d", store.ErrSchemaTooNew, cur, len(ms))
	}
	for _, m := range ms[cur:] {
		if _, err := t.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("postgres: migration %04d_%s: %w", m.version, m.name, err)
		}
		if _, err := t.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("postgres: record migration %d: %w", m.version, err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("postgres: commit migrations: %w", err)
	}
	return nil
}

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// constraints are the unique constraints (named as store.Constraint* in the
// migrations) and the unique index names the backend reports as they are.
var constraints = map[string]bool{
	store.ConstraintFleetName: true, store.ConstraintFleetIndex: true, store.ConstraintGroupName: true,
	store.ConstraintAgentIndex: true, store.ConstraintAgentExternalID: true, store.ConstraintKeyAddress: true,
	store.ConstraintKeyPath: true, store.ConstraintKeyGeneration: true, store.ConstraintKeyActive: true,
	store.ConstraintCredentialHash: true, store.ConstraintPolicyVersion: true, store.ConstraintPolicyActive: true,
	store.ConstraintIdempotencyKey: true, store.ConstraintNonce: true, store.ConstraintApprovalVote: true,
	store.ConstraintAuditSeq: true, store.ConstraintAuditCheckpoint: true,
}

// mapErr turns unique violations (SQLSTATE 23505) into *store.ConflictError.
func mapErr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		return err
	}
	name := pe.ConstraintName
	switch {
	case constraints[name]:
	case strings.HasSuffix(name, "_pkey"):
		name = store.ConstraintPrimaryKey
	default:
		name = store.ConstraintUnknown
	}
	if name == store.ConstraintNonce {
		err = fmt.Errorf("%w (%v)", store.ErrNonceReused, err)
	}
	return &store.ConflictError{Constraint: name, Err: err}
}
