package postgres

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// q turns a query written with SQLite-style placeholders (? and ?N, shared with
// the SQLite backend's text) into PostgreSQL's $N form.
func q(s string) string { return rebind(s) }

var rebound sync.Map // string → string

// rebind replaces ?N by $N and each bare ? by the next $k. The queries hold no
// string literal with a question mark.
func rebind(s string) string {
	if !strings.Contains(s, "?") {
		return s
	}
	if v, ok := rebound.Load(s); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '?' {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		b.WriteByte('$')
		if j > i+1 {
			b.WriteString(s[i+1 : j])
			i = j - 1
		} else {
			n++
			b.WriteString(strconv.Itoa(n))
		}
	}
	out := b.String()
	rebound.Store(s, out)
	return out
}

// tx implements store.Tx; a read transaction uses the same type in a READ ONLY
// REPEATABLE READ transaction (the server refuses any write).
type tx struct {
	tx    *sql.Tx
	write bool
	depth int // savepoint nesting
	// auditDepth is 1 + the savepoint depth at which this transaction took the
	// audit head lock, 0 while it does not hold it (a rolled-back savepoint
	// releases the locks taken inside it).
	auditDepth int
	// fleetsLocked are the fleet rows this transaction holds locked; agentFleet
	// is the Store's cache of agent → fleet (an agent never changes fleet).
	fleetsLocked map[string]bool
	agentFleet   *sync.Map
	// head is the audit record this transaction appended last, nil when unknown.
	// While the transaction holds the audit lock nobody else can append.
	head *store.AuditRecord
	// pendingRelease names a savepoint whose function succeeded but which is not
	// released yet: its RELEASE goes with the next SAVEPOINT, one round trip for
	// both (COMMIT releases it otherwise). Statements in between run inside it,
	// which changes nothing: a rollback to an enclosing savepoint undoes them either way.
	pendingRelease string
	// stateChanged is set by any statement that changes a fleet, group, agent,
	// key, credential or policy (see Store.StateVersion).
	stateChanged bool
}

// stateTables hold the state a StateVersion user may cache.
var stateTables = map[string]bool{"fleets": true, "agent_groups": true, "agents": true, "keys": true, "credentials": true, "policies": true}

// notState are writes to those tables that change nothing a cache holds: the
// agent index counter, the key's signature count and a credential's last use.
var notState = map[string]bool{qNextIndex: true, qKeySigned: true, qCredUsed: true,
	qReserve[0][0]: true, qReserve[0][1]: true, qReserve[1][0]: true, qReserve[1][1]: true}

// stateWrites memoizes isStateWrite by query text.
var stateWrites sync.Map // string → bool

// isStateWrite reports whether a statement writes to a state table (INSERT INTO,
// UPDATE or DELETE FROM one of them) and is not one of notState. Every statement is
// classified by its text, as in the SQLite backend, so no write can be forgotten.
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
		case (w[i] == "into" || w[i] == "from") && i > 0 && (w[i-1] == "insert" || w[i-1] == "delete"):
			table = w[i+1]
		}
		table, _, _ = strings.Cut(table, "(")
		if stateTables[strings.Trim(table, `"`)] {
			state = true
			break
		}
	}
	stateWrites.Store(query, state)
	return state
}

var _ store.Tx = (*tx)(nil)

func (t *tx) Savepoint(ctx context.Context, fn func(store.Tx) error) (err error) {
	t.depth++
	defer func() { t.depth-- }()
	name := fmt.Sprintf("sp%d", t.depth)
	begin := "SAVEPOINT " + name
	if t.pendingRelease != "" {
		begin = "RELEASE " + t.pendingRelease + "; " + begin
		t.pendingRelease = ""
	}
	if _, err := t.tx.ExecContext(ctx, begin); err != nil {
		return fmt.Errorf("postgres: savepoint: %w", err)
	}
	// A rolled-back savepoint may take with it the row locks taken inside it
	// and the records appended: forget them.
	undo := func() {
		t.head, t.pendingRelease = nil, ""
		if t.auditDepth > t.depth {
			t.auditDepth = 0
		}
		clear(t.fleetsLocked)
	}
	defer func() {
		if p := recover(); p != nil {
			undo()
			_, _ = t.tx.ExecContext(ctx, "ROLLBACK TO "+name)
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		undo()
		if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO "+name); rerr != nil {
			return errors.Join(err, fmt.Errorf("postgres: rollback to savepoint: %w", rerr))
		}
		if _, rerr := t.tx.ExecContext(ctx, "RELEASE "+name); rerr != nil {
			return errors.Join(err, fmt.Errorf("postgres: release savepoint: %w", rerr))
		}
		return err
	}
	// Released with the next savepoint or the commit (this one covers any nested
	// savepoint still pending).
	t.pendingRelease = name
	return nil
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = rebind(query)
	if isStateWrite(query) {
		t.stateChanged = true
	}
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return res, nil
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, rebind(query), args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, rebind(query), args...)
}

// affected returns ErrNotFound-wrapping errors when an UPDATE touched no row.
func affected(res sql.Result, entity, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
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
		return nil, fmt.Errorf("postgres: %w", mapErr(err))
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
		return nil, fmt.Errorf("postgres: %w", mapErr(err))
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
	if err != nil {
		return v, mapErr(err)
	}
	return v, nil
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
		return h, fmt.Errorf("postgres: stored hash %q is not 32 bytes of hex", s)
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
		return "", fmt.Errorf("postgres: encode: %w", err)
	}
	return string(b), nil
}
