package signer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

type eip3009Vector struct {
	PrivateKey string `json:"privateKey"`
	Address    string `json:"address"`
	Domain     struct {
		Name              string `json:"name"`
		Version           string `json:"version"`
		ChainID           uint64 `json:"chainId"`
		VerifyingContract string `json:"verifyingContract"`
	} `json:"domain"`
	Message         x402.Authorization `json:"message"`
	DomainSeparator string             `json:"domainSeparator"`
	StructHash      string             `json:"structHash"`
	Digest          string             `json:"digest"`
	Signature       string             `json:"signature"`
}

func sign(t testing.TB, key *ecdsa.PrivateKey, digest common.Hash) [65]byte {
	t.Helper()
	s, err := crypto.Sign(digest[:], key)
	if err != nil {
		t.Fatal(err)
	}
	var sig [65]byte
	copy(sig[:], s)
	sig[64] += 27
	return sig
}

// The x402.md §3.1.4 vector, reached through the signer's own path: a v2
// demand for the vector's terms, chosen against a registry holding Base
// Sepolia USDC, built at the time and with the nonce that give the vector's
// message. Digest and header must carry the vector's values exactly.
func TestEIP3009Vector(t *testing.T) {
	var v eip3009Vector
	if err := json.Unmarshal(readTestdata(t, "x402-eip3009-signature.json"), &v); err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry([]Asset{{Network: x402.EVMNetwork(v.Domain.ChainID), Address: common.HexToAddress(v.Domain.VerifyingContract),
		Symbol: "USDC", Decimals: 6, EIP712Name: v.Domain.Name, EIP712Version: v.Domain.Version}})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 120
	validBefore, _ := new(big.Int).SetString(v.Message.ValidBefore, 10)
	now := time.Unix(validBefore.Int64()-timeout, 0)
	r := x402.PaymentRequirementsV2{Scheme: "exact", Network: x402.EVMNetwork(v.Domain.ChainID), Amount: v.Message.Value,
		Asset: v.Domain.VerifyingContract, PayTo: v.Message.To, MaxTimeoutSeconds: timeout,
		Extra: json.RawMessage(`{"name":"` + v.Domain.Name + `","version":"` + v.Domain.Version + `"}`)}
	c, err := Choose(demandV2(t, r), reg, ChooseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var nonce [32]byte
	copy(nonce[:], common.FromHex(v.Message.Nonce))
	in, err := buildAuthorization(c, common.HexToAddress(v.Address), now, 0, nonce)
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2]string{
		"domainSeparator": {in.DomainSeparator.Hex(), v.DomainSeparator},
		"structHash":      {in.StructHash.Hex(), v.StructHash},
		"digest":          {in.Digest.Hex(), v.Digest},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s = %s, want %s", name, pair[0], pair[1])
		}
	}
	if w := in.Authorization.Wire(); w != v.Message {
		t.Errorf("authorization = %+v, want %+v", w, v.Message)
	}

	key, err := crypto.HexToECDSA(strings.TrimPrefix(v.PrivateKey, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	sig := sign(t, key, in.Digest)
	if got := "0x" + hex.EncodeToString(sig[:]); got != v.Signature {
		t.Fatalf("signature = %s, want %s", got, v.Signature)
	}
	header, value, err := in.Payload(sig)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := x402.DecodePaymentPayloadV2(value)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := x402.DecodeExactEVMPayload(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if header != x402.HeaderPaymentSignature || inner.Signature != v.Signature || inner.Authorization != v.Message {
		t.Fatalf("header %s carries %+v", header, inner)
	}
}

func TestValidityWindow(t *testing.T) {
	reg := testRegistry(t)
	now := time.Unix(1_800_000_000, 400_000_000)
	from := common.HexToAddress("0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0")
	t0 := uint64(now.Unix())
	tests := []struct {
		name        string
		version     int
		timeout     int64
		maxValidity time.Duration
		after       uint64
		before      uint64
		err         string
	}{
		{"v2 uncapped", 2, 120, 0, 0, t0 + 120, ""},
		{"v2 policy cap below timeout", 2, 120, 60 * time.Second, 0, t0 + 60, ""},
		{"v2 policy cap above timeout", 2, 120, time.Hour, 0, t0 + 120, ""},
		{"cap truncated to whole seconds", 2, 120, 90*time.Second + 900*time.Millisecond, 0, t0 + 90, ""},
		{"one-second cap", 2, 120, time.Second, 0, t0 + 1, ""},
		{"huge timeout, no cap", 2, 1 << 62, 0, 0, t0 + 1<<40, ""},
		{"v1 starts 600 s back", 1, 60, 0, t0 - 600, t0 + 60, ""},
		{"v1 capped", 1, 60, 30 * time.Second, t0 - 600, t0 + 30, ""},
		{"cap under a second", 2, 120, 500 * time.Millisecond, 0, 0, "under one second"},
		{"negative cap", 2, 120, -time.Second, 0, 0, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d *Demand
			if tt.version == 2 {
				r := goodV2()
				r.MaxTimeoutSeconds = tt.timeout
				d = demandV2(t, r)
			} else {
				r := goodV1()
				r.MaxTimeoutSeconds = tt.timeout
				d = demandV1(t, r)
			}
			c, err := Choose(d, reg, ChooseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			in, err := BuildAuthorization(c, from, now, tt.maxValidity)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := in.Authorization
			if a.ValidAfter.Uint64() != tt.after || a.ValidBefore.Uint64() != tt.before {
				t.Fatalf("window = [%v, %v], want [%d, %d]", a.ValidAfter, a.ValidBefore, tt.after, tt.before)
			}
			if in.ValidBefore.Unix() != int64(tt.before) {
				t.Fatalf("ValidBefore = %v", in.ValidBefore)
			}
		})
	}
}

func TestBuildAuthorizationRefuses(t *testing.T) {
	reg := testRegistry(t)
	from := common.HexToAddress("0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0")
	now := time.Now()
	c, err := Choose(demandV2(t, goodV2()), reg, ChooseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BuildAuthorization(nil, from, now, 0); err == nil {
		t.Error("nil choice accepted")
	}
	if _, err := BuildAuthorization(&Choice{}, from, now, 0); err == nil {
		t.Error("empty choice accepted")
	}
	if _, err := BuildAuthorization(c, common.Address{}, now, 0); err == nil {
		t.Error("zero from accepted")
	}
	if _, err := BuildAuthorization(c, from, time.Unix(600, 0), 0); err == nil {
		t.Error("a clock at 1970 accepted")
	}
	for _, timeout := range []int64{0, -1} {
		bad := *c
		bad.MaxTimeoutSeconds = timeout
		if _, err := BuildAuthorization(&bad, from, now, 0); !errors.Is(err, ErrBadTimeout) {
			t.Errorf("maxTimeoutSeconds %d: error %v", timeout, err)
		}
	}
}

func TestNonceIsFresh(t *testing.T) {
	reg := testRegistry(t)
	c, err := Choose(demandV2(t, goodV2()), reg, ChooseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := common.HexToAddress("0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0")
	now := time.Now()
	seen := map[[32]byte]bool{}
	digests := map[common.Hash]bool{}
	for range 64 {
		in, err := BuildAuthorization(c, from, now, 0)
		if err != nil {
			t.Fatal(err)
		}
		if in.Authorization.Nonce == ([32]byte{}) || seen[in.Authorization.Nonce] || digests[in.Digest] {
			t.Fatalf("nonce %x repeated or zero", in.Authorization.Nonce)
		}
		seen[in.Authorization.Nonce], digests[in.Digest] = true, true
	}
}

// End to end: parse, choose, build, sign the digest with a test key, build the
// header, then verify the header the way a facilitator does, from the header
// and the server's requirement alone.
func TestEndToEnd(t *testing.T) {
	reg := testRegistry(t)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	second := goodV2()
	second.Network, second.Asset, second.Amount = "eip155:8453", strings.ToLower(baseUSDC.Address.Hex()), "2500"
	second.Extra = json.RawMessage(`{"version":"2","name":"USD Coin","assetTransferMethod":"eip3009","note":"<&>"}`)
	traceDemand, err := ParseDemand(2, traceHeader(t))
	if err != nil {
		t.Fatal(err)
	}
	v1Demand, err := ParseDemand(1, readTestdata(t, "payment-required-v1-body.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		demand    *Demand
		preferred *int
		index     int
	}{
		{"v2 trace", traceDemand, nil, 0},
		{"v2 encoder, second requirement", demandV2(t, goodV2(), second), intp(1), 1},
		{"v2 encoder, first requirement", demandV2(t, goodV2(), second), nil, 0},
		{"v1 body", v1Demand, nil, 0},
		{"v1 encoder", demandV1(t, goodV1()), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Choose(tt.demand, reg, ChooseOptions{Preferred: tt.preferred})
			if err != nil {
				t.Fatal(err)
			}
			if c.Index != tt.index {
				t.Fatalf("chose %d, want %d", c.Index, tt.index)
			}
			now := time.Now()
			in, err := BuildAuthorization(c, from, now, 10*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			sig := sign(t, key, in.Digest)
			if err := in.CheckSignature(sig); err != nil {
				t.Fatal(err)
			}
			header, value, err := in.Payload(sig)
			if err != nil {
				t.Fatal(err)
			}

			var terms *exact.Terms
			var wire x402.Authorization
			var gotSig string
			if tt.demand.Version == 2 {
				if header != x402.HeaderPaymentSignature {
					t.Fatalf("header %q", header)
				}
				p, raw, err := x402.DecodePaymentPayloadV2(value)
				if err != nil {
					t.Fatal(err)
				}
				var echo struct{ Accepted, Resource json.RawMessage }
				if err := json.Unmarshal(raw, &echo); err != nil {
					t.Fatal(err)
				}
				if want := tt.demand.V2.Accepts[tt.index].Raw(); len(want) == 0 || !bytes.Equal(echo.Accepted, want) {
					t.Fatalf("accepted = %s\nwant %s", echo.Accepted, want)
				}
				wantRes, _ := json.Marshal(tt.demand.V2.Resource)
				if !bytes.Equal(echo.Resource, wantRes) {
					t.Fatalf("resource = %s\nwant %s", echo.Resource, wantRes)
				}
				// The facilitator takes the domain from accepted.
				if terms, err = exact.TermsV2(&p.Accepted); err != nil {
					t.Fatal(err)
				}
				inner, err := x402.DecodeExactEVMPayload(p.Payload)
				if err != nil {
					t.Fatal(err)
				}
				wire, gotSig = inner.Authorization, inner.Signature
				if wire.ValidAfter != "0" {
					t.Fatalf("v2 validAfter = %s", wire.ValidAfter)
				}
			} else {
				if header != x402.HeaderXPayment {
					t.Fatalf("header %q", header)
				}
				p, _, err := x402.DecodePaymentPayloadV1(value)
				if err != nil {
					t.Fatal(err)
				}
				r := &tt.demand.V1.Accepts[tt.index]
				if p.Scheme != r.Scheme || p.Network != r.Network {
					t.Fatalf("payload %s/%s for requirement %s/%s", p.Scheme, p.Network, r.Scheme, r.Network)
				}
				if terms, err = exact.TermsV1(r); err != nil {
					t.Fatal(err)
				}
				inner, err := x402.DecodeExactEVMPayload(p.Payload)
				if err != nil {
					t.Fatal(err)
				}
				wire, gotSig = inner.Authorization, inner.Signature
				if wire.ValidAfter != new(big.Int).SetInt64(now.Unix()-600).String() {
					t.Fatalf("v1 validAfter = %s", wire.ValidAfter)
				}
			}
			auth, err := exact.ParseAuthorization(wire)
			if err != nil {
				t.Fatal(err)
			}
			if auth.From != from || auth.To != terms.PayTo || auth.Value.Cmp(terms.Amount) != 0 {
				t.Fatalf("authorization %+v does not match terms %+v", auth, terms)
			}
			if wire.To != terms.PayTo.Hex() {
				t.Fatalf("to %s is not checksummed", wire.To)
			}
			sigBytes, err := exact.DecodeSignature(gotSig)
			if err != nil {
				t.Fatal(err)
			}
			digest := exact.Hash(terms.Domain, auth).Digest
			if digest != in.Digest {
				t.Fatalf("facilitator digest %s, signer digest %s", digest, in.Digest)
			}
			if err := exact.VerifySignature(context.Background(), nil, from, digest, sigBytes); err != nil {
				t.Fatal(err)
			}
			got, err := exact.RecoverSigner(digest, sigBytes)
			if err != nil || got != from {
				t.Fatalf("recovered %s, %v; want %s", got, err, from)
			}
			// And verification can fail: someone else's address is refused.
			if err := exact.VerifySignature(context.Background(), nil, common.HexToAddress(payee), digest, sigBytes); !errors.Is(err, exact.ErrInvalidSignature) {
				t.Fatalf("verification for another address: %v", err)
			}
		})
	}
}

func TestPayloadRefusesBadSignatures(t *testing.T) {
	reg := testRegistry(t)
	key, _ := crypto.GenerateKey()
	other, _ := crypto.GenerateKey()
	c, err := Choose(demandV2(t, goodV2()), reg, ChooseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := BuildAuthorization(c, crypto.PubkeyToAddress(key.PublicKey), time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, key, in.Digest)
	secp256k1N, _ := new(big.Int).SetString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16)
	highS := good
	s := new(big.Int).Sub(secp256k1N, new(big.Int).SetBytes(good[32:64]))
	s.FillBytes(highS[32:64])
	highS[64] ^= 1 // 27 <-> 28: the same point with the other parity

	for name, sig := range map[string][65]byte{
		"v = 0":  func() [65]byte { s := good; s[64] -= 27; return s }(),
		"v = 29": func() [65]byte { s := good; s[64] = 29; return s }(),
		"high s": highS,
		"zero":   {},
	} {
		if _, _, err := in.Payload(sig); err == nil {
			t.Errorf("%s: Payload accepted the signature", name)
		}
	}
	if _, _, err := in.Payload(good); err != nil {
		t.Fatalf("good signature refused: %v", err)
	}
	if err := in.CheckSignature(sign(t, other, in.Digest)); !errors.Is(err, exact.ErrInvalidSignature) {
		t.Fatalf("signature by another key: %v", err)
	}
	if _, _, err := (&Intent{}).Payload(good); err == nil {
		t.Fatal("an unbuilt intent made a payload")
	}
}

// The echo is decided at Choose: changing the demand afterwards does not
// change what is signed or sent.
func TestChoiceIsDetachedFromDemand(t *testing.T) {
	reg := testRegistry(t)
	d := demandV2(t, goodV2())
	want := d.V2.Accepts[0].Raw()
	c, err := Choose(d, reg, ChooseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.V2.Accepts[0].PayTo = "0x" + strings.Repeat("66", 20)
	d.V2.Accepts[0] = x402.PaymentRequirementsV2{}
	key, _ := crypto.GenerateKey()
	in, err := BuildAuthorization(c, crypto.PubkeyToAddress(key.PublicKey), time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, value, err := in.Payload(sign(t, key, in.Digest))
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := x402.DecodePaymentPayloadV2(value)
	if err != nil {
		t.Fatal(err)
	}
	var echo struct{ Accepted json.RawMessage }
	json.Unmarshal(raw, &echo)
	if !bytes.Equal(echo.Accepted, want) || in.Authorization.To.Hex() != payee {
		t.Fatalf("accepted = %s, to = %s", echo.Accepted, in.Authorization.To.Hex())
	}
}
