package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

func countAuths(t testing.TB, s store.Store) int {
	t.Helper()
	var n int
	read(t, s, func(tx store.ReadTx) error {
		all, err := tx.Authorizations(ctx(), store.AuthorizationFilter{})
		n = len(all)
		return err
	})
	return n
}

func testReserveLifecycle(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	req := fx.payment(0, "idem-1", 1500)
	a, existing, err := reserve(s, req, t0)
	if err != nil || existing {
		t.Fatalf("reserve: %v, existing %v", err, existing)
	}
	if a.ID == "" || a.Status != store.AuthReserved || a.FleetID != fx.fleet.ID || a.GroupID != fx.groups[0].ID ||
		a.From != fx.keys[0].Address || a.Asset != strings.ToLower(req.Asset) || a.PayTo != strings.ToLower(req.PayTo) ||
		!a.CreatedAt.Equal(t0) || !a.ValidBefore.Equal(req.ValidBefore) {
		t.Fatalf("reserved = %+v", a)
	}
	read(t, s, func(tx store.ReadTx) error {
		got, err := tx.Authorization(ctx(), a.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, a) {
			t.Errorf("Authorization = %+v\nwant %+v", got, a)
		}
		byKey, err := tx.AuthorizationByIdempotencyKey(ctx(), fx.agents[0].ID, "idem-1")
		if err != nil {
			return err
		}
		if byKey.ID != a.ID {
			t.Errorf("AuthorizationByIdempotencyKey = %s", byKey.ID)
		}
		_, err = tx.Authorization(ctx(), "auth_missing")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.AuthorizationByIdempotencyKey(ctx(), fx.agents[0].ID, "idem-x")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	hdr := store.PaymentHeader{Name: "PAYMENT-SIGNATURE", Value: "eyJ4NDAyVmVyc2lvbiI6Mn0="}
	signedAt := t0.Add(time.Second)
	settledAt := t0.Add(time.Minute)
	write(t, s, func(tx store.Tx) error {
		_, err := tx.MarkSettled(ctx(), a.ID, "0xabc", settledAt)
		wantErr(t, err, store.ErrState) // never signed
		sa, err := tx.MarkSigned(ctx(), a.ID, hdr, signedAt)
		if err != nil {
			return err
		}
		if sa.Status != store.AuthSigned || sa.Response != hdr || !sa.SignedAt.Equal(signedAt) {
			t.Errorf("signed = %+v", sa)
		}
		_, err = tx.MarkSigned(ctx(), a.ID, hdr, signedAt)
		wantErr(t, err, store.ErrState)
		_, err = tx.ReleaseAuthorization(ctx(), a.ID, store.AuthFailed, signedAt)
		wantErr(t, err, store.ErrState) // a signed authorization can only be cancelled
		_, err = tx.MarkSigned(ctx(), "auth_missing", hdr, signedAt)
		wantErr(t, err, store.ErrNotFound)
		k, err := tx.Key(ctx(), fx.keys[0].ID)
		if err != nil {
			return err
		}
		if k.SignCount != 1 {
			t.Errorf("SignCount = %d, want 1", k.SignCount)
		}
		st, err := tx.MarkSettled(ctx(), a.ID, "0xabc", settledAt)
		if err != nil {
			return err
		}
		if st.Status != store.AuthSettled || st.TxHash != "0xabc" || !st.SettledAt.Equal(settledAt) {
			t.Errorf("settled = %+v", st)
		}
		if _, err := tx.MarkSettled(ctx(), a.ID, "0xabc", settledAt); err != nil {
			t.Errorf("repeating a settlement: %v", err)
		}
		_, err = tx.MarkSettled(ctx(), a.ID, "0xdef", settledAt)
		wantErr(t, err, store.ErrState)
		_, err = tx.ReleaseAuthorization(ctx(), a.ID, store.AuthCancelled, settledAt)
		wantErr(t, err, store.ErrState)
		return nil
	})
	// The replay of a signed request returns the stored response.
	replay, existing, err := reserve(s, fx.payment(0, "idem-1", 1500), t0.Add(time.Hour))
	if err != nil || !existing || replay.Response != hdr || replay.Status != store.AuthSettled {
		t.Fatalf("replay = %+v, %v, %v", replay, existing, err)
	}
	// Cancel a signed one; fail a reserved one; both are idempotent.
	b, _, err := reserve(s, fx.payment(0, "idem-2", 10), t0)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := reserve(s, fx.payment(0, "idem-3", 10), t0)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, func(tx store.Tx) error {
		if _, err := tx.MarkSigned(ctx(), b.ID, hdr, t0); err != nil {
			return err
		}
		for i := 0; i < 2; i++ {
			got, err := tx.ReleaseAuthorization(ctx(), b.ID, store.AuthCancelled, t0)
			if err != nil || got.Status != store.AuthCancelled {
				t.Errorf("cancel #%d: %+v, %v", i, got, err)
			}
			got, err = tx.ReleaseAuthorization(ctx(), c.ID, store.AuthFailed, t0)
			if err != nil || got.Status != store.AuthFailed {
				t.Errorf("fail #%d: %+v, %v", i, got, err)
			}
		}
		_, err := tx.ReleaseAuthorization(ctx(), c.ID, store.AuthCancelled, t0)
		wantErr(t, err, store.ErrState)
		if _, err := tx.ReleaseAuthorization(ctx(), c.ID, store.AuthExpired, t0); err == nil {
			t.Error("ReleaseAuthorization accepted status expired")
		}
		_, err = tx.ReleaseAuthorization(ctx(), "auth_missing", store.AuthFailed, t0)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	read(t, s, func(tx store.ReadTx) error {
		open, err := tx.Authorizations(ctx(), store.AuthorizationFilter{AgentID: fx.agents[0].ID, Statuses: []store.AuthStatus{store.AuthCancelled, store.AuthFailed}})
		if err != nil {
			return err
		}
		if len(open) != 2 {
			t.Errorf("%d cancelled or failed, want 2", len(open))
		}
		byKey, err := tx.Authorizations(ctx(), store.AuthorizationFilter{KeyID: fx.keys[0].ID, FleetID: fx.fleet.ID, Limit: 2})
		if err != nil {
			return err
		}
		if len(byKey) != 2 {
			t.Errorf("limit 2 returned %d", len(byKey))
		}
		return nil
	})
}

func testReserveValidation(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	mod := func(f func(*store.Authorization)) store.Authorization {
		a := fx.payment(0, "v", 100)
		f(&a)
		return a
	}
	cases := map[string]store.Authorization{
		"no idempotency key":  mod(func(a *store.Authorization) { a.IdempotencyKey = "" }),
		"no agent":            mod(func(a *store.Authorization) { a.AgentID = "" }),
		"no network":          mod(func(a *store.Authorization) { a.Network = "" }),
		"negative amount":     mod(func(a *store.Authorization) { a.AmountMicro = -1 }),
		"atomic not decimal":  mod(func(a *store.Authorization) { a.AmountAtomic = "1e6" }),
		"atomic leading 0":    mod(func(a *store.Authorization) { a.AmountAtomic = "0100" }),
		"atomic negative":     mod(func(a *store.Authorization) { a.AmountAtomic = "-5" }),
		"bad asset":           mod(func(a *store.Authorization) { a.Asset = "USDC" }),
		"bad payTo":           mod(func(a *store.Authorization) { a.PayTo = "0x12" }),
		"short nonce":         mod(func(a *store.Authorization) { a.Nonce = "0x1234" }),
		"validity reversed":   mod(func(a *store.Authorization) { a.ValidBefore = a.ValidAfter }),
		"unknown agent":       mod(func(a *store.Authorization) { a.AgentID = "agt_missing" }),
		"unknown key":         mod(func(a *store.Authorization) { a.KeyID = "key_missing" }),
		"another agent's key": mod(func(a *store.Authorization) { a.KeyID = fx.keys[1].ID }),
	}
	for name, a := range cases {
		if _, _, err := reserve(s, a, t0); err == nil {
			t.Errorf("%s: reservation accepted", name)
		}
	}
	windows := map[string]store.WindowLimit{
		"foreign agent scope": {Level: store.LevelAgent, ScopeID: fx.agents[1].ID, Window: time.Hour, MaxAmountMicro: 1 << 40, MaxCount: -1},
		"foreign group scope": {Level: store.LevelGroup, ScopeID: fx.groups[1].ID, Window: time.Hour, MaxAmountMicro: 1 << 40, MaxCount: -1},
		"empty fleet scope":   {Level: store.LevelFleet, Window: time.Hour, MaxAmountMicro: -1, MaxCount: 10},
		"zero window":         {Level: store.LevelFleet, ScopeID: fx.fleet.ID, MaxAmountMicro: -1, MaxCount: 10},
		"bad level":           {Level: "team", ScopeID: fx.fleet.ID, Window: time.Hour, MaxAmountMicro: -1, MaxCount: 10},
	}
	for name, w := range windows {
		if _, _, err := reserve(s, fx.payment(0, "w", 100), t0, w); err == nil || errors.Is(err, store.ErrBudgetExceeded) {
			t.Errorf("%s: reservation = %v, want a validation error", name, err)
		}
	}
	if _, _, err := reserve(s, fx.payment(0, "z", 100), time.Time{}); err == nil {
		t.Error("reservation with zero Now accepted")
	}
	if n := countAuths(t, s); n != 0 {
		t.Errorf("%d records written by refused reservations", n)
	}
}

func testReserveIdempotency(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	first, existing, err := reserve(s, fx.payment(0, "k", 100), t0)
	if err != nil || existing {
		t.Fatal(err, existing)
	}
	// Same request, fresh nonce and later time: the stored record comes back.
	again, existing, err := reserve(s, fx.payment(0, "k", 100), t0.Add(time.Second))
	if err != nil || !existing || !reflect.DeepEqual(again, first) {
		t.Fatalf("replay = %+v, %v, %v", again, existing, err)
	}
	diff := []func(*store.Authorization){
		func(a *store.Authorization) { a.AmountMicro, a.AmountAtomic = 101, "101" },
		func(a *store.Authorization) { a.PayTo = randAddr() },
		func(a *store.Authorization) { a.ResourceURL += "?x=1" },
		func(a *store.Authorization) { a.Network = "eip155:8453" },
	}
	for i, f := range diff {
		a := fx.payment(0, "k", 100)
		f(&a)
		got, existing, err := reserve(s, a, t0)
		wantErr(t, err, store.ErrIdempotencyMismatch)
		if !existing || got.ID != first.ID {
			t.Errorf("mismatch %d returned %+v, existing %v", i, got, existing)
		}
	}
	// The same key for another agent is another request.
	other, existing, err := reserve(s, fx.payment(1, "k", 100), t0)
	if err != nil || existing || other.ID == first.ID {
		t.Fatalf("other agent: %+v, %v, %v", other, existing, err)
	}
	if n := countAuths(t, s); n != 2 {
		t.Errorf("%d records, want 2", n)
	}
}

func testNonceReused(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	a := fx.payment(0, "n1", 100)
	if _, _, err := reserve(s, a, t0); err != nil {
		t.Fatal(err)
	}
	b := fx.payment(0, "n2", 100)
	b.Nonce = strings.ToUpper(a.Nonce[2:])
	b.Nonce = "0x" + b.Nonce
	_, _, err := reserve(s, b, t0)
	wantErr(t, err, store.ErrNonceReused)
	wantConflict(t, err, store.ConstraintNonce)
	// The same nonce from another payer is a different authorization.
	c := fx.payment(1, "n3", 100)
	c.Nonce = a.Nonce
	if _, _, err := reserve(s, c, t0); err != nil {
		t.Fatalf("same nonce, other payer: %v", err)
	}
}

func testReserveInactive(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	write(t, s, func(tx store.Tx) error {
		if _, err := tx.SetAgentStatus(ctx(), fx.agents[0].ID, store.AgentFrozen, t0); err != nil {
			return err
		}
		_, err := tx.SetKeyStatus(ctx(), fx.keys[1].ID, store.KeyDraining)
		return err
	})
	for i, entity := range []string{"agent", "key"} {
		_, _, err := reserve(s, fx.payment(i, "x", 100), t0)
		var se *store.StateError
		if !errors.As(err, &se) || se.Entity != entity {
			t.Errorf("reserve with inactive %s: %v", entity, err)
		}
	}
	if n := countAuths(t, s); n != 0 {
		t.Errorf("%d records written", n)
	}
}

func testWindows(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 2)
	agentW := store.WindowLimit{Level: store.LevelAgent, ScopeID: fx.agents[0].ID, Window: time.Hour, MaxAmountMicro: 1000, MaxCount: -1, Rule: "agent:limits.windows[1h]"}
	groupW := store.WindowLimit{Level: store.LevelGroup, ScopeID: fx.groups[0].ID, Window: time.Minute, MaxAmountMicro: -1, MaxCount: 3, Rule: "group:limits.windows[1m]"}
	fleetW := func(agent int) store.WindowLimit {
		return store.WindowLimit{Level: store.LevelFleet, ScopeID: fx.fleet.ID, Window: 24 * time.Hour, MaxAmountMicro: 2000, MaxCount: -1, Rule: "fleet:limits.windows[1d]"}
	}
	unlimited := store.WindowLimit{Level: store.LevelAgent, ScopeID: fx.agents[0].ID, Window: time.Hour, MaxAmountMicro: -1, MaxCount: -1}
	type step struct {
		agent  int
		amount int64
		window []store.WindowLimit
		fail   *store.WindowLimit
		kind   string
	}
	steps := []step{
		{0, 400, []store.WindowLimit{agentW, unlimited}, nil, ""},
		{0, 400, []store.WindowLimit{agentW}, nil, ""},
		{0, 201, []store.WindowLimit{agentW}, &agentW, "amount"},
		{0, 200, []store.WindowLimit{agentW, groupW}, nil, ""}, // exactly at the limit
		{0, 0, []store.WindowLimit{agentW, groupW}, &groupW, "count"},
		{1, 1, []store.WindowLimit{groupW}, &groupW, "count"}, // the group budget is shared
		{2, 1000, []store.WindowLimit{fleetW(2)}, nil, ""},
		{3, 1, []store.WindowLimit{fleetW(3)}, &store.WindowLimit{}, "amount"},
	}
	fw := fleetW(3)
	steps[7].fail = &fw
	for i, st := range steps {
		before := countAuths(t, s)
		_, _, err := reserve(s, fx.payment(st.agent, fmt.Sprintf("w%d", i), st.amount), t0.Add(time.Duration(i)*time.Second), st.window...)
		if st.fail == nil {
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			continue
		}
		var be *store.BudgetError
		if !errors.As(err, &be) || !errors.Is(err, store.ErrBudgetExceeded) {
			t.Fatalf("step %d: %v, want a budget error", i, err)
		}
		if be.Window != *st.fail || be.Kind != st.kind || be.RequestedMicro != st.amount {
			t.Errorf("step %d: budget error %+v, want window %+v kind %s", i, be, *st.fail, st.kind)
		}
		if countAuths(t, s) != before {
			t.Errorf("step %d: a refused reservation wrote a record", i)
		}
	}
	at := t0.Add(time.Duration(len(steps)) * time.Second)
	checks := []struct {
		level store.Level
		scope string
		w     time.Duration
		want  store.Spend
	}{
		{store.LevelAgent, fx.agents[0].ID, time.Hour, store.Spend{AmountMicro: 1000, Count: 3}},
		{store.LevelGroup, fx.groups[0].ID, time.Hour, store.Spend{AmountMicro: 1000, Count: 3}},
		{store.LevelGroup, fx.groups[1].ID, time.Hour, store.Spend{AmountMicro: 1000, Count: 1}},
		{store.LevelFleet, fx.fleet.ID, time.Hour, store.Spend{AmountMicro: 2000, Count: 4}},
	}
	for _, c := range checks {
		got := spend(t, s, c.level, c.scope, c.w, at)
		if got != c.want {
			t.Errorf("Spend(%s %s) = %+v, want %+v", c.level, c.scope, got, c.want)
		}
		if rs := recordsSpend(t, s, c.level, c.scope, c.w, at); rs != got {
			t.Errorf("Spend(%s) = %+v but the records add up to %+v", c.level, got, rs)
		}
	}
	zero := store.WindowLimit{Level: store.LevelAgent, ScopeID: fx.agents[3].ID, Window: time.Hour, MaxAmountMicro: 0, MaxCount: -1}
	_, _, err := reserve(s, fx.payment(3, "zero", 1), at, zero)
	wantErr(t, err, store.ErrBudgetExceeded)
	if _, _, err := reserve(s, fx.payment(3, "free", 0), at, zero); err != nil {
		t.Errorf("a zero-amount payment under a zero amount limit: %v", err)
	}
}

func testWindowBoundary(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	if _, _, err := reserve(s, fx.payment(0, "b", 700), t0); err != nil {
		t.Fatal(err)
	}
	w := store.WindowLimit{Level: store.LevelAgent, ScopeID: fx.agents[0].ID, Window: time.Hour, MaxAmountMicro: 1000, MaxCount: -1}
	// At t0+1h-1ns the record is inside the window (CreatedAt > Now-Window).
	_, _, err := reserve(s, fx.payment(0, "in", 301), t0.Add(time.Hour-1), w)
	wantErr(t, err, store.ErrBudgetExceeded)
	if got := spend(t, s, store.LevelAgent, fx.agents[0].ID, time.Hour, t0.Add(time.Hour-1)); got.AmountMicro != 700 {
		t.Errorf("spend just inside the window = %+v", got)
	}
	// At exactly t0+1h it has left.
	if got := spend(t, s, store.LevelAgent, fx.agents[0].ID, time.Hour, t0.Add(time.Hour)); got != (store.Spend{}) {
		t.Errorf("spend at the window edge = %+v, want zero", got)
	}
	if _, _, err := reserve(s, fx.payment(0, "out", 1000), t0.Add(time.Hour), w); err != nil {
		t.Errorf("reservation after the window moved on: %v", err)
	}
}

func testExpiryReleasesBudget(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	w := store.WindowLimit{Level: store.LevelAgent, ScopeID: fx.agents[0].ID, Window: time.Hour, MaxAmountMicro: -1, MaxCount: 2}
	r1, _, err := reserve(s, fx.payment(0, "e1", 5), t0, w)
	if err != nil {
		t.Fatal(err)
	}
	r2, _, err := reserve(s, fx.payment(0, "e2", 5), t0, w)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, func(tx store.Tx) error {
		_, err := tx.MarkSigned(ctx(), r2.ID, store.PaymentHeader{Name: "X-PAYMENT", Value: "v"}, t0)
		return err
	})
	_, _, err = reserve(s, fx.payment(0, "e3", 5), t0.Add(time.Minute), w)
	wantErr(t, err, store.ErrBudgetExceeded)
	deadline := r1.ValidBefore
	write(t, s, func(tx store.Tx) error {
		got, err := tx.ExpireAuthorizations(ctx(), deadline) // not yet: ValidBefore < now is strict
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("expired %d at the deadline itself", len(got))
		}
		got, err = tx.ExpireAuthorizations(ctx(), deadline.Add(time.Second))
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].Status != store.AuthExpired {
			t.Errorf("expired = %+v", got)
		}
		return nil
	})
	at := deadline.Add(2 * time.Second)
	if got := spend(t, s, store.LevelAgent, fx.agents[0].ID, time.Hour, at); got != (store.Spend{}) {
		t.Errorf("spend after expiry = %+v", got)
	}
	if _, _, err := reserve(s, fx.payment(0, "e3", 5), at, w); err != nil {
		t.Fatalf("reserve after expiry: %v", err)
	}
	// A signed authorization that settles after all (the chain is the truth) counts
	// again; a merely reserved one was never signed and cannot settle.
	write(t, s, func(tx store.Tx) error {
		_, err := tx.MarkSettled(ctx(), r2.ID, "0xfeed", at)
		return err
	})
	if got := spend(t, s, store.LevelAgent, fx.agents[0].ID, time.Hour, at); got.Count != 2 {
		t.Errorf("spend after late settlement = %+v, want 2 (e3 and the settled one)", got)
	}
	write(t, s, func(tx store.Tx) error {
		_, err := tx.MarkSigned(ctx(), r1.ID, store.PaymentHeader{Name: "X-PAYMENT", Value: "v"}, at)
		wantErr(t, err, store.ErrState)
		got, err := tx.ExpireAuthorizations(ctx(), at.Add(time.Hour))
		if err != nil {
			return err
		}
		for _, a := range got {
			if a.ID == r2.ID {
				t.Error("a settled authorization expired")
			}
		}
		return nil
	})
	if got := spend(t, s, store.LevelAgent, fx.agents[0].ID, time.Hour, at); got.Count != 1 {
		t.Errorf("spend after the second sweep = %+v, want 1 (only the settled one)", got)
	}
}

func testReleaseReleasesBudget(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	w := store.WindowLimit{Level: store.LevelFleet, ScopeID: fx.fleet.ID, Window: time.Hour, MaxAmountMicro: 100, MaxCount: -1}
	a, _, err := reserve(s, fx.payment(0, "r1", 100), t0, w)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = reserve(s, fx.payment(1, "r2", 100), t0, w)
	wantErr(t, err, store.ErrBudgetExceeded)
	write(t, s, func(tx store.Tx) error {
		_, err := tx.ReleaseAuthorization(ctx(), a.ID, store.AuthFailed, t0)
		return err
	})
	if _, _, err := reserve(s, fx.payment(1, "r2", 100), t0, w); err != nil {
		t.Fatalf("reserve after release: %v", err)
	}
}

// testConcurrentBudgets fires 500 concurrent reservations at windows that admit
// exactly N, at each level and by amount and by count.
func testConcurrentBudgets(t *testing.T, s store.Store) {
	const workers = 500
	cases := []struct {
		name   string
		level  store.Level
		byCnt  bool
		n      int64
		amount int64
		agents []int // which fixture agents send
	}{
		{"agent amount", store.LevelAgent, false, 37, 100, []int{0}},
		{"group count", store.LevelGroup, true, 53, 7, []int{0, 1, 2, 3, 4}},
		{"fleet amount", store.LevelFleet, false, 71, 250, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"fleet count", store.LevelFleet, true, 29, 1, []int{0, 5, 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx := newFixture(t, s, 5)
			scope := map[store.Level]string{store.LevelAgent: fx.agents[c.agents[0]].ID, store.LevelGroup: fx.groups[0].ID, store.LevelFleet: fx.fleet.ID}[c.level]
			limit := store.WindowLimit{Level: c.level, ScopeID: scope, Window: time.Hour, MaxAmountMicro: -1, MaxCount: -1, Rule: c.name}
			if c.byCnt {
				limit.MaxCount = c.n
			} else {
				limit.MaxAmountMicro = c.n * c.amount
			}
			now := t0.Add(10 * time.Minute)
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				ok, over int64
				other    []error
				start    = make(chan struct{})
			)
			for i := 0; i < workers; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					agent := c.agents[i%len(c.agents)]
					windows := []store.WindowLimit{
						// Non-binding windows at the other levels, so every
						// reservation sums several windows.
						{Level: store.LevelFleet, ScopeID: fx.fleet.ID, Window: 24 * time.Hour, MaxAmountMicro: 1 << 50, MaxCount: 1 << 40},
						{Level: store.LevelAgent, ScopeID: fx.agents[agent].ID, Window: time.Minute, MaxAmountMicro: 1 << 50, MaxCount: -1},
					}
					if c.level != store.LevelAgent || agent == c.agents[0] {
						windows = append(windows, limit)
					}
					<-start
					_, _, err := reserve(s, fx.payment(agent, fmt.Sprintf("c%d", i), c.amount), now, windows...)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case errors.Is(err, store.ErrBudgetExceeded):
						over++
					default:
						other = append(other, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if len(other) > 0 {
				t.Fatalf("%d unexpected errors, first: %v", len(other), other[0])
			}
			if ok != c.n || over != workers-c.n {
				t.Fatalf("%d reserved, %d refused; want exactly %d reserved", ok, over, c.n)
			}
			got := spend(t, s, c.level, scope, time.Hour, now)
			want := store.Spend{AmountMicro: c.n * c.amount, Count: c.n}
			if got != want {
				t.Errorf("window total = %+v, want %+v", got, want)
			}
			if rs := recordsSpend(t, s, c.level, scope, time.Hour, now); rs != want {
				t.Errorf("records add up to %+v, want %+v", rs, want)
			}
		})
	}
}

func testConcurrentIdempotency(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	const workers = 50
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]int{}
		created int
		errs    []error
		start   = make(chan struct{})
	)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a, existing, err := reserve(s, fx.payment(0, "same-key", 42), t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			ids[a.ID]++
			if !existing {
				created++
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs[0])
	}
	if len(ids) != 1 || created != 1 {
		t.Fatalf("%d distinct authorizations, %d created; want one", len(ids), created)
	}
	if n := countAuths(t, s); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

// testSavepointBatch runs a batch of reservations in one Tx, each in a savepoint: the
// refused ones leave nothing, the others commit together.
func testSavepointBatch(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	w := store.WindowLimit{Level: store.LevelAgent, ScopeID: fx.agents[0].ID, Window: time.Hour, MaxAmountMicro: -1, MaxCount: 3}
	var okN, refused int
	write(t, s, func(tx store.Tx) error {
		for i := 0; i < 6; i++ {
			err := tx.Savepoint(ctx(), func(tx store.Tx) error {
				_, _, err := tx.ReserveAuthorization(ctx(), store.ReserveRequest{Authorization: fx.payment(0, fmt.Sprintf("b%d", i), 10), Windows: []store.WindowLimit{w}, Now: t0})
				if err != nil {
					return err
				}
				if i == 1 {
					return errors.New("signing failed") // undone, budget not used
				}
				return nil
			})
			switch {
			case err == nil:
				okN++
			case errors.Is(err, store.ErrBudgetExceeded), i == 1:
				refused++
			default:
				return err
			}
		}
		// Nested savepoints unwind only their own part.
		return tx.Savepoint(ctx(), func(tx store.Tx) error {
			_ = tx.Savepoint(ctx(), func(tx store.Tx) error {
				if _, err := tx.CreateFleet(ctx(), store.Fleet{Name: "inner", Index: 1_000_001}); err != nil {
					return err
				}
				return errors.New("undo inner")
			})
			_, err := tx.CreateFleet(ctx(), store.Fleet{Name: "outer", Index: 1_000_002})
			return err
		})
	})
	if okN != 3 || refused != 3 {
		t.Fatalf("%d reserved, %d refused; want 3 and 3", okN, refused)
	}
	if n := countAuths(t, s); n != 3 {
		t.Fatalf("%d records, want 3", n)
	}
	if got := spend(t, s, store.LevelAgent, fx.agents[0].ID, time.Hour, t0); got != (store.Spend{AmountMicro: 30, Count: 3}) {
		t.Fatalf("spend = %+v", got)
	}
	read(t, s, func(tx store.ReadTx) error {
		fs, err := tx.Fleets(ctx())
		if err != nil {
			return err
		}
		names := map[string]bool{}
		for _, f := range fs {
			names[f.Name] = true
		}
		if names["inner"] || !names["outer"] {
			t.Errorf("fleets after nested savepoints: %v", names)
		}
		return nil
	})
}
