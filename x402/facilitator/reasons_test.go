package facilitator

import (
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/x402/exact"
)

var secp256k1N, _ = new(big.Int).SetString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16)

// TestBadPayments sends real bad payloads to the facilitator on the devnet: each gets its exact
// reason code from Verify and from Settle, with the payer set, and nothing moves on chain.
func TestBadPayments(t *testing.T) {
	f := newFac(t, nil)
	now := time.Now().Unix()
	unfunded, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		v1Only bool
		v2Only bool
		mod    func(fx *fixture)
		want   string
		wantV1 string // when v1's code differs
		// noPayer: from does not parse, so no payer can be named
		noPayer bool
	}{
		{name: "accepted scheme not exact", mod: func(fx *fixture) { fx.acceptedScheme = "upto" }, want: ReasonScheme},
		{name: "extra empty", mod: func(fx *fixture) { fx.extra = map[string]any{} }, want: ReasonMissingDomain},
		{name: "extra without version", mod: func(fx *fixture) { delete(fx.extra, "version") }, want: ReasonMissingDomain},
		{name: "extra name not a string", mod: func(fx *fixture) { fx.extra["name"] = 7 }, want: ReasonMissingDomain},
		{name: "network mismatch", mod: func(fx *fixture) {
			if fx.version == 1 {
				fx.acceptedNetwork = "base"
			} else {
				fx.acceptedNetwork = "eip155:8453"
			}
		}, want: ReasonNetworkMismatch},
		{name: "wrong payTo", mod: func(fx *fixture) { fx.payTo = randomAddress(t).Hex() }, want: ReasonRecipientMismatch},
		{name: "value below amount", mod: func(fx *fixture) { fx.auth.Value = "9999" }, want: ReasonValueMismatch, wantV1: ReasonValueMismatchV1},
		{name: "value above amount", mod: func(fx *fixture) { fx.auth.Value = "10001" }, want: ReasonValueMismatch, wantV1: ReasonValueMismatchV1},
		{name: "expired", mod: func(fx *fixture) { fx.auth.ValidBefore = fmt.Sprint(now - 10) }, want: ReasonValidBefore},
		{name: "expires within 6s", mod: func(fx *fixture) { fx.auth.ValidBefore = fmt.Sprint(time.Now().Unix() + 3) }, want: ReasonValidBefore},
		{name: "not yet valid", mod: func(fx *fixture) { fx.auth.ValidAfter = fmt.Sprint(now + 120) }, want: ReasonValidAfter},
		{name: "tampered signature", mod: func(fx *fixture) { fx.tamper = func(sig []byte) { sig[10] ^= 1 } }, want: ReasonSignature},
		{name: "signed by another key", mod: func(fx *fixture) { fx.key = devKey(t, 0) }, want: ReasonSignature},
		{name: "signed over another value", mod: func(fx *fixture) {
			fx.sig = fx.signature(t) // signature of the original message
			fx.auth.Value = "1"
			fx.amount = "1"
		}, want: ReasonSignature},
		{name: "signed for another chain", mod: func(fx *fixture) {
			d := exact.Domain{Name: "TestUSD", Version: "2", ChainID: 1, VerifyingContract: common.HexToAddress(fx.asset)}
			fx.signDomain = &d
		}, want: ReasonSignature},
		{name: "high-s signature", mod: func(fx *fixture) {
			fx.tamper = func(sig []byte) {
				s := new(big.Int).SetBytes(sig[32:64])
				new(big.Int).Sub(secp256k1N, s).FillBytes(sig[32:64])
				sig[64] ^= 1 // 27 <-> 28
			}
		}, want: ReasonSignature},
		{name: "short signature", mod: func(fx *fixture) { fx.sig = "0x1234" }, want: ReasonSignature},
		{name: "empty signature", mod: func(fx *fixture) { fx.sig = "0x" }, want: ReasonSignature},
		{name: "signature not hex", mod: func(fx *fixture) { fx.sig = "0xzz" }, want: ReasonParseSignature},
		{name: "signature without 0x", mod: func(fx *fixture) { fx.sig = "1234" }, want: ReasonParseSignature},
		{name: "asset without code", mod: func(fx *fixture) { fx.asset = randomAddress(t).Hex() }, want: ReasonAssetNotDeployed},
		{name: "token name mismatch", mod: func(fx *fixture) { fx.extra["name"] = "USD Coin" }, want: ReasonTokenNameMismatch},
		{name: "token version mismatch", mod: func(fx *fixture) { fx.extra["version"] = "1" }, want: ReasonTokenVersionMismatch},
		{name: "insufficient balance", mod: func(fx *fixture) {
			*fx = *newFixtureFor(t, unfunded).withVersion(fx.version)
		}, want: ReasonInsufficientBalance},
		{name: "value not decimal", mod: func(fx *fixture) { fx.sig = "0x00"; fx.auth.Value = "0x10" }, want: ReasonInvalidPayload},
		{name: "nonce too short", mod: func(fx *fixture) { fx.sig = "0x00"; fx.auth.Nonce = "0x1234" }, want: ReasonInvalidPayload},
		{name: "from not an address", mod: func(fx *fixture) { fx.sig = "0x00"; fx.auth.From = "0x12" }, want: ReasonInvalidPayload},
		{name: "amount negative", mod: func(fx *fixture) { fx.amount = "-1" }, want: ReasonInvalidRequirements},
		{name: "payTo bad checksum", mod: func(fx *fixture) {
			fx.payTo = flipCase(fx.payTo)
		}, want: ReasonInvalidRequirements},
	}
	for _, version := range []int{2, 1} {
		for _, tc := range tests {
			if (tc.v1Only && version != 1) || (tc.v2Only && version != 2) {
				continue
			}
			t.Run(fmt.Sprintf("v%d/%s", version, tc.name), func(t *testing.T) {
				fx := newFixture(t).withVersion(version)
				tc.mod(fx)
				want := tc.want
				if version == 1 && tc.wantV1 != "" {
					want = tc.wantV1
				}
				req := fx.request(t)
				from, to := fx.from(), fx.to()
				fromBal, toBal, rn := balance(t, from), balance(t, to), relayerNonce(t)

				vr, err := f.Verify(testCtx(t), req)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if vr.IsValid || vr.InvalidReason != want {
					t.Fatalf("Verify = %+v, want %s", vr, want)
				}
				if vr.Payer != fx.auth.From || vr.InvalidMessage == "" {
					t.Errorf("Verify payer %q message %q", vr.Payer, vr.InvalidMessage)
				}
				sr, err := f.Settle(testCtx(t), req)
				if err != nil {
					t.Fatalf("Settle: %v", err)
				}
				if sr.Success || sr.ErrorReason != want || sr.Transaction != "" || sr.Payer != fx.auth.From || sr.Network != fx.network {
					t.Fatalf("Settle = %+v, want %s", sr, want)
				}
				if balance(t, from).Cmp(fromBal) != 0 || balance(t, to).Cmp(toBal) != 0 {
					t.Error("balances changed")
				}
				if relayerNonce(t) != rn {
					t.Error("the relayer sent a transaction")
				}
				if _, err := exact.ParseAuthorization(fx.auth); err == nil && nonceUsed(t, fx) {
					t.Error("authorization nonce used")
				}
				if f.reg.size() != 0 {
					t.Errorf("registry holds %d entries after a refused payment", f.reg.size())
				}
			})
		}
	}
}

func (fx *fixture) withVersion(v int) *fixture {
	if v == 1 && fx.version != 1 {
		return fx.v1()
	}
	return fx
}

func flipCase(addr string) string {
	b := []byte(addr)
	for i := 2; i < len(b); i++ {
		switch {
		case b[i] >= 'a' && b[i] <= 'f':
			b[i] -= 'a' - 'A'
			return string(b)
		case b[i] >= 'A' && b[i] <= 'F':
			b[i] += 'a' - 'A'
			return string(b)
		}
	}
	return addr
}

// TestUnsupported: what this facilitator does not serve is an error (the handler's 500).
func TestUnsupported(t *testing.T) {
	f := newFac(t, nil)
	tests := []struct {
		name string
		mod  func(fx *fixture)
		msg  string
	}{
		{"unknown chain", func(fx *fixture) { fx.network, fx.acceptedNetwork = "eip155:999", "eip155:999" },
			"No facilitator registered for scheme: exact and network: eip155:999"},
		{"requirement scheme", func(fx *fixture) { fx.scheme = "upto" },
			"No facilitator registered for scheme: upto and network: eip155:84532"},
		{"v1 name in v2", func(fx *fixture) { fx.network = "base-sepolia" },
			"No facilitator registered for scheme: exact and network: base-sepolia"},
		{"non-canonical CAIP-2", func(fx *fixture) { fx.network = "eip155:084532" },
			"No facilitator registered for scheme: exact and network: eip155:084532"},
		{"v1 other network", func(fx *fixture) { fx.v1(); fx.network = "base" },
			"No facilitator registered for scheme: exact and network: base"},
		{"v1 CAIP-2", func(fx *fixture) { fx.v1(); fx.network = "eip155:84532" },
			"No facilitator registered for scheme: exact and network: eip155:84532"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			tc.mod(fx)
			req := fx.request(t)
			_, err := f.Verify(testCtx(t), req)
			var u *UnsupportedError
			if !errors.As(err, &u) || u.Message() != tc.msg {
				t.Fatalf("Verify error %v, want %q", err, tc.msg)
			}
			_, err = f.Settle(testCtx(t), req)
			if !errors.As(err, &u) || u.Message() != tc.msg {
				t.Fatalf("Settle error %v, want %q", err, tc.msg)
			}
		})
	}
}

// TestSimulationFailure: a payment that passes every explicit check but that the token refuses
// (here: the facilitator's clock runs ahead of the chain, so validAfter has passed for it but
// not for the block) fails the eth_call simulation with the token's revert text, and Settle,
// which does not simulate, is refused at gas estimation with the mapped reason.
func TestSimulationFailure(t *testing.T) {
	skew := 1000 * time.Second
	f := newFac(t, func(c *Config) { c.Now = func() time.Time { return time.Now().Add(skew) } })
	fx := newFixture(t)
	real := time.Now().Unix()
	fx.auth.ValidAfter = fmt.Sprint(real + 500)
	fx.auth.ValidBefore = fmt.Sprint(real + 2000)
	req := fx.request(t)
	rn := relayerNonce(t)
	vr, err := f.Verify(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if vr.IsValid || vr.InvalidReason != ReasonSimulationFailed || !contains(vr.InvalidMessage, "FiatTokenV2: authorization is not yet valid") {
		t.Fatalf("Verify = %+v", vr)
	}
	sr, err := f.Settle(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Success || sr.ErrorReason != ReasonValidAfter || !contains(sr.ErrorMessage, "eth_estimateGas") {
		t.Fatalf("Settle = %+v", sr)
	}
	if relayerNonce(t) != rn || nonceUsed(t, fx) || f.reg.size() != 0 {
		t.Error("something was sent or remembered")
	}
}

// TestReplay: after a settlement, the same payload is refused by the facilitator that settled
// it (from its registry, without RPC) and by a fresh one (from authorizationState on chain).
func TestReplay(t *testing.T) {
	for _, version := range []int{2, 1} {
		t.Run(fmt.Sprint("v", version), func(t *testing.T) {
			f := newFac(t, nil)
			fx := newFixture(t).withVersion(version)
			req := fx.request(t)
			sr, err := f.Settle(testCtx(t), req)
			if err != nil || !sr.Success {
				t.Fatalf("Settle = %+v, %v", sr, err)
			}
			rn := relayerNonce(t)
			for _, fac := range []*Facilitator{f, newFac(t, nil)} {
				vr, err := fac.Verify(testCtx(t), req)
				if err != nil || vr.IsValid || vr.InvalidReason != ReasonNonceUsed || vr.Payer != fx.auth.From {
					t.Fatalf("Verify replay = %+v, %v", vr, err)
				}
				sr, err := fac.Settle(testCtx(t), req)
				if err != nil || sr.Success || sr.ErrorReason != ReasonNonceUsed {
					t.Fatalf("Settle replay = %+v, %v", sr, err)
				}
			}
			if relayerNonce(t) != rn {
				t.Error("a replay sent a transaction")
			}
		})
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
