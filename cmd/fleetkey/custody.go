package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/keys/entropy"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/postgres"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

func init() {
	extraCommands = append(extraCommands,
		command{"init", "create a data directory: sealed root seed, database and first admin token", runInit},
		command{"keys", "derivation checks: print the address of a key path (never a private key)", runKeys},
	)
}

const defaultDataDir = "./fleetkey-data"

const initHelp = `
Create a new 256-bit root seed (from crypto/rand, behind SP 800-90B start-up health tests) and seal
it in DATA_DIR/custody.seal. The key-encryption key comes from exactly one of:

  --passphrase-file FILE        an operator passphrase (Argon2id); the file must have mode 0600.
                                With --generate-passphrase, FILE must not exist: a random
                                passphrase is written there (mode 0600).
  --shares N --threshold K      K-of-N SLIP-0039 shares (2 <= K <= N <= 16). Each share goes to its
                                own file in --shares-out DIR (mode 0600); without --shares-out the
                                shares are printed to stdout, once.

--import-mnemonic-file FILE seals an existing BIP-39 mnemonic instead of generating one; weak, short
and published test mnemonics are refused.

init then creates the database DATA_DIR/fleetkey.db (SQLite, migrated) with a first operator
credential of role admin (named by --admin-name, default "admin"; stored only as its SHA-256 hash,
its creation recorded in the audit log and checkpointed with the audit key), and writes that
credential's token (fko_...) to DATA_DIR/admin.token with mode 0600. Use it to create the other
operator credentials, then move it somewhere safe or revoke it. With --db postgres://... the
database is that PostgreSQL database instead (migrated; it must hold no operator credential yet),
for replicas that copy DATA_DIR/custody.seal and serve with the same --db.

init refuses a data directory that already holds a seal, a database or an admin token, and never
overwrites any of them. Nothing is written when a step before the seal fails.`

func runInit(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "init", "[flags]", initHelp)
	dataDir := fs.String("data-dir", defaultDataDir, "data directory that will hold the sealed root seed, the database and the admin token")
	passFile := fs.String("passphrase-file", "", "file holding the operator passphrase (mode 0600)")
	genPass := fs.Bool("generate-passphrase", false, "write a new random passphrase to --passphrase-file (must not exist)")
	shares := fs.Int("shares", 0, "number of SLIP-0039 shares to create (N)")
	threshold := fs.Int("threshold", 0, "number of shares needed to unseal (K)")
	sharesOut := fs.String("shares-out", "", "directory to write one share file per operator into (else printed)")
	importFile := fs.String("import-mnemonic-file", "", "seal this BIP-39 mnemonic instead of a new seed (mode 0600)")
	adminName := fs.String("admin-name", "admin", "name of the first admin operator credential")
	db := fs.String("db", "", "database to create: a postgres:// URL (default: SQLite DATA_DIR/fleetkey.db)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	req := custody.InitRequest{DataDir: *dataDir}
	switch {
	case *passFile != "" && (*shares != 0 || *threshold != 0):
		return errors.New("choose either --passphrase-file or --shares/--threshold, not both")
	case *passFile == "" && *shares == 0 && *threshold == 0:
		return errors.New("choose how to hold the key-encryption key: --passphrase-file FILE or --shares N --threshold K")
	case *genPass && *passFile == "":
		return errors.New("--generate-passphrase needs --passphrase-file FILE to write the passphrase to")
	case *sharesOut != "" && *shares == 0:
		return errors.New("--shares-out needs --shares N --threshold K")
	}
	if _, err := custody.Inspect(*dataDir); err == nil {
		return fmt.Errorf("%s is already initialized (%s exists); nothing changed", *dataDir, filepath.Join(*dataDir, custody.SealFileName))
	}
	if *db != "" {
		u, err := url.Parse(*db)
		if err != nil || !postgres.IsURL(*db) {
			return errors.New("--db: give a postgres:// URL (the SQLite database is always DATA_DIR/fleetkey.db)")
		}
		if _, ok := u.User.Password(); ok {
			return errors.New("--db: the URL holds a password: give it in PGPASSWORD or a PGPASSFILE instead")
		}
	}
	for _, name := range []string{datadir.DB, datadir.AdminToken} {
		if name == datadir.DB && *db != "" {
			continue
		}
		if _, err := os.Lstat(datadir.Path(*dataDir, name)); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s is already initialized (%s exists); nothing changed", *dataDir, datadir.Path(*dataDir, name))
		}
	}
	if *adminName == "" {
		return errors.New("--admin-name must not be empty")
	}

	if *importFile != "" {
		m, err := custody.ReadMnemonicFile(*importFile)
		if err != nil {
			return err
		}
		defer m.Wipe()
		req.Import = m
	}

	var createdPassFile string
	if *passFile != "" {
		if *genPass {
			if err := writeGeneratedPassphrase(*passFile); err != nil {
				return err
			}
			createdPassFile = *passFile
		}
		p, err := custody.ReadPassphraseFile(*passFile)
		if err != nil {
			return err
		}
		defer p.Wipe()
		req.Passphrase = p
	} else {
		req.Shares = custody.ShareSpec{Threshold: *threshold, Count: *shares}
		req.SharesOut = *sharesOut
	}

	res, err := custody.Init(req)
	if err != nil {
		if createdPassFile != "" {
			_ = os.Remove(createdPassFile)
		}
		return err
	}
	defer func() {
		for _, s := range res.Shares {
			s.Wipe()
		}
	}()
	info := res.Info
	fmt.Fprintf(env.stdout, "sealed a new root seed in %s\nseal id %s\n", res.SealPath, info.SealID)
	tokenPath, err := initDatabase(*dataDir, *db, *adminName, req.Passphrase, res)
	if err != nil {
		return fmt.Errorf("the root seed is sealed, but the database is not ready: %w", err)
	}
	if *db != "" {
		u, _ := url.Parse(*db)
		fmt.Fprintf(env.stdout, "created the fleetkey tables in PostgreSQL at %s\n", u.Host)
	} else {
		fmt.Fprintf(env.stdout, "created database %s\n", datadir.Path(*dataDir, datadir.DB))
	}
	fmt.Fprintf(env.stdout, "first admin token written to %s (mode 0600): keep it secret; it is shown nowhere else\n", tokenPath)
	switch info.Kind {
	case custody.KEKPassphrase:
		a := info.Argon2
		fmt.Fprintf(env.stdout, "unseal with: passphrase (argon2id, %d MiB, %d passes, %d lanes)\n", a.MemoryKiB/1024, a.Time, a.Threads)
		if createdPassFile != "" {
			fmt.Fprintf(env.stdout, "generated passphrase written to %s (mode 0600): keep it apart from the data directory\n", createdPassFile)
		}
	case custody.KEKShares:
		fmt.Fprintf(env.stdout, "unseal with: any %d of %d SLIP-0039 shares\n", info.Threshold, info.Count)
		if len(res.ShareFiles) > 0 {
			for _, f := range res.ShareFiles {
				fmt.Fprintf(env.stdout, "share file %s\n", f)
			}
			fmt.Fprintf(env.stdout, "hand each share file to a different operator, then delete it from this machine\n")
		} else {
			fmt.Fprintf(env.stdout, "\nthe shares follow; they are shown once and not stored anywhere:\n\n")
			for _, s := range res.Shares {
				if _, err := s.WriteTo(env.stdout); err != nil {
					return err
				}
				fmt.Fprintln(env.stdout)
			}
		}
	}
	return nil
}

// initDatabase unseals the new seal again (with the passphrase, or with the first K
// shares), creates the database with the first admin credential, checkpoints the
// audit log with the audit key, and writes the admin token to a new 0600 file. It
// returns the token file's path.
func initDatabase(dataDir, db, adminName string, pass custody.Passphrase, res *custody.InitResult) (string, error) {
	ureq := custody.UnsealRequest{DataDir: dataDir}
	switch {
	case res.Info.Kind == custody.KEKPassphrase:
		ureq.Passphrase = pass
	case len(res.Shares) > 0:
		ureq.Shares = res.Shares[:res.Info.Threshold]
	default:
		for _, f := range res.ShareFiles[:res.Info.Threshold] {
			s, err := custody.ReadShareFile(f)
			if err != nil {
				return "", err
			}
			defer s.Wipe()
			ureq.Shares = append(ureq.Shares, s)
		}
	}
	vault, err := custody.Unseal(ureq)
	if err != nil {
		return "", err
	}
	defer vault.Close()
	p, err := hd.ParsePath(audit.KeyPath)
	if err != nil {
		return "", err
	}
	auditKey, err := vault.Key(p)
	if err != nil {
		return "", fmt.Errorf("derive the audit key: %w", err)
	}
	log, err := audit.New(audit.Options{Signer: auditKey})
	if err != nil {
		return "", err
	}

	// The token file is created (empty, O_EXCL) before the credential, so that a
	// token is never made that cannot be written.
	tokenPath := datadir.Path(dataDir, datadir.AdminToken)
	f, err := os.OpenFile(tokenPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("%s already exists; init never overwrites it", tokenPath)
		}
		return "", err
	}
	written := false
	defer func() {
		if !written {
			f.Close()
			os.Remove(tokenPath)
		}
	}()

	ctx := context.Background()
	var st store.Store
	if db != "" {
		pst, err := postgres.Open(ctx, db, postgres.Options{})
		if err != nil {
			return "", err
		}
		defer pst.Close()
		st = pst
	} else {
		sst, err := sqlite.Open(ctx, datadir.Path(dataDir, datadir.DB), sqlite.Options{})
		if err != nil {
			return "", err
		}
		defer sst.Close()
		st = sst
	}
	ic, err := payments.BootstrapAdmin(ctx, st, log, adminName, time.Now())
	if err != nil {
		return "", err
	}
	defer ic.Token.Wipe()
	if err := st.Tx(ctx, func(tx store.Tx) error {
		_, err := log.Checkpoint(ctx, tx)
		return err
	}); err != nil {
		return "", fmt.Errorf("audit checkpoint: %w", err)
	}
	text := []byte(ic.Token.Reveal() + "\n")
	defer clear(text)
	if _, err := f.Write(text); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	written = true
	return tokenPath, nil
}

// writeGeneratedPassphrase writes 32 random bytes, base64url-encoded, to a new 0600 file.
func writeGeneratedPassphrase(path string) error {
	raw, err := entropy.Read(32)
	if err != nil {
		return err
	}
	defer clear(raw)
	enc := make([]byte, base64.RawURLEncoding.EncodedLen(len(raw))+1)
	defer clear(enc)
	base64.RawURLEncoding.Encode(enc, raw)
	enc[len(enc)-1] = '\n'
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; --generate-passphrase never overwrites a file", path)
		}
		return err
	}
	if _, err := f.Write(enc); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

const keysAddressHelp = `
Print the EIP-55 checksummed address of one key path. Nothing secret is ever printed.

The key path is --path PATH (BIP-32, e.g. "m/44'/60'/0'/0/0"; ' and h both mark hardened) or
--agent FLEET/AGENT/GENERATION, the fleetkey agent path m/44'/60'/FLEET'/AGENT'/GENERATION'.

The root is either
  --mnemonic-file FILE                          a BIP-39 mnemonic (a derivation check tool: test
                                                mnemonics are accepted here), or
  --data-dir DIR with --passphrase-file FILE    the sealed root seed of DIR, unsealed in memory, or
  --data-dir DIR with --share-file F (repeated) K share files.`

func runKeys(env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "address" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(env.stdout, "usage: fleetkey keys address [flags]\n%s\n", keysAddressHelp)
			return nil
		}
		fmt.Fprintf(env.stderr, "usage: fleetkey keys address [flags]\n")
		return errUsage
	}
	fs := newFlagSet(env, "keys address", "[flags]", keysAddressHelp)
	pathFlag := fs.String("path", "", "BIP-32 path, e.g. m/44'/60'/0'/0/0")
	agentFlag := fs.String("agent", "", "fleetkey agent path as FLEET/AGENT/GENERATION")
	mnemonicFile := fs.String("mnemonic-file", "", "BIP-39 mnemonic file (mode 0600)")
	bip39Pass := fs.String("bip39-passphrase-file", "", "optional BIP-39 passphrase file for --mnemonic-file (mode 0600)")
	dataDir := fs.String("data-dir", "", "data directory with a sealed root seed")
	passFile := fs.String("passphrase-file", "", "passphrase file to unseal --data-dir")
	var shareFiles stringsFlag
	fs.Var(&shareFiles, "share-file", "share file to unseal --data-dir (repeat K times)")
	if err := parseFlags(env, fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	path, err := keyPathFromFlags(*pathFlag, *agentFlag)
	if err != nil {
		return err
	}

	var vault *custody.Vault
	switch {
	case *mnemonicFile != "" && *dataDir != "":
		return errors.New("choose either --mnemonic-file or --data-dir, not both")
	case *mnemonicFile != "":
		if *passFile != "" || len(shareFiles) > 0 {
			return errors.New("--passphrase-file and --share-file unseal a --data-dir; use --bip39-passphrase-file for a mnemonic's passphrase")
		}
		m, err := custody.ReadMnemonicFile(*mnemonicFile)
		if err != nil {
			return err
		}
		defer m.Wipe()
		var bp custody.Passphrase
		if *bip39Pass != "" {
			if bp, err = custody.ReadPassphraseFile(*bip39Pass); err != nil {
				return err
			}
			defer bp.Wipe()
		}
		if vault, err = custody.VaultFromMnemonic(m, bp); err != nil {
			return err
		}
	case *dataDir != "":
		if vault, err = unsealFromFlags(*dataDir, *passFile, shareFiles); err != nil {
			return err
		}
	default:
		return errors.New("give the root: --mnemonic-file FILE, or --data-dir DIR with --passphrase-file or --share-file")
	}
	defer vault.Close()
	key, err := vault.Key(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, key.Address().Hex())
	return nil
}

func keyPathFromFlags(pathFlag, agentFlag string) (hd.Path, error) {
	switch {
	case pathFlag != "" && agentFlag != "":
		return nil, errors.New("choose either --path or --agent, not both")
	case pathFlag != "":
		return hd.ParsePath(pathFlag)
	case agentFlag != "":
		parts := strings.Split(agentFlag, "/")
		if len(parts) != 3 {
			return nil, fmt.Errorf("--agent %q: want FLEET/AGENT/GENERATION, e.g. 0/1/0", agentFlag)
		}
		var n [3]uint32
		for i, p := range parts {
			v, err := strconv.ParseUint(p, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--agent %q: %q is not a non-negative integer", agentFlag, p)
			}
			n[i] = uint32(v)
		}
		return hd.AgentPath(n[0], n[1], n[2])
	default:
		return nil, errors.New("give the key path: --path PATH or --agent FLEET/AGENT/GENERATION")
	}
}

// unsealFromFlags opens the seal in dataDir with a passphrase file or share files.
func unsealFromFlags(dataDir, passFile string, shareFiles []string) (*custody.Vault, error) {
	req := custody.UnsealRequest{DataDir: dataDir}
	switch {
	case passFile != "" && len(shareFiles) > 0:
		return nil, errors.New("choose either --passphrase-file or --share-file, not both")
	case passFile != "":
		p, err := custody.ReadPassphraseFile(passFile)
		if err != nil {
			return nil, err
		}
		defer p.Wipe()
		req.Passphrase = p
	case len(shareFiles) > 0:
		for _, f := range shareFiles {
			s, err := custody.ReadShareFile(f)
			if err != nil {
				return nil, err
			}
			defer s.Wipe()
			req.Shares = append(req.Shares, s)
		}
	default:
		info, err := custody.Inspect(dataDir)
		if err != nil {
			return nil, err
		}
		if info.Kind == custody.KEKShares {
			return nil, fmt.Errorf("%s is sealed with %d-of-%d shares: give --share-file %d times", dataDir, info.Threshold, info.Count, info.Threshold)
		}
		return nil, fmt.Errorf("%s is sealed with a passphrase: give --passphrase-file FILE", dataDir)
	}
	return custody.Unseal(req)
}
