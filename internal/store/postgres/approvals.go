package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

const approvalCols = `id, authorization_id, rule, quorum, approvers, status, created_at, expires_at, decided_at`

var (
	qApproval        = q(`SELECT ` + approvalCols + ` FROM approvals WHERE id = ?`)
	qApprovalsByAuth = q(`SELECT ` + approvalCols + ` FROM approvals WHERE authorization_id = ? ORDER BY created_at, id`)
	qApprovalPending = q(`SELECT ` + approvalCols + ` FROM approvals WHERE status = 'pending' ORDER BY created_at, id`)
	qApprovalLock    = q(`SELECT ` + approvalCols + ` FROM approvals WHERE id = ? FOR UPDATE`)
	qApprovalExpire  = q(`UPDATE approvals SET status = 'expired', decided_at = ? WHERE status = 'pending' AND expires_at <= ? RETURNING ` + approvalCols)
	qApprovalIns     = q(`INSERT INTO approvals (` + approvalCols + `) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, NULL)`)
	qApprovalSet     = q(`UPDATE approvals SET status = ?, decided_at = ? WHERE id = ?`)
	qVotes           = q(`SELECT approver, decision, voted_at FROM approval_votes WHERE approval_id = ? ORDER BY voted_at, approver`)
	qVoteIns         = q(`INSERT INTO approval_votes (approval_id, approver, decision, voted_at) VALUES (?, ?, ?, ?)`)
)

func scanApproval(s scanner) (store.Approval, error) {
	var (
		a         store.Approval
		approvers string
		ca, ea    int64
		da        sql.NullInt64
	)
	if err := s.Scan(&a.ID, &a.AuthorizationID, &a.Rule, &a.Quorum, &approvers, &a.Status, &ca, &ea, &da); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(approvers), &a.Approvers); err != nil {
		return a, fmt.Errorf("postgres: approval %s approvers: %w", a.ID, err)
	}
	a.CreatedAt, a.ExpiresAt, a.DecidedAt = fromNSReq(ca), fromNSReq(ea), fromNS(da)
	return a, nil
}

func scanVote(s scanner) (store.Vote, error) {
	var (
		v  store.Vote
		at int64
	)
	err := s.Scan(&v.Approver, &v.Decision, &at)
	v.At = fromNSReq(at)
	return v, err
}

func (t *tx) withVotes(ctx context.Context, as []store.Approval) ([]store.Approval, error) {
	for i := range as {
		v, err := queryAll(ctx, t, scanVote, qVotes, as[i].ID)
		if err != nil {
			return nil, err
		}
		as[i].Votes = v
	}
	return as, nil
}

func (t *tx) Approval(ctx context.Context, id string) (store.Approval, error) {
	a, err := one(t.queryRow(ctx, qApproval, id), scanApproval, "approval", id)
	if err != nil {
		return a, err
	}
	as, err := t.withVotes(ctx, []store.Approval{a})
	if err != nil {
		return store.Approval{}, err
	}
	return as[0], nil
}

func (t *tx) ApprovalsForAuthorization(ctx context.Context, authorizationID string) ([]store.Approval, error) {
	as, err := queryAll(ctx, t, scanApproval, qApprovalsByAuth, authorizationID)
	if err != nil {
		return nil, err
	}
	return t.withVotes(ctx, as)
}

func (t *tx) PendingApprovals(ctx context.Context, approver string, limit int) ([]store.Approval, error) {
	all, err := queryAll(ctx, t, scanApproval, qApprovalPending)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if approver == "" || slices.Contains(a.Approvers, approver) {
			out = append(out, a)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return t.withVotes(ctx, out)
}

func (t *tx) Approvals(ctx context.Context, f store.ApprovalFilter) ([]store.Approval, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	limit := ""
	if f.Approver == "" {
		limit = limitClause(f.Limit)
	}
	all, err := queryAll(ctx, t, scanApproval, `SELECT `+approvalCols+` FROM approvals`+whereClause(where)+` ORDER BY created_at DESC, id DESC`+limit, args...)
	if err != nil {
		return nil, err
	}
	// Approvers are a JSON list: the approver filter runs here, so the limit too.
	out := all[:0]
	for _, a := range all {
		if f.Approver == "" || slices.Contains(a.Approvers, f.Approver) {
			out = append(out, a)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
	}
	return t.withVotes(ctx, out)
}

func (t *tx) CreateApproval(ctx context.Context, a store.Approval) (store.Approval, error) {
	if a.Quorum < 1 || a.Quorum > len(a.Approvers) {
		return store.Approval{}, fmt.Errorf("postgres: quorum %d of %d approvers", a.Quorum, len(a.Approvers))
	}
	seen := map[string]bool{}
	for _, who := range a.Approvers {
		if who == "" || seen[who] {
			return store.Approval{}, fmt.Errorf("postgres: approver list has an empty or repeated name %q", who)
		}
		seen[who] = true
	}
	if _, err := t.Authorization(ctx, a.AuthorizationID); err != nil {
		return store.Approval{}, err
	}
	a.CreatedAt = now(a.CreatedAt)
	if !a.ExpiresAt.After(a.CreatedAt) {
		return store.Approval{}, errors.New("postgres: approval expires before it is created")
	}
	a.ExpiresAt = a.ExpiresAt.UTC()
	if a.ID == "" {
		a.ID = store.NewID("apr")
	}
	a.Status, a.Votes, a.DecidedAt = store.ApprovalPending, nil, time.Time{}
	a.Approvers = slices.Clone(a.Approvers)
	approvers, err := encodeJSON(a.Approvers)
	if err != nil {
		return store.Approval{}, err
	}
	if _, err := t.exec(ctx, qApprovalIns, a.ID, a.AuthorizationID, a.Rule, a.Quorum, approvers,
		nsReq(a.CreatedAt), nsReq(a.ExpiresAt)); err != nil {
		return store.Approval{}, fmt.Errorf("postgres: create approval: %w", err)
	}
	return a, nil
}

func (t *tx) VoteApproval(ctx context.Context, r store.VoteRequest) (store.Approval, error) {
	// Locked: concurrent votes are counted one after the other.
	a, err := one(t.queryRow(ctx, qApprovalLock, r.ApprovalID), scanApproval, "approval", r.ApprovalID)
	if err != nil {
		return a, err
	}
	as, err := t.withVotes(ctx, []store.Approval{a})
	if err != nil {
		return store.Approval{}, err
	}
	a = as[0]
	if r.Decision != store.VoteApprove && r.Decision != store.VoteDeny {
		return store.Approval{}, fmt.Errorf("postgres: invalid vote %q", r.Decision)
	}
	at := now(r.At)
	if a.Status == store.ApprovalPending && !at.Before(a.ExpiresAt) {
		return store.Approval{}, &store.StateError{Entity: "approval", ID: a.ID, Status: string(store.ApprovalExpired), Op: "vote"}
	}
	if a.Status != store.ApprovalPending {
		return store.Approval{}, &store.StateError{Entity: "approval", ID: a.ID, Status: string(a.Status), Op: "vote"}
	}
	if !slices.Contains(a.Approvers, r.Approver) {
		return store.Approval{}, fmt.Errorf("%w: %q on approval %s", store.ErrNotApprover, r.Approver, a.ID)
	}
	if _, err := t.exec(ctx, qVoteIns, a.ID, r.Approver, string(r.Decision), nsReq(at)); err != nil {
		return store.Approval{}, fmt.Errorf("postgres: vote: %w", err)
	}
	a.Votes = append(a.Votes, store.Vote{Approver: r.Approver, Decision: r.Decision, At: at})
	var yes, no int
	for _, v := range a.Votes {
		if v.Decision == store.VoteApprove {
			yes++
		} else {
			no++
		}
	}
	switch {
	case yes >= a.Quorum:
		a.Status = store.ApprovalApproved
	case no > len(a.Approvers)-a.Quorum:
		a.Status = store.ApprovalDenied
	default:
		return a, nil
	}
	a.DecidedAt = at
	if _, err := t.exec(ctx, qApprovalSet, string(a.Status), nsReq(at), a.ID); err != nil {
		return store.Approval{}, fmt.Errorf("postgres: decide approval: %w", err)
	}
	return a, nil
}

func (t *tx) ExpireApprovals(ctx context.Context, at time.Time) ([]store.Approval, error) {
	at = now(at)
	due, err := queryAll(ctx, t, scanApproval, qApprovalExpire, nsReq(at), nsReq(at))
	if err != nil {
		return nil, err
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].CreatedAt.Equal(due[j].CreatedAt) {
			return due[i].CreatedAt.Before(due[j].CreatedAt)
		}
		return due[i].ID < due[j].ID
	})
	return t.withVotes(ctx, due)
}

// ---- audit ----

const auditCols = `seq, time, actor, action, subject, data, prev_hash, hash`

var (
	qAuditHead   = q(`SELECT ` + auditCols + ` FROM audit_records ORDER BY seq DESC LIMIT 1`)
	qAuditAfter  = q(`SELECT ` + auditCols + ` FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`)
	qAuditLock   = q(`SELECT id FROM audit_head_lock WHERE id = 1 FOR UPDATE`)
	qAuditMax    = q(`SELECT COALESCE(MAX(seq), 0) FROM audit_records`)
	qAuditIns    = q(`INSERT INTO audit_records (` + auditCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	qAuditExists = q(`SELECT hash FROM audit_records WHERE seq = ?`)
	qCheckpoints = q(`SELECT seq, hash, time, signer, signature FROM audit_checkpoints ORDER BY seq`)
	qCheckIns    = q(`INSERT INTO audit_checkpoints (seq, hash, time, signer, signature) VALUES (?, ?, ?, ?, ?)`)
)

func scanAudit(s scanner) (store.AuditRecord, error) {
	var (
		r          store.AuditRecord
		tm         int64
		data       string
		prev, hash string
	)
	if err := s.Scan(&r.Seq, &tm, &r.Actor, &r.Action, &r.Subject, &data, &prev, &hash); err != nil {
		return r, err
	}
	var err error
	if r.PrevHash, err = parseHash(prev); err != nil {
		return r, err
	}
	if r.Hash, err = parseHash(hash); err != nil {
		return r, err
	}
	r.Time, r.Data = fromNSReq(tm), []byte(data)
	return r, nil
}

// lockAudit takes the audit head lock for the rest of the transaction.
func (t *tx) lockAudit(ctx context.Context) error {
	if t.auditDepth > 0 {
		return nil
	}
	var id int64
	if err := t.queryRow(ctx, qAuditLock).Scan(&id); err != nil {
		return fmt.Errorf("postgres: lock audit head: %w", err)
	}
	t.auditDepth = t.depth + 1
	return nil
}

// AuditHead in a write transaction first takes the audit head lock: the head it
// returns stays the head until this transaction ends, so the record the caller
// builds on it is the next one.
func (t *tx) AuditHead(ctx context.Context) (store.AuditRecord, error) {
	if t.head != nil {
		return *t.head, nil
	}
	if !t.write {
		return one(t.queryRow(ctx, qAuditHead), scanAudit, "audit record", "head")
	}
	if err := t.lockAudit(ctx); err != nil {
		return store.AuditRecord{}, err
	}
	h, err := one(t.queryRow(ctx, qAuditHead), scanAudit, "audit record", "head")
	if err != nil {
		return h, err
	}
	// Under the lock the head stays the head: the next AppendAudit needs no query.
	c := h
	c.Data = bytes.Clone(h.Data)
	t.head = &c
	return h, nil
}

func (t *tx) AuditRecords(ctx context.Context, afterSeq uint64, limit int) ([]store.AuditRecord, error) {
	if limit <= 0 {
		limit = 1000
	}
	return queryAll(ctx, t, scanAudit, qAuditAfter, int64(afterSeq), limit)
}

func (t *tx) AuditCheckpoints(ctx context.Context) ([]store.AuditCheckpoint, error) {
	return queryAll(ctx, t, func(s scanner) (store.AuditCheckpoint, error) {
		var (
			c         store.AuditCheckpoint
			hash, sig string
			tm        int64
		)
		if err := s.Scan(&c.Seq, &hash, &tm, &c.Signer, &sig); err != nil {
			return c, err
		}
		var err error
		if c.Hash, err = parseHash(hash); err != nil {
			return c, err
		}
		b, err := hex.DecodeString(sig)
		if err != nil || len(b) != 65 {
			return c, fmt.Errorf("postgres: checkpoint %d signature is not 65 bytes of hex", c.Seq)
		}
		copy(c.Signature[:], b)
		c.Time = fromNSReq(tm)
		return c, nil
	}, qCheckpoints)
}

func (t *tx) AppendAudit(ctx context.Context, r store.AuditRecord) error {
	if err := t.lockAudit(ctx); err != nil {
		return err
	}
	var head int64
	if t.head != nil {
		head = int64(t.head.Seq)
	} else if err := t.queryRow(ctx, qAuditMax).Scan(&head); err != nil {
		return fmt.Errorf("postgres: audit head: %w", err)
	}
	if int64(r.Seq) != head+1 {
		return &store.ConflictError{Constraint: store.ConstraintAuditSeq,
			Err: fmt.Errorf("postgres: audit record %d does not follow the head %d", r.Seq, head)}
	}
	if _, err := t.exec(ctx, qAuditIns, int64(r.Seq), nsReq(r.Time), r.Actor, r.Action, r.Subject, string(r.Data),
		hexHash(r.PrevHash), hexHash(r.Hash)); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	r.Data = bytes.Clone(r.Data)
	t.head = &r
	return nil
}

func (t *tx) PutAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	var h string
	err := t.queryRow(ctx, qAuditExists, int64(c.Seq)).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return &store.NotFoundError{Entity: "audit record", Key: fmt.Sprint(c.Seq)}
	}
	if err != nil {
		return fmt.Errorf("postgres: checkpoint: %w", err)
	}
	if _, err := t.exec(ctx, qCheckIns, int64(c.Seq), hexHash(c.Hash), nsReq(c.Time), c.Signer,
		hex.EncodeToString(c.Signature[:])); err != nil {
		return fmt.Errorf("postgres: checkpoint: %w", err)
	}
	return nil
}
