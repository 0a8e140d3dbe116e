package signer

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/x402"
)

// requireRefused checks that err refuses requirement index for reason.
func requireRefused(t *testing.T, err error, index int, reason error) {
	t.Helper()
	if err == nil {
		t.Fatal("Choose succeeded")
	}
	if !errors.Is(err, ErrNoAcceptableRequirement) {
		t.Fatalf("error %v does not wrap ErrNoAcceptableRequirement", err)
	}
	if !errors.Is(err, reason) {
		t.Fatalf("error %v does not wrap %v", err, reason)
	}
	var re *RequirementError
	if !errors.As(err, &re) || re.Index != index {
		t.Fatalf("error %v: RequirementError %+v, want index %d", err, re, index)
	}
}

func TestChooseRefusesV2(t *testing.T) {
	reg := testRegistry(t)
	max256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	tests := []struct {
		name string
		mod  func(*x402.PaymentRequirementsV2)
		want error
	}{
		{"scheme upto", func(r *x402.PaymentRequirementsV2) { r.Scheme = "upto" }, ErrUnsupportedScheme},
		{"scheme Exact", func(r *x402.PaymentRequirementsV2) { r.Scheme = "Exact" }, ErrUnsupportedScheme},
		{"permit2 transfer", func(r *x402.PaymentRequirementsV2) {
			r.Extra = json.RawMessage(`{"name":"USDC","version":"2","assetTransferMethod":"permit2"}`)
		}, ErrUnsupportedScheme},
		{"solana", func(r *x402.PaymentRequirementsV2) { r.Network = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" }, ErrUnsupportedNetwork},
		{"v1 name in v2", func(r *x402.PaymentRequirementsV2) { r.Network = "base-sepolia" }, ErrUnsupportedNetwork},
		{"non-canonical chain id", func(r *x402.PaymentRequirementsV2) { r.Network = "eip155:084532" }, ErrUnsupportedNetwork},
		{"wildcard network", func(r *x402.PaymentRequirementsV2) { r.Network = "eip155:*" }, ErrUnsupportedNetwork},
		{"unknown asset", func(r *x402.PaymentRequirementsV2) { r.Asset = "0x" + strings.Repeat("42", 20) }, ErrUnknownAsset},
		{"asset bad checksum", func(r *x402.PaymentRequirementsV2) { r.Asset = "0x036cbD53842c5426634e7929541eC2318f3dCF7e" }, ErrUnknownAsset},
		{"asset not an address", func(r *x402.PaymentRequirementsV2) { r.Asset = "USDC" }, ErrUnknownAsset},
		{"asset on an unregistered chain", func(r *x402.PaymentRequirementsV2) { r.Network = "eip155:1" }, ErrChainMismatch},
		{"asset on another registered chain", func(r *x402.PaymentRequirementsV2) { r.Network = "eip155:8453" }, ErrChainMismatch},
		{"other token's name", func(r *x402.PaymentRequirementsV2) { r.Extra = json.RawMessage(`{"name":"USD Coin","version":"2"}`) }, ErrDomainMismatch},
		{"other version", func(r *x402.PaymentRequirementsV2) { r.Extra = json.RawMessage(`{"name":"USDC","version":"1"}`) }, ErrDomainMismatch},
		{"name differs in case", func(r *x402.PaymentRequirementsV2) { r.Extra = json.RawMessage(`{"name":"usdc","version":"2"}`) }, ErrDomainMismatch},
		{"no extra", func(r *x402.PaymentRequirementsV2) { r.Extra = nil }, ErrDomainMismatch},
		{"no version", func(r *x402.PaymentRequirementsV2) { r.Extra = json.RawMessage(`{"name":"USDC"}`) }, ErrDomainMismatch},
		{"version a number", func(r *x402.PaymentRequirementsV2) { r.Extra = json.RawMessage(`{"name":"USDC","version":2}`) }, ErrDomainMismatch},
		{"zero amount", func(r *x402.PaymentRequirementsV2) { r.Amount = "0" }, ErrBadAmount},
		{"negative amount", func(r *x402.PaymentRequirementsV2) { r.Amount = "-1" }, ErrBadAmount},
		{"fractional amount", func(r *x402.PaymentRequirementsV2) { r.Amount = "1.5" }, ErrBadAmount},
		{"hex amount", func(r *x402.PaymentRequirementsV2) { r.Amount = "0x10" }, ErrBadAmount},
		{"leading zero", func(r *x402.PaymentRequirementsV2) { r.Amount = "010" }, ErrBadAmount},
		{"exponent", func(r *x402.PaymentRequirementsV2) { r.Amount = "1e6" }, ErrBadAmount},
		{"empty amount", func(r *x402.PaymentRequirementsV2) { r.Amount = "" }, ErrBadAmount},
		{"2^256", func(r *x402.PaymentRequirementsV2) { r.Amount = new(big.Int).Add(max256, big.NewInt(1)).String() }, ErrBadAmount},
		{"2^256-1, beyond policy accounting", func(r *x402.PaymentRequirementsV2) { r.Amount = max256.String() }, ErrBadAmount},
		{"zero payTo", func(r *x402.PaymentRequirementsV2) { r.PayTo = "0x0000000000000000000000000000000000000000" }, ErrBadPayTo},
		{"short payTo", func(r *x402.PaymentRequirementsV2) { r.PayTo = payee[:40] }, ErrBadPayTo},
		{"32-byte payTo", func(r *x402.PaymentRequirementsV2) { r.PayTo = "0x" + strings.Repeat("ab", 32) }, ErrBadPayTo},
		{"payTo bad checksum", func(r *x402.PaymentRequirementsV2) { r.PayTo = "0x209693bc6afc0C5328bA36FaF03C514EF312287C" }, ErrBadPayTo},
		{"payTo without 0x", func(r *x402.PaymentRequirementsV2) { r.PayTo = "00" + payee[2:] }, ErrBadPayTo},
		{"empty payTo", func(r *x402.PaymentRequirementsV2) { r.PayTo = "" }, ErrBadPayTo},
		{"zero timeout", func(r *x402.PaymentRequirementsV2) { r.MaxTimeoutSeconds = 0 }, ErrBadTimeout},
		{"negative timeout", func(r *x402.PaymentRequirementsV2) { r.MaxTimeoutSeconds = -60 }, ErrBadTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goodV2()
			tt.mod(&r)
			called := false
			_, err := Choose(demandV2(t, r), reg, ChooseOptions{Accept: func(Candidate) error { called = true; return nil }})
			requireRefused(t, err, 0, tt.want)
			if called {
				t.Fatal("Accept was asked about a refused requirement")
			}
		})
	}
	// The base requirement itself is fine, so each refusal above is due to
	// its one change.
	if _, err := Choose(demandV2(t, goodV2()), reg, ChooseOptions{}); err != nil {
		t.Fatalf("base requirement refused: %v", err)
	}
}

func TestChooseRefusesV1(t *testing.T) {
	reg := testRegistry(t)
	tests := []struct {
		name string
		mod  func(*x402.PaymentRequirementsV1)
		want error
	}{
		{"CAIP-2 in v1", func(r *x402.PaymentRequirementsV1) { r.Network = "eip155:84532" }, ErrUnsupportedNetwork},
		{"unknown v1 name", func(r *x402.PaymentRequirementsV1) { r.Network = "base-goerli" }, ErrUnsupportedNetwork},
		{"registered asset, other named chain", func(r *x402.PaymentRequirementsV1) { r.Network = "base" }, ErrChainMismatch},
		{"scheme", func(r *x402.PaymentRequirementsV1) { r.Scheme = "upto" }, ErrUnsupportedScheme},
		{"domain", func(r *x402.PaymentRequirementsV1) { r.Extra = json.RawMessage(`{"name":"USD Coin","version":"2"}`) }, ErrDomainMismatch},
		{"amount", func(r *x402.PaymentRequirementsV1) { r.MaxAmountRequired = "0" }, ErrBadAmount},
		{"payTo", func(r *x402.PaymentRequirementsV1) { r.PayTo = "0x0000000000000000000000000000000000000000" }, ErrBadPayTo},
		{"timeout", func(r *x402.PaymentRequirementsV1) { r.MaxTimeoutSeconds = 0 }, ErrBadTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goodV1()
			tt.mod(&r)
			_, err := Choose(demandV1(t, r), reg, ChooseOptions{})
			requireRefused(t, err, 0, tt.want)
		})
	}
	if _, err := Choose(demandV1(t, goodV1()), reg, ChooseOptions{}); err != nil {
		t.Fatalf("base requirement refused: %v", err)
	}
}

// A hostile server names a token the operator trusts (Base USDC, right
// address, right chain, sensible amount and payee) but asks for the domain of
// another token. Nothing may be signed.
func TestChooseRefusesForeignDomainForRealAsset(t *testing.T) {
	reg := testRegistry(t)
	r := goodV2()
	r.Network, r.Asset = "eip155:8453", baseUSDC.Address.Hex()
	for _, extra := range []string{
		`{"name":"USDC","version":"2"}`,     // Base Sepolia USDC's domain
		`{"name":"USD Coin","version":"1"}`, // right name, wrong version
		`{"name":"TestUSD","version":"2"}`,  // an unrelated token's domain
	} {
		r.Extra = json.RawMessage(extra)
		_, err := Choose(demandV2(t, r), reg, ChooseOptions{Accept: func(Candidate) error {
			t.Fatal("Accept was asked")
			return nil
		}})
		requireRefused(t, err, 0, ErrDomainMismatch)
	}
	r.Extra = json.RawMessage(`{"name":"USD Coin","version":"2"}`)
	c, err := Choose(demandV2(t, r), reg, ChooseOptions{})
	if err != nil {
		t.Fatalf("the registry's own domain was refused: %v", err)
	}
	if d := c.Domain(); d.Name != "USD Coin" || d.ChainID != 8453 || d.VerifyingContract != baseUSDC.Address {
		t.Fatalf("domain = %+v", d)
	}
}

func TestChooseSkipsRefusedRequirements(t *testing.T) {
	reg := testRegistry(t)
	bad := goodV2()
	bad.Scheme = "upto"
	good := goodV2()
	good.Network, good.Asset, good.Extra = "eip155:8453", baseUSDC.Address.Hex(), json.RawMessage(`{"name":"USD Coin","version":"2"}`)
	c, err := Choose(demandV2(t, bad, good), reg, ChooseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Index != 1 || c.ChainID != 8453 {
		t.Fatalf("chose %d on chain %d, want 1 on 8453", c.Index, c.ChainID)
	}
}

func TestChooseAcceptRejectsFirst(t *testing.T) {
	reg := testRegistry(t)
	first, second := goodV2(), goodV2()
	first.Amount, second.Amount = "5000000", "10000"
	tooMuch := errors.New("over the per-payment limit")
	var seen []int
	c, err := Choose(demandV2(t, first, second), reg, ChooseOptions{Accept: func(c Candidate) error {
		seen = append(seen, c.Index)
		if c.AmountMicro > 1_000_000 {
			return tooMuch
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Index != 1 || c.Amount.Cmp(big.NewInt(10000)) != 0 {
		t.Fatalf("chose %d (amount %v), want 1 (10000)", c.Index, c.Amount)
	}
	if len(seen) != 2 || seen[0] != 0 || seen[1] != 1 {
		t.Fatalf("Accept saw %v, want [0 1]", seen)
	}

	// When policy rejects everything the caller's reasons come back.
	_, err = Choose(demandV2(t, first, first), reg, ChooseOptions{Accept: func(Candidate) error { return tooMuch }})
	requireRefused(t, err, 0, ErrNotAccepted)
	if !errors.Is(err, tooMuch) {
		t.Fatalf("error %v does not wrap the policy's error", err)
	}
}

func TestChooseReportsEveryReason(t *testing.T) {
	reg := testRegistry(t)
	a, b, c := goodV2(), goodV2(), goodV2()
	a.Scheme = "upto"
	b.Extra = json.RawMessage(`{"name":"Tether","version":"2"}`)
	c.PayTo = "0x0000000000000000000000000000000000000000"
	_, err := Choose(demandV2(t, a, b, c), reg, ChooseOptions{})
	for _, want := range []error{ErrNoAcceptableRequirement, ErrUnsupportedScheme, ErrDomainMismatch, ErrBadPayTo} {
		if !errors.Is(err, want) {
			t.Errorf("error does not wrap %v", want)
		}
	}
	for _, want := range []string{"requirement 0", "requirement 1", "requirement 2", `"Tether"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestChoosePreferred(t *testing.T) {
	reg := testRegistry(t)
	bad := goodV2()
	bad.Extra = json.RawMessage(`{"name":"USD Coin","version":"2"}`)
	other := goodV2()
	other.Amount = "20000"
	t.Run("preferred is chosen over an earlier good one", func(t *testing.T) {
		c, err := Choose(demandV2(t, goodV2(), other), reg, ChooseOptions{Preferred: intp(1)})
		if err != nil || c.Index != 1 || c.Amount.Int64() != 20000 {
			t.Fatalf("Choose = %+v, %v", c, err)
		}
	})
	t.Run("refused preferred does not fall back", func(t *testing.T) {
		c, err := Choose(demandV2(t, bad, goodV2()), reg, ChooseOptions{Preferred: intp(0)})
		requireRefused(t, err, 0, ErrDomainMismatch)
		if c != nil {
			t.Fatal("a choice came with the error")
		}
	})
	t.Run("policy-rejected preferred does not fall back", func(t *testing.T) {
		no := errors.New("payee not allowed")
		_, err := Choose(demandV2(t, goodV2(), other), reg, ChooseOptions{Preferred: intp(0), Accept: func(c Candidate) error {
			if c.Index == 0 {
				return no
			}
			return nil
		}})
		requireRefused(t, err, 0, ErrNotAccepted)
		if !errors.Is(err, no) {
			t.Fatalf("error %v does not wrap the policy's error", err)
		}
	})
	for _, i := range []int{-1, 2, 1 << 30} {
		_, err := Choose(demandV2(t, goodV2(), other), reg, ChooseOptions{Preferred: intp(i)})
		requireRefused(t, err, i, ErrNoSuchRequirement)
	}
}

func TestChooseCandidate(t *testing.T) {
	reg := testRegistry(t)
	t.Run("v2 trace", func(t *testing.T) {
		d, err := ParseDemand(2, traceHeader(t))
		if err != nil {
			t.Fatal(err)
		}
		var got Candidate
		c, err := Choose(d, reg, ChooseOptions{Accept: func(c Candidate) error { got = c; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		want := Candidate{Index: 0, Version: 2, Network: "eip155:1337", ChainID: 1337, Asset: localTestUSD,
			PayTo: common.HexToAddress("0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b"), Amount: big.NewInt(10000),
			AmountMicro: 10000, MaxTimeoutSeconds: 120, Resource: "http://127.0.0.1:4021/weather"}
		for name, cand := range map[string]Candidate{"Accept": got, "Choice": c.Candidate} {
			if cand.Amount == nil || cand.Amount.Cmp(want.Amount) != 0 {
				t.Fatalf("%s: amount %v", name, cand.Amount)
			}
			cand.Amount = want.Amount
			if cand != want {
				t.Errorf("%s: candidate\n%+v\nwant\n%+v", name, cand, want)
			}
		}
		pr := c.PolicyRequest()
		if pr.PayTo != "0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b" || pr.Asset != localTestUSD.Address.Hex() ||
			pr.AssetSymbol != "TUSD" || pr.Network != "eip155:1337" || pr.URL != "http://127.0.0.1:4021/weather" ||
			pr.Amount != 10000 || pr.AmountAtomic != "10000" || pr.Validity != 120*time.Second {
			t.Errorf("policy request = %+v", pr)
		}
	})
	t.Run("v1 body maps the network to CAIP-2", func(t *testing.T) {
		d, err := ParseDemand(1, readTestdata(t, "payment-required-v1-body.json"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Choose(d, reg, ChooseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Network != "eip155:84532" || c.ChainID != 84532 || c.Resource != "http://127.0.0.1:4021/weather" ||
			c.PayTo.Hex() != payee || c.MaxTimeoutSeconds != 60 || c.Asset != baseSepoliaUSDC {
			t.Fatalf("candidate = %+v", c.Candidate)
		}
	})
	t.Run("lower-case payTo comes out checksummed", func(t *testing.T) {
		r := goodV2()
		r.PayTo = strings.ToLower(payee)
		c, err := Choose(demandV2(t, r), reg, ChooseOptions{})
		if err != nil || c.PayTo.Hex() != payee || c.PolicyRequest().PayTo != payee {
			t.Fatalf("Choose = %+v, %v", c, err)
		}
	})
	t.Run("micro-units use the registry's decimals and round up", func(t *testing.T) {
		for _, tt := range []struct {
			amount string
			micro  int64
		}{
			{"1", 1},                       // 1e-18 rounds up to one micro-unit
			{"1000000000000", 1},           // exactly 1e-6
			{"1000000000001", 2},           // just above
			{"250000000000000000", 250000}, // 0.25
		} {
			r := goodV2()
			r.Network, r.Asset, r.Amount = "eip155:1337", local18.Address.Hex(), tt.amount
			r.Extra = json.RawMessage(`{"name":"Eighteen","version":"1"}`)
			c, err := Choose(demandV2(t, r), reg, ChooseOptions{})
			if err != nil || c.AmountMicro != tt.micro {
				t.Errorf("amount %s: Choose = %+v, %v; want %d micro", tt.amount, c, err, tt.micro)
			}
		}
	})
	t.Run("Accept cannot change the choice", func(t *testing.T) {
		c, err := Choose(demandV2(t, goodV2()), reg, ChooseOptions{Accept: func(c Candidate) error {
			c.Amount.SetInt64(1)
			return nil
		}})
		if err != nil || c.Amount.Int64() != 10000 {
			t.Fatalf("Choose = %+v, %v", c, err)
		}
	})
}

func TestChooseBadArguments(t *testing.T) {
	reg := testRegistry(t)
	for name, d := range map[string]*Demand{
		"nil":        nil,
		"empty":      {Version: 2},
		"both forms": {Version: 2, V1: &x402.PaymentRequiredV1{}, V2: &x402.PaymentRequiredV2{}},
	} {
		if _, err := Choose(d, reg, ChooseOptions{}); err == nil {
			t.Errorf("%s demand: Choose succeeded", name)
		}
	}
	if _, err := Choose(demandV2(t, goodV2()), nil, ChooseOptions{}); err == nil {
		t.Error("nil registry: Choose succeeded")
	}
}
