package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// Bucket resolutions of spend_buckets, finest first; res is the index.
var resolutions = [...]int64{int64(10 * time.Millisecond), int64(time.Second), int64(time.Minute), int64(time.Hour)}

func floorTo(t, r int64) int64 {
	q := t / r
	if t%r != 0 && t < 0 {
		q--
	}
	return q * r
}

func ceilTo(t, r int64) int64 {
	f := floorTo(t, r)
	if f == t {
		return t
	}
	return f + r
}

// spendQuery builds the window-total query of one level: the records between the
// cutoff and the first 10 ms boundary, then whole buckets, each resolution up to the
// next coarser boundary, and the coarsest to the end.
func spendQuery(level store.Level) string {
	col := string(level) + "_id"
	var b strings.Builder
	b.WriteString(`SELECT COALESCE(SUM(a), 0), COALESCE(SUM(n), 0) FROM (
	SELECT SUM(amount_micro) AS a, COUNT(*) AS n FROM authorizations
	 WHERE ` + col + ` = ?1 AND counted = 1 AND created_at > ?2 AND created_at < ?3`)
	for res := range resolutions {
		fmt.Fprintf(&b, `
	UNION ALL SELECT SUM(amount), SUM(cnt) FROM spend_buckets
	 WHERE level = '%s' AND scope_id = ?1 AND res = %d AND bucket >= ?%d`, level, res, res+3)
		if res < len(resolutions)-1 {
			fmt.Fprintf(&b, ` AND bucket < ?%d`, res+4)
		}
	}
	b.WriteString(`)`)
	return b.String()
}

// spendArgs returns the cutoff and the resolution boundaries for spendQuery.
func spendArgs(scopeID string, cutoff int64) []any {
	args := []any{scopeID, cutoff}
	// First 10 ms boundary strictly after the cutoff.
	edge := floorTo(cutoff, resolutions[0]) + resolutions[0]
	args = append(args, edge)
	for res := 1; res < len(resolutions); res++ {
		edge = ceilTo(edge, resolutions[res])
		args = append(args, edge)
	}
	return args
}

// upsertBuckets builds the statement adding to n bucket rows.
func upsertBuckets(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO spend_buckets (level, scope_id, res, bucket, amount, cnt) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (level, scope_id, res, bucket) DO UPDATE SET
		amount = amount + excluded.amount, cnt = cnt + excluded.cnt`)
	return b.String()
}

// bucketChunks are the row counts of the prepared bucket upserts, largest first; a
// flush writes its rows greedily with these sizes (12: one payment's rows, 4 resolutions
// at 3 scopes, in one statement).
var bucketChunks = [...]int{64, 32, 16, 12, 8, 4, 2, 1}

var (
	qSpendAgent   = q(spendQuery(store.LevelAgent))
	qSpendGroup   = q(spendQuery(store.LevelGroup))
	qSpendFleet   = q(spendQuery(store.LevelFleet))
	qPruneBuckets = q(`DELETE FROM spend_buckets WHERE bucket < ?`)
	qBuckets      = func() (m [len(bucketChunks)]string) {
		for i, n := range bucketChunks {
			m[i] = q(upsertBuckets(n))
		}
		return m
	}()
)

// scopeKey names one scope's buckets; bucketKey one bucket of a scope.
type (
	scopeKey struct {
		level store.Level
		scope string
	}
	bucketKey struct {
		res    int
		bucket int64
	}
	bucketDelta struct{ amount, cnt int64 }
	// bucketUndo is one change to the pending deltas, kept while a savepoint is
	// open so that rolling it back can take the change back.
	bucketUndo struct {
		scope scopeKey
		key   bucketKey
		delta bucketDelta
	}
)

// adjustBuckets adds sign × (amount, 1) for a at every scope and resolution; it is
// called exactly when a's counted flag is set (+1) or cleared (-1). The change is
// kept in the transaction and written once, summed with every other change to the
// same bucket, when the transaction commits (flushBuckets): a batch of payments of
// one fleet writes the fleet's and group's buckets once, not once per payment.
// Spend in the same transaction adds the pending changes to what it reads.
func (t *tx) adjustBuckets(_ context.Context, a store.Authorization, sign int64) error {
	if t.pending == nil {
		t.pending = make(map[scopeKey]map[bucketKey]bucketDelta, 3)
	}
	at := a.CreatedAt.UnixNano()
	d := bucketDelta{sign * a.AmountMicro, sign}
	for _, sc := range [...]scopeKey{{store.LevelAgent, a.AgentID}, {store.LevelFleet, a.FleetID}, {store.LevelGroup, a.GroupID}} {
		if sc.scope == "" {
			continue
		}
		m := t.pending[sc]
		if m == nil {
			m = make(map[bucketKey]bucketDelta, len(resolutions))
			t.pending[sc] = m
		}
		for res, r := range resolutions {
			k := bucketKey{res, floorTo(at, r)}
			cur := m[k]
			m[k] = bucketDelta{cur.amount + d.amount, cur.cnt + d.cnt}
			if t.depth > 0 {
				t.undo = append(t.undo, bucketUndo{sc, k, d})
			}
		}
	}
	return nil
}

// undoBuckets takes back the pending changes made since the undo log had n
// entries (a savepoint rolled back).
func (t *tx) undoBuckets(n int) {
	for i := len(t.undo) - 1; i >= n; i-- {
		u := t.undo[i]
		m := t.pending[u.scope]
		cur := m[u.key]
		m[u.key] = bucketDelta{cur.amount - u.delta.amount, cur.cnt - u.delta.cnt}
	}
	t.undo = t.undo[:n]
}

// pendingSpend adds to s the pending changes of a scope that fall in the bucket
// ranges a window total reads from spend_buckets (args as spendArgs returns them).
func (t *tx) pendingSpend(level store.Level, scopeID string, args []any, s store.Spend) store.Spend {
	for k, d := range t.pending[scopeKey{level, scopeID}] {
		if k.bucket < args[2+k.res].(int64) || (k.res < len(resolutions)-1 && k.bucket >= args[3+k.res].(int64)) {
			continue
		}
		s.AmountMicro += d.amount
		s.Count += d.cnt
	}
	return s
}

// flushBuckets writes the pending bucket changes, in key order, with as few
// statements as the prepared sizes allow; run calls it before committing.
func (t *tx) flushBuckets(ctx context.Context) error {
	type row struct {
		sc scopeKey
		k  bucketKey
		d  bucketDelta
	}
	var rows []row
	for sc, m := range t.pending {
		for k, d := range m {
			if d != (bucketDelta{}) {
				rows = append(rows, row{sc, k, d})
			}
		}
	}
	t.pending, t.undo = nil, nil
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.sc.level, b.sc.level), cmp.Compare(a.sc.scope, b.sc.scope),
			cmp.Compare(a.k.res, b.k.res), cmp.Compare(a.k.bucket, b.k.bucket))
	})
	for i, n := range bucketChunks {
		for len(rows) >= n {
			args := make([]any, 0, n*6)
			for _, r := range rows[:n] {
				args = append(args, string(r.sc.level), r.sc.scope, r.k.res, r.k.bucket, r.d.amount, r.d.cnt)
			}
			if _, err := t.exec(ctx, qBuckets[i], args...); err != nil {
				return fmt.Errorf("sqlite: spend buckets: %w", err)
			}
			rows = rows[n:]
		}
	}
	return nil
}

// PruneSpendBuckets deletes cache buckets that start before before. Call it with a
// time older than Now minus the longest window any policy uses (and minus an hour of
// margin); totals over windows reaching further back would come out too low.
func (s *Store) PruneSpendBuckets(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.Tx(ctx, func(stx store.Tx) error {
		res, err := stx.(*tx).exec(ctx, qPruneBuckets, before.UnixNano())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
