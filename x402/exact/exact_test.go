package exact

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/fleetkey/fleetkey/x402"
)

type vectorFile struct {
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

func loadVector(t *testing.T) vectorFile { return loadVectorB(t) }

func loadVectorB(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile("../testdata/x402-eip3009-signature.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVectorEIP3009(t *testing.T) {
	v := loadVector(t)
	d := Domain{Name: v.Domain.Name, Version: v.Domain.Version, ChainID: v.Domain.ChainID,
		VerifyingContract: common.HexToAddress(v.Domain.VerifyingContract)}
	a, err := ParseAuthorization(v.Message)
	if err != nil {
		t.Fatal(err)
	}
	h := Hash(d, a)

	t.Run("own encoder", func(t *testing.T) {
		check(t, "domainSeparator", h.DomainSeparator.Hex(), v.DomainSeparator)
		check(t, "structHash", h.StructHash.Hex(), v.StructHash)
		check(t, "digest", h.Digest.Hex(), v.Digest)
	})
	t.Run("go-ethereum apitypes", func(t *testing.T) {
		td := TypedData(d, a)
		digest, raw, err := apitypes.TypedDataAndHash(td)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "digest", hexutil.Encode(digest), v.Digest)
		check(t, "domainSeparator", hexutil.Encode([]byte(raw[2:34])), v.DomainSeparator)
		check(t, "structHash", hexutil.Encode([]byte(raw[34:66])), v.StructHash)
	})
	t.Run("signature", func(t *testing.T) {
		key, err := crypto.HexToECDSA(v.PrivateKey[2:])
		if err != nil {
			t.Fatal(err)
		}
		check(t, "address", crypto.PubkeyToAddress(key.PublicKey).Hex(), v.Address)
		sig, err := crypto.Sign(h.Digest[:], key)
		if err != nil {
			t.Fatal(err)
		}
		sig[64] += 27
		check(t, "signature", hexutil.Encode(sig), v.Signature)
		want, _ := DecodeSignature(v.Signature)
		signer, err := RecoverSigner(h.Digest, want)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "recovered", signer.Hex(), v.Address)
	})
	t.Run("wire round trip", func(t *testing.T) {
		if got := a.Wire(); got != v.Message {
			t.Fatalf("Wire() = %+v, want %+v", got, v.Message)
		}
	})
	t.Run("type hash", func(t *testing.T) {
		check(t, "typehash", TransferWithAuthorizationTypeHash.Hex(), "0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267")
	})
}

func check(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// TestEncoderMatchesApitypes cross-checks the hand-written encoder against
// go-ethereum on random inputs, including extreme integer values.
func TestEncoderMatchesApitypes(t *testing.T) {
	for i := 0; i < 200; i++ {
		var d Domain
		var a Authorization
		rb := func(n int) []byte { b := make([]byte, n); rand.Read(b); return b }
		// apitypes cannot hash an empty name (Domain.Map drops it).
		d.Name = string(rb(1 + i%40))
		d.Version = hexutil.Encode(rb(i % 3))
		d.ChainID = new(big.Int).SetBytes(rb(8)).Uint64()
		copy(d.VerifyingContract[:], rb(20))
		copy(a.From[:], rb(20))
		copy(a.To[:], rb(20))
		copy(a.Nonce[:], rb(32))
		a.Value = new(big.Int).SetBytes(rb(i % 33))
		a.ValidAfter = new(big.Int).SetBytes(rb(8))
		a.ValidBefore = new(big.Int).SetBytes(rb(32))
		if i == 0 {
			a.Value = new(big.Int).Set(maxUint256)
		}
		digest, _, err := apitypes.TypedDataAndHash(TypedData(d, &a))
		if err != nil {
			t.Fatal(err)
		}
		if got := Hash(d, &a).Digest; !bytes.Equal(got[:], digest) {
			t.Fatalf("case %d: digest %x, apitypes %x", i, got, digest)
		}
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	good := loadVector(t).Message
	cases := map[string]func(*x402.Authorization){
		"short from":         func(a *x402.Authorization) { a.From = a.From[:41] },
		"bad checksum to":    func(a *x402.Authorization) { a.To = "0x209693bc6afc0C5328bA36FaF03C514EF312287C" },
		"no 0x":              func(a *x402.Authorization) { a.From = "00" + a.From[2:] },
		"hex value":          func(a *x402.Authorization) { a.Value = "0x10" },
		"negative value":     func(a *x402.Authorization) { a.Value = "-1" },
		"leading zero":       func(a *x402.Authorization) { a.ValidBefore = "01" },
		"empty validAfter":   func(a *x402.Authorization) { a.ValidAfter = "" },
		"2^256 value":        func(a *x402.Authorization) { a.Value = new(big.Int).Lsh(big.NewInt(1), 256).String() },
		"short nonce":        func(a *x402.Authorization) { a.Nonce = a.Nonce[:65] },
		"non-hex nonce":      func(a *x402.Authorization) { a.Nonce = "0x" + string(bytes.Repeat([]byte("g"), 64)) },
		"space in value":     func(a *x402.Authorization) { a.Value = " 1" },
		"plus sign in value": func(a *x402.Authorization) { a.Value = "+1" },
	}
	if _, err := ParseAuthorization(good); err != nil {
		t.Fatalf("good authorization: %v", err)
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			a := good
			mutate(&a)
			if _, err := ParseAuthorization(a); err == nil {
				t.Fatalf("accepted %+v", a)
			}
		})
	}
	// All-lower and all-upper addresses carry no checksum and are accepted.
	lower := good
	lower.To = "0x209693bc6afc0c5328ba36faf03c514ef312287c"
	if _, err := ParseAuthorization(lower); err != nil {
		t.Fatalf("lower-case address: %v", err)
	}
}

func TestTerms(t *testing.T) {
	base := `{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693bc6afc0c5328ba36faf03c514ef312287c","maxTimeoutSeconds":60,"extra":{"name":"USDC","version":"2"}}`
	var r x402.PaymentRequirementsV2
	if err := json.Unmarshal([]byte(base), &r); err != nil {
		t.Fatal(err)
	}
	tm, err := TermsV2(&r)
	if err != nil {
		t.Fatal(err)
	}
	a := tm.Authorize(common.Address{1}, [32]byte{2}, 0, 100)
	if got := a.Wire().To; got != "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" {
		t.Errorf("to = %s, want the EIP-55 checksummed payTo", got)
	}
	if tm.Domain.ChainID != 84532 || tm.Domain.Name != "USDC" || tm.Domain.Version != "2" {
		t.Errorf("domain = %+v", tm.Domain)
	}

	v1 := x402.PaymentRequirementsV1{Scheme: "exact", Network: "base-sepolia", MaxAmountRequired: "10000",
		Asset: r.Asset, PayTo: r.PayTo, MaxTimeoutSeconds: 60, Extra: json.RawMessage(`{"name":"USDC","version":"2"}`)}
	t1, err := TermsV1(&v1)
	if err != nil {
		t.Fatal(err)
	}
	if t1.Domain != tm.Domain {
		t.Errorf("v1 domain %+v differs from v2 %+v", t1.Domain, tm.Domain)
	}

	bad := []struct {
		name, extra, network, scheme string
		missing                      bool
	}{
		{"no extra", ``, "eip155:84532", "exact", true},
		{"no version", `{"name":"USDC"}`, "eip155:84532", "exact", true},
		{"numeric name", `{"name":1,"version":"2"}`, "eip155:84532", "exact", true},
		{"solana", `{"name":"USDC","version":"2"}`, "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "exact", false},
		{"unknown v1 name", `{"name":"USDC","version":"2"}`, "base-goerli", "exact", false},
		{"upto", `{"name":"USDC","version":"2"}`, "eip155:84532", "upto", false},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			rr := r
			rr.Extra = json.RawMessage(c.extra)
			rr.Network = c.network
			rr.Scheme = c.scheme
			_, err := TermsV2(&rr)
			if err == nil {
				t.Fatal("accepted")
			}
			if errors.Is(err, ErrMissingDomain) != c.missing {
				t.Fatalf("err = %v, ErrMissingDomain expected %v", err, c.missing)
			}
		})
	}
}
