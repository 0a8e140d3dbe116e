package exact

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/x402"
)

func FuzzParseAuthorization(f *testing.F) {
	f.Add("0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0", "0x209693bc6afc0c5328ba36faf03c514ef312287c", "10000", "0", "1740672154",
		"0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480")
	f.Add("0x", "0X00", "01", "-1", "1e3", "0x")
	f.Fuzz(func(t *testing.T, from, to, value, after, before, nonce string) {
		a, err := ParseAuthorization(x402.Authorization{From: from, To: to, Value: value, ValidAfter: after, ValidBefore: before, Nonce: nonce})
		if err != nil {
			return
		}
		w := a.Wire()
		b, err := ParseAuthorization(w)
		if err != nil {
			t.Fatalf("canonical form %+v does not parse: %v", w, err)
		}
		if b.Wire() != w || b.StructHash() != a.StructHash() {
			t.Fatalf("round trip changed the authorization: %+v vs %+v", w, b.Wire())
		}
		if w.Value != value || w.ValidAfter != after || w.ValidBefore != before {
			t.Fatalf("integers were not canonical: %+v from %q %q %q", w, value, after, before)
		}
	})
}

func FuzzRecoverSigner(f *testing.F) {
	v := "0x9a5b900ab1508ae2da79cc48a3b592749b2937e24aaceddb95f42a7e8e94ce194ddd4cff54c657c9171fbd2daf73d8753fd0ee7750e1eee8b9c65652551e91131c"
	f.Add(v, []byte{0x0d, 0x2c})
	f.Add("0x", []byte{})
	f.Fuzz(func(t *testing.T, sigHex string, digest []byte) {
		sig, err := DecodeSignature(sigHex)
		if err != nil {
			return
		}
		d := common.BytesToHash(digest)
		addr, err := RecoverSigner(d, sig)
		if err != nil {
			return
		}
		if VerifySignature(t.Context(), nil, addr, d, sig) != nil {
			t.Fatal("recovered signer does not verify")
		}
	})
}
