package signer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// FuzzParseDemand: ParseDemand never panics, every failure wraps
// ErrMalformedDemand, and a parsed demand re-encodes to something that parses
// to the same requirements. Choose must not panic on whatever parses.
func FuzzParseDemand(f *testing.F) {
	trace, _ := os.ReadFile("testdata/payment-required-v2-trace.json")
	v1body, _ := os.ReadFile("testdata/payment-required-v1-body.json")
	b64 := func(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }
	f.Add(2, b64(trace))
	f.Add(1, v1body)
	f.Add(2, trace)
	f.Add(1, b64(v1body))
	f.Add(2, b64([]byte(`{"x402Version":2,"resource":{"url":"u","x":[1,{}]},"accepts":[{"scheme":"exact","network":"eip155:1","amount":"1","extra":null,"maxTimeoutSeconds":1}],"extensions":{"a":{"info":{},"schema":{}}}}`)))
	f.Add(2, b64([]byte(`{"x402Version":2,"resource":{"url":"\u00e9\ud800"},"accepts":[{"amount":"\u0031","asset":"a","asset":"b"}]}`)))
	f.Add(1, []byte(`{"x402Version":1,"accepts":[{"extra":{"name":"USDC","version":"2"},"outputSchema":null}]}`))
	f.Add(3, []byte(`{}`))
	f.Add(2, []byte(`e30=`))

	reg, err := NewRegistry([]Asset{baseSepoliaUSDC, baseUSDC, localTestUSD, local18})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, version int, raw []byte) {
		d, err := ParseDemand(version, raw)
		if err != nil {
			if !errors.Is(err, ErrMalformedDemand) {
				t.Fatalf("error %v does not wrap ErrMalformedDemand", err)
			}
			if d != nil {
				t.Fatal("demand returned with an error")
			}
			return
		}
		if d.Len() == 0 || d.Len() > MaxRequirements {
			t.Fatalf("parsed a demand with %d requirements", d.Len())
		}
		_, _ = Choose(d, reg, ChooseOptions{})

		var again *Demand
		switch version {
		case x402.V2:
			h, err := x402.EncodeHeader(d.V2)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if again, err = ParseDemand(2, []byte(h)); err != nil {
				// Re-encoding may grow the value past the size limit; it
				// must not fail for any other reason.
				if len(h) <= MaxDemandSize {
					t.Fatalf("re-encoded demand does not parse: %v", err)
				}
				return
			}
			for i := range d.V2.Accepts {
				a, b := &d.V2.Accepts[i], &again.V2.Accepts[i]
				if !bytes.Equal(a.Raw(), b.Raw()) || a.Scheme != b.Scheme || a.Network != b.Network || a.Amount != b.Amount ||
					a.Asset != b.Asset || a.PayTo != b.PayTo || a.MaxTimeoutSeconds != b.MaxTimeoutSeconds {
					t.Fatalf("requirement %d changed:\n%s\n%s", i, a.Raw(), b.Raw())
				}
			}
			if d.V2.Resource.URL != again.V2.Resource.URL {
				t.Fatalf("resource url %q became %q", d.V2.Resource.URL, again.V2.Resource.URL)
			}
		case x402.V1:
			b, err := json.Marshal(d.V1)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if again, err = ParseDemand(1, b); err != nil {
				if len(b) <= MaxDemandSize {
					t.Fatalf("re-encoded demand does not parse: %v", err)
				}
				return
			}
			b2, _ := json.Marshal(again.V1)
			if !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding is not stable:\n%s\n%s", b, b2)
			}
			for i := range d.V1.Accepts {
				a, b := d.V1.Accepts[i], again.V1.Accepts[i]
				if a.Scheme != b.Scheme || a.Network != b.Network || a.MaxAmountRequired != b.MaxAmountRequired ||
					a.Asset != b.Asset || a.PayTo != b.PayTo || a.Resource != b.Resource || a.MaxTimeoutSeconds != b.MaxTimeoutSeconds {
					t.Fatalf("requirement %d changed: %+v → %+v", i, a, b)
				}
			}
		default:
			t.Fatalf("version %d parsed", version)
		}
		if again.Len() != d.Len() {
			t.Fatalf("%d requirements became %d", d.Len(), again.Len())
		}
	})
}

// FuzzChoose: whatever a server puts in a requirement, Choose never panics,
// and anything it chooses is an exact-EIP-3009 payment of a positive amount
// to a non-zero payee, to be signed under the registry's domain for the
// asset on that chain: the digest the facilitator recomputes from the header
// equals the one custody would sign.
func FuzzChoose(f *testing.F) {
	g := goodV2()
	f.Add(g.Scheme, g.Network, g.Amount, g.Asset, g.PayTo, g.MaxTimeoutSeconds, []byte(g.Extra))
	f.Add("exact", "eip155:8453", "1", baseUSDC.Address.Hex(), payee, int64(1), []byte(`{"name":"USDC","version":"2"}`))
	f.Add("exact", "eip155:1337", "1000000000000000000", local18.Address.Hex(), payee, int64(60), []byte(`{"name":"Eighteen","version":"1","name":"X"}`))
	f.Add("exact", "eip155:84532", "10000", g.Asset, payee, int64(60), []byte(`{"name":"USDC","version":"2","assetTransferMethod":"permit2"}`))
	f.Add("upto", "solana:x", "-1", "", "", int64(-1), []byte(`null`))

	reg, err := NewRegistry([]Asset{baseSepoliaUSDC, baseUSDC, localTestUSD, local18})
	if err != nil {
		f.Fatal(err)
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	f.Fuzz(func(t *testing.T, scheme, network, amount, asset, payTo string, timeout int64, extra []byte) {
		r := x402.PaymentRequirementsV2{Scheme: scheme, Network: network, Amount: amount, Asset: asset,
			PayTo: payTo, MaxTimeoutSeconds: timeout}
		if json.Valid(extra) {
			r.Extra = extra
		}
		h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2,
			Resource: x402.ResourceInfo{URL: "https://r.example/"}, Accepts: []x402.PaymentRequirementsV2{r}})
		if err != nil {
			return
		}
		d, err := ParseDemand(2, []byte(h))
		if err != nil {
			return
		}
		c, err := Choose(d, reg, ChooseOptions{})
		if err != nil {
			if !errors.Is(err, ErrNoAcceptableRequirement) {
				t.Fatalf("refusal %v does not wrap ErrNoAcceptableRequirement", err)
			}
			return
		}
		a, ok := reg.Lookup(c.ChainID, c.Asset.Address)
		if !ok || a != c.Asset || c.Domain().Name != a.EIP712Name || c.Domain().Version != a.EIP712Version ||
			c.Domain().VerifyingContract != a.Address || x402.EVMNetwork(c.Domain().ChainID) != a.Network {
			t.Fatalf("chose %+v under domain %+v", c.Candidate, c.Domain())
		}
		if c.Amount.Sign() <= 0 || c.PayTo == (common.Address{}) || c.MaxTimeoutSeconds <= 0 || c.AmountMicro <= 0 {
			t.Fatalf("chose %+v", c.Candidate)
		}
		in, err := BuildAuthorization(c, from, time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		s, err := crypto.Sign(in.Digest[:], key)
		if err != nil {
			t.Fatal(err)
		}
		var sig [65]byte
		copy(sig[:], s)
		sig[64] += 27
		_, value, err := in.Payload(sig)
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := x402.DecodePaymentPayloadV2(value)
		if err != nil {
			t.Fatal(err)
		}
		terms, err := exact.TermsV2(&p.Accepted)
		if err != nil {
			t.Fatalf("facilitator cannot read accepted: %v", err)
		}
		inner, err := x402.DecodeExactEVMPayload(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		auth, err := exact.ParseAuthorization(inner.Authorization)
		if err != nil {
			t.Fatal(err)
		}
		if terms.Domain != c.Domain() || exact.Hash(terms.Domain, auth).Digest != in.Digest {
			t.Fatalf("facilitator domain %+v, signer domain %+v", terms.Domain, c.Domain())
		}
	})
}
