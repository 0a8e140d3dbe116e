package facilitator

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/x402"
)

// expirySlack keeps registry entries a little past validBefore: block timestamps may run ahead
// of, or lag, this process's clock.
const expirySlack = time.Minute

// Settle implements x402.Facilitator: it re-verifies the payment (without the eth_call
// simulation, like the reference; the gas estimate of the transaction simulates it anyway),
// claims the authorization in the in-flight registry, sends transferWithAuthorization from the
// relayer, waits for the receipt and checks the Transfer log. A payment problem is an answer
// (Success false with the reason); an error is ErrBadRequest, an *UnsupportedError, a chain
// access failure before anything was sent, or ErrKeyClosed.
func (f *Facilitator) Settle(ctx context.Context, req *x402.SettleRequest) (*x402.SettleResponse, error) {
	if f.closed.Load() {
		return nil, ErrKeyClosed
	}
	p, v, err := f.prepare(req)
	if err != nil {
		return nil, err
	}
	fail := func(v *verdict, tx common.Hash) *x402.SettleResponse {
		r := &x402.SettleResponse{Success: false, ErrorReason: v.reason, ErrorMessage: v.message, Payer: p.payer, Network: p.network}
		if tx != (common.Hash{}) {
			r.Transaction = tx.Hex()
		}
		return r
	}
	if v != nil {
		return fail(v, common.Hash{}), nil
	}

	now := f.now()
	fp := p.fingerprint()
	expires := f.expiry(p, now)
	// A retry of a payload whose transaction is pending resumes waiting on that transaction;
	// anything else the registry knows is refused before any chain access.
	if st, ok := f.reg.lookup(p.key, now); ok {
		if st != statePending {
			return fail(knownVerdict(st), common.Hash{}), nil
		}
		res, tx := f.reg.claim(p.key, fp, now, expires)
		if res != claimResume {
			return fail(reject(ReasonNonceUsed, "authorization is being settled by this facilitator"), common.Hash{}), nil
		}
		return f.await(ctx, p, tx, expires, fail), nil
	}

	if v, err = f.check(ctx, p, false); err != nil {
		return nil, err
	}
	if v != nil {
		return fail(v, common.Hash{}), nil
	}
	switch res, tx := f.reg.claim(p.key, fp, now, expires); res {
	case claimResume:
		return f.await(ctx, p, tx, expires, fail), nil
	case claimRefused:
		return fail(reject(ReasonNonceUsed, "authorization is being settled by this facilitator"), common.Hash{}), nil
	}

	data, err := f.transferCalldata(p)
	if err != nil {
		f.reg.release(p.key)
		return fail(reject(ReasonSignature, "%v", err), common.Hash{}), nil
	}
	asset := p.domain.VerifyingContract
	tx, err := p.chain.relayer.Send(ctx, chain.Tx{To: &asset, Data: data})
	if err != nil {
		f.reg.release(p.key)
		if errors.Is(err, ErrKeyClosed) {
			return nil, err
		}
		return fail(reject(sendReason(err), "%v", err), common.Hash{}), nil
	}
	f.reg.sent(p.key, tx.Hash())
	return f.await(ctx, p, tx.Hash(), expires, fail), nil
}

// expiry is when the registry may forget the authorization: shortly after validBefore (then
// the window check refuses it), but no later than SettledTTL from now (then the token's
// authorizationState, one RPC away, still refuses a replay).
func (f *Facilitator) expiry(p *payment, now time.Time) time.Time {
	limit := now.Add(f.settledTTL)
	vb := p.auth.ValidBefore
	if !vb.IsInt64() || vb.Int64() > limit.Unix() {
		return limit
	}
	return time.Unix(vb.Int64(), 0).Add(expirySlack)
}

// await waits for the receipt of tx and judges it. An entry whose receipt does not come in
// time stays in the registry as pending, so a retry of the same payload resumes here.
func (f *Facilitator) await(ctx context.Context, p *payment, tx common.Hash, expires time.Time, fail func(*verdict, common.Hash) *x402.SettleResponse) *x402.SettleResponse {
	wctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	rcpt, err := chain.WaitReceipt(wctx, p.chain.backend, tx)
	if err != nil {
		f.reg.park(p.key)
		return fail(reject(ReasonSettlementPending, "transaction sent, receipt not yet available: %v", err), tx)
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		// A reverted transfer used no nonce: the authorization may be settled again.
		f.reg.release(p.key)
		return fail(reject(ReasonTransactionFailed, "transaction %s reverted in block %s", tx.Hex(), rcpt.BlockNumber), tx)
	}
	// The transaction succeeded, so the token marked the nonce used, whatever its logs say.
	f.reg.settle(p.key, expires)
	if !f.hasTransfer(rcpt, p) {
		return fail(reject(ReasonTransferEventMismatch, "receipt of %s has no Transfer(%s, %s, %s) log from %s",
			tx.Hex(), p.auth.From.Hex(), p.auth.To.Hex(), p.auth.Value, p.domain.VerifyingContract.Hex()), tx)
	}
	return &x402.SettleResponse{Success: true, Transaction: tx.Hex(), Network: p.network, Payer: p.payer}
}

// hasTransfer looks for the ERC-20 Transfer(from, to, value) log of the asset in the receipt.
func (f *Facilitator) hasTransfer(r *types.Receipt, p *payment) bool {
	want := common.LeftPadBytes(p.auth.Value.Bytes(), 32)
	for _, l := range r.Logs {
		if l.Address != p.domain.VerifyingContract || len(l.Topics) != 3 || l.Topics[0] != f.transferTopic {
			continue
		}
		if common.BytesToAddress(l.Topics[1][:]) == p.auth.From && common.BytesToAddress(l.Topics[2][:]) == p.auth.To &&
			bytes.Equal(l.Data, want) {
			return true
		}
	}
	return false
}

// sendReason maps the revert text of a failed send (in practice its gas estimate) to a reason
// code, as the reference does with the token's messages.
func sendReason(err error) string {
	var est *chain.EstimateError
	if !errors.As(err, &est) {
		return ReasonTransactionFailed
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "authorization is used") || strings.Contains(msg, "used or canceled") ||
		strings.Contains(msg, "nonce already used"):
		return ReasonNonceUsed
	case strings.Contains(msg, "expired"):
		return ReasonValidBefore
	case strings.Contains(msg, "not yet valid"):
		return ReasonValidAfter
	case strings.Contains(msg, "balance"):
		return ReasonInsufficientBalance
	case strings.Contains(msg, "invalid signature"):
		return ReasonSignature
	}
	return ReasonTransactionFailed
}
