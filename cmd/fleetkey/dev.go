package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetkey/fleetkey/internal/devmode"
	"github.com/fleetkey/fleetkey/internal/metrics"
)

func init() {
	extraCommands = append(extraCommands,
		command{"dev", "DEVELOPMENT ONLY: the whole system and a demo in one process (devnet, facilitator, signer, paid API, agents)", runDev})
}

const devHelp = `
DEVELOPMENT ONLY. Run the whole system in one process: an in-memory devnet with the TestUSD
token, an x402 facilitator, the signing daemon on SQLite in --data-dir, a demo paid API with
honest and hostile endpoints, a demo fleet (two groups, six agents, policies with budgets,
allowlists and an approval rule), an approver credential, and simulated agents that pay, get
denied and wait for approval, with a live summary (redrawn in place on a terminal, plain lines
otherwise). --no-traffic starts everything but the simulated agents and the auto-approver.

The root seed is sealed under a passphrase generated on first start and stored in the data
directory (dev.passphrase), so this directory alone unseals it: never use it for anything of
value. DATA_DIR/dev.json (while running) lists the URLs, the chain, the token, the agents with
their token files and the demo endpoints; see docs/dev.md.

Ports: API 8402, demo API 8404, facilitator 8405, RPC 8545 (8403 is left for "fleetkey
sidecar"); when one is taken the next free one that is none of these is used (the terminal
and dev.json show the real ones), and --any-port takes free ports the system picks.

A second start reuses the data directory (keys, agents, policies, payments, audit chain); the
chain is new each time and the agents are funded again. --fresh deletes the data directory's contents first, and only if a
previous "fleetkey dev" created it. SIGINT or SIGTERM stop everything cleanly.`

func runDev(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "dev", "[--data-dir DIR] [--fresh] [--no-traffic] [--any-port]", devHelp)
	dataDir := fs.String("data-dir", devmode.DefaultDataDir, "data directory of the development environment")
	fresh := fs.Bool("fresh", false, "delete the contents of --data-dir first (only a fleetkey dev data directory)")
	noTraffic := fs.Bool("no-traffic", false, "start without simulated agents and without the auto-approver")
	anyPort := fs.Bool("any-port", false, "listen on free ports the system picks instead of the defaults (tests; several environments at once)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	live, width := false, 0
	if f, ok := env.stdout.(*os.File); ok && isTerminal(f) {
		live, width = true, devmode.TerminalWidth(f)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bi := readBuildInfo()
	e, err := devmode.Start(ctx, devmode.Options{
		DataDir: *dataDir, Fresh: *fresh, NoTraffic: *noTraffic, AnyPort: *anyPort,
		Out: env.stdout, Live: live, Width: width,
		Build: metrics.BuildInfo{Version: bi.Version, Commit: bi.Commit, GoVersion: bi.GoVersion},
	})
	if err != nil {
		return err
	}
	return e.Run(ctx)
}

// isTerminal reports whether f is a character device (a terminal), where the summary is redrawn
// in place.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
