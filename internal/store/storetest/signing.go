package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// testReserveDemand: a reservation that waits for approval keeps its demand, version
// and requirement index through every read, and bad values are refused.
func testReserveDemand(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	demand := []byte(`{"x402Version":2,"accepts":[{},{}]}` + "\x00\xff")
	req := fx.payment(0, "held", 700)
	req.DemandVersion, req.Demand, req.RequirementIndex = 2, demand, 1
	a, _, err := reserve(s, req, t0)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got store.Authorization) {
		t.Helper()
		if got.DemandVersion != 2 || !bytes.Equal(got.Demand, demand) || got.RequirementIndex != 1 {
			t.Errorf("%s: demand v%d %q index %d", what, got.DemandVersion, got.Demand, got.RequirementIndex)
		}
	}
	check("reserve", a)
	read(t, s, func(tx store.ReadTx) error {
		got, err := tx.Authorization(ctx(), a.ID)
		if err != nil {
			return err
		}
		check("Authorization", got)
		list, err := tx.Authorizations(ctx(), store.AuthorizationFilter{AgentID: fx.agents[0].ID})
		if err != nil || len(list) != 1 {
			return fmt.Errorf("Authorizations: %d, %v", len(list), err)
		}
		check("Authorizations", list[0])
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		got, err := tx.MarkSigned(ctx(), a.ID, store.PaymentHeader{Name: "PAYMENT-SIGNATURE", Value: "v"}, t0.Add(time.Second))
		if err != nil {
			return err
		}
		check("MarkSigned", got)
		return nil
	})

	// A payment signed at once has none.
	plain, _, err := reserve(s, fx.payment(0, "plain", 1), t0)
	if err != nil {
		t.Fatal(err)
	}
	if plain.DemandVersion != 0 || plain.Demand != nil || plain.RequirementIndex != 0 {
		t.Errorf("plain reservation: demand v%d %q index %d", plain.DemandVersion, plain.Demand, plain.RequirementIndex)
	}
	read(t, s, func(tx store.ReadTx) error {
		got, err := tx.Authorization(ctx(), plain.ID)
		if err == nil && (got.Demand != nil || got.DemandVersion != 0) {
			t.Errorf("plain record: demand v%d %q", got.DemandVersion, got.Demand)
		}
		return err
	})

	for name, f := range map[string]func(*store.Authorization){
		"version 3":              func(a *store.Authorization) { a.DemandVersion, a.Demand = 3, demand },
		"demand without version": func(a *store.Authorization) { a.DemandVersion, a.Demand = 0, demand },
		"version without demand": func(a *store.Authorization) { a.DemandVersion, a.Demand = 2, nil },
		"negative index":         func(a *store.Authorization) { a.DemandVersion, a.Demand, a.RequirementIndex = 2, demand, -1 },
	} {
		r := fx.payment(0, "bad-"+name, 1)
		f(&r)
		if _, _, err := reserve(s, r, t0); err == nil {
			t.Errorf("%s: reservation accepted", name)
		}
	}
	if n := countAuths(t, s); n != 2 {
		t.Errorf("%d records, want 2", n)
	}
}

// testApprovalsFilter: Approvals lists every status, newest first, filtered by status
// and approver, with a limit.
func testApprovalsFilter(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	auth, _, err := reserve(s, fx.payment(0, "f", 1), t0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	write(t, s, func(tx store.Tx) error {
		for i, approvers := range [][]string{{"alice"}, {"alice", "bob"}, {"bob"}, {"carol"}} {
			a, err := tx.CreateApproval(ctx(), store.Approval{AuthorizationID: auth.ID, Rule: fmt.Sprint("r", i), Quorum: 1,
				Approvers: approvers, CreatedAt: t0.Add(time.Duration(i) * time.Second), ExpiresAt: t0.Add(time.Hour)})
			if err != nil {
				return err
			}
			ids = append(ids, a.ID)
		}
		// 0 approved by alice, 2 denied by bob, 1 and 3 stay pending.
		if _, err := tx.VoteApproval(ctx(), store.VoteRequest{ApprovalID: ids[0], Approver: "alice", Decision: store.VoteApprove, At: t0.Add(time.Minute)}); err != nil {
			return err
		}
		_, err := tx.VoteApproval(ctx(), store.VoteRequest{ApprovalID: ids[2], Approver: "bob", Decision: store.VoteDeny, At: t0.Add(time.Minute)})
		return err
	})
	for _, tc := range []struct {
		f    store.ApprovalFilter
		want []int
	}{
		{store.ApprovalFilter{}, []int{3, 2, 1, 0}},
		{store.ApprovalFilter{Limit: 2}, []int{3, 2}},
		{store.ApprovalFilter{Status: store.ApprovalPending}, []int{3, 1}},
		{store.ApprovalFilter{Status: store.ApprovalApproved}, []int{0}},
		{store.ApprovalFilter{Status: store.ApprovalDenied}, []int{2}},
		{store.ApprovalFilter{Status: store.ApprovalExpired}, nil},
		{store.ApprovalFilter{Approver: "bob"}, []int{2, 1}},
		{store.ApprovalFilter{Approver: "alice", Limit: 1}, []int{1}},
		{store.ApprovalFilter{Approver: "alice", Status: store.ApprovalApproved}, []int{0}},
		{store.ApprovalFilter{Approver: "mallory"}, nil},
	} {
		read(t, s, func(tx store.ReadTx) error {
			got, err := tx.Approvals(ctx(), tc.f)
			if err != nil {
				return err
			}
			var gotIDs, wantIDs []string
			for _, a := range got {
				gotIDs = append(gotIDs, a.ID)
			}
			for _, i := range tc.want {
				wantIDs = append(wantIDs, ids[i])
			}
			if fmt.Sprint(gotIDs) != fmt.Sprint(wantIDs) {
				t.Errorf("Approvals(%+v) = %v, want %v", tc.f, gotIDs, wantIDs)
			}
			for _, a := range got {
				if a.ID == ids[0] && (len(a.Votes) != 1 || a.Votes[0].Approver != "alice") {
					t.Errorf("approval 0 votes = %+v", a.Votes)
				}
			}
			return nil
		})
	}
}
