package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fleetkey/fleetkey/internal/chain/devnet"
)

func init() {
	extraCommands = append(extraCommands,
		command{"devnet", "run an in-process EVM devnet (JSON-RPC on loopback) with an EIP-3009 test token", runDevnet},
	)
}

const devnetHelp = `
Run a real EVM (go-ethereum) in this process and serve it as JSON-RPC over HTTP on a loopback
address, for development and tests. On start it funds deterministic dev accounts (ganache's
published test mnemonic), deploys the TestUSD EIP-3009 token and places the multicall contract at
the canonical Multicall3 address, mints test tokens to every dev account, and mines a block on each
transaction and every --block-interval. State lives in memory and is gone when it stops.

It prints the RPC URL, chain id, token and dev accounts; --json prints the same as one JSON
document on stdout, and --manifest FILE writes it to FILE. The dev accounts' private keys are
PUBLIC TEST KEYS: never send real funds to them on any real chain.

--chain-id 84532 gives a chain that x402 v1 clients know as "base-sepolia". Stop with Ctrl-C.`

func runDevnet(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "devnet", "[flags]", devnetHelp)
	listen := fs.String("listen", devnet.DefaultListen, "loopback address for JSON-RPC over HTTP (port 0 picks a free port)")
	chainID := fs.Uint64("chain-id", devnet.DefaultChainID, "chain id (84532 for x402 v1 'base-sepolia')")
	interval := fs.Duration("block-interval", devnet.DefaultBlockInterval, "mine an empty block this often when idle (at least 1s)")
	accounts := fs.Int("accounts", devnet.MaxAccounts, fmt.Sprintf("number of funded dev accounts (1..%d)", devnet.MaxAccounts))
	asJSON := fs.Bool("json", false, "print the manifest as JSON on stdout instead of text")
	manifestFile := fs.String("manifest", "", "also write the manifest as JSON to this file")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	cfg := devnet.Config{ChainID: *chainID, Listen: *listen, BlockInterval: *interval, Accounts: *accounts}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	d, err := devnet.Start(startCtx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()

	m := d.Manifest()
	if *manifestFile != "" {
		if err := writeJSONFileAtomic(*manifestFile, m); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(m); err != nil {
			return err
		}
	} else {
		printDevnetManifest(env, m)
	}
	<-ctx.Done()
	fmt.Fprintln(env.stderr, "devnet: stopping")
	return nil
}

func printDevnetManifest(env *cliEnv, m devnet.Manifest) {
	w := env.stdout
	fmt.Fprintf(w, "devnet running (development only, state in memory)\n")
	fmt.Fprintf(w, "rpc       %s\n", m.RPCURL)
	fmt.Fprintf(w, "chain id  %d (%s)\n", m.ChainID, m.Network)
	fmt.Fprintf(w, "token     %s %s (EIP-712 name %q, version %q, %d decimals)\n", m.Token.Symbol, m.Token.Address, m.Token.Name, m.Token.Version, m.Token.Decimals)
	fmt.Fprintf(w, "multicall %s\n", m.Multicall)
	fmt.Fprintf(w, "dev accounts (PUBLIC TEST KEYS, never fund them on a real chain):\n")
	for i, a := range m.Accounts {
		fmt.Fprintf(w, "  %d  %s  %s\n", i, a.Address, a.PrivateKey)
	}
	fmt.Fprintf(w, "press Ctrl-C to stop\n")
}

// writeJSONFileAtomic writes v as indented JSON to path through a temporary file and a rename,
// so a reader never sees a partial manifest.
func writeJSONFileAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".manifest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return errors.Join(fmt.Errorf("write %s", path), err)
	}
	return nil
}
