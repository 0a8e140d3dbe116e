package exact

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/x402"
)

// LocalKeyPayer is an x402.Payer that signs with a private key held in this
// process. It exists for tests and examples ONLY. Agents in production must
// never hold a key: they use fleetkey's SDK payer, which asks the signing
// service to pay under policy and signs inside the custody boundary.
//
// It pays the first exact-EVM requirement it can (within the optional
// maximum), with a crypto/rand nonce, validAfter per ValidityWindow (0 for
// v2, now-600 for v1) and validBefore = now + maxTimeoutSeconds.
type LocalKeyPayer struct {
	mu        sync.Mutex
	key       *ecdsa.PrivateKey
	addr      common.Address
	maxAmount *big.Int
	now       func() time.Time
}

// LocalKeyPayerOption configures a LocalKeyPayer.
type LocalKeyPayerOption func(*LocalKeyPayer)

// WithMaxAmount refuses requirements above max atomic units.
func WithMaxAmount(max *big.Int) LocalKeyPayerOption {
	return func(p *LocalKeyPayer) { p.maxAmount = new(big.Int).Set(max) }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) LocalKeyPayerOption {
	return func(p *LocalKeyPayer) { p.now = now }
}

// NewLocalKeyPayer returns a test/example payer that signs with key. The
// payer uses the key in place; call Destroy to wipe it.
func NewLocalKeyPayer(key *ecdsa.PrivateKey, opts ...LocalKeyPayerOption) *LocalKeyPayer {
	p := &LocalKeyPayer{key: key, addr: crypto.PubkeyToAddress(key.PublicKey), now: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Address returns the paying account.
func (p *LocalKeyPayer) Address() common.Address { return p.addr }

// Destroy wipes the private key; Pay fails afterwards.
func (p *LocalKeyPayer) Destroy() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key != nil {
		clear(p.key.D.Bits())
		p.key = nil
	}
}

// Pay implements x402.Payer.
func (p *LocalKeyPayer) Pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	idx, terms, err := Select(req, func(t *Terms) bool {
		return p.maxAmount == nil || t.Amount.Cmp(p.maxAmount) <= 0
	})
	if err != nil {
		return nil, err
	}
	nonce, err := NewNonce()
	if err != nil {
		return nil, err
	}
	after, before := ValidityWindow(req.Version, p.now(), terms.MaxTimeoutSeconds)
	auth := terms.Authorize(p.addr, nonce, after, before)
	digest := Hash(terms.Domain, auth).Digest

	p.mu.Lock()
	if p.key == nil {
		p.mu.Unlock()
		return nil, errors.New("exact: local key payer destroyed")
	}
	sig, err := crypto.Sign(digest[:], p.key)
	p.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("exact: sign: %w", err)
	}
	sig[64] += 27

	pay := &x402.Payment{}
	var payload any
	if req.Version == x402.V2 {
		pl, err := PayloadV2(req.V2, idx, auth, sig)
		if err != nil {
			return nil, err
		}
		payload, pay.Header, pay.Requirement = pl, x402.HeaderPaymentSignature, req.V2.Accepts[idx].Raw()
	} else {
		r := &req.V1.Accepts[idx]
		pl, err := PayloadV1(r, auth, sig)
		if err != nil {
			return nil, err
		}
		raw, _ := json.Marshal(r)
		payload, pay.Header, pay.Requirement = pl, x402.HeaderXPayment, raw
	}
	if pay.Value, err = x402.EncodeHeader(payload); err != nil {
		return nil, err
	}
	return pay, nil
}

// String never shows the key.
func (p *LocalKeyPayer) String() string { return "exact.LocalKeyPayer(" + p.addr.Hex() + ")" }

// GoString never shows the key.
func (p *LocalKeyPayer) GoString() string { return p.String() }

// Format never shows the key, whatever the verb.
func (p *LocalKeyPayer) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// LogValue never shows the key.
func (p *LocalKeyPayer) LogValue() slog.Value { return slog.StringValue(p.String()) }
