package storetest

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

func testApprovals(t *testing.T, s store.Store) {
	fx := newFixture(t, s, 1)
	auth, _, err := reserve(s, fx.payment(0, "ap", 5_000_000), t0)
	if err != nil {
		t.Fatal(err)
	}
	create := func(quorum int, approvers ...string) (store.Approval, error) {
		var a store.Approval
		err := s.Tx(ctx(), func(tx store.Tx) error {
			var err error
			a, err = tx.CreateApproval(ctx(), store.Approval{AuthorizationID: auth.ID, Rule: "group:approval", Quorum: quorum,
				Approvers: approvers, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
			return err
		})
		return a, err
	}
	vote := func(id, who string, d store.VoteDecision, at time.Time) (store.Approval, error) {
		var a store.Approval
		err := s.Tx(ctx(), func(tx store.Tx) error {
			var err error
			a, err = tx.VoteApproval(ctx(), store.VoteRequest{ApprovalID: id, Approver: who, Decision: d, At: at})
			return err
		})
		return a, err
	}
	for name, q := range map[string]struct {
		quorum    int
		approvers []string
	}{"quorum 0": {0, []string{"a"}}, "quorum above approvers": {3, []string{"a", "b"}}, "repeated approver": {1, []string{"a", "a"}}, "empty approver": {1, []string{""}}} {
		if _, err := create(q.quorum, q.approvers...); err == nil {
			t.Errorf("%s: CreateApproval succeeded", name)
		}
	}
	err = s.Tx(ctx(), func(tx store.Tx) error {
		_, err := tx.CreateApproval(ctx(), store.Approval{AuthorizationID: "auth_missing", Quorum: 1, Approvers: []string{"a"}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		return err
	})
	wantErr(t, err, store.ErrNotFound)

	// 2 of 3: approve, approve → approved.
	a1, err := create(2, "alice", "bob", "carol")
	if err != nil || a1.Status != store.ApprovalPending {
		t.Fatalf("create: %+v, %v", a1, err)
	}
	got, err := vote(a1.ID, "alice", store.VoteApprove, t0.Add(time.Minute))
	if err != nil || got.Status != store.ApprovalPending || len(got.Votes) != 1 {
		t.Fatalf("first vote: %+v, %v", got, err)
	}
	_, err = vote(a1.ID, "alice", store.VoteApprove, t0.Add(2*time.Minute))
	wantConflict(t, err, store.ConstraintApprovalVote)
	_, err = vote(a1.ID, "mallory", store.VoteApprove, t0.Add(2*time.Minute))
	wantErr(t, err, store.ErrNotApprover)
	if _, err = vote(a1.ID, "bob", "maybe", t0.Add(2*time.Minute)); err == nil {
		t.Error("vote \"maybe\" accepted")
	}
	got, err = vote(a1.ID, "bob", store.VoteApprove, t0.Add(3*time.Minute))
	if err != nil || got.Status != store.ApprovalApproved || !got.DecidedAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("quorum vote: %+v, %v", got, err)
	}
	_, err = vote(a1.ID, "carol", store.VoteDeny, t0.Add(4*time.Minute))
	wantErr(t, err, store.ErrState)

	// 2 of 3: deny, deny → denied (two approvals are no longer possible).
	a2, err := create(2, "alice", "bob", "carol")
	if err != nil {
		t.Fatal(err)
	}
	if got, err = vote(a2.ID, "alice", store.VoteDeny, t0.Add(time.Minute)); err != nil || got.Status != store.ApprovalPending {
		t.Fatalf("one deny of three: %+v, %v", got, err)
	}
	if got, err = vote(a2.ID, "carol", store.VoteDeny, t0.Add(time.Minute)); err != nil || got.Status != store.ApprovalDenied {
		t.Fatalf("two denies of three: %+v, %v", got, err)
	}

	// Expiry: a late vote is refused, ExpireApprovals closes it.
	a3, err := create(1, "dave")
	if err != nil {
		t.Fatal(err)
	}
	_, err = vote(a3.ID, "dave", store.VoteApprove, a3.ExpiresAt)
	wantErr(t, err, store.ErrState)
	_, err = vote("apr_missing", "dave", store.VoteApprove, t0)
	wantErr(t, err, store.ErrNotFound)
	a4, err := create(1, "erin", "dave")
	if err != nil {
		t.Fatal(err)
	}
	read(t, s, func(tx store.ReadTx) error {
		p, err := tx.PendingApprovals(ctx(), "", 0)
		if err != nil {
			return err
		}
		if len(p) != 2 {
			t.Errorf("%d pending, want 2", len(p))
		}
		p, err = tx.PendingApprovals(ctx(), "erin", 0)
		if err != nil {
			return err
		}
		if len(p) != 1 || p[0].ID != a4.ID {
			t.Errorf("pending for erin = %+v", p)
		}
		p, err = tx.PendingApprovals(ctx(), "dave", 1)
		if err != nil {
			return err
		}
		if len(p) != 1 {
			t.Errorf("limit 1 returned %d", len(p))
		}
		all, err := tx.ApprovalsForAuthorization(ctx(), auth.ID)
		if err != nil {
			return err
		}
		if len(all) != 4 || len(all[0].Votes) != 2 {
			t.Errorf("ApprovalsForAuthorization = %+v", all)
		}
		one, err := tx.Approval(ctx(), a1.ID)
		if err != nil {
			return err
		}
		if one.Status != store.ApprovalApproved || one.Votes[0].Approver != "alice" || one.Quorum != 2 || len(one.Approvers) != 3 {
			t.Errorf("Approval = %+v", one)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		exp, err := tx.ExpireApprovals(ctx(), t0.Add(time.Hour))
		if err != nil {
			return err
		}
		if len(exp) != 2 || exp[0].Status != store.ApprovalExpired {
			t.Errorf("expired = %+v", exp)
		}
		return nil
	})
	read(t, s, func(tx store.ReadTx) error {
		p, err := tx.PendingApprovals(ctx(), "", 0)
		if err != nil {
			return err
		}
		if len(p) != 0 {
			t.Errorf("%d still pending", len(p))
		}
		return nil
	})
}

func testAuditStorage(t *testing.T, s store.Store) {
	rec := func(seq uint64) store.AuditRecord {
		return store.AuditRecord{Seq: seq, Time: t0.Add(time.Duration(seq)), Actor: "system", Action: "test.stored",
			Subject: fmt.Sprint(seq), Data: []byte(`{"n":1}`), Hash: sha256.Sum256([]byte{byte(seq)})}
	}
	read(t, s, func(tx store.ReadTx) error {
		_, err := tx.AuditHead(ctx())
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	for _, seq := range []uint64{0, 2} {
		err := s.Tx(ctx(), func(tx store.Tx) error { return tx.AppendAudit(ctx(), rec(seq)) })
		wantConflict(t, err, store.ConstraintAuditSeq)
	}
	write(t, s, func(tx store.Tx) error {
		for seq := uint64(1); seq <= 5; seq++ {
			r := rec(seq)
			if seq > 1 {
				r.PrevHash = rec(seq - 1).Hash
			}
			if err := tx.AppendAudit(ctx(), r); err != nil {
				return err
			}
		}
		return tx.PutAuditCheckpoint(ctx(), store.AuditCheckpoint{Seq: 3, Hash: rec(3).Hash, Time: t0, Signer: randAddr(), Signature: [65]byte{1, 2, 3}})
	})
	err := s.Tx(ctx(), func(tx store.Tx) error { return tx.AppendAudit(ctx(), rec(5)) })
	wantConflict(t, err, store.ConstraintAuditSeq)
	err = s.Tx(ctx(), func(tx store.Tx) error {
		return tx.PutAuditCheckpoint(ctx(), store.AuditCheckpoint{Seq: 3, Hash: rec(3).Hash, Time: t0, Signer: randAddr()})
	})
	wantConflict(t, err, store.ConstraintAuditCheckpoint)
	err = s.Tx(ctx(), func(tx store.Tx) error {
		return tx.PutAuditCheckpoint(ctx(), store.AuditCheckpoint{Seq: 9, Time: t0, Signer: randAddr()})
	})
	wantErr(t, err, store.ErrNotFound)
	read(t, s, func(tx store.ReadTx) error {
		head, err := tx.AuditHead(ctx())
		if err != nil {
			return err
		}
		if head.Seq != 5 || head.Hash != rec(5).Hash || head.PrevHash != rec(4).Hash || string(head.Data) != `{"n":1}` || !head.Time.Equal(rec(5).Time) {
			t.Errorf("head = %+v", head)
		}
		page, err := tx.AuditRecords(ctx(), 1, 2)
		if err != nil {
			return err
		}
		if len(page) != 2 || page[0].Seq != 2 || page[1].Seq != 3 {
			t.Errorf("AuditRecords(1, 2) = %+v", page)
		}
		cps, err := tx.AuditCheckpoints(ctx())
		if err != nil {
			return err
		}
		if len(cps) != 1 || cps[0].Seq != 3 || cps[0].Signature[2] != 3 || cps[0].Hash != rec(3).Hash {
			t.Errorf("AuditCheckpoints = %+v", cps)
		}
		return nil
	})
}
