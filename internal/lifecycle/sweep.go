package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/store"
)

// nativeTransferGas is the gas of a plain value transfer to an account without code.
const nativeTransferGas = 21_000

// recorder is where a sweep records what it does: a job step, or a report.
type recorder interface {
	add(Action)
	submitted(ctx context.Context, hash string) error
	minedOK(hash string)
	checkpoint(ctx context.Context) error
}

func (js *jobState) checkpoint(ctx context.Context) error { return js.save(ctx, store.StepPending, "") }

// listRecorder keeps actions in memory (orphan sweeps, which are not jobs).
type listRecorder struct{ actions []Action }

func (l *listRecorder) add(a Action)                            { l.actions = append(l.actions, a) }
func (l *listRecorder) submitted(context.Context, string) error { return nil }
func (l *listRecorder) minedOK(string)                          {}
func (l *listRecorder) checkpoint(context.Context) error        { return nil }

func paramsOf[T any](j store.Job) (T, bool) {
	var p T
	if len(j.Params) == 0 {
		return p, false
	}
	return p, json.Unmarshal(j.Params, &p) == nil
}

func chainTx(to *common.Address, value *big.Int) chain.Tx {
	return chain.Tx{To: to, Value: value, Gas: nativeTransferGas}
}

// sweepKey moves key k's balance of every registered token to `to` with an
// EIP-3009 transfer signed by the key and relayed, leaving keep[token] behind,
// and, with native, its native coin by a transaction from the key when the
// balance is more than twice the transfer's gas cost. It returns how many
// transfers it made.
func (m *Manager) sweepKey(ctx context.Context, r recorder, k store.Key, to common.Address, keep map[common.Address]*big.Int, native bool) (int, error) {
	h, err := m.handle(k)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range m.assets {
		tok, err := m.caller(a)
		if err != nil {
			return n, err
		}
		bal, err := tok.BalanceOf(m.call(ctx), h.Address())
		if err != nil {
			return n, fmt.Errorf("lifecycle: balanceOf(%s) on %s: %w", h.Address().Hex(), a.Symbol, err)
		}
		amt := new(big.Int).Set(bal)
		if kp := keep[a.Address]; kp != nil {
			amt.Sub(amt, kp)
		}
		if amt.Sign() <= 0 {
			continue
		}
		tx, err := m.relayTransfer(ctx, h, a, to, amt)
		if err != nil {
			return n, err
		}
		if err := r.submitted(ctx, tx.Hash().Hex()); err != nil {
			return n, err
		}
		if err := m.mined(ctx, tx); err != nil {
			return n, err
		}
		r.minedOK(tx.Hash().Hex())
		r.add(Action{What: "sweep_token", Subject: k.ID, Asset: a.Address.Hex(), Amount: amt.String(), From: h.Address().Hex(), To: to.Hex(),
			TxHash: tx.Hash().Hex(), Note: "transferWithAuthorization signed by the key, relayed by " + m.cfg.Relayer.From().Hex()})
		if err := r.checkpoint(ctx); err != nil {
			return n, err
		}
		n++
	}
	if !native {
		return n, nil
	}
	bal, err := m.cfg.Backend.BalanceAt(ctx, h.Address(), nil)
	if err != nil {
		return n, fmt.Errorf("lifecycle: balance of %s: %w", h.Address().Hex(), err)
	}
	if bal.Sign() == 0 {
		return n, nil
	}
	tip, feeCap, err := m.fee(ctx)
	if err != nil {
		return n, err
	}
	cost := new(big.Int).Mul(big.NewInt(nativeTransferGas), feeCap)
	if bal.Cmp(new(big.Int).Mul(cost, big.NewInt(2))) <= 0 {
		r.add(Action{What: "skip", Subject: k.ID, Asset: "native", Amount: bal.String(), From: h.Address().Hex(),
			Note: "native balance not worth the gas of moving it (" + cost.String() + " wei)"})
		return n, r.checkpoint(ctx)
	}
	value := new(big.Int).Sub(bal, cost)
	tx, err := m.keyTx(ctx, h, to, value, nil, nativeTransferGas, tip, feeCap)
	if err != nil {
		return n, err
	}
	if err := r.submitted(ctx, tx.Hash().Hex()); err != nil {
		return n, err
	}
	if err := m.mined(ctx, tx); err != nil {
		return n, err
	}
	r.minedOK(tx.Hash().Hex())
	r.add(Action{What: "sweep_native", Subject: k.ID, Asset: "native", Amount: value.String(), From: h.Address().Hex(), To: to.Hex(), TxHash: tx.Hash().Hex(),
		Note: "the gas not spent stays behind"})
	return n + 1, r.checkpoint(ctx)
}
