package exact

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

func benchInputs(b *testing.B) (Domain, *Authorization, []byte, common.Address) {
	v := loadVectorB(b)
	d := Domain{Name: v.Domain.Name, Version: v.Domain.Version, ChainID: v.Domain.ChainID, VerifyingContract: common.HexToAddress(v.Domain.VerifyingContract)}
	a, err := ParseAuthorization(v.Message)
	if err != nil {
		b.Fatal(err)
	}
	sig, _ := DecodeSignature(v.Signature)
	return d, a, sig, common.HexToAddress(v.Address)
}

func BenchmarkHash(b *testing.B) {
	d, a, _, _ := benchInputs(b)
	for b.Loop() {
		Hash(d, a)
	}
}

func BenchmarkHashApitypes(b *testing.B) {
	d, a, _, _ := benchInputs(b)
	for b.Loop() {
		apitypes.TypedDataAndHash(TypedData(d, a))
	}
}

// BenchmarkVerifyECDSA is the signature part of a facilitator's verify:
// hash the typed data, recover and compare the signer.
func BenchmarkVerifyECDSA(b *testing.B) {
	d, a, sig, signer := benchInputs(b)
	for b.Loop() {
		if err := VerifySignature(context.Background(), nil, signer, Hash(d, a).Digest, sig); err != nil {
			b.Fatal(err)
		}
	}
}
