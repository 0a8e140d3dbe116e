package postgres

import (
	"context"
	"fmt"
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
	b.WriteString(`SELECT COALESCE(SUM(a), 0)::BIGINT, COALESCE(SUM(n), 0)::BIGINT FROM (
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
	b.WriteString(`) AS s`)
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

// upsertBuckets builds the statement adding to every resolution of n scopes.
func upsertBuckets(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO spend_buckets (level, scope_id, res, bucket, amount, cnt) VALUES `)
	for i := 0; i < n*len(resolutions); i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (level, scope_id, res, bucket) DO UPDATE SET
		amount = spend_buckets.amount + excluded.amount, cnt = spend_buckets.cnt + excluded.cnt`)
	return b.String()
}

var (
	qSpendAgent   = q(spendQuery(store.LevelAgent))
	qSpendGroup   = q(spendQuery(store.LevelGroup))
	qSpendFleet   = q(spendQuery(store.LevelFleet))
	qBuckets2     = q(upsertBuckets(2))
	qBuckets3     = q(upsertBuckets(3))
	qPruneBuckets = q(`DELETE FROM spend_buckets WHERE bucket < ?`)
)

// adjustBuckets adds sign × (amount, 1) for a at every scope and resolution; it is
// called exactly when a's counted flag is set (+1) or cleared (-1).
func (t *tx) adjustBuckets(ctx context.Context, a store.Authorization, sign int64) error {
	scopes, args := bucketArgs(a, sign)
	query := qBuckets2
	if scopes == 3 {
		query = qBuckets3
	}
	if _, err := t.exec(ctx, query, args...); err != nil {
		return fmt.Errorf("postgres: spend buckets: %w", err)
	}
	return nil
}

// bucketArgs returns the number of scopes of a (2: agent and fleet, 3: and group)
// and the arguments of upsertBuckets for them.
func bucketArgs(a store.Authorization, sign int64) (int, []any) {
	scopes := [][2]string{{string(store.LevelAgent), a.AgentID}, {string(store.LevelFleet), a.FleetID}}
	if a.GroupID != "" {
		scopes = append(scopes, [2]string{string(store.LevelGroup), a.GroupID})
	}
	at := a.CreatedAt.UnixNano()
	args := make([]any, 0, len(scopes)*len(resolutions)*6)
	for _, s := range scopes {
		for res, r := range resolutions {
			args = append(args, s[0], s[1], res, floorTo(at, r), sign*a.AmountMicro, sign)
		}
	}
	return len(scopes), args
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
