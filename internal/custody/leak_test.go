package custody

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/crypto/argon2"

	"github.com/fleetkey/fleetkey/internal/custody/slip39"
	"github.com/fleetkey/fleetkey/internal/keys/entropy"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
)

// TestNoSecretOnDiskOrInLogs seals (both kinds), unseals, derives an agent key and signs, logging
// everything a careless daemon might log. Then, as an attacker who can read the data directory,
// the share directory and the log, it searches for the root entropy, its mnemonic, the seed, the
// KEK and the agent's private key, raw and encoded. The secrets are learned through test hooks
// (the entropy source, the vault's seed, a reference BIP-32 derivation); the search itself only
// reads files and the log.
func TestNoSecretOnDiskOrInLogs(t *testing.T) {
	for _, kind := range []string{"passphrase", "shares"} {
		t.Run(kind, func(t *testing.T) {
			var drawn [][]byte // everything the entropy source produced: root entropy, KEK
			readSecretRandom = func(n int) ([]byte, error) {
				b, err := entropy.Read(n)
				drawn = append(drawn, bytes.Clone(b))
				return b, err
			}
			defer func() { readSecretRandom = entropy.Read }()

			var logBuf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			base := t.TempDir()
			dataDir, shareDir := filepath.Join(base, "data"), filepath.Join(base, "shares")
			pass := mustPassphrase(t, testPassphrase)

			req := InitRequest{DataDir: dataDir}
			if kind == "passphrase" {
				req.Passphrase = pass // the real default Argon2id parameters
			} else {
				req.Shares, req.SharesOut = ShareSpec{Threshold: 2, Count: 3}, shareDir
			}
			res, err := Init(req)
			if err != nil {
				t.Fatal(err)
			}
			log.Info("init", "result", res, "request", req, "passphrase", pass)

			var kek []byte
			unseal := UnsealRequest{DataDir: dataDir}
			if kind == "passphrase" {
				unseal.Passphrase = pass
				sf, err := readSeal(dataDir)
				if err != nil {
					t.Fatal(err)
				}
				kek = argon2.IDKey([]byte(testPassphrase), sf.salt[:], sf.argon.Time, sf.argon.MemoryKiB, sf.argon.Threads, kekLen)
				_, err = Unseal(UnsealRequest{DataDir: dataDir, Passphrase: mustPassphrase(t, "not the passphrase")})
				log.Error("unseal failed", "err", err)
			} else {
				var words []string
				for _, f := range res.ShareFiles[:2] {
					sh, err := ReadShareFile(f)
					if err != nil {
						t.Fatal(err)
					}
					log.Info("share read", "share", sh, "mnemonic", sh.Mnemonic)
					unseal.Shares = append(unseal.Shares, sh)
					words = append(words, sh.Mnemonic.s.view())
				}
				if kek, err = slip39.Combine(words, nil); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(kek, drawn[1]) {
					t.Fatal("the recombined KEK is not the drawn one")
				}
				_, err = Unseal(UnsealRequest{DataDir: dataDir, Shares: unseal.Shares[:1]})
				log.Error("unseal failed", "err", err)
			}
			v, err := Unseal(unseal)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			log.Info("unsealed", "vault", v, "info", v.Info(), "request", unseal)

			path, _ := hd.AgentPath(1, 1, 0)
			k, err := v.Key(path)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256([]byte("payment"))
			sig, err := k.SignDigest(digest)
			if err != nil {
				t.Fatal(err)
			}
			log.Info("signed", "key", k, "sig", hex.EncodeToString(sig[:]), "vault", v)
			fmt.Fprintf(&logBuf, "%v %+v %#v %v %+v %#v\n", v, k, pass, res, unseal, res)

			// The secrets, known only through test hooks.
			root := drawn[0]
			mnemonic := mnemonicOf(t, root)
			seed := bytes.Clone(v.seed.bytes())
			if !bytes.Equal(seed, seedOf(mnemonic)) {
				t.Fatal("vault seed is not the seed of the drawn entropy")
			}
			priv := refDerive(seed, path)
			if pk, _ := crypto.ToECDSA(priv); crypto.PubkeyToAddress(pk.PublicKey) != k.Address() {
				t.Fatal("reference derivation does not match the key")
			}
			secrets := map[string][]byte{"root entropy": root, "mnemonic": []byte(mnemonic), "seed": seed, "kek": kek, "agent private key": priv}

			// The attacker's view.
			haystacks := map[string][]byte{"log": logBuf.Bytes()}
			for _, dir := range []string{dataDir, shareDir} {
				filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
					if err == nil && !fi.IsDir() {
						b, err := os.ReadFile(p)
						if err != nil {
							t.Fatal(err)
						}
						haystacks[p] = b
					}
					return nil
				})
			}
			if len(haystacks) < 2 {
				t.Fatal("nothing on disk to search")
			}
			for sname, s := range secrets {
				forms := [][]byte{s, []byte(hex.EncodeToString(s)), []byte(strings.ToUpper(hex.EncodeToString(s))),
					[]byte(base64.StdEncoding.EncodeToString(s)), []byte(base64.RawURLEncoding.EncodeToString(s))}
				if sname != "mnemonic" {
					forms = append(forms, s[:16]) // a partial leak counts too
				}
				for hname, h := range haystacks {
					for _, f := range forms {
						if bytes.Contains(h, f) {
							t.Errorf("%s found in %s", sname, hname)
						}
					}
				}
			}
			if !errors.Is(func() error { _, err := Unseal(UnsealRequest{DataDir: t.TempDir()}); return err }(), ErrNotInitialized) {
				t.Fatal("sanity: empty dir")
			}
		})
	}
}
