package storetest

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// randN returns a uniform-enough integer in [0, n) from crypto/rand.
func randN(n int64) int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return int64(binary.BigEndian.Uint64(b[:]) % uint64(n))
}

// testSpendMatchesRecords drives a random history (reservations at arbitrary
// nanoseconds over four hours, releases, cancellations, expiries, late settlements)
// and checks every window total Spend reports, at many window lengths and ends,
// against a sum over the records. Backends that cache totals must pass it exactly.
func testSpendMatchesRecords(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 2)
	const n = 300
	span := int64(4 * time.Hour)
	var auths []store.Authorization
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(randN(span)))
		agent := int(randN(int64(len(fx.agents))))
		p := fx.payment(agent, fmt.Sprintf("s%d", i), 1+randN(1_000_000))
		p.ValidAfter, p.ValidBefore = at.Add(-time.Minute), at.Add(time.Duration(1+randN(int64(10*time.Minute))))
		a, _, err := reserve(s, p, at)
		if err != nil {
			t.Fatal(err)
		}
		auths = append(auths, a)
	}
	hdr := store.PaymentHeader{Name: "X-PAYMENT", Value: "v"}
	write(t, s, func(tx store.Tx) error {
		for i, a := range auths {
			var err error
			switch i % 6 {
			case 1:
				_, err = tx.ReleaseAuthorization(ctx(), a.ID, store.AuthFailed, a.CreatedAt)
			case 2:
				if _, err = tx.MarkSigned(ctx(), a.ID, hdr, a.CreatedAt); err == nil {
					_, err = tx.ReleaseAuthorization(ctx(), a.ID, store.AuthCancelled, a.CreatedAt)
				}
			case 3, 4:
				_, err = tx.MarkSigned(ctx(), a.ID, hdr, a.CreatedAt)
			case 5:
				if _, err = tx.MarkSigned(ctx(), a.ID, hdr, a.CreatedAt); err == nil {
					_, err = tx.MarkSettled(ctx(), a.ID, "0x01", a.CreatedAt)
				}
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.ExpireAuthorizations(ctx(), t0.Add(2*time.Hour))
		return err
	})
	// Some expired ones settle after all.
	write(t, s, func(tx store.Tx) error {
		for i, a := range auths {
			if i%6 == 3 && a.ValidBefore.Before(t0.Add(2*time.Hour)) && randN(2) == 0 {
				if _, err := tx.MarkSettled(ctx(), a.ID, "0x02", t0.Add(3*time.Hour)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	windows := []time.Duration{1, 7 * time.Millisecond, 10 * time.Millisecond, 999 * time.Millisecond, time.Second,
		61 * time.Second, time.Minute, 59 * time.Minute, time.Hour, 90 * time.Minute, 3 * time.Hour, 24 * time.Hour}
	ends := []time.Time{t0, t0.Add(time.Hour), t0.Add(2*time.Hour + 10*time.Millisecond), t0.Add(5 * time.Hour)}
	for i := 0; i < 12; i++ {
		ends = append(ends, t0.Add(time.Duration(randN(span+int64(time.Hour)))))
	}
	for _, a := range auths[:10] {
		ends = append(ends, a.CreatedAt, a.CreatedAt.Add(time.Hour), a.CreatedAt.Add(time.Hour+1))
	}
	scopes := []struct {
		level store.Level
		id    string
	}{{store.LevelFleet, fx.fleet.ID}, {store.LevelGroup, fx.groups[0].ID}, {store.LevelGroup, fx.groups[1].ID}, {store.LevelAgent, fx.agents[0].ID}, {store.LevelAgent, fx.agents[3].ID}}
	all := allAuths(t, s)
	checked := 0
	for _, sc := range scopes {
		for _, w := range windows {
			for _, end := range ends {
				got := spend(t, s, sc.level, sc.id, w, end)
				want := sumRecords(all, sc.level, sc.id, w, end)
				if got != want {
					t.Fatalf("Spend(%s %s, window %s, end %s) = %+v, records add up to %+v", sc.level, sc.id, w, end.Format(time.RFC3339Nano), got, want)
				}
				checked++
			}
		}
	}
	t.Logf("%d window totals checked against the records", checked)
}
