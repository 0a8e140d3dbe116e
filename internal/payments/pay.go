package payments

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
)

// MaxIdempotencyKeyLen bounds an idempotency key, in bytes.
const MaxIdempotencyKeyLen = 128

// MaxResourceURLLen bounds the resource URL of a payment request, in bytes.
const MaxResourceURLLen = 2048

// PayRequest is an agent's request to pay for a resource: the 402 demand as
// received and the agent's own view of what it is fetching.
type PayRequest struct {
	// Version is the x402 version of the demand (1 or 2); Raw is the demand as
	// received: the v1 response body, or the v2 PAYMENT-REQUIRED header value.
	Version int
	Raw     []byte
	// ResourceURL is the URL the agent is fetching (absolute http or https); policy
	// checks its origin. Method is the HTTP method, for CEL rules.
	ResourceURL string
	Method      string
	// Preferred, when set, is the only index of accepts that may be paid.
	Preferred *int
	// IdempotencyKey makes retries safe: the same key with the same request gets
	// the same answer and never a second reservation. Required.
	IdempotencyKey string
}

// PayResult is a signed payment, or one waiting for approval.
type PayResult struct {
	AuthorizationID string
	// Header and Value are the payment header the agent retries with
	// (PAYMENT-SIGNATURE for v2, X-PAYMENT for v1). Empty while NeedsApproval.
	Header, Value string
	// Amount is in the asset's atomic units; AmountMicro in policy micro-units.
	Amount      string
	AmountMicro int64
	// Asset and PayTo are lower-case hex addresses, Network a CAIP-2 id.
	Asset, PayTo, Network string
	ValidBefore           time.Time
	// PolicyHash is the hash of the most specific policy that applied (agent, else
	// group, else fleet), as the ledger records it; PolicyHashes names every
	// level's and is set only on a fresh decision (the ledger keeps one hash, the
	// audit record all of them).
	PolicyHash   string
	PolicyHashes policy.Hashes
	// Replayed is true when the answer was stored under the idempotency key by an
	// earlier request.
	Replayed bool
	// NeedsApproval is true when policy requires human approval: the budget is
	// reserved, the approvals named by ApprovalIDs are pending until
	// ApprovalExpiresAt, and nothing is signed yet.
	NeedsApproval     bool
	ApprovalIDs       []string
	ApprovalExpiresAt time.Time
	// Status is the authorization's state: signed (or settled) when Header is set,
	// reserved while it waits for approval, cancelled when approval was denied or
	// expired, expired when its validity ran out.
	Status store.AuthStatus
}

// outcome is what Pay records for a request that did not record itself in the
// transaction that changed state.
type outcome struct {
	action  string
	subject string
	data    map[string]any
}

// Pay decides, reserves, signs and records one payment for agentID (the caller
// has authenticated the agent). It returns a *DeniedError (errors.Is ErrDenied)
// for a refused payment, an error wrapping ErrBadRequest for a malformed request,
// and store.ErrIdempotencyMismatch when the idempotency key was used for another
// payment. Every call with an agent id appends exactly one audit record.
func (s *Service) Pay(ctx context.Context, agentID string, r PayRequest) (*PayResult, error) {
	res, rec, err := s.pay(ctx, agentID, r)
	if s.detector != nil {
		defer func() { s.observe(ctx, agentID, r, res, rec, err) }()
	}
	if rec == nil {
		return res, err
	}
	rec.data["idempotency_key"] = r.IdempotencyKey
	if err != nil && rec.action == audit.ActionPaymentFailed {
		rec.data["error"] = err.Error()
	}
	aerr := s.commit.write(ctx, func(tx store.Tx) error {
		_, err := s.log.Append(ctx, tx, audit.Entry{Actor: audit.AgentActor(agentID), Action: rec.action, Subject: rec.subject, Data: rec.data})
		return err
	})
	if aerr != nil {
		// An outcome that cannot be recorded is not handed out: the audit log is the
		// record of every answer fleetkey gave.
		return nil, errors.Join(err, fmt.Errorf("payments: audit: %w", aerr))
	}
	return res, err
}

func failed(subject string, err error) (*PayResult, *outcome, error) {
	return nil, &outcome{action: audit.ActionPaymentFailed, subject: subject, data: map[string]any{}}, err
}

func denied(subject string, d *DeniedError, extra map[string]any) (*PayResult, *outcome, error) {
	data := map[string]any{"reason": d.Reason, "rule": d.Rule, "policy_hash": d.PolicyHash}
	if d.Decision.Outcome != "" {
		data["limit"], data["observed"], data["message"] = d.Decision.Limit, d.Decision.Observed, d.Decision.Message
		data["policy_hashes"] = d.Decision.PolicyHashes
	}
	for k, v := range extra {
		data[k] = v
	}
	return nil, &outcome{action: audit.ActionPaymentDenied, subject: subject, data: data}, d
}

// payState is what one payment reads before deciding.
type payState struct {
	agent store.Agent
	key   store.Key
	prev  *store.Authorization
	set   policy.Set
	snap  policy.Snapshot
	// fleetName and groupName are what CEL rules see as agent.fleet and
	// agent.group, as operators name them in policies.
	fleetName, groupName string
}

func (s *Service) pay(ctx context.Context, agentID string, r PayRequest) (*PayResult, *outcome, error) {
	if agentID == "" {
		return nil, nil, fmt.Errorf("%w: no agent", ErrBadRequest)
	}
	origin, err := checkRequest(r)
	if err != nil {
		return failed(agentID, err)
	}
	demand, err := signer.ParseDemand(r.Version, r.Raw)
	if err != nil {
		return failed(agentID, fmt.Errorf("%w: %w", ErrBadRequest, err))
	}
	now := s.clock()
	st, err := s.load(ctx, agentID, r.IdempotencyKey, now)
	if err != nil {
		return failed(agentID, err)
	}
	if st.prev != nil {
		return s.replay(ctx, demand, r, origin, *st.prev)
	}
	st.snap.Requests = s.requests.countAndAdd(map[policy.Level]string{
		policy.Fleet: st.agent.FleetID, policy.Group: st.agent.GroupID, policy.Agent: st.agent.ID,
	}, now)

	info := policy.AgentInfo{ID: st.agent.ID, Name: st.agent.Name, Group: st.groupName, Fleet: st.fleetName, Labels: st.agent.Labels}
	decisions := make(map[int]policy.Decision, 1)
	choice, err := signer.Choose(demand, s.reg, signer.ChooseOptions{
		Preferred: r.Preferred,
		Accept: func(c signer.Candidate) error {
			req := c.PolicyRequest()
			req.Agent, req.Method = info, r.Method
			serverURL := req.URL
			req.URL = r.ResourceURL
			d := policy.Evaluate(st.set, req, st.snap, now)
			// The server names the resource too; where it names another URL, that one
			// must pass policy as well, so a demand cannot borrow an allowed origin.
			if d.Outcome != policy.Deny && serverURL != "" && serverURL != r.ResourceURL {
				req.URL = serverURL
				if d2 := policy.Evaluate(st.set, req, st.snap, now); d2.Outcome == policy.Deny {
					d = d2
				}
			}
			if d.Outcome == policy.Deny {
				return &policyRefusal{d: d}
			}
			decisions[c.Index] = d
			return nil
		},
	})
	if err != nil {
		if !errors.Is(err, signer.ErrNoAcceptableRequirement) {
			return failed(agentID, err)
		}
		var pr *policyRefusal
		if errors.As(err, &pr) {
			return denied(agentID, deniedByPolicy(pr.d), nil)
		}
		return denied(agentID, &DeniedError{Reason: requirementReason(err)}, nil)
	}
	d := decisions[choice.Index]
	h, err := s.signerFor(st.key)
	if err != nil {
		return failed(agentID, err)
	}
	intent, err := signer.BuildAuthorization(choice, h.Address(), now, d.MaxValidity)
	if err != nil {
		return failed(agentID, err)
	}
	rec := store.Authorization{
		AgentID: st.agent.ID, KeyID: st.key.ID, IdempotencyKey: r.IdempotencyKey,
		Network: choice.Network, Asset: choice.Asset.Address.Hex(), PayTo: choice.PayTo.Hex(),
		Origin: origin, ResourceURL: r.ResourceURL,
		AmountAtomic: choice.Amount.String(), AmountMicro: choice.AmountMicro,
		Nonce:      hexutil.Encode(intent.Authorization.Nonce[:]),
		ValidAfter: unixTime(intent.Authorization.ValidAfter), ValidBefore: intent.ValidBefore,
		PolicyHash: mostSpecific(d.PolicyHashes),
	}
	windows := storeWindows(d.Windows, st.agent)
	d, den, err := s.screen(ctx, rec, st.agent, d, now)
	if err != nil {
		return failed(agentID, err)
	}
	if den != nil {
		return denied(agentID, den, map[string]any{"amount_micro": rec.AmountMicro, "pay_to": rec.PayTo})
	}
	if d.Outcome == policy.NeedsApproval {
		// What signing needs once the approvers have decided: the demand as
		// received and which of its requirements was chosen.
		rec.DemandVersion, rec.Demand, rec.RequirementIndex = r.Version, r.Raw, choice.Index
		return s.holdForApproval(ctx, rec, windows, d, now)
	}

	// Custody signs before the reservation so that ECDSA runs on the caller's
	// goroutine, in parallel, and not under the store's single write lock. The
	// signature is handed out only if the transaction below commits; if the
	// reservation is refused it is dropped, having left this function never.
	sig, err := h.SignDigest(intent.Digest)
	if err != nil {
		return failed(agentID, fmt.Errorf("payments: custody: %w", err))
	}
	sig[64] += 27
	name, value, err := intent.Payload(sig)
	if err != nil {
		return failed(agentID, err)
	}
	var res *PayResult
	err = s.commit.write(ctx, func(tx store.Tx) error {
		res = nil
		// Reserved and recorded signed in one step: the signature exists already.
		a, existing, err := tx.ReserveAuthorization(ctx, store.ReserveRequest{Authorization: rec, Windows: windows, Now: now,
			Signed: store.PaymentHeader{Name: name, Value: value}})
		if err != nil {
			return err
		}
		if existing {
			// A concurrent request with the same key committed first.
			res, err = storedResult(ctx, tx, a)
			return err
		}
		if _, err := s.log.Append(ctx, tx, audit.Entry{
			Actor: audit.AgentActor(a.AgentID), Action: audit.ActionPaymentSigned, Subject: a.ID,
			Data: authData(a, d.PolicyHashes),
		}); err != nil {
			return err
		}
		res = resultFrom(a)
		res.PolicyHashes = d.PolicyHashes
		return nil
	})
	if err == nil {
		if res.Replayed {
			return res, &outcome{action: ActionPaymentReplayed, subject: res.AuthorizationID, data: map[string]any{}}, nil
		}
		return res, nil, nil
	}
	var be *store.BudgetError
	if errors.As(err, &be) {
		return denied(agentID, budgetDenial(be, d), map[string]any{"amount_micro": rec.AmountMicro, "pay_to": rec.PayTo})
	}
	return failed(agentID, err)
}

// ActionPaymentReplayed is the audit action of a request answered from the
// record stored under its idempotency key.
const ActionPaymentReplayed = "payment.replayed"

func checkRequest(r PayRequest) (origin string, err error) {
	switch {
	case r.IdempotencyKey == "" || len(r.IdempotencyKey) > MaxIdempotencyKeyLen:
		return "", fmt.Errorf("%w: the idempotency key must have 1 to %d bytes", ErrBadRequest, MaxIdempotencyKeyLen)
	case r.Version != 1 && r.Version != 2:
		return "", fmt.Errorf("%w: x402 version %d", ErrBadRequest, r.Version)
	case len(r.Raw) > signer.MaxDemandSize:
		return "", fmt.Errorf("%w: demand larger than %d bytes", ErrBadRequest, signer.MaxDemandSize)
	case len(r.ResourceURL) > MaxResourceURLLen:
		return "", fmt.Errorf("%w: resource URL longer than %d bytes", ErrBadRequest, MaxResourceURLLen)
	}
	for _, c := range []byte(r.IdempotencyKey) {
		if c <= ' ' || c > '~' {
			return "", fmt.Errorf("%w: the idempotency key must be printable ASCII without spaces", ErrBadRequest)
		}
	}
	u, err := url.Parse(r.ResourceURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%w: the resource URL must be an absolute http(s) URL without user information", ErrBadRequest)
	}
	return strings.ToLower(u.Host), nil
}

// load reads, in one snapshot, what the decision needs: the idempotency record
// first (a replay needs nothing else), then the agent, its active key, the policies
// of its three levels and the window totals they read.
//
// With a store that versions its state (stateVersioner) the agent, key, names and
// policies come from the service's cache while the store reports no change since
// they were read; the idempotency record and the window totals are always read.
func (s *Service) load(ctx context.Context, agentID, idemKey string, now time.Time) (payState, error) {
	var (
		st        payState
		version   uint64
		versioned bool
		cached    *agentState
	)
	if sv, ok := s.store.(stateVersioner); ok {
		// Read before the state it stamps: a change committed after this read
		// changes the version, so the entry loaded below is never used after it.
		version, versioned = sv.StateVersion(), true
		cached = s.agents.get(agentID, version)
	}
	err := s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		st = payState{}
		prev, err := rt.AuthorizationByIdempotencyKey(ctx, agentID, idemKey)
		if err == nil {
			st.prev = &prev
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		as := cached
		if as == nil {
			if as, err = s.loadAgent(ctx, rt, agentID); err != nil {
				return err
			}
			if versioned {
				as.version = version
				s.agents.put(as)
			}
		}
		if as.agent.Status != store.AgentActive {
			return &store.StateError{Entity: "agent", ID: agentID, Status: string(as.agent.Status), Op: "pay"}
		}
		st.agent, st.key, st.fleetName, st.groupName, st.set = as.agent, as.key, as.fleetName, as.groupName, as.set
		spec := st.set.SnapshotSpec()
		st.snap.Spend = make(map[policy.SpendKey]policy.Spend, len(spec.Windows))
		for _, k := range spec.Windows {
			level, scope := scopeOf(k.Level, st.agent)
			if scope == "" {
				st.snap.Spend[k] = policy.Spend{}
				continue
			}
			sp, err := rt.Spend(ctx, level, scope, k.Window, now)
			if err != nil {
				return err
			}
			st.snap.Spend[k] = policy.Spend{Amount: sp.AmountMicro, Count: sp.Count}
		}
		return nil
	})
	return st, err
}

// loadAgent reads an agent's state for deciding its payments. An agent that is not
// active is returned as it is, without key or policies (and cached so): the caller
// refuses its payments.
func (s *Service) loadAgent(ctx context.Context, rt store.ReadTx, agentID string) (*agentState, error) {
	var (
		as  agentState
		err error
	)
	if as.agent, err = rt.Agent(ctx, agentID); err != nil {
		return nil, err
	}
	if as.agent.Status != store.AgentActive {
		return &as, nil
	}
	if as.key, err = rt.ActiveKey(ctx, agentID); err != nil {
		return nil, err
	}
	if as.fleetName, err = s.names.fleet(ctx, rt, as.agent.FleetID); err != nil {
		return nil, err
	}
	if as.groupName, err = s.names.group(ctx, rt, as.agent.GroupID); err != nil {
		return nil, err
	}
	for _, lv := range []struct {
		level store.Level
		scope string
		dst   **policy.Policy
	}{
		{store.LevelFleet, as.agent.FleetID, &as.set.Fleet},
		{store.LevelGroup, as.agent.GroupID, &as.set.Group},
		{store.LevelAgent, as.agent.ID, &as.set.Agent},
	} {
		if lv.scope == "" {
			continue
		}
		rec, err := rt.ActivePolicy(ctx, lv.level, lv.scope)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if *lv.dst, err = s.parsePolicy(rec); err != nil {
			return nil, err
		}
	}
	return &as, nil
}

// replay answers a request whose idempotency key is already used: the stored
// answer if the demand still names the same payment, a mismatch error otherwise.
// Nothing is reserved and policy is not asked again (the stored payment already
// counts against the budget it would be checked against).
func (s *Service) replay(ctx context.Context, demand *signer.Demand, r PayRequest, origin string, prev store.Authorization) (*PayResult, *outcome, error) {
	same := func(c signer.Candidate) error {
		if strings.EqualFold(c.Network, prev.Network) && strings.EqualFold(c.Asset.Address.Hex(), prev.Asset) &&
			strings.EqualFold(c.PayTo.Hex(), prev.PayTo) && c.Amount.String() == prev.AmountAtomic {
			return nil
		}
		return store.ErrIdempotencyMismatch
	}
	_, err := signer.Choose(demand, s.reg, signer.ChooseOptions{Preferred: r.Preferred, Accept: same})
	if err != nil || r.ResourceURL != prev.ResourceURL || origin != prev.Origin {
		return failed(prev.ID, fmt.Errorf("payments: agent %s key %q: %w", prev.AgentID, prev.IdempotencyKey, store.ErrIdempotencyMismatch))
	}
	var res *PayResult
	err = s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		var err error
		res, err = storedResult(ctx, rt, prev)
		return err
	})
	if err != nil {
		return failed(prev.ID, err)
	}
	return res, &outcome{action: ActionPaymentReplayed, subject: prev.ID, data: map[string]any{}}, nil
}

// storedResult is the answer recorded for an authorization.
func storedResult(ctx context.Context, rt store.ReadTx, a store.Authorization) (*PayResult, error) {
	switch a.Status {
	case store.AuthSigned, store.AuthSettled:
		res := resultFrom(a)
		res.Replayed = true
		return res, nil
	case store.AuthReserved:
		aps, err := rt.ApprovalsForAuthorization(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if len(aps) == 0 {
			return nil, &store.StateError{Entity: "authorization", ID: a.ID, Status: string(a.Status), Op: "replay"}
		}
		res := resultFrom(a)
		res.Replayed, res.NeedsApproval = true, true
		for _, ap := range aps {
			res.ApprovalIDs = append(res.ApprovalIDs, ap.ID)
			if res.ApprovalExpiresAt.IsZero() || ap.ExpiresAt.Before(res.ApprovalExpiresAt) {
				res.ApprovalExpiresAt = ap.ExpiresAt
			}
		}
		return res, nil
	default:
		return nil, &store.StateError{Entity: "authorization", ID: a.ID, Status: string(a.Status), Op: "replay"}
	}
}

// holdForApproval reserves the budget of a payment that needs approval and records
// one approval request per level that asks for one, in one transaction. The
// reservation stays counted until the approval is decided or expires: approvers
// must not approve a payment the budget no longer covers.
func (s *Service) holdForApproval(ctx context.Context, rec store.Authorization, windows []store.WindowLimit, d policy.Decision, now time.Time) (*PayResult, *outcome, error) {
	expires := now.Add(d.ApprovalExpiresAfter())
	// The authorization is signed, if ever, at the latest when the approval expires;
	// the reservation covers the longest validity it can then get.
	rec.ValidBefore = rec.ValidBefore.Add(d.ApprovalExpiresAfter())
	var res *PayResult
	err := s.commit.write(ctx, func(tx store.Tx) error {
		res = nil
		a, existing, err := tx.ReserveAuthorization(ctx, store.ReserveRequest{Authorization: rec, Windows: windows, Now: now})
		if err != nil {
			return err
		}
		if existing {
			res, err = storedResult(ctx, tx, a)
			return err
		}
		res = resultFrom(a)
		res.PolicyHashes, res.NeedsApproval, res.ApprovalExpiresAt = d.PolicyHashes, true, expires
		for _, req := range d.Approvals {
			ap, err := tx.CreateApproval(ctx, store.Approval{
				AuthorizationID: a.ID, Rule: req.Rule, Quorum: req.Quorum, Approvers: req.Approvers,
				CreatedAt: now, ExpiresAt: expires,
			})
			if err != nil {
				return err
			}
			res.ApprovalIDs = append(res.ApprovalIDs, ap.ID)
		}
		data := authData(a, d.PolicyHashes)
		data["approval_ids"] = res.ApprovalIDs
		data["approval_expires_at"] = expires.Format(time.RFC3339Nano)
		_, err = s.log.Append(ctx, tx, audit.Entry{
			Actor: audit.AgentActor(a.AgentID), Action: audit.ActionApprovalCreated, Subject: a.ID, Data: data,
		})
		return err
	})
	if err == nil {
		if res.Replayed {
			return res, &outcome{action: ActionPaymentReplayed, subject: res.AuthorizationID, data: map[string]any{}}, nil
		}
		return res, nil, nil
	}
	var be *store.BudgetError
	if errors.As(err, &be) {
		return denied(rec.AgentID, budgetDenial(be, d), map[string]any{"amount_micro": rec.AmountMicro, "pay_to": rec.PayTo})
	}
	return failed(rec.AgentID, err)
}

func resultFrom(a store.Authorization) *PayResult {
	return &PayResult{
		AuthorizationID: a.ID, Header: a.Response.Name, Value: a.Response.Value,
		Amount: a.AmountAtomic, AmountMicro: a.AmountMicro, Asset: a.Asset, PayTo: a.PayTo, Network: a.Network,
		ValidBefore: a.ValidBefore, PolicyHash: a.PolicyHash, Status: a.Status,
	}
}

func authData(a store.Authorization, hashes policy.Hashes) map[string]any {
	return map[string]any{
		"agent_id": a.AgentID, "key_id": a.KeyID, "fleet_id": a.FleetID, "group_id": a.GroupID,
		"idempotency_key": a.IdempotencyKey, "network": a.Network, "asset": a.Asset, "pay_to": a.PayTo,
		"from": a.From, "nonce": a.Nonce, "amount_atomic": a.AmountAtomic, "amount_micro": a.AmountMicro,
		"resource_url": a.ResourceURL, "valid_before": a.ValidBefore.Format(time.RFC3339Nano),
		"policy_hash": a.PolicyHash, "policy_hashes": hashesData(hashes), "header": a.Response.Name,
	}
}

// hashesData is policy.Hashes as its JSON object (empty levels left out), built as
// a map so that the audit record's data is plain maps and strings, which
// audit.Canonical encodes without a decode-encode round trip.
func hashesData(h policy.Hashes) map[string]any {
	m := make(map[string]any, 3)
	if h.Fleet != "" {
		m["fleet"] = h.Fleet
	}
	if h.Group != "" {
		m["group"] = h.Group
	}
	if h.Agent != "" {
		m["agent"] = h.Agent
	}
	return m
}

// budgetDenial reports a window the ledger refused in the policy's own terms.
func budgetDenial(be *store.BudgetError, d policy.Decision) *DeniedError {
	reason := policy.ReasonWindowAmountExceeded
	if be.Kind == "count" {
		reason = policy.ReasonWindowCountExceeded
	}
	hash := ""
	for _, w := range d.Windows {
		if w.Rule == be.Window.Rule {
			hash = w.PolicyHash
			break
		}
	}
	return &DeniedError{Reason: string(reason), Rule: be.Window.Rule + ".max_" + be.Kind, PolicyHash: hash, Budget: be}
}

// storeWindows maps the decision's window limits to the ledger's, scoped to the
// agent's fleet, group or itself.
func storeWindows(ws []policy.WindowLimit, a store.Agent) []store.WindowLimit {
	out := make([]store.WindowLimit, 0, len(ws))
	for _, w := range ws {
		level, scope := scopeOf(w.Level, a)
		if scope == "" {
			// A group window for an agent in no group cannot exist (no group policy
			// applies to it); skipping keeps the store from refusing an empty scope.
			continue
		}
		out = append(out, store.WindowLimit{
			Level: level, ScopeID: scope, Window: w.Window,
			MaxAmountMicro: w.MaxAmount, MaxCount: w.MaxCount, Rule: w.Rule,
		})
	}
	return out
}

func scopeOf(l policy.Level, a store.Agent) (store.Level, string) {
	switch l {
	case policy.Fleet:
		return store.LevelFleet, a.FleetID
	case policy.Group:
		return store.LevelGroup, a.GroupID
	case policy.Agent:
		return store.LevelAgent, a.ID
	}
	return "", ""
}

func mostSpecific(h policy.Hashes) string {
	switch {
	case h.Agent != "":
		return h.Agent
	case h.Group != "":
		return h.Group
	}
	return h.Fleet
}

func unixTime(x *big.Int) time.Time {
	if x == nil || !x.IsInt64() {
		return time.Time{}
	}
	return time.Unix(x.Int64(), 0).UTC()
}
