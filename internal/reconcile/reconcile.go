package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
)

// Audit actions the reconciler records besides audit.ActionPaymentSettled and
// audit.ActionPaymentExpired.
const (
	// ActionPaymentCancelled: a signed authorization was cancelled on chain
	// (AuthorizationCanceled), or a reservation held for approval lapsed with its
	// approval; its budget is released.
	ActionPaymentCancelled = "payment.cancelled"
	// ActionApprovalExpired: an approval request lapsed undecided.
	ActionApprovalExpired = "approval.expired"
)

// Defaults of Config.
const (
	DefaultInterval    = 5 * time.Second
	DefaultMaxBackoff  = 2 * time.Minute
	DefaultMaxLogRange = 5000
	// DefaultRecheck is how far back (by validBefore) expired authorizations are
	// checked on chain again for a late settlement.
	DefaultRecheck = 24 * time.Hour
	// DefaultPruneAge keeps spend aggregates for the longest window a policy may use
	// (31 days, docs/policy.md) plus an hour of margin.
	DefaultPruneAge = 31*24*time.Hour + time.Hour
	// DefaultPruneEvery is how often the aggregates are pruned.
	DefaultPruneEvery = time.Hour
)

// scanMargin is how long before an authorization's creation the search for its event
// starts: chain and host clocks differ, and a devnet runs a few seconds ahead.
const scanMargin = 10 * time.Minute

// Config wires a Reconciler. Store, Audit, RPC and Registry are required.
type Config struct {
	Store store.Store
	Audit *audit.Log
	// RPC reads the chain; *ethclient.Client satisfies it.
	RPC RPC
	// Registry names the assets to check: those registered on the RPC's chain.
	Registry *signer.Registry
	// Interval is the pause between passes of Run (default DefaultInterval).
	Interval time.Duration
	// MaxBackoff caps the pause after consecutive failures (default DefaultMaxBackoff).
	MaxBackoff time.Duration
	// Confirmations is how many blocks below the head the chain is read at, so that a
	// settlement recorded is one a short reorganisation cannot undo (default 0: the head).
	Confirmations uint64
	// MaxLogRange is the most blocks one eth_getLogs query spans (default
	// DefaultMaxLogRange); public RPC providers cap it.
	MaxLogRange uint64
	// Multicall is the Multicall3 contract (default Multicall3).
	Multicall common.Address
	// Recheck bounds, by validBefore, which expired authorizations are checked again
	// (default DefaultRecheck).
	Recheck time.Duration
	// PruneAge is how old spend aggregates must be to be dropped (default
	// DefaultPruneAge); it must exceed the longest budget window in use. Negative
	// disables pruning.
	PruneAge time.Duration
	// PruneEvery is the least time between two prunes (default DefaultPruneEvery).
	PruneEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives Run's failures and changes (default: discard). Once never logs.
	Logger *slog.Logger
}

// Pruner is implemented by stores that keep a prunable spend aggregate
// (*sqlite.Store). It returns how many aggregate rows it dropped.
type Pruner interface {
	PruneSpendBuckets(ctx context.Context, before time.Time) (int64, error)
}

// Report counts what one pass did.
type Report struct {
	// Block is the block the chain was read at.
	Block uint64
	// Checked is the number of authorizations whose on-chain state was read.
	Checked int
	// Settled authorizations were marked settled (from signed or expired).
	Settled int
	// Cancelled authorizations were cancelled on chain and released.
	Cancelled int
	// Expired authorizations passed validBefore unused and were released.
	Expired int
	// ApprovalsExpired approval requests lapsed; Released reservations held for them
	// were released.
	ApprovalsExpired int
	Released         int
	// Pruned is the number of spend aggregate rows dropped.
	Pruned int64
	// Unresolved authorizations are used on chain but no event naming them was found;
	// they are retried on the next pass.
	Unresolved int
}

// Changed reports whether the pass wrote anything.
func (r Report) Changed() bool {
	return r.Settled+r.Cancelled+r.Expired+r.ApprovalsExpired+r.Released > 0 || r.Pruned > 0
}

// Reconciler brings the ledger in line with the chain. Once and Run may be called from
// any goroutine; passes never overlap.
type Reconciler struct {
	store         store.Store
	log           *audit.Log
	rpc           RPC
	reg           *signer.Registry
	abi           *abis
	multicall     common.Address
	interval      time.Duration
	maxBackoff    time.Duration
	confirmations uint64
	maxLogRange   uint64
	recheck       time.Duration
	pruneAge      time.Duration
	pruneEvery    time.Duration
	now           func() time.Time
	logger        *slog.Logger

	mu      sync.Mutex // one pass at a time; guards the fields below
	chainID uint64     // 0 until read
	assets  map[common.Address]bool
	// unusedAt remembers the last block an authorization was seen unused at, so that
	// the search for its event starts there.
	unusedAt map[string]uint64
	// final holds expired authorizations the chain can no longer use.
	final     map[string]bool
	lastPrune time.Time
}

// New checks cfg and returns a Reconciler. It does no I/O: the chain id is read by the
// first pass.
func New(cfg Config) (*Reconciler, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("reconcile: no store")
	case cfg.Audit == nil:
		return nil, errors.New("reconcile: no audit log")
	case cfg.RPC == nil:
		return nil, errors.New("reconcile: no RPC client")
	case cfg.Registry == nil:
		return nil, errors.New("reconcile: no asset registry")
	case cfg.Interval < 0, cfg.MaxBackoff < 0, cfg.Recheck < 0, cfg.PruneEvery < 0:
		return nil, errors.New("reconcile: negative interval, backoff, recheck or prune period")
	case cfg.PruneAge > 0 && cfg.PruneAge < DefaultPruneAge-time.Hour:
		return nil, fmt.Errorf("reconcile: prune age %s is shorter than the longest budget window (31 days)", cfg.PruneAge)
	}
	a, err := loadABIs()
	if err != nil {
		return nil, err
	}
	r := &Reconciler{
		store: cfg.Store, log: cfg.Audit, rpc: cfg.RPC, reg: cfg.Registry, abi: a,
		multicall: cfg.Multicall, interval: cfg.Interval, maxBackoff: cfg.MaxBackoff,
		confirmations: cfg.Confirmations, maxLogRange: cfg.MaxLogRange, recheck: cfg.Recheck,
		pruneAge: cfg.PruneAge, pruneEvery: cfg.PruneEvery, now: cfg.Now, logger: cfg.Logger,
		unusedAt: map[string]uint64{}, final: map[string]bool{},
	}
	if r.multicall == (common.Address{}) {
		r.multicall = Multicall3
	}
	if r.interval == 0 {
		r.interval = DefaultInterval
	}
	if r.maxBackoff == 0 {
		r.maxBackoff = DefaultMaxBackoff
	}
	r.maxBackoff = max(r.maxBackoff, r.interval)
	if r.maxLogRange == 0 {
		r.maxLogRange = DefaultMaxLogRange
	}
	if r.recheck == 0 {
		r.recheck = DefaultRecheck
	}
	if r.pruneAge == 0 {
		r.pruneAge = DefaultPruneAge
	}
	if r.pruneEvery == 0 {
		r.pruneEvery = DefaultPruneEvery
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Run reconciles every Interval until ctx ends, and returns ctx's error. A failed pass
// is logged and retried after a pause that doubles with each consecutive failure, up
// to MaxBackoff; Run itself never stops on a failure.
func (r *Reconciler) Run(ctx context.Context) error {
	failures := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		rep, err := r.Once(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := r.interval
		if err != nil {
			failures++
			wait = backoff(r.interval, r.maxBackoff, failures)
			r.logger.LogAttrs(ctx, slog.LevelError, "reconcile failed",
				slog.String("error", redact(err).Error()), slog.Int("failures", failures), slog.Duration("retry_in", wait))
		} else {
			failures = 0
		}
		if rep.Changed() || rep.Unresolved > 0 {
			r.logger.LogAttrs(ctx, slog.LevelInfo, "reconciled", slog.Uint64("block", rep.Block),
				slog.Int("settled", rep.Settled), slog.Int("cancelled", rep.Cancelled), slog.Int("expired", rep.Expired),
				slog.Int("approvals_expired", rep.ApprovalsExpired), slog.Int("released", rep.Released),
				slog.Int64("pruned", rep.Pruned), slog.Int("unresolved", rep.Unresolved))
		}
		timer.Reset(wait)
	}
}

// backoff is base × 2^(failures−1), capped.
func backoff(base, limit time.Duration, failures int) time.Duration {
	d := base
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// redact replaces the URL in a transport error by its scheme and host: RPC URLs often
// carry an API key in their path or query.
func redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, perr := url.Parse(ue.URL)
	shown := "(rpc url)"
	if perr == nil {
		shown = u.Scheme + "://" + u.Host
	}
	return errors.New(strings.ReplaceAll(err.Error(), ue.URL, shown))
}

// candidate is an authorization whose on-chain state is read in this pass.
type candidate struct {
	auth store.Authorization
	q    stateQuery
}

// outcome is what the chain says about one used authorization.
type outcome struct {
	auth store.Authorization
	ev   usedEvent
}

// Once runs one pass: settlement and cancellation from the chain, expiry, approval
// expiry, pruning. It reads the chain fully before writing anything, so a chain error
// returns with nothing changed. Writes are one transaction per authorization (with its
// audit record) and one each for expiry and approvals; an error there stops the pass
// and the Report counts what was written before it.
func (r *Reconciler) Once(ctx context.Context) (Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var rep Report
	now := r.now()

	if err := r.loadChain(ctx); err != nil {
		return rep, err
	}
	head, err := r.rpc.HeaderByNumber(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("reconcile: latest header: %w", err)
	}
	if head.Number.Uint64() < r.confirmations {
		return rep, fmt.Errorf("reconcile: chain at block %d has fewer than %d confirmations", head.Number.Uint64(), r.confirmations)
	}
	if r.confirmations > 0 {
		if head, err = r.rpc.HeaderByNumber(ctx, new(big.Int).Sub(head.Number, new(big.Int).SetUint64(r.confirmations))); err != nil {
			return rep, fmt.Errorf("reconcile: confirmed header: %w", err)
		}
	}
	rep.Block = head.Number.Uint64()

	cands, err := r.candidates(ctx, now)
	if err != nil {
		return rep, err
	}
	outcomes, err := r.readChain(ctx, cands, head, &rep)
	if err != nil {
		return rep, err
	}

	// Writes, in order: what the chain used, then what has expired.
	var unresolved []error
	for _, o := range outcomes {
		if o.ev.tx == (common.Hash{}) {
			unresolved = append(unresolved, fmt.Errorf("authorization %s is used on chain but no event names it", o.auth.ID))
			continue
		}
		if err := r.applyOutcome(ctx, o, now, &rep); err != nil {
			return rep, err
		}
	}
	if err := r.expire(ctx, now, &rep); err != nil {
		return rep, err
	}
	if err := r.expireApprovals(ctx, now, &rep); err != nil {
		return rep, err
	}
	if err := r.prune(ctx, now, &rep); err != nil {
		return rep, err
	}
	if len(unresolved) > 0 {
		return rep, fmt.Errorf("reconcile: %w", errors.Join(unresolved...))
	}
	return rep, nil
}

// loadChain reads the RPC's chain id once and selects the registry's assets on it.
func (r *Reconciler) loadChain(ctx context.Context) error {
	if r.chainID != 0 {
		return nil
	}
	id, err := r.rpc.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("reconcile: chain id: %w", err)
	}
	if !id.IsUint64() || id.Sign() == 0 {
		return fmt.Errorf("reconcile: chain id %s out of range", id)
	}
	assets := map[common.Address]bool{}
	for _, a := range r.reg.Assets() {
		if cid, err := x402.EVMChainID(a.Network); err == nil && cid == id.Uint64() {
			assets[a.Address] = true
		}
	}
	r.chainID, r.assets = id.Uint64(), assets
	return nil
}

// pageSize is how many authorizations one read returns.
const pageSize = 1000

// candidates lists the signed authorizations on this chain and the expired ones that
// might still have been used (validBefore within Recheck, not known final).
func (r *Reconciler) candidates(ctx context.Context, now time.Time) ([]candidate, error) {
	var out []candidate
	keep := map[string]bool{}
	err := r.store.ReadTx(ctx, func(rt store.ReadTx) error {
		out = out[:0]
		clear(keep)
		after := ""
		for {
			page, err := rt.Authorizations(ctx, store.AuthorizationFilter{
				Statuses: []store.AuthStatus{store.AuthSigned, store.AuthExpired}, After: after, Limit: pageSize})
			if err != nil {
				return fmt.Errorf("reconcile: list authorizations: %w", err)
			}
			for _, a := range page {
				if a.Status == store.AuthExpired && a.ValidBefore.Before(now.Add(-r.recheck)) {
					continue
				}
				if r.final[a.ID] {
					keep[a.ID] = true
					continue
				}
				if a.Status == store.AuthExpired && a.SignedAt.IsZero() {
					continue // expired while reserved: never signed, never on chain
				}
				q, ok := r.query(a)
				if !ok {
					continue
				}
				keep[a.ID] = true
				out = append(out, candidate{auth: a, q: q})
			}
			if len(page) < pageSize {
				return nil
			}
			after = page[len(page)-1].ID
		}
	})
	if err != nil {
		return nil, err
	}
	for id := range r.unusedAt {
		if !keep[id] {
			delete(r.unusedAt, id)
		}
	}
	for id := range r.final {
		if !keep[id] {
			delete(r.final, id)
		}
	}
	return out, nil
}

// query maps an authorization to its authorizationState call, if it is on this chain.
func (r *Reconciler) query(a store.Authorization) (stateQuery, bool) {
	cid, err := x402.EVMChainID(a.Network)
	if err != nil || cid != r.chainID || !common.IsHexAddress(a.Asset) || !common.IsHexAddress(a.From) {
		return stateQuery{}, false
	}
	asset := common.HexToAddress(a.Asset)
	if !r.assets[asset] {
		return stateQuery{}, false
	}
	n := common.FromHex(a.Nonce)
	if len(n) != 32 {
		return stateQuery{}, false
	}
	return stateQuery{asset: asset, authorizer: common.HexToAddress(a.From), nonce: common.BytesToHash(n)}, true
}

// readChain reads every candidate's state at head and finds the events of the used ones.
func (r *Reconciler) readChain(ctx context.Context, cands []candidate, head *types.Header, rep *Report) ([]outcome, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	qs := make([]stateQuery, len(cands))
	for i, c := range cands {
		qs[i] = c.q
	}
	states, err := r.authorizationStates(ctx, qs, head.Number)
	if err != nil {
		return nil, err
	}
	rep.Checked = len(cands)
	var (
		used     []candidate
		usedQs   []stateQuery
		from     []uint64
		blockFor = map[int64]uint64{} // created second → block, within this pass
	)
	for i, c := range cands {
		if !states[i] {
			r.unusedAt[c.auth.ID] = head.Number.Uint64()
			// EIP-3009 refuses an authorization once block.timestamp ≥ validBefore; the
			// extra second covers a validBefore stored with a fraction.
			if c.auth.Status == store.AuthExpired && int64(head.Time) > c.auth.ValidBefore.Unix()+1 {
				r.final[c.auth.ID] = true
			}
			continue
		}
		start, ok := r.unusedAt[c.auth.ID]
		if ok {
			start++
		} else {
			t := c.auth.CreatedAt.Add(-scanMargin)
			if start, ok = blockFor[t.Unix()]; !ok {
				if start, err = r.blockAtOrBefore(ctx, t, head); err != nil {
					return nil, err
				}
				blockFor[t.Unix()] = start
			}
		}
		used = append(used, c)
		usedQs = append(usedQs, c.q)
		from = append(from, start)
	}
	if len(used) == 0 {
		return nil, nil
	}
	events, err := r.findEvents(ctx, usedQs, from, head.Number.Uint64())
	if err != nil {
		return nil, err
	}
	out := make([]outcome, len(used))
	for i, c := range used {
		out[i] = outcome{auth: c.auth, ev: events[c.q]}
		if out[i].ev.tx == (common.Hash{}) {
			rep.Unresolved++
		}
	}
	return out, nil
}

// applyOutcome writes one used authorization: settled by a transfer, or cancelled.
func (r *Reconciler) applyOutcome(ctx context.Context, o outcome, now time.Time, rep *Report) error {
	at := o.ev.time
	if at.IsZero() {
		at = now
	}
	var settled, cancelled bool
	err := r.store.Tx(ctx, func(tx store.Tx) error {
		settled, cancelled = false, false
		cur, err := tx.Authorization(ctx, o.auth.ID)
		if err != nil {
			return err
		}
		data := map[string]any{
			"tx_hash": o.ev.tx.Hex(), "block": o.ev.block, "network": cur.Network, "asset": cur.Asset,
			"from": cur.From, "pay_to": cur.PayTo, "nonce": cur.Nonce, "amount_atomic": cur.AmountAtomic,
			"amount_micro": cur.AmountMicro, "previous_status": string(cur.Status),
		}
		if o.ev.canceled {
			// A signed one is released; an expired one already is, and the store has no
			// transition from expired to cancelled.
			if cur.Status != store.AuthSigned {
				return nil
			}
			if _, err := tx.ReleaseAuthorization(ctx, cur.ID, store.AuthCancelled, at); err != nil {
				return fmt.Errorf("reconcile: cancel %s: %w", cur.ID, err)
			}
			cancelled = true
			_, err := r.log.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: ActionPaymentCancelled, Subject: cur.ID, Data: data})
			return err
		}
		if cur.Status != store.AuthSigned && cur.Status != store.AuthExpired {
			return nil // settled meanwhile by another writer
		}
		if _, err := tx.MarkSettled(ctx, cur.ID, o.ev.tx.Hex(), at); err != nil {
			return fmt.Errorf("reconcile: settle %s: %w", cur.ID, err)
		}
		settled = true
		_, err = r.log.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: audit.ActionPaymentSettled, Subject: cur.ID, Data: data})
		return err
	})
	if err != nil {
		return err
	}
	delete(r.unusedAt, o.auth.ID)
	if o.ev.canceled {
		r.final[o.auth.ID] = true
	}
	if settled {
		rep.Settled++
	}
	if cancelled {
		rep.Cancelled++
	}
	return nil
}

// expire releases every reservation past its validBefore, with one audit record each.
func (r *Reconciler) expire(ctx context.Context, now time.Time, rep *Report) error {
	var n int
	err := r.store.Tx(ctx, func(tx store.Tx) error {
		due, err := tx.ExpireAuthorizations(ctx, now)
		if err != nil {
			return fmt.Errorf("reconcile: expire: %w", err)
		}
		n = len(due)
		for _, a := range due {
			if _, err := r.log.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: audit.ActionPaymentExpired, Subject: a.ID,
				Data: map[string]any{
					"valid_before": a.ValidBefore.UTC().Format(time.RFC3339Nano), "amount_micro": a.AmountMicro,
					"signed": !a.SignedAt.IsZero(), "network": a.Network, "nonce": a.Nonce,
				}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rep.Expired += n
	return nil
}

// expireApprovals expires lapsed approval requests and releases the reservations they
// held (the store's ExpireApprovals changes only the approvals).
func (r *Reconciler) expireApprovals(ctx context.Context, now time.Time, rep *Report) error {
	var nApprovals, nReleased int
	err := r.store.Tx(ctx, func(tx store.Tx) error {
		nApprovals, nReleased = 0, 0
		aps, err := tx.ExpireApprovals(ctx, now)
		if err != nil {
			return fmt.Errorf("reconcile: expire approvals: %w", err)
		}
		nApprovals = len(aps)
		released := map[string]bool{}
		for _, ap := range aps {
			if _, err := r.log.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: ActionApprovalExpired, Subject: ap.AuthorizationID,
				Data: map[string]any{"approval_id": ap.ID, "rule": ap.Rule, "expires_at": ap.ExpiresAt.UTC().Format(time.RFC3339Nano), "votes": len(ap.Votes)},
			}); err != nil {
				return err
			}
			if released[ap.AuthorizationID] {
				continue
			}
			a, err := tx.Authorization(ctx, ap.AuthorizationID)
			if err != nil {
				return fmt.Errorf("reconcile: approval %s: %w", ap.ID, err)
			}
			// Only a reservation never signed is released: once signed, the payment
			// left fleetkey and the chain decides.
			if a.Status != store.AuthReserved {
				continue
			}
			if _, err := tx.ReleaseAuthorization(ctx, a.ID, store.AuthCancelled, now); err != nil {
				return fmt.Errorf("reconcile: release %s: %w", a.ID, err)
			}
			released[a.ID] = true
			if _, err := r.log.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: ActionPaymentCancelled, Subject: a.ID,
				Data: map[string]any{"reason": "approval_expired", "approval_id": ap.ID, "amount_micro": a.AmountMicro},
			}); err != nil {
				return err
			}
		}
		nReleased = len(released)
		return nil
	})
	if err != nil {
		return err
	}
	rep.ApprovalsExpired += nApprovals
	rep.Released += nReleased
	return nil
}

// prune drops spend aggregates older than PruneAge, at most once per PruneEvery, if
// the store keeps any.
func (r *Reconciler) prune(ctx context.Context, now time.Time, rep *Report) error {
	p, ok := r.store.(Pruner)
	if !ok || r.pruneAge < 0 || (!r.lastPrune.IsZero() && now.Sub(r.lastPrune) < r.pruneEvery) {
		return nil
	}
	n, err := p.PruneSpendBuckets(ctx, now.Add(-r.pruneAge))
	if err != nil {
		return fmt.Errorf("reconcile: prune spend aggregates: %w", err)
	}
	r.lastPrune = now
	rep.Pruned = n
	return nil
}
