package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// testReserveSigned: a reservation carrying its signed response is stored signed
// in one step, exactly as reserve then MarkSigned would leave it: status, header,
// SignedAt, the key's signature count and the window totals; a retry under its key
// returns it; a response with only a name or only a value is refused and writes
// nothing.
func testReserveSigned(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	hdr := store.PaymentHeader{Name: "PAYMENT-SIGNATURE", Value: "signed-value"}
	at := t0.Add(time.Second)
	var a store.Authorization
	write(t, s, func(tx store.Tx) error {
		var err error
		var existing bool
		a, existing, err = tx.ReserveAuthorization(ctx(), store.ReserveRequest{Authorization: fx.payment(0, "signed", 250), Now: at, Signed: hdr})
		if err == nil && existing {
			t.Error("fresh reservation reported as existing")
		}
		return err
	})
	check := func(what string, got store.Authorization) {
		t.Helper()
		if got.Status != store.AuthSigned || got.Response != hdr || !got.SignedAt.Equal(at) || !got.CreatedAt.Equal(at) {
			t.Errorf("%s: status %s, response %+v, signed at %v, created at %v", what, got.Status, got.Response, got.SignedAt, got.CreatedAt)
		}
		if got.FleetID != fx.fleet.ID || got.GroupID != fx.groups[0].ID || got.From != fx.keys[0].Address {
			t.Errorf("%s: fleet %s group %s from %s", what, got.FleetID, got.GroupID, got.From)
		}
	}
	check("reserve", a)
	read(t, s, func(tx store.ReadTx) error {
		got, err := tx.Authorization(ctx(), a.ID)
		if err != nil {
			return err
		}
		check("Authorization", got)
		k, err := tx.Key(ctx(), fx.keys[0].ID)
		if err != nil {
			return err
		}
		if k.SignCount != 1 {
			t.Errorf("key sign count %d, want 1", k.SignCount)
		}
		return nil
	})
	for _, sc := range []struct {
		level store.Level
		id    string
	}{{store.LevelAgent, fx.agents[0].ID}, {store.LevelGroup, fx.groups[0].ID}, {store.LevelFleet, fx.fleet.ID}} {
		if got := spend(t, s, sc.level, sc.id, time.Hour, at.Add(time.Millisecond)); got != (store.Spend{AmountMicro: 250, Count: 1}) {
			t.Errorf("%s spend %+v, want 250 in 1", sc.level, got)
		}
	}

	// It is signed: marking it signed again is a state error.
	err := s.Tx(ctx(), func(tx store.Tx) error {
		_, err := tx.MarkSigned(ctx(), a.ID, hdr, at)
		return err
	})
	var se *store.StateError
	if !errors.As(err, &se) {
		t.Errorf("MarkSigned of a signed record: %v, want a state error", err)
	}

	// A retry under the same key returns the stored record and signs nothing.
	retry := fx.payment(0, "signed", 250)
	write(t, s, func(tx store.Tx) error {
		got, existing, err := tx.ReserveAuthorization(ctx(), store.ReserveRequest{Authorization: retry, Now: at.Add(time.Second),
			Signed: store.PaymentHeader{Name: "PAYMENT-SIGNATURE", Value: "another"}})
		if err != nil {
			return err
		}
		if !existing || got.ID != a.ID {
			t.Errorf("retry: existing %v, id %s, want %s", existing, got.ID, a.ID)
		}
		check("retry", got)
		return nil
	})

	for name, h := range map[string]store.PaymentHeader{"name only": {Name: "X-PAYMENT"}, "value only": {Value: "v"}} {
		_, _, err := func() (store.Authorization, bool, error) {
			var (
				out      store.Authorization
				existing bool
			)
			err := s.Tx(ctx(), func(tx store.Tx) error {
				var err error
				out, existing, err = tx.ReserveAuthorization(ctx(), store.ReserveRequest{Authorization: fx.payment(0, "half-"+name, 1), Now: at, Signed: h})
				return err
			})
			return out, existing, err
		}()
		if err == nil {
			t.Errorf("%s: reservation accepted", name)
		}
	}
	if n := countAuths(t, s); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
	read(t, s, func(tx store.ReadTx) error {
		k, err := tx.Key(ctx(), fx.keys[0].ID)
		if err == nil && k.SignCount != 1 {
			t.Errorf("key sign count %d after the retry and refusals, want 1", k.SignCount)
		}
		return err
	})
}

// testAuditAppendsInOneTx: several appends in one transaction chain onto each
// other, and an append undone by a rolled-back savepoint is not the predecessor of
// the next one (a backend that remembers its head must forget it then).
func testAuditAppendsInOneTx(t *testing.T, s store.Store) {
	rec := func(seq uint64, prev [32]byte, tag byte) store.AuditRecord {
		r := store.AuditRecord{Seq: seq, Time: t0.Add(time.Duration(seq) * time.Second), Actor: "system", Action: "test.append",
			Subject: "s", Data: []byte(`{}`), PrevHash: prev}
		r.Hash = [32]byte{tag, byte(seq)}
		return r
	}
	undone := errors.New("undone")
	write(t, s, func(tx store.Tx) error {
		r1 := rec(1, [32]byte{}, 1)
		if err := tx.AppendAudit(ctx(), r1); err != nil {
			return err
		}
		h, err := tx.AuditHead(ctx())
		if err != nil || h.Seq != 1 || h.Hash != r1.Hash {
			t.Errorf("head after one append: seq %d, %v", h.Seq, err)
		}
		// Appended and undone.
		err = tx.Savepoint(ctx(), func(tx store.Tx) error {
			if err := tx.AppendAudit(ctx(), rec(2, r1.Hash, 9)); err != nil {
				return err
			}
			if h, err := tx.AuditHead(ctx()); err != nil || h.Seq != 2 {
				t.Errorf("head inside the savepoint: seq %d, %v", h.Seq, err)
			}
			return undone
		})
		if !errors.Is(err, undone) {
			t.Errorf("savepoint: %v", err)
		}
		h, err = tx.AuditHead(ctx())
		if err != nil || h.Seq != 1 || h.Hash != r1.Hash {
			t.Errorf("head after the undone savepoint: seq %d hash %x, %v; want seq 1", h.Seq, h.Hash[:2], err)
		}
		// Kept.
		r2 := rec(2, r1.Hash, 2)
		if err := tx.Savepoint(ctx(), func(tx store.Tx) error { return tx.AppendAudit(ctx(), r2) }); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx(), rec(2, r1.Hash, 3)); err == nil {
			t.Error("a second record 2 was accepted")
		}
		h, err = tx.AuditHead(ctx())
		if err != nil || h.Seq != 2 || h.Hash != r2.Hash {
			t.Errorf("head after the kept savepoint: seq %d, %v", h.Seq, err)
		}
		return tx.AppendAudit(ctx(), rec(3, r2.Hash, 3))
	})
	read(t, s, func(tx store.ReadTx) error {
		rs, err := tx.AuditRecords(ctx(), 0, 10)
		if err != nil {
			return err
		}
		if len(rs) != 3 || rs[1].Hash != ([32]byte{2, 2}) || rs[2].PrevHash != rs[1].Hash {
			t.Errorf("stored chain: %d records", len(rs))
		}
		return nil
	})
}

// testSpendInOneTx: window totals read inside the write transaction that changes
// them match the records at every step (a backend may keep bucket changes in the
// transaction until it commits): reservations spread over 10 ms, second, minute
// and hour boundaries, several agents and both groups, reservations undone by
// savepoints (nested too), a release and an expiry in the same transaction; and
// after the commit, from a new transaction.
func testSpendInOneTx(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 2)
	base := t0.Add(-90 * time.Minute).Add(-3 * time.Millisecond)
	type scope struct {
		level store.Level
		id    string
	}
	var scopes []scope
	for _, a := range fx.agents {
		scopes = append(scopes, scope{store.LevelAgent, a.ID})
	}
	scopes = append(scopes, scope{store.LevelGroup, fx.groups[0].ID}, scope{store.LevelGroup, fx.groups[1].ID}, scope{store.LevelFleet, fx.fleet.ID})
	windows := []time.Duration{15 * time.Millisecond, time.Second, 61 * time.Second, time.Hour, 2 * time.Hour}
	checkAll := func(rt store.ReadTx, when string, at time.Time) error {
		all, err := rt.Authorizations(ctx(), store.AuthorizationFilter{FleetID: fx.fleet.ID})
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			for _, w := range windows {
				got, err := rt.Spend(ctx(), sc.level, sc.id, w, at)
				if err != nil {
					return err
				}
				if want := sumRecords(all, sc.level, sc.id, w, at); got != want {
					t.Errorf("%s: %s %s window %s at %s: %+v, records say %+v", when, sc.level, sc.id, w, at.Format("15:04:05.000"), got, want)
				}
			}
		}
		return nil
	}
	undo := errors.New("undo")
	var last time.Time
	write(t, s, func(tx store.Tx) error {
		var kept []store.Authorization
		for i := 0; i < 40; i++ {
			// Steps of 7 ms, 0.6 s and 7 min cross every resolution's boundaries.
			at := base.Add(time.Duration(i)*7*time.Millisecond + time.Duration(i/3)*600*time.Millisecond + time.Duration(i/8)*7*time.Minute)
			last = at
			ag := i % len(fx.agents)
			err := tx.Savepoint(ctx(), func(tx store.Tx) error {
				p := fx.payment(ag, fmt.Sprintf("s%d", i), int64(100+i))
				if i%2 == 0 {
					p.ValidBefore = t0.Add(10 * time.Minute) // outlives the expiry below
				}
				a, _, err := tx.ReserveAuthorization(ctx(), store.ReserveRequest{Authorization: p, Now: at})
				if err != nil {
					return err
				}
				if i%5 == 2 {
					return undo
				}
				if i%7 == 3 {
					// An inner savepoint undone, the outer kept.
					if err := tx.Savepoint(ctx(), func(tx store.Tx) error {
						if _, _, err := tx.ReserveAuthorization(ctx(), store.ReserveRequest{Authorization: fx.payment(ag, fmt.Sprintf("inner%d", i), 7), Now: at}); err != nil {
							return err
						}
						return undo
					}); !errors.Is(err, undo) {
						return fmt.Errorf("inner savepoint: %v", err)
					}
				}
				kept = append(kept, a)
				return nil
			})
			if err != nil && !errors.Is(err, undo) {
				return err
			}
			if i%6 == 0 {
				if err := checkAll(tx, fmt.Sprintf("after payment %d", i), at.Add(time.Millisecond)); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ReleaseAuthorization(ctx(), kept[1].ID, store.AuthFailed, last); err != nil {
			return err
		}
		if _, err := tx.MarkSigned(ctx(), kept[2].ID, store.PaymentHeader{Name: "X-PAYMENT", Value: "v"}, last); err != nil {
			return err
		}
		if _, err := tx.MarkSettled(ctx(), kept[2].ID, "0xabc", last); err != nil {
			return err
		}
		// The odd ones are valid until 5 minutes after t0, the even ones 10.
		if exp, err := tx.ExpireAuthorizations(ctx(), t0.Add(6*time.Minute)); err != nil || len(exp) == 0 || len(exp) >= len(kept)-1 {
			return fmt.Errorf("expired %d of %d: %v", len(exp), len(kept), err)
		}
		return checkAll(tx, "after release and expiry", last.Add(time.Millisecond))
	})
	read(t, s, func(rt store.ReadTx) error { return checkAll(rt, "after commit", last.Add(time.Millisecond)) })
}
