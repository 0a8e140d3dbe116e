package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// TestChainReadsInBatches reads 300 authorization states (more than one Multicall3
// batch) and looks for their events (more than one log batch, in 2-block ranges): only
// the one authorization the chain used is reported used, with its settlement's
// transaction, and the block search lands on the right block.
func TestChainReadsInBatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{Listen: "127.0.0.1:0", Accounts: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tok := d.Token()
	reg, err := signer.NewRegistry([]signer.Asset{{Network: d.Network(), Address: tok.Address, Symbol: tok.Symbol,
		Decimals: tok.Decimals, EIP712Name: tok.Name, EIP712Version: tok.Version}})
	if err != nil {
		t.Fatal(err)
	}
	pe := paymentstest.New(t, paymentstest.Options{})
	r, err := New(Config{Store: pe.Store, Audit: pe.Audit, RPC: d.Client(), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	r.maxLogRange = 2

	// One authorization used on chain: dev account 1 pays dev account 3 through the facilitator.
	relayer, err := facilitator.NewRelayerKey([]byte(d.Accounts()[9].PrivateKeyHex))
	if err != nil {
		t.Fatal(err)
	}
	fac, err := facilitator.New(ctx, facilitator.Config{Chains: []facilitator.Chain{{ChainID: d.ChainID(), Backend: d.Client()}}, Relayer: relayer})
	if err != nil {
		t.Fatal(err)
	}
	defer fac.Close()
	req := x402.PaymentRequirementsV2{Scheme: "exact", Network: d.Network(), Amount: "1000", Asset: tok.Address.Hex(),
		PayTo: d.Accounts()[3].Address.Hex(), MaxTimeoutSeconds: 300, Extra: json.RawMessage(`{"name":"` + tok.Name + `","version":"` + tok.Version + `"}`)}
	h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Resource: x402.ResourceInfo{URL: "https://example.com/"}, Accepts: []x402.PaymentRequirementsV2{req}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := x402.DecodePaymentRequired(h)
	if err != nil {
		t.Fatal(err)
	}
	key, err := d.Accounts()[1].PrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	payer := exact.NewLocalKeyPayer(key)
	defer payer.Destroy()
	p, err := payer.Pay(ctx, &x402.PaymentRequest{URL: "https://example.com/", Method: "GET", Version: 2, V2: pr, Raw: []byte(h)})
	if err != nil {
		t.Fatal(err)
	}
	payload, _, err := x402.DecodePaymentPayloadV2(p.Value)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := x402.DecodeExactEVMPayload(payload.Payload)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := exact.ParseAuthorization(ev.Authorization)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := x402.DecodeHeaderJSON(p.Value)
	if err != nil {
		t.Fatal(err)
	}
	vr, err := x402.NewVerifyRequest(raw, req)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fac.Settle(ctx, vr)
	if err != nil || !s.Success {
		t.Fatalf("settle: %+v, %v", s, err)
	}

	const n, usedAt = 300, 257
	qs := make([]stateQuery, n)
	for i := range qs {
		var a common.Address
		var nonce common.Hash
		rand.Read(a[:])
		rand.Read(nonce[:])
		qs[i] = stateQuery{asset: tok.Address, authorizer: a, nonce: nonce}
	}
	qs[usedAt] = stateQuery{asset: tok.Address, authorizer: auth.From, nonce: common.Hash(auth.Nonce)}
	if err := r.loadChain(ctx); err != nil {
		t.Fatal(err)
	}
	head, err := d.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	states, err := r.authorizationStates(ctx, qs, head.Number)
	if err != nil {
		t.Fatal(err)
	}
	for i, used := range states {
		if used != (i == usedAt) {
			t.Errorf("state %d: used %v", i, used)
		}
	}
	from := make([]uint64, n)
	events, err := r.findEvents(ctx, qs, from, head.Number.Uint64())
	if err != nil {
		t.Fatal(err)
	}
	got, ok := events[qs[usedAt]]
	if len(events) != 1 || !ok || got.canceled || !strings.EqualFold(got.tx.Hex(), s.Transaction) {
		t.Fatalf("events %+v, want the settlement %s", events, s.Transaction)
	}

	// The block search finds the settlement's block from its timestamp.
	bh, err := d.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(got.block))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.blockAtOrBefore(ctx, time.Unix(int64(bh.Time), 0), head)
	if err != nil {
		t.Fatal(err)
	}
	if b != got.block {
		// Only a later block with the same timestamp would be right; the devnet spaces
		// blocks by at least a second.
		t.Errorf("block at the settlement's time: %d, want %d", b, got.block)
	}
	if b, err := r.blockAtOrBefore(ctx, time.Unix(0, 0), head); err != nil || b != 0 {
		t.Errorf("block before genesis: %d, %v", b, err)
	}
}

// TestRedactHidesRPCURL: a transport error names the RPC's scheme and host only.
func TestRedactHidesRPCURL(t *testing.T) {
	secret := "https://rpc.example.com/v2/k3y-s3cret?apikey=s3cret"
	err := fmt.Errorf("reconcile: chain id: %w", &url.Error{Op: "Post", URL: secret, Err: errors.New("connection refused")})
	got := redact(err).Error()
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "https://rpc.example.com") || !strings.Contains(got, "connection refused") {
		t.Errorf("redacted: %s", got)
	}
	plain := errors.New("reconcile: no url here")
	if redact(plain) != plain {
		t.Error("an error without a URL was rewritten")
	}
}
