package custody

import (
	"fmt"

	"github.com/fleetkey/fleetkey/internal/keys/hd"
)

// VaultFromMnemonic opens an in-memory vault straight from a BIP-39 mnemonic and an optional
// BIP-39 passphrase (zero Passphrase = none), for derivation checks such as
// "fleetkey keys address --mnemonic-file". Unlike Init's import, it accepts published test
// mnemonics, because checking a derivation against a known vector is its purpose; the checksum
// is still verified. Nothing is written anywhere. The caller closes the vault.
func VaultFromMnemonic(m Mnemonic, passphrase Passphrase) (*Vault, error) {
	if m.IsZero() {
		return nil, fmt.Errorf("custody: empty mnemonic")
	}
	ent, err := hd.MnemonicToEntropy(m.s.view())
	if err != nil {
		return nil, fmt.Errorf("custody: mnemonic: %w", err)
	}
	clear(ent)
	// The seed is as sensitive here as after Unseal, test mnemonic or not.
	if err := ProtectProcess(); err != nil {
		return nil, err
	}
	var pass string
	if !passphrase.IsZero() {
		pass = passphrase.s.view()
	}
	seed := hd.MnemonicToSeed(m.s.view(), pass)
	s, err := newSecretFrom(seed)
	if err != nil {
		return nil, err
	}
	return newVault(s, SealInfo{}), nil
}
