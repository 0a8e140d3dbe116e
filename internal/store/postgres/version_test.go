package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// twoStores opens two Stores on one fresh schema, as two replicas would.
func twoStores(t *testing.T, poll time.Duration) (*Store, *Store) {
	t.Helper()
	url := testURL(t)
	schema := tempSchema(t, url)
	var out [2]*Store
	for i := range out {
		s, err := Open(context.Background(), url, Options{Schema: schema, PollInterval: poll})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out[i] = s
	}
	return out[0], out[1]
}

// waitVersionChange waits (up to 10 s, failing after) for s.StateVersion to differ
// from v.
func waitVersionChange(t *testing.T, s *Store, v uint64, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.StateVersion() == v {
		if time.Now().After(deadline) {
			t.Fatalf("the other store's version did not change after %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStateVersionFollowsOtherStores: a state change committed through one Store
// changes the other's StateVersion (by NOTIFY), and a change whose notification never
// came (the version row bumped without NOTIFY) is still seen by the poll.
func TestStateVersionFollowsOtherStores(t *testing.T) {
	ctx := context.Background()
	a, b := twoStores(t, 200*time.Millisecond)
	// Let b's listener subscribe (it bumps its version once when it does).
	time.Sleep(100 * time.Millisecond)

	v := b.StateVersion()
	va := a.StateVersion()
	if err := a.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.CreateFleet(ctx, store.Fleet{Name: "changed", Index: 1})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if a.StateVersion() == va {
		t.Fatal("the writing store's own version did not change when its Tx returned")
	}
	waitVersionChange(t, b, v, "a committed fleet")

	// A lost notification: the row moves, nobody is told.
	v = b.StateVersion()
	if _, err := a.db.ExecContext(ctx, `UPDATE state_version SET version = version + 1 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	waitVersionChange(t, b, v, "a silent bump of the version row")

	// A transaction that changes no cached state tells nobody.
	row := func() (v int64) {
		if err := a.db.QueryRowContext(ctx, `SELECT version FROM state_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := row()
	if err := a.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.Fleets(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if after := row(); after != before {
		t.Fatalf("a write transaction that changed nothing moved the version row from %d to %d", before, after)
	}
}

// TestStateWrites classifies the backend's statements: every write to a state table
// but the index counter, the signature count and a credential's last use.
func TestStateWrites(t *testing.T) {
	for _, q := range []string{qFleetIns, qFleetTrea, qGroupIns, qAgentIns, qAgentStat, qKeyIns, qKeyStat,
		qCredIns, qCredRevoke, qCredRevAll, qPolicyOff, qPolicyIns, `DELETE FROM agents WHERE id = $1`} {
		if !isStateWrite(q) {
			t.Errorf("not a state write: %s", q)
		}
	}
	for _, q := range []string{qNextIndex, qKeySigned, qCredUsed, qAuthIns, qAuditIns, qAgent, qFleetLock, qPolicyLock, qReserve[1][1],
		qBuckets3, qAuthSigned} {
		if isStateWrite(q) {
			t.Errorf("a state write: %s", q)
		}
	}
}
