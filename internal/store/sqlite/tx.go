package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// statements lists every fixed query; Open prepares them on both pools.
var statements []string

// q registers a fixed query for preparation at Open and returns it.
func q(s string) string {
	statements = append(statements, s)
	return s
}

// tx implements store.Tx; a read transaction uses the same type on a read-only
// connection (query_only refuses any write).
type tx struct {
	tx      *sql.Tx
	stmts   map[string]*sql.Stmt
	txStmts map[string]*sql.Stmt // stmts bound to tx so far
	depth   int                  // savepoint nesting
	// head is the audit record this transaction appended last, nil when unknown
	// (nothing appended yet, or a savepoint holding an append was rolled back).
	// Within a write transaction nobody else can append, so the next record's
	// predecessor needs no query.
	head *store.AuditRecord
	// stateChanged is set by any statement that changes a fleet, group, agent,
	// key, credential or policy (see Store.StateVersion).
	stateChanged bool
	// pending holds the spend_buckets changes not yet written, by scope; undo the
	// changes made inside open savepoints (see adjustBuckets).
	pending map[scopeKey]map[bucketKey]bucketDelta
	undo    []bucketUndo
}

// stateTables hold the state a StateVersion user may cache.
var stateTables = map[string]bool{"fleets": true, "agent_groups": true, "agents": true, "keys": true, "credentials": true, "policies": true}

// notState are writes to those tables that change nothing a cache holds: the
// agent index counter, the key's signature count and a credential's last use.
var notState = map[string]bool{qNextIndex: true, qKeySigned: true, qCredUsed: true}

// stateWrites memoizes isStateWrite by query text.
var stateWrites sync.Map // string → bool

// isStateWrite reports whether a statement writes to a state table (INSERT INTO,
// UPDATE, DELETE FROM or REPLACE INTO one of them) and is not one of notState.
// Any new statement is classified by its text, so no write can be forgotten.
func isStateWrite(query string) bool {
	if v, ok := stateWrites.Load(query); ok {
		return v.(bool)
	}
	w := strings.Fields(strings.ToLower(query))
	state := false
	for i := 0; i+1 < len(w) && !notState[query]; i++ {
		var table string
		switch {
		case w[i] == "update":
			table = w[i+1]
		case (w[i] == "into" || w[i] == "from") && i > 0 && (w[i-1] == "insert" || w[i-1] == "replace" || w[i-1] == "delete" || w[i-1] == "ignore"):
			table = w[i+1]
		}
		table, _, _ = strings.Cut(table, "(")
		if stateTables[strings.Trim(table, "\"`[]")] {
			state = true
			break
		}
	}
	stateWrites.Store(query, state)
	return state
}

var _ store.Tx = (*tx)(nil)

// savepointSQL holds the prepared SAVEPOINT, ROLLBACK TO and RELEASE statements
// of the first nesting levels (group commit uses one level); deeper levels are
// parsed when used.
var savepointSQL = func() (s [4][3]string) {
	for i := range s {
		name := fmt.Sprintf("sp%d", i+1)
		s[i] = [3]string{q("SAVEPOINT " + name), q("ROLLBACK TO " + name), q("RELEASE " + name)}
	}
	return s
}()

func (t *tx) Savepoint(ctx context.Context, fn func(store.Tx) error) (err error) {
	t.depth++
	defer func() { t.depth-- }()
	var begin, rollback, release string
	if t.depth <= len(savepointSQL) {
		sp := savepointSQL[t.depth-1]
		begin, rollback, release = sp[0], sp[1], sp[2]
	} else {
		name := fmt.Sprintf("sp%d", t.depth)
		begin, rollback, release = "SAVEPOINT "+name, "ROLLBACK TO "+name, "RELEASE "+name
	}
	if _, err := t.exec(ctx, begin); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	mark := len(t.undo)
	defer func() {
		if p := recover(); p != nil {
			t.head = nil
			t.undoBuckets(mark)
			_, _ = t.exec(ctx, rollback)
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		t.head = nil
		t.undoBuckets(mark)
		if _, rerr := t.exec(ctx, rollback); rerr != nil {
			return errors.Join(err, fmt.Errorf("sqlite: rollback to savepoint: %w", rerr))
		}
		if _, rerr := t.exec(ctx, release); rerr != nil {
			return errors.Join(err, fmt.Errorf("sqlite: release savepoint: %w", rerr))
		}
		return err
	}
	if _, err := t.exec(ctx, release); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	if t.depth == 1 {
		// No savepoint left that could take these changes back.
		t.undo = t.undo[:0]
	}
	return nil
}

func (t *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.txStmts[query]; ok {
		return st
	}
	if st, ok := t.stmts[query]; ok {
		// Bound to this transaction once and reused for its every use (a batch of
		// payments runs each statement many times); closed when the transaction ends.
		st = t.tx.StmtContext(ctx, st)
		if t.txStmts == nil {
			t.txStmts = make(map[string]*sql.Stmt, 16)
		}
		t.txStmts[query] = st
		return st
	}
	return nil
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var (
		res sql.Result
		err error
	)
	if isStateWrite(query) {
		t.stateChanged = true
	}
	if st := t.stmt(ctx, query); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = t.tx.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return res, nil
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// affected returns ErrNotFound-wrapping errors when an UPDATE touched no row.
func affected(res sql.Result, entity, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if n == 0 {
		return &store.NotFoundError{Entity: entity, Key: id}
	}
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, t *tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return out, nil
}

// one scans a single row, mapping sql.ErrNoRows to a NotFoundError.
func one[T any](row *sql.Row, scan func(scanner) (T, error), entity, key string) (T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, &store.NotFoundError{Entity: entity, Key: key}
	}
	return v, err
}

// Time encoding: UTC Unix nanoseconds; the zero time is NULL.

func ns(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func fromNS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}

func nsReq(t time.Time) int64 { return t.UnixNano() }

func fromNSReq(v int64) time.Time { return time.Unix(0, v).UTC() }

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func hexHash(h [32]byte) string { return hex.EncodeToString(h[:]) }

func parseHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("sqlite: stored hash %q is not 32 bytes of hex", s)
	}
	copy(h[:], b)
	return h, nil
}

func now(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t.UTC()
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode: %w", err)
	}
	return string(b), nil
}
