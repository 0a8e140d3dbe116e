package signer

import (
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/x402"
)

// The x402.md §3.1.4 vector rebuilt from its stored values (from, nonce,
// validAfter, validBefore) gives the vector's digest.
func TestRebuildAuthorizationVector(t *testing.T) {
	var v eip3009Vector
	if err := json.Unmarshal(readTestdata(t, "x402-eip3009-signature.json"), &v); err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry([]Asset{{Network: x402.EVMNetwork(v.Domain.ChainID), Address: common.HexToAddress(v.Domain.VerifyingContract),
		Symbol: "USDC", Decimals: 6, EIP712Name: v.Domain.Name, EIP712Version: v.Domain.Version}})
	if err != nil {
		t.Fatal(err)
	}
	r := x402.PaymentRequirementsV2{Scheme: "exact", Network: x402.EVMNetwork(v.Domain.ChainID), Amount: v.Message.Value,
		Asset: v.Domain.VerifyingContract, PayTo: v.Message.To, MaxTimeoutSeconds: 120,
		Extra: json.RawMessage(`{"name":"` + v.Domain.Name + `","version":"` + v.Domain.Version + `"}`)}
	c, err := Choose(demandV2(t, r), reg, ChooseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var nonce [32]byte
	copy(nonce[:], common.FromHex(v.Message.Nonce))
	va, _ := new(big.Int).SetString(v.Message.ValidAfter, 10)
	vb, _ := new(big.Int).SetString(v.Message.ValidBefore, 10)
	in, err := RebuildAuthorization(c, common.HexToAddress(v.Address), nonce, time.Unix(va.Int64(), 0), time.Unix(vb.Int64(), 0))
	if err != nil {
		t.Fatal(err)
	}
	if in.Digest.Hex() != v.Digest || in.Authorization.Wire() != v.Message {
		t.Fatalf("rebuilt digest %s message %+v, want %s %+v", in.Digest.Hex(), in.Authorization.Wire(), v.Digest, v.Message)
	}
}

// An intent rebuilt from what BuildAuthorization chose is the same intent, for
// v1 and v2, and its payload verifies.
func TestRebuildAuthorizationRoundTrip(t *testing.T) {
	reg := testRegistry(t)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	now := time.Unix(1_800_000_000, 0)
	for name, d := range map[string]*Demand{"v2": demandV2(t, goodV2()), "v1": demandV1(t, goodV1())} {
		t.Run(name, func(t *testing.T) {
			c, err := Choose(d, reg, ChooseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			orig, err := BuildAuthorization(c, from, now, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			va := time.Unix(orig.Authorization.ValidAfter.Int64(), 0)
			if orig.Authorization.ValidAfter.Sign() == 0 {
				va = time.Time{}
			}
			again, err := RebuildAuthorization(c, from, orig.Authorization.Nonce, va, orig.ValidBefore)
			if err != nil {
				t.Fatal(err)
			}
			if again.Digest != orig.Digest || again.Authorization.Wire() != orig.Authorization.Wire() || !again.ValidBefore.Equal(orig.ValidBefore) {
				t.Fatalf("rebuilt %+v, built %+v", again.Authorization.Wire(), orig.Authorization.Wire())
			}
			sig := sign(t, key, again.Digest)
			if err := again.CheckSignature(sig); err != nil {
				t.Fatal(err)
			}
			if _, _, err := again.Payload(sig); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRebuildAuthorizationRefuses(t *testing.T) {
	reg := testRegistry(t)
	c, err := Choose(demandV2(t, goodV2()), reg, ChooseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := common.HexToAddress("0x1111111111111111111111111111111111111111")
	at := time.Unix(1_800_000_000, 0)
	for name, tc := range map[string]struct {
		c      *Choice
		from   common.Address
		va, vb time.Time
	}{
		"no choice":        {nil, from, time.Time{}, at},
		"zero from":        {c, common.Address{}, time.Time{}, at},
		"empty validity":   {c, from, at, at},
		"reversed":         {c, from, at, at.Add(-time.Second)},
		"before the epoch": {c, from, time.Unix(-5, 0), at},
		"no valid before":  {c, from, time.Time{}, time.Time{}},
	} {
		if _, err := RebuildAuthorization(tc.c, tc.from, [32]byte{1}, tc.va, tc.vb); err == nil {
			t.Errorf("%s: rebuilt", name)
		}
	}
}
