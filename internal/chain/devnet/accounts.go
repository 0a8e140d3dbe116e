package devnet

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/keys/hd"
)

// DevMnemonic is ganache's deterministic test mnemonic. It is public: every key derived from it
// is known to the world.
const DevMnemonic = "myth like bonus scare over problem client lizard pioneer submit female collect"

// MaxAccounts is the number of dev accounts the devnet can provide.
const MaxAccounts = 10

// devKeys are the private keys at m/44'/60'/0'/0/0..9 of DevMnemonic, as ganache publishes them.
// They are written out because fleetkey's hd package, rightly, never exports private key bytes;
// Start re-derives every address with hd from the mnemonic and refuses to run on a mismatch.
var devKeys = [MaxAccounts]string{
	"4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d",
	"6cbed15c793ce57650b9877cf6fa156fbef513c4e6134f022a85b1ffdd59b2a1",
	"6370fd033278c143179d81c5526140625662b8daa446c22ee2d73db3707e620c",
	"646f1ce2fdad0e6deeeb5c7e8e5543bdde65e86029e2fd9fc169899c440a7913",
	"add53f9a7e588d003326d1cbf9e4a43c061aadd9bc938c843a79e7b4fd2ad743",
	"395df67f0c2d2d9fe1ad08d1bc8b6627011959b79c53d7dd6a3536a33ab8a4fd",
	"e485d098507f54e7733a205420dfddbe58db035fa577fc294ebd14db90767a52",
	"a453611d9419d0e56f499079478fd72c37b251a94bfde4d19872c44cf65386e3",
	"829e924fdf021ba3dbbc4225edfece9aca04b929d6e75613329ca6f1d31c0bb4",
	"b0057716d5917badaf911b193b12b910811c1497b5bada8d7711f758981c3773",
}

// DevAccount is a funded development account. Its key is a public test key (see DevMnemonic):
// this is the only place fleetkey hands out private key material, because these keys guard
// nothing. Never fund a dev account on a real chain.
type DevAccount struct {
	// Index is i in the derivation path m/44'/60'/0'/0/i.
	Index int
	// Address is the account address.
	Address common.Address
	// PrivateKeyHex is the 0x-prefixed secp256k1 private key: a public test key, never fund it
	// on a real chain.
	PrivateKeyHex string
}

// Path returns the BIP-44 derivation path of the account.
func (a DevAccount) Path() string { return fmt.Sprintf("m/44'/60'/0'/0/%d", a.Index) }

// PrivateKey parses PrivateKeyHex. It is a public test key, never fund it on a real chain.
func (a DevAccount) PrivateKey() (*ecdsa.PrivateKey, error) {
	k, err := crypto.HexToECDSA(a.PrivateKeyHex[2:])
	if err != nil {
		return nil, fmt.Errorf("devnet: dev account %d key: %w", a.Index, err)
	}
	return k, nil
}

// devAccounts returns the first n dev accounts after checking, with the hd package, that each
// key is the one the mnemonic derives at its path.
func devAccounts(n int) ([]DevAccount, error) {
	seed := hd.MnemonicToSeed(DevMnemonic, "")
	defer clear(seed)
	master, err := hd.NewMaster(seed)
	if err != nil {
		return nil, fmt.Errorf("devnet: dev master key: %w", err)
	}
	defer master.Wipe()
	accounts := make([]DevAccount, n)
	for i := range n {
		key, err := crypto.HexToECDSA(devKeys[i])
		if err != nil {
			return nil, fmt.Errorf("devnet: dev key %d: %w", i, err)
		}
		addr := crypto.PubkeyToAddress(key.PublicKey)
		path, err := hd.ParsePath(fmt.Sprintf("m/44'/60'/0'/0/%d", i))
		if err != nil {
			return nil, fmt.Errorf("devnet: dev path %d: %w", i, err)
		}
		derived, err := master.Derive(path)
		if err != nil {
			return nil, fmt.Errorf("devnet: derive dev account %d: %w", i, err)
		}
		got := derived.Address()
		derived.Wipe()
		if got != addr {
			return nil, fmt.Errorf("devnet: dev key %d is for %s but the mnemonic derives %s", i, addr.Hex(), got.Hex())
		}
		accounts[i] = DevAccount{Index: i, Address: addr, PrivateKeyHex: "0x" + devKeys[i]}
	}
	return accounts, nil
}
