package custody

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/fleetkey/fleetkey/internal/keys/entropy"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
)

// rootEntropyLen is the size of every root secret fleetkey generates: 256 bits, 24 words.
const rootEntropyLen = 32

// kekLen is the size of the key-encryption key, from Argon2id or from the shares.
const kekLen = 32

// readSecretRandom supplies the root entropy and the share-protected KEK: crypto/rand behind
// the SP 800-90B start-up health tests. It is a variable only so that tests can see the secrets
// they must then search for.
var readSecretRandom = entropy.Read

// InitRequest asks Init for a new seal. Exactly one of Passphrase and Shares is set.
type InitRequest struct {
	// DataDir receives the seal (DataDir/custody.seal); created with mode 0700 if missing.
	DataDir string

	// Passphrase protects the seal through Argon2id; at least MinPassphraseLen bytes.
	Passphrase Passphrase
	// Argon2 overrides DefaultArgon2Params(); it may not go below MinArgon2Params().
	Argon2 Argon2Params

	// Shares asks for a random KEK split k-of-n with SLIP-0039.
	Shares ShareSpec
	// SharesOut, if set, is a directory (created 0700 if missing) that receives one file per
	// share, mode 0600; existing files are never overwritten. If empty, the shares are returned
	// in InitResult.Shares for the caller to hand out.
	SharesOut string

	// Import, if set, is a BIP-39 mnemonic to seal instead of fresh entropy. It must pass
	// hd.CheckImportMnemonic (no test mnemonics, no low-entropy patterns).
	Import Mnemonic
}

// InitResult describes a new seal.
type InitResult struct {
	Info     SealInfo
	SealPath string
	// ShareFiles lists the files written to SharesOut, in share order.
	ShareFiles []string
	// Shares holds the shares when SharesOut was empty; the caller hands them out (Share.WriteTo)
	// and wipes them.
	Shares []*Share
}

// SealInfo is the public description of a seal, readable without unsealing (Inspect).
type SealInfo struct {
	SealID  SealID
	Created time.Time
	Kind    KEKKind
	// Argon2 is set for KEKPassphrase.
	Argon2 Argon2Params
	// Threshold, Count and Identifier are set for KEKShares.
	Threshold, Count int
	Identifier       uint16
}

func (h *header) info() SealInfo {
	info := SealInfo{SealID: h.sealID, Created: h.createdTime(), Kind: h.kind}
	switch h.kind {
	case KEKPassphrase:
		info.Argon2 = h.argon
	case KEKShares:
		info.Threshold, info.Count, info.Identifier = int(h.threshold), int(h.count), h.identifier
	}
	return info
}

func passphraseKEK(p Passphrase, params Argon2Params, salt []byte) (*secretBytes, error) {
	k := argon2.IDKey(p.s.bytes(), salt, params.Time, params.MemoryKiB, params.Threads, kekLen)
	return newSecretFrom(k)
}

// Init creates a new root secret (or imports one) and seals it in req.DataDir, with core dumps
// disabled first (ProtectProcess). It refuses to replace an existing seal (ErrAlreadyInitialized). On any failure it leaves nothing behind: the
// seal is written to a temporary file and linked into place last, share files are removed, and
// directories it created are removed again.
func Init(req InitRequest) (*InitResult, error) {
	usePassphrase, useShares := !req.Passphrase.IsZero(), req.Shares != ShareSpec{}
	switch {
	case req.DataDir == "":
		return nil, errors.New("custody: init needs a data directory")
	case usePassphrase == useShares:
		return nil, errors.New("custody: init needs exactly one of a passphrase and a share split")
	case req.SharesOut != "" && !useShares:
		return nil, errors.New("custody: a share directory was given without a share split")
	}
	params := req.Argon2
	if usePassphrase {
		if n := len(req.Passphrase.s.bytes()); n < MinPassphraseLen {
			return nil, fmt.Errorf("custody: passphrase too short (%d bytes, at least %d)", n, MinPassphraseLen)
		}
		if params == (Argon2Params{}) {
			params = DefaultArgon2Params()
		}
		if err := params.check(); err != nil {
			return nil, err
		}
	} else if err := req.Shares.validate(); err != nil {
		return nil, err
	}
	sealPath := filepath.Join(req.DataDir, SealFileName)
	if _, err := os.Lstat(sealPath); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrAlreadyInitialized, sealPath)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("custody: %w", err)
	}

	// The root entropy and the KEK are about to exist in this process.
	if err := ProtectProcess(); err != nil {
		return nil, err
	}
	root, err := rootEntropy(req.Import)
	if err != nil {
		return nil, err
	}
	defer root.wipe()

	h := &header{created: time.Now().Unix()}
	rand.Read(h.sealID[:])
	var kek *secretBytes
	var shares []*Share
	if usePassphrase {
		h.kind, h.argon = KEKPassphrase, params
		rand.Read(h.salt[:])
		kek, err = passphraseKEK(req.Passphrase, params, h.salt[:])
	} else {
		h.kind = KEKShares
		h.threshold, h.count = uint8(req.Shares.Threshold), uint8(req.Shares.Count)
		kek, err = randomKEK()
		if err == nil {
			shares, h.identifier, err = splitKEK(kek.bytes(), req.Shares, h.sealID, h.createdTime())
		}
	}
	if err != nil {
		kek.wipe()
		return nil, err
	}
	wipeShares := func() {
		for _, s := range shares {
			s.Wipe()
		}
	}
	var nonce [nonceLen]byte
	rand.Read(nonce[:])
	file, err := encodeSeal(h, kek.bytes(), root.bytes(), nonce)
	kek.wipe()
	if err != nil {
		wipeShares()
		return nil, err
	}
	res, err := install(req, sealPath, file, shares)
	if err != nil || req.SharesOut != "" {
		wipeShares()
	}
	if err != nil {
		return nil, err
	}
	res.Info = h.info()
	if req.SharesOut == "" {
		res.Shares = shares
	}
	return res, nil
}

func randomKEK() (*secretBytes, error) {
	k, err := readSecretRandom(kekLen)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	return newSecretFrom(k)
}

// rootEntropy returns fresh 256-bit entropy, or the entropy of an imported mnemonic.
func rootEntropy(imp Mnemonic) (*secretBytes, error) {
	if imp.IsZero() {
		e, err := readSecretRandom(rootEntropyLen)
		if err != nil {
			return nil, fmt.Errorf("custody: %w", err)
		}
		return newSecretFrom(e)
	}
	if err := hd.CheckImportMnemonic(imp.s.view()); err != nil {
		return nil, fmt.Errorf("custody: refusing to import the mnemonic: %w", err)
	}
	e, err := hd.MnemonicToEntropy(imp.s.view())
	if err != nil {
		return nil, fmt.Errorf("custody: refusing to import the mnemonic: %w", err)
	}
	return newSecretFrom(e)
}

// testHookBeforeShare lets tests fail Init half-way through writing the shares.
var testHookBeforeShare = func(int) error { return nil }

// install writes the share files (if asked) and then the seal, removing everything it created
// if any step fails.
func install(req InitRequest, sealPath string, file []byte, shares []*Share) (res *InitResult, err error) {
	var createdDirs, createdFiles []string
	var tmp string
	defer func() {
		if err == nil {
			return
		}
		for _, f := range createdFiles {
			_ = os.Remove(f)
		}
		if tmp != "" {
			_ = os.Remove(tmp)
		}
		removeDirs(createdDirs)
	}()
	dirs, err := mkdirOwned(req.DataDir)
	if err != nil {
		return nil, err
	}
	createdDirs = append(createdDirs, dirs...)
	if tmp, err = writeTemp(req.DataDir, ".custody.seal.tmp-*", file); err != nil {
		return nil, err
	}
	res = &InitResult{SealPath: sealPath}
	if req.SharesOut != "" {
		dirs, err := mkdirOwned(req.SharesOut)
		if err != nil {
			return nil, err
		}
		// Deepest first across both calls: share directories may sit inside the data directory.
		createdDirs = append(dirs, createdDirs...)
		for i, s := range shares {
			if err := testHookBeforeShare(i); err != nil {
				return nil, err
			}
			p := filepath.Join(req.SharesOut, s.FileName())
			if err := writeNewFile(p, func(w io.Writer) error { _, err := s.WriteTo(w); return err }); err != nil {
				return nil, err
			}
			createdFiles = append(createdFiles, p)
		}
		if err := syncDir(req.SharesOut); err != nil {
			return nil, err
		}
		res.ShareFiles = createdFiles
	}
	// A hard link, unlike rename, fails if the seal appeared meanwhile: never replace a seal.
	if err := os.Link(tmp, sealPath); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrAlreadyInitialized, sealPath)
		}
		return nil, fmt.Errorf("custody: install seal: %w", err)
	}
	if err := os.Remove(tmp); err != nil {
		_ = os.Remove(sealPath)
		return nil, fmt.Errorf("custody: install seal: %w", err)
	}
	tmp = ""
	if err := syncDir(req.DataDir); err != nil {
		_ = os.Remove(sealPath)
		return nil, err
	}
	// New directories become durable with their parents' entries; the seal is in place, so
	// this is best effort.
	for _, d := range createdDirs {
		_ = syncDir(filepath.Dir(d))
	}
	return res, nil
}

// UnsealRequest gives the means to open a seal: a passphrase or shares, as the seal requires.
type UnsealRequest struct {
	DataDir    string
	Passphrase Passphrase
	Shares     []*Share
}

// Inspect reads the public header of the seal in dataDir without unsealing it, for example to
// tell an operator whether a passphrase or how many shares are needed.
func Inspect(dataDir string) (SealInfo, error) {
	sf, err := readSeal(dataDir)
	if err != nil {
		return SealInfo{}, err
	}
	return sf.info(), nil
}

func readSeal(dataDir string) (*sealFile, error) {
	path := filepath.Join(dataDir, SealFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotInitialized, path)
	}
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	return parseSeal(b)
}

// Unseal opens the seal in req.DataDir and returns a Vault holding the seed. Before decrypting
// it disables core dumps (ProtectProcess). It only reads: a failure changes nothing on disk.
// Errors: ErrNotInitialized, ErrCorruptSeal, ErrUnsupportedVersion, ErrWrongUnlockMethod,
// ErrKDFTooWeak, ErrWrongPassphrase, ErrInvalidShare, ErrShareMismatch, ErrInsufficientShares.
func Unseal(req UnsealRequest) (*Vault, error) {
	sf, err := readSeal(req.DataDir)
	if err != nil {
		return nil, err
	}
	if err := ProtectProcess(); err != nil {
		return nil, err
	}
	var kek *secretBytes
	var keyErr error
	switch sf.kind {
	case KEKPassphrase:
		if req.Passphrase.IsZero() || len(req.Shares) > 0 {
			return nil, fmt.Errorf("%w: this seal is opened with a passphrase", ErrWrongUnlockMethod)
		}
		if err := sf.argon.check(); err != nil {
			return nil, err
		}
		kek, err = passphraseKEK(req.Passphrase, sf.argon, sf.salt[:])
		keyErr = ErrWrongPassphrase
	case KEKShares:
		if !req.Passphrase.IsZero() || len(req.Shares) == 0 {
			return nil, fmt.Errorf("%w: this seal is opened with %d of %d shares", ErrWrongUnlockMethod, sf.threshold, sf.count)
		}
		kek, err = combineShares(&sf.header, req.Shares)
		keyErr = fmt.Errorf("%w: the shares do not open this seal", ErrShareMismatch)
	}
	if err != nil {
		return nil, err
	}
	root, err := sf.open(kek.bytes())
	kek.wipe()
	if errors.Is(err, errKeyCheck) {
		return nil, keyErr
	}
	if err != nil {
		return nil, err
	}
	defer root.wipe()
	seed, err := seedFromEntropy(root.bytes())
	if err != nil {
		return nil, err
	}
	return newVault(seed, sf.info()), nil
}

// seedFromEntropy computes the BIP-39 seed (empty BIP-39 passphrase) into protected memory.
func seedFromEntropy(ent []byte) (*secretBytes, error) {
	mnemonic, err := hd.EntropyToMnemonic(ent)
	if err != nil {
		return nil, corrupt("sealed entropy: %v", err)
	}
	seed := hd.MnemonicToSeed(mnemonic, "")
	wipeString(mnemonic)
	return newSecretFrom(seed)
}
