package facilitator

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/x402/exact"
)

// check runs the checks that need the chain, in order, after prepare succeeded: signature,
// recipient, window, value, asset code (the reference's order), then authorization state,
// token name and version, balance and, when simulate is set, an eth_call of the transfer from
// the relayer. The on-chain reads after the asset check run concurrently; their results are
// still judged in this order, so the answer is the first failure.
func (f *Facilitator) check(ctx context.Context, p *payment, simulate bool) (*verdict, error) {
	cs := p.chain
	code, err := cs.backend.CodeAt(ctx, p.auth.From, nil)
	if err != nil {
		return nil, fmt.Errorf("facilitator: get code of payer: %w", err)
	}
	p.fromHasCode = len(code) > 0
	var caller exact.ContractCaller
	if p.fromHasCode {
		caller = cs.backend
	}
	if err := exact.VerifySignature(ctx, caller, p.auth.From, p.digest, p.sig); err != nil {
		if errors.Is(err, exact.ErrInvalidSignature) {
			return reject(ReasonSignature, "%v", err), nil
		}
		return nil, fmt.Errorf("facilitator: verify signature: %w", err)
	}
	if p.auth.To != p.payTo {
		return reject(ReasonRecipientMismatch, "authorization pays %s, the requirement's payTo is %s", p.auth.To.Hex(), p.payTo.Hex()), nil
	}
	now := f.now().Unix()
	if p.auth.ValidBefore.Cmp(big.NewInt(now+validBeforeMargin)) < 0 {
		return reject(ReasonValidBefore, "validBefore %s is less than %d seconds ahead of now (%d)", p.auth.ValidBefore, validBeforeMargin, now), nil
	}
	if p.auth.ValidAfter.Cmp(big.NewInt(now)) > 0 {
		return reject(ReasonValidAfter, "validAfter %s is in the future (now %d)", p.auth.ValidAfter, now), nil
	}
	if p.auth.Value.Cmp(p.amount) != 0 {
		reason := ReasonValueMismatch
		if p.version == 1 {
			reason = ReasonValueMismatchV1
		}
		return reject(reason, "authorization value %s differs from the required amount %s", p.auth.Value, p.amount), nil
	}
	asset := p.domain.VerifyingContract
	deployed, err := f.assetDeployed(ctx, cs, asset)
	if err != nil {
		return nil, err
	}
	if !deployed {
		return reject(ReasonAssetNotDeployed, "asset %s has no code", asset.Hex()), nil
	}

	var (
		wg                      sync.WaitGroup
		stateOut, balOut        []byte
		stateErr, balErr, simEr error
		meta                    tokenMeta
		metaErr                 error
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		stateOut, stateErr = f.call(ctx, cs, asset, "authorizationState", p.auth.From, p.auth.Nonce)
	}()
	go func() { defer wg.Done(); meta, metaErr = f.tokenMetadata(ctx, cs, asset) }()
	go func() { defer wg.Done(); balOut, balErr = f.call(ctx, cs, asset, "balanceOf", p.auth.From) }()
	if simulate {
		wg.Add(1)
		go func() { defer wg.Done(); simEr = f.simulate(ctx, p) }()
	}
	wg.Wait()

	switch {
	case stateErr != nil && isRevert(stateErr):
		return reject(ReasonEIP3009NotSupported, "authorizationState reverted: %v", stateErr), nil
	case stateErr != nil:
		return nil, fmt.Errorf("facilitator: authorizationState: %w", stateErr)
	}
	used, err := unpackBool(f.token.Unpack("authorizationState", stateOut))
	if err != nil {
		return reject(ReasonEIP3009NotSupported, "authorizationState answer: %v", err), nil
	}
	if used {
		return reject(ReasonNonceUsed, "authorization nonce %x of %s is already used or canceled", p.auth.Nonce, p.auth.From.Hex()), nil
	}
	if metaErr != nil {
		return nil, metaErr
	}
	if meta.hasName && meta.name != p.domain.Name {
		return reject(ReasonTokenNameMismatch, "token name is %q, the requirement says %q", meta.name, p.domain.Name), nil
	}
	if meta.hasVersion && meta.version != p.domain.Version {
		return reject(ReasonTokenVersionMismatch, "token version is %q, the requirement says %q", meta.version, p.domain.Version), nil
	}
	if balErr != nil && !isRevert(balErr) {
		return nil, fmt.Errorf("facilitator: balanceOf: %w", balErr)
	}
	if balErr == nil {
		if bal, err := unpackBig(f.token.Unpack("balanceOf", balOut)); err == nil && bal.Cmp(p.auth.Value) < 0 {
			return reject(ReasonInsufficientBalance, "balance %s of %s is below %s", bal, p.auth.From.Hex(), p.auth.Value), nil
		}
	}
	if simEr != nil {
		if isRevert(simEr) {
			return reject(ReasonSimulationFailed, "%v", simEr), nil
		}
		return nil, fmt.Errorf("facilitator: simulate transfer: %w", simEr)
	}
	return nil, nil
}

// assetDeployed reports whether asset has code, caching positive answers.
func (f *Facilitator) assetDeployed(ctx context.Context, cs *chainState, asset common.Address) (bool, error) {
	now := time.Now()
	cs.mu.Lock()
	until, ok := cs.code[asset]
	cs.mu.Unlock()
	if ok && now.Before(until) {
		return true, nil
	}
	code, err := cs.backend.CodeAt(ctx, asset, nil)
	if err != nil {
		return false, fmt.Errorf("facilitator: get code of asset: %w", err)
	}
	if len(code) == 0 {
		return false, nil
	}
	cs.mu.Lock()
	cs.code[asset] = now.Add(assetCacheFor)
	cs.mu.Unlock()
	return true, nil
}

// tokenMetadata reads the token's name() and version(), caching them. A token whose call
// reverts or answers something that is not a string has no such field, and the check is
// skipped (USDC-style tokens have both; many EIP-3009 tokens have no version()).
func (f *Facilitator) tokenMetadata(ctx context.Context, cs *chainState, asset common.Address) (tokenMeta, error) {
	now := time.Now()
	cs.mu.Lock()
	m, ok := cs.metadata[asset]
	cs.mu.Unlock()
	if ok && now.Before(m.until) {
		return m, nil
	}
	m = tokenMeta{until: now.Add(assetCacheFor)}
	for _, field := range []string{"name", "version"} {
		out, err := f.call(ctx, cs, asset, field)
		if err != nil {
			if isRevert(err) {
				continue
			}
			return m, fmt.Errorf("facilitator: token %s(): %w", field, err)
		}
		vals, err := f.token.Unpack(field, out)
		if err != nil || len(vals) != 1 {
			continue
		}
		s, ok := vals[0].(string)
		if !ok {
			continue
		}
		if field == "name" {
			m.name, m.hasName = s, true
		} else {
			m.version, m.hasVersion = s, true
		}
	}
	cs.mu.Lock()
	cs.metadata[asset] = m
	cs.mu.Unlock()
	return m, nil
}

func (f *Facilitator) call(ctx context.Context, cs *chainState, to common.Address, method string, args ...any) ([]byte, error) {
	data, err := f.token.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("facilitator: pack %s: %w", method, err)
	}
	return cs.backend.CallContract(ctx, ethereum.CallMsg{To: &to, Data: data}, nil)
}

// transferCalldata encodes the settlement call. A 65-byte signature of an account without
// code goes through the (v, r, s) overload, as the reference sends it; any other signature,
// and every signature of a contract account, goes through the bytes overload, which hands
// the wallet exactly the bytes it signed (splitting normalises v, which a wallet may not
// accept) and is the overload that supports EIP-1271.
func (f *Facilitator) transferCalldata(p *payment) ([]byte, error) {
	a := p.auth
	if !p.fromHasCode && len(p.sig) == 65 {
		v, r, s, err := exact.SplitSignature(p.sig)
		if err != nil {
			return nil, err
		}
		args, err := f.transferVRS.Inputs.Pack(a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, v, r, s)
		if err != nil {
			return nil, fmt.Errorf("facilitator: pack transfer: %w", err)
		}
		return append(append([]byte{}, f.transferVRS.ID...), args...), nil
	}
	args, err := f.transferBytes.Inputs.Pack(a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, p.sig)
	if err != nil {
		return nil, fmt.Errorf("facilitator: pack transfer: %w", err)
	}
	return append(append([]byte{}, f.transferBytes.ID...), args...), nil
}

// simulate eth_calls the settlement transaction from the relayer.
func (f *Facilitator) simulate(ctx context.Context, p *payment) error {
	data, err := f.transferCalldata(p)
	if err != nil {
		return err
	}
	to := p.domain.VerifyingContract
	_, err = p.chain.backend.CallContract(ctx, ethereum.CallMsg{From: f.key.Address(), To: &to, Data: data}, nil)
	return err
}

func unpackBool(vals []any, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	if len(vals) != 1 {
		return false, fmt.Errorf("want 1 value, got %d", len(vals))
	}
	b, ok := vals[0].(bool)
	if !ok {
		return false, fmt.Errorf("not a bool")
	}
	return b, nil
}

func unpackBig(vals []any, err error) (*big.Int, error) {
	if err != nil {
		return nil, err
	}
	if len(vals) != 1 {
		return nil, fmt.Errorf("want 1 value, got %d", len(vals))
	}
	v, ok := vals[0].(*big.Int)
	if !ok {
		return nil, fmt.Errorf("not a uint256")
	}
	return v, nil
}
