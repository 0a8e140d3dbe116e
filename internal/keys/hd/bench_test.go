package hd

import "testing"

// BenchmarkAgentKeyDerivation measures what custody does per signing request: master key →
// the five hardened levels of an AgentPath → the key's address.
func BenchmarkAgentKeyDerivation(b *testing.B) {
	master := testMaster(b)
	p, err := AgentPath(7, 1234, 2)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		k, err := master.Derive(p)
		if err != nil {
			b.Fatal(err)
		}
		_ = k.Address()
		k.Wipe()
	}
}

func BenchmarkSignDigest(b *testing.B) {
	master := testMaster(b)
	p, _ := AgentPath(7, 1234, 2)
	k, err := master.Derive(p)
	if err != nil {
		b.Fatal(err)
	}
	defer k.Wipe()
	digest := [32]byte{1, 2, 3}
	for b.Loop() {
		if _, err := k.SignDigest(digest); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMnemonicToSeed(b *testing.B) {
	const m = "legal winner thank year wave sausage worth useful legal winner thank yellow"
	for b.Loop() {
		_ = MnemonicToSeed(m, "TREZOR")
	}
}

func BenchmarkPublicChild(b *testing.B) {
	pub := testMaster(b).Public()
	for b.Loop() {
		if _, err := pub.Child(1); err != nil {
			b.Fatal(err)
		}
	}
}
