package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/fleetkey/fleetkey/internal/metrics"
	"github.com/fleetkey/fleetkey/internal/server"
)

func init() {
	extraCommands = append(extraCommands,
		command{"serve", "run the signing daemon: agent and operator HTTP API, /readyz, /metrics", runServe})
}

const serveHelp = `
Unseal the root seed of --data-dir, open the database (DATA_DIR/fleetkey.db unless --db) and serve
the HTTP API with /readyz and /metrics on --listen until SIGINT or SIGTERM; then finish the
requests in flight (shutdown_grace), sign a last audit checkpoint, close the database, wipe the
seed from memory and exit 0. If unsealing or any other start step fails, nothing listens and the
exit status is 1.

Settings come from --config FILE (YAML; unknown keys are errors; see docs/operations.md), then
from the flags below, which override the file. Trusted assets are set in the file only: with
none, every payment is refused (the start log warns). --print-config prints the effective
configuration and exits; it holds paths, never secrets (an RPC URL's path and query are
redacted). Logs are JSON lines on stderr (--log-format text for people).`

func runServe(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "serve", "[flags]", serveHelp)
	configFile := fs.String("config", "", "YAML configuration file")
	listen := fs.String("listen", server.DefaultListen, "address to listen on (port 0: any free port)")
	dataDir := fs.String("data-dir", defaultDataDir, "data directory with the sealed root seed")
	db := fs.String("db", "", "SQLite database file or postgres:// URL (default DATA_DIR/fleetkey.db)")
	rpcURL := fs.String("rpc", "", "EVM JSON-RPC URL for chain reconciliation and the /readyz rpc check")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	passFile := fs.String("passphrase-file", "", "passphrase file that unseals --data-dir (mode 0600)")
	var shareFiles stringsFlag
	fs.Var(&shareFiles, "share-file", "share file that unseals --data-dir (repeat K times)")
	addrFile := fs.String("addr-file", "", "write the listening address (HOST:PORT) to this file once listening")
	printConfig := fs.Bool("print-config", false, "print the effective configuration as YAML and exit")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}

	cfg := server.Default()
	if *configFile != "" {
		var err error
		if cfg, err = server.LoadConfig(*configFile); err != nil {
			return err
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			cfg.Listen = *listen
		case "data-dir":
			cfg.DataDir = *dataDir
		case "db":
			cfg.DB = *db
		case "rpc":
			cfg.RPCURL = *rpcURL
		case "log-level":
			cfg.Log.Level = *logLevel
		case "log-format":
			cfg.Log.Format = *logFormat
		case "passphrase-file":
			cfg.Unseal = server.UnsealConfig{PassphraseFile: *passFile}
		case "share-file":
			cfg.Unseal = server.UnsealConfig{ShareFiles: shareFiles}
		}
	})
	if *passFile != "" && len(shareFiles) > 0 {
		return errors.New("choose either --passphrase-file or --share-file, not both")
	}
	cfg.Complete()
	if *printConfig {
		_, err := env.stdout.Write(cfg.Redacted().YAML())
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger, err := server.NewLogger(env.stderr, cfg.Log)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bi := readBuildInfo()
	srv, err := server.New(ctx, cfg, server.Options{Logger: logger,
		Build: metrics.BuildInfo{Version: bi.Version, Commit: bi.Commit, GoVersion: bi.GoVersion}})
	if err != nil {
		return err
	}
	if *addrFile != "" {
		if err := writeFileAtomic(*addrFile, []byte(srv.Addr()+"\n")); err != nil {
			srv.Close()
			return fmt.Errorf("--addr-file: %w", err)
		}
	}
	return srv.Serve(ctx)
}

// writeFileAtomic writes a new file under a temporary name and renames it into place, so a
// reader polling for path never sees it half written.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
