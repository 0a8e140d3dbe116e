package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fleetkey/fleetkey/internal/sidecar"
	"github.com/fleetkey/fleetkey/sdk"
)

func init() {
	extraCommands = append(extraCommands,
		command{"sidecar", "local HTTP proxy/gateway that pays x402 402s for an agent in any language", runSidecar},
	)
}

const sidecarHelp = `
Serve a local HTTP endpoint for one agent: it holds the agent token of --token-file and pays
x402 402 answers through fleetkey (--api), so the agent's own code makes plain HTTP requests.

  forward proxy:  HTTP_PROXY=http://127.0.0.1:8403 curl http://api.example.com/weather
  gateway:        curl http://127.0.0.1:8403/https://api.example.com/weather

https URLs go through the gateway form: CONNECT is refused (405), because a tunnel would hide
the 402. A paid answer carries X-Fleetkey-Payment: amount=…; asset=…; pay_to=…; network=…;
tx=…. A payment policy refuses is a 403 JSON error with the reason and the rule; a payment the
resource server rejects is its 402 with X-Fleetkey-Payment-Error. A payment that needs human
approval is waited for up to --max-approval-wait, and every request ends within --timeout.

The sidecar listens on loopback only; another address needs --allow-remote, and then anyone
who reaches it can spend the agent's budget. The token is never sent to resource servers. Logs
are JSON lines on stderr (no bodies, no query strings); the listen URL is printed on stdout
once the sidecar accepts connections. SIGINT or SIGTERM stop it.`

// defaultSidecarListen is next to the API's default port 8402.
const defaultSidecarListen = "127.0.0.1:8403"

func runSidecar(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "sidecar", "--token-file F [--api URL] [--listen ADDR] [flags]", sidecarHelp)
	cf := addClientFlags(fs)
	listen := fs.String("listen", defaultSidecarListen, "address to listen on (loopback unless --allow-remote)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --listen and gateway requests with any Host")
	timeout := fs.Duration("timeout", sidecar.DefaultTimeout, "bound on one request, payment and approval wait included")
	maxWait := fs.Duration("max-approval-wait", 90*time.Second, "how long a payment that needs human approval is waited for (0: do not wait)")
	maxBody := fs.Int64("max-body", sidecar.DefaultMaxBody, "largest request body accepted (bodies are buffered to resend them with the payment)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if *timeout <= 0 || *maxWait < 0 || *maxBody <= 0 {
		return errors.New("--timeout and --max-body must be positive and --max-approval-wait not negative")
	}
	if *maxWait >= *timeout {
		return fmt.Errorf("--max-approval-wait (%s) must be shorter than --timeout (%s), or the request ends before the approval can arrive", *maxWait, *timeout)
	}
	if err := sidecar.CheckListen(*listen, *allowRemote); err != nil {
		return fmt.Errorf("%w\nhint: pass --allow-remote to listen there anyway", err)
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
	h, err := sidecar.New(sidecar.Config{Payer: payer, Timeout: *timeout, MaxBody: *maxBody, AllowRemote: *allowRemote})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logSidecarRequests(log, h),
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are read whole before anything is sent on: a slow client must not hold
		// the sidecar.
		ReadTimeout: time.Minute,
		// The handler bounds each exchange with --timeout; leave room to write the error.
		WriteTimeout: *timeout + 10*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	url := "http://" + ln.Addr().String()
	log.Info("sidecar started", "url", url, "api", *cf.api)
	fmt.Fprintf(env.stdout, "sidecar listening on %s\n", url)
	return serveUntilDone(ctx, log, srv, ln)
}

// agentPayer reads the agent token and returns the SDK payer (the token stays in it).
func agentPayer(cf clientFlags, maxWait time.Duration) (*sdk.Payer, error) {
	c, err := cf.client(sdk.WithMaxApprovalWait(maxWait))
	if err != nil {
		return nil, err
	}
	return sdk.PayerFromClient(c), nil
}

// checkAgent asks the API whom the token acts for: a refused token stops the command; an API
// that does not answer yet is only logged, since payments will reach it once it is up.
func checkAgent(ctx context.Context, log *slog.Logger, c *sdk.Client, api string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id, err := c.AgentIdentity(ctx)
	switch {
	case errors.Is(err, sdk.ErrUnauthenticated):
		return apiError(err, api)
	case err != nil:
		log.Warn("fleetkey api not reachable yet; payments will fail until it is", "api", api, "err", err.Error())
		return nil
	}
	log.Info("paying as agent", "agent_id", id.AgentID, "fleet_id", id.FleetID, "group_id", id.GroupID)
	return nil
}

// serveUntilDone serves until ctx ends, then shuts down gracefully.
func serveUntilDone(ctx context.Context, log *slog.Logger, srv *http.Server, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "err", err.Error())
	}
	log.Info("stopped")
	return nil
}

// logSidecarRequests (sidecar and mcp --http) logs one line per request: the target's
// scheme, host and path only (queries may carry keys), the status and the payment receipt if
// any; never bodies.
func logSidecarRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &sidecarWriter{ResponseWriter: w, status: http.StatusOK}
		target := r.URL.Scheme + "://" + r.URL.Host + r.URL.Path
		if !r.URL.IsAbs() {
			target = r.URL.Path
		}
		if len(target) > 300 {
			target = target[:300]
		}
		defer func() {
			attrs := []any{"method", r.Method, "target", target, "status", rw.status,
				"duration_ms", time.Since(start).Milliseconds()}
			if p := rw.Header().Get(sidecar.HeaderPayment); p != "" {
				attrs = append(attrs, "payment", p)
			}
			if e := rw.Header().Get(sidecar.HeaderPaymentError); e != "" {
				attrs = append(attrs, "payment_error", e)
			}
			log.Info("request", attrs...)
		}()
		next.ServeHTTP(rw, r)
	})
}

type sidecarWriter struct {
	http.ResponseWriter
	status int
}

func (s *sidecarWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController flush streamed answers through the wrapper.
func (s *sidecarWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
