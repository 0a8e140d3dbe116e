package hd

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"math/big"
	"testing"
)

// recoverParentNonHardened is the attack the package documentation describes. From the parent's
// xpub (public) and one child's private key it computes
//
//	IL = HMAC-SHA512(c_par, K_par || ser32(i))[:32],  k_par = k_child − IL (mod n)
//
// which is the parent private key whenever child i was derived non-hardened. An attacker cannot
// compute the hardened IL (its HMAC input is the parent private key), so this is the best the
// attacker can do against a hardened child too, and there it yields a wrong key.
func recoverParentNonHardened(t *testing.T, parentXPub string, child *ExtendedKey) *ExtendedKey {
	t.Helper()
	parent, err := ParseExtendedKey(parentXPub)
	if err != nil {
		t.Fatal(err)
	}
	var data [37]byte
	copy(data[:33], parent.pub[:])
	binary.BigEndian.PutUint32(data[33:], child.ChildNumber())
	mac := hmac.New(sha512.New, parent.chainCode[:])
	mac.Write(data[:])
	il := new(big.Int).SetBytes(mac.Sum(nil)[:32])

	kChild := new(big.Int).SetBytes(child.priv[:])
	kPar := new(big.Int).Sub(kChild, il)
	kPar.Mod(kPar, curveOrder)

	recovered := &ExtendedKey{
		priv:      new([32]byte),
		chainCode: parent.chainCode,
		depth:     parent.depth,
		parentFP:  parent.parentFP,
		childNum:  parent.childNum,
	}
	kPar.FillBytes(recovered.priv[:])
	if err := recovered.setPublicFromPrivate(); err != nil {
		t.Fatal(err)
	}
	return recovered
}

func TestNonHardenedLeakAttack(t *testing.T) {
	master := testMaster(t)

	t.Run("non-hardened child leaks parent and siblings", func(t *testing.T) {
		// A conventional BIP-44 wallet: m/44'/60'/0'/0 is the parent, its children /i are
		// non-hardened and its xpub is commonly shared for watch-only use.
		parentPath, _ := ParsePath("m/44'/60'/0'/0")
		parent, err := master.Derive(parentPath)
		if err != nil {
			t.Fatal(err)
		}
		defer parent.Wipe()
		leaked, err := parent.Child(5)
		if err != nil {
			t.Fatal(err)
		}
		defer leaked.Wipe()
		sibling, err := parent.Child(9)
		if err != nil {
			t.Fatal(err)
		}
		defer sibling.Wipe()

		recovered := recoverParentNonHardened(t, parent.XPub(), leaked)
		defer recovered.Wipe()
		if recovered.xprv() != parent.xprv() {
			t.Fatal("attack did not recover the parent private key")
		}
		stolen, err := recovered.Child(9)
		if err != nil {
			t.Fatal(err)
		}
		defer stolen.Wipe()
		if stolen.Address() != sibling.Address() || !bytes.Equal(stolen.priv[:], sibling.priv[:]) {
			t.Fatalf("sibling from recovered parent = %s, want %s", stolen.Address().Hex(), sibling.Address().Hex())
		}
	})

	t.Run("hardened agent path resists", func(t *testing.T) {
		leakedPath, _ := AgentPath(1, 2, 3)
		siblingPath, _ := AgentPath(1, 2, 4)
		parent, err := master.Derive(leakedPath[:len(leakedPath)-1])
		if err != nil {
			t.Fatal(err)
		}
		defer parent.Wipe()
		leaked, err := master.Derive(leakedPath)
		if err != nil {
			t.Fatal(err)
		}
		defer leaked.Wipe()
		sibling, err := master.Derive(siblingPath)
		if err != nil {
			t.Fatal(err)
		}
		defer sibling.Wipe()

		recovered := recoverParentNonHardened(t, parent.XPub(), leaked)
		defer recovered.Wipe()
		if bytes.Equal(recovered.priv[:], parent.priv[:]) || bytes.Equal(recovered.PublicKey(), parent.PublicKey()) {
			t.Fatal("attack recovered the parent of a hardened child")
		}
		guess, err := recovered.Child(siblingPath[len(siblingPath)-1])
		if err != nil {
			t.Fatal(err)
		}
		defer guess.Wipe()
		if guess.Address() == sibling.Address() {
			t.Fatal("attack derived the sibling of a hardened child")
		}
		t.Logf("sibling %s, attacker's guess %s", sibling.Address().Hex(), guess.Address().Hex())
	})
}
