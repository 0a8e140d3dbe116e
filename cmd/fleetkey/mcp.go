package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/fleetkey/fleetkey/internal/mcpserver"
	"github.com/fleetkey/fleetkey/internal/sidecar"
	"github.com/fleetkey/fleetkey/sdk"
)

func init() {
	extraCommands = append(extraCommands,
		command{"mcp", "MCP server (stdio or streamable HTTP) giving an LLM agent a paying fetch tool", runMCP},
	)
}

const mcpHelp = `
Serve the Model Context Protocol for one agent, over stdin/stdout (the default, for an MCP
client that starts this command) or over streamable HTTP with --http ADDR. The server holds
the agent token of --token-file and offers exactly two tools:

  x402_fetch     {url, method?, headers?, body?, max_amount?}: fetch a URL; a 402 is paid
                 once through fleetkey (--api) under the agent's policy. The result has the
                 status, content type, body (cut at --max-response-body, and says so) and the
                 payment receipt. max_amount is in the asset's atomic units (10000 = 0.01 of a
                 6-decimal token). A refused payment is a tool error with the reason and rule.
  budget_status  the agent, fleet and group the token acts for.

Nothing a client sends can change policy. Over stdio, stdout carries only the protocol; logs
are JSON lines on stderr. With --http the server listens on loopback only unless
--allow-remote, prints its URL on stdout, and stops on SIGINT or SIGTERM.`

func runMCP(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "mcp", "--token-file F [--api URL] [--http ADDR] [flags]", mcpHelp)
	cf := addClientFlags(fs)
	httpAddr := fs.String("http", "", "serve streamable HTTP on this address instead of stdio")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --http address")
	timeout := fs.Duration("timeout", mcpserver.DefaultTimeout, "bound on one fetch, payment and approval wait included")
	maxWait := fs.Duration("max-approval-wait", 90*time.Second, "how long a payment that needs human approval is waited for (0: do not wait)")
	maxResponse := fs.Int("max-response-body", mcpserver.DefaultMaxResponseBody, "bytes of an answer's body shown in a tool result")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if *timeout <= 0 || *maxWait < 0 || *maxResponse <= 0 {
		return errors.New("--timeout and --max-response-body must be positive and --max-approval-wait not negative")
	}
	if *maxWait >= *timeout {
		return fmt.Errorf("--max-approval-wait (%s) must be shorter than --timeout (%s), or the request ends before the approval can arrive", *maxWait, *timeout)
	}
	if *httpAddr != "" {
		if err := sidecar.CheckListen(*httpAddr, *allowRemote); err != nil {
			return fmt.Errorf("%w\nhint: pass --allow-remote to listen there anyway", err)
		}
	}
	payer, err := agentPayer(cf, *maxWait)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(env.stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := checkAgent(ctx, log, payer.Client(), *cf.api); err != nil {
		return err
	}
	srv, err := mcpserver.New(mcpserver.Config{
		Payer: payer, Budget: sdkBudget{payer.Client()},
		Timeout: *timeout, MaxResponseBody: *maxResponse, Version: readBuildInfo().Version,
	})
	if err != nil {
		return err
	}
	if *httpAddr == "" {
		log.Info("mcp server on stdio", "api", *cf.api)
		t := &mcp.IOTransport{Reader: io.NopCloser(env.stdin), Writer: nopWriteCloser{env.stdout}, MaxLineLength: 4 << 20}
		if err := srv.Run(ctx, t); err != nil && !errors.Is(err, io.EOF) && ctx.Err() == nil {
			return err
		}
		log.Info("stopped")
		return nil
	}
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           logSidecarRequests(log, mcpserver.NewHTTPHandler(srv)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	url := "http://" + ln.Addr().String()
	log.Info("mcp server started", "url", url, "api", *cf.api)
	fmt.Fprintf(env.stdout, "mcp server listening on %s\n", url)
	return serveUntilDone(ctx, log, hs, ln)
}

// sdkBudget answers budget_status from GET /v1/agent, the one thing the API offers an agent
// token about itself.
type sdkBudget struct{ c *sdk.Client }

func (b sdkBudget) BudgetStatus(ctx context.Context) (*mcpserver.BudgetStatus, error) {
	id, err := b.c.AgentIdentity(ctx)
	if err != nil {
		return nil, err
	}
	return &mcpserver.BudgetStatus{
		AgentID: id.AgentID, FleetID: id.FleetID, GroupID: id.GroupID,
		Note: "fleetkey does not yet show an agent its policy windows or spend; ask an operator (fleetkey policy show)",
	}, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
