package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/lifecycle"
	"github.com/fleetkey/fleetkey/internal/metrics"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/reconcile"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/postgres"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

// Options are what a Server needs beyond its Config: things a process, not a file, provides.
type Options struct {
	// Logger receives the daemon's structured log (default: NewLogger(os.Stderr, cfg.Log)).
	Logger *slog.Logger
	// Vault, when set, is an already unsealed root used instead of cfg.Unseal (in-process
	// tests, a development demo). The Server owns it from then on and closes it.
	Vault *custody.Vault
	// Build names the binary in the start log line and in fleetkey_build_info.
	Build metrics.BuildInfo
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is a running fleetkey daemon: an unsealed vault, the database, the payments service
// and the HTTP listener serving the API, /readyz and /metrics. New prepares everything and
// binds the listener; Serve serves until its context ends and then shuts down.
type Server struct {
	cfg     Config
	log     *slog.Logger
	vault   *custody.Vault
	store   store.Store
	reg     *signer.Registry
	audit   *audit.Log
	svc     *payments.Service
	metrics *metrics.Metrics
	rpc     *rpc.Client
	// reconciler runs only when an RPC URL is configured.
	reconciler *reconcile.Reconciler
	ln         net.Listener
	http       *http.Server
	handler    http.Handler
	now        func() time.Time

	// lifecycle serves the key lifecycle routes when an RPC URL is configured (nil otherwise);
	// lifecycleClose wipes its account keys.
	lifecycle      api.LifecycleService
	lifecycleClose func()
	// rotator is the lifecycle Manager behind lifecycle, which also runs scheduled rotation
	// (nil when lifecycle is).
	rotator *lifecycle.Manager
	// anomalyClose saves the anomaly detector's state and stops its webhooks (nil: none);
	// alerts serves the alert routes (nil without a detector).
	anomalyClose func(context.Context) error
	alerts       api.AlertService

	auditPath hd.Path
	// checkpointed is the Seq of the last signed checkpoint.
	cpMu         sync.Mutex
	checkpointed uint64

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg, unseals custody, opens the database (running its migrations), builds the
// payments service, its metrics and the HTTP handler, and binds cfg.Listen. Nothing listens if
// any step fails, and whatever was opened is closed again. opt.Vault, when given, belongs to the
// Server from the call on: it is wiped when New fails and by Close or Serve otherwise. The caller
// then runs Serve, or Close.
func New(ctx context.Context, cfg Config, opt Options) (_ *Server, err error) {
	cfg.Complete()
	if err := cfg.validate(opt.Vault == nil); err != nil {
		if opt.Vault != nil {
			opt.Vault.Close()
		}
		return nil, err
	}
	// From here on the Server owns opt.Vault: Close wipes it if a step fails.
	s := &Server{cfg: cfg, log: opt.Logger, now: opt.Now, vault: opt.Vault}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		if s.log, err = NewLogger(os.Stderr, cfg.Log); err != nil {
			return nil, err
		}
	}
	if s.vault == nil {
		if s.vault, err = unseal(cfg); err != nil {
			return nil, fmt.Errorf("unseal %s: %w", cfg.DataDir, err)
		}
	}
	if s.auditPath, err = hd.ParsePath(audit.KeyPath); err != nil {
		return nil, err
	}
	auditKey, err := s.vault.Key(s.auditPath)
	if err != nil {
		return nil, fmt.Errorf("derive the audit key: %w", err)
	}
	if s.store, err = openStore(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open database %s: %w", dbName(cfg.DB), err)
	}
	if s.reg, err = cfg.registry(); err != nil {
		return nil, err
	}
	if s.audit, err = audit.New(audit.Options{Signer: auditKey, Now: s.now}); err != nil {
		return nil, err
	}
	last, err := lastCheckpoint(ctx, s.store)
	if err != nil {
		return nil, err
	}
	// A database checkpointed by another audit key belongs to another root: its agents' keys
	// would not derive from this seal either. Refuse rather than sign next to it.
	if last != nil && !strings.EqualFold(last.Signer, auditKey.Address().Hex()) {
		return nil, fmt.Errorf("database %s is checkpointed by audit key %s, but the seal in %s derives %s: the database belongs to another root seed",
			dbName(cfg.DB), last.Signer, cfg.DataDir, auditKey.Address().Hex())
	}
	if last != nil {
		s.checkpointed = last.Seq
	}
	pcfg := payments.Config{Store: s.store, Keys: s.vault, Registry: s.reg, Audit: s.audit, Now: s.now}
	if cfg.Anomaly != nil {
		det, closeDet, err := cfg.Anomaly.Open(ctx, s.store, s.audit, s.now)
		if err != nil {
			return nil, fmt.Errorf("anomaly: %w", err)
		}
		s.anomalyClose = closeDet
		if det != nil {
			pcfg.Detector, s.alerts = det, det
		}
	}
	if s.svc, err = payments.New(pcfg); err != nil {
		return nil, err
	}
	if cfg.RPCURL != "" {
		if s.rpc, err = rpc.DialContext(ctx, cfg.RPCURL); err != nil {
			return nil, fmt.Errorf("rpc_url %s: %w", redactURL(cfg.RPCURL), err)
		}
		if s.reconciler, err = reconcile.New(reconcile.Config{
			Store: s.store, Audit: s.audit, RPC: ethclient.NewClient(s.rpc), Registry: s.reg,
			Interval: cfg.Reconcile.Interval, Now: s.now, Logger: s.log,
		}); err != nil {
			return nil, err
		}
		if s.lifecycle, s.lifecycleClose, err = newLifecycle(ctx, cfg, s); err != nil {
			return nil, err
		}
	}
	if s.metrics, err = metrics.New(metrics.Config{
		Store: s.store, Assets: s.reg, Build: opt.Build, Logger: s.log,
		Up: func(ctx context.Context) bool { return s.custodyCheck() == nil && s.databaseCheck(ctx) == nil },
	}); err != nil {
		return nil, err
	}
	svc := s.metrics.Instrument(s.svc)
	s.handler = api.NewHandler(api.Config{
		Payments: svc, Operators: svc, Audit: s.store, AuditKey: auditKey.Address(),
		Logger: s.log, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Lifecycle: s.lifecycle, Alerts: s.alerts,
		Extra: map[api.Route]http.Handler{
			{Method: http.MethodGet, Path: "/readyz"}:  http.HandlerFunc(s.readyz),
			{Method: http.MethodGet, Path: "/metrics"}: s.metrics.Handler(),
		},
	})

	if s.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}

	attrs := []any{
		"listen", s.ln.Addr().String(), "data_dir", cfg.DataDir, "db", dbName(cfg.DB),
		"version", opt.Build.Version, "commit", opt.Build.Commit,
		"audit_key", auditKey.Address().Hex(), "assets", len(s.reg.Assets()),
		"memory_locked", s.vault.MemoryLocked(),
	}
	if cfg.RPCURL != "" {
		attrs = append(attrs, "rpc", redactURL(cfg.RPCURL))
	}
	s.log.Info("fleetkey serving", attrs...)
	if len(s.reg.Assets()) == 0 {
		s.log.Warn("no assets configured: every payment will be refused (unknown_asset); list the trusted tokens under assets: in the config file")
	}
	if !s.vault.MemoryLocked() {
		s.log.Warn("the root seed's memory is not locked against swapping (no CAP_IPC_LOCK or RLIMIT_MEMLOCK too low); run without swap or grant the capability")
	}
	return s, nil
}

// unseal opens the sealed root of cfg.DataDir with the configured passphrase or share files.
func unseal(cfg Config) (*custody.Vault, error) {
	req := custody.UnsealRequest{DataDir: cfg.DataDir}
	if cfg.Unseal.PassphraseFile != "" {
		p, err := custody.ReadPassphraseFile(cfg.Unseal.PassphraseFile)
		if err != nil {
			return nil, err
		}
		defer p.Wipe()
		req.Passphrase = p
	}
	for _, f := range cfg.Unseal.ShareFiles {
		sh, err := custody.ReadShareFile(f)
		if err != nil {
			return nil, err
		}
		defer sh.Wipe()
		req.Shares = append(req.Shares, sh)
	}
	return custody.Unseal(req)
}

// lastCheckpoint returns the newest audit checkpoint, nil when there is none.
func lastCheckpoint(ctx context.Context, st store.Store) (*store.AuditCheckpoint, error) {
	var last *store.AuditCheckpoint
	err := st.ReadTx(ctx, func(rt store.ReadTx) error {
		cps, err := rt.AuditCheckpoints(ctx)
		if len(cps) > 0 {
			last = &cps[len(cps)-1]
		}
		return err
	})
	return last, err
}

// NewLogger returns the daemon's logger: log/slog JSON (or text) lines on w at the configured
// level.
func NewLogger(w io.Writer, lc LogConfig) (*slog.Logger, error) {
	level, err := parseLevel(lc.Level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	o := &slog.HandlerOptions{Level: level}
	switch lc.Format {
	case "json", "":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	}
	return nil, fmt.Errorf("log.format %q: want json or text", lc.Format)
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q: want debug, info, warn or error", s)
}

// redactURL keeps the scheme and host of an RPC URL: its user info, path and query often carry
// an API key.
// openStore opens SQLite, or PostgreSQL for a postgres:// URL.
func openStore(ctx context.Context, cfg Config) (store.Store, error) {
	// Never a typed nil in the interface: Close checks for nil.
	if !postgres.IsURL(cfg.DB) {
		st, err := sqlite.Open(ctx, cfg.DB, sqlite.Options{})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	p := cfg.DBPool
	st, err := postgres.Open(ctx, cfg.DB, postgres.Options{
		MaxConns: p.MaxConns, MinConns: p.MinConns, MaxConnLifetime: p.MaxConnLifetime,
		MaxConnIdleTime: p.MaxConnIdleTime, ConnectTimeout: p.ConnectTimeout,
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// dbName is the database as logs and errors show it: a URL only by scheme and host.
func dbName(db string) string {
	if postgres.IsURL(db) {
		return redactURL(db)
	}
	return db
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "<redacted>"
	}
	out := u.Scheme + "://" + u.Host
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		out += "/<redacted>"
	}
	return out
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is http://Addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Handler is everything the server answers: the API, /readyz and /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// Service is the payments service the API serves (for in-process tests and demos that
// provision without going through HTTP).
func (s *Server) Service() *payments.Service { return s.svc }

// Store is the open database.
func (s *Server) Store() store.Store { return s.store }

// Audit is the audit log the service appends to (for payments.BootstrapAdmin in a demo that
// creates its first operator in-process).
func (s *Server) Audit() *audit.Log { return s.audit }

// Metrics is the server's metrics registry.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Config is the effective configuration.
func (s *Server) Config() Config { return s.cfg }

// Serve answers requests until ctx is done, running the periodic audit checkpoint (and chain
// reconciliation when an RPC URL is configured) beside it. Then it shuts down gracefully: it stops
// accepting connections, lets in-flight requests finish within cfg.ShutdownGrace, signs a last
// checkpoint, closes the database and wipes the vault. It returns nil after a shutdown asked
// for by ctx, or the error that stopped the listener. Serve is called at most once.
func (s *Server) Serve(ctx context.Context) error {
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { s.checkpointLoop(bg) })
	if s.reconciler != nil {
		wg.Go(func() { s.reconcileLoop(bg) })
	} else {
		wg.Go(func() { s.expiryLoop(bg) })
	}
	if s.rotator != nil && s.cfg.Lifecycle.RotationCheckInterval > 0 {
		wg.Go(func() { s.rotationLoop(bg) })
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()

	var serveErr error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down", "grace", s.cfg.ShutdownGrace.String())
	case serveErr = <-errc:
		s.log.Error("listener failed; shutting down", "error", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	if err := s.http.Shutdown(sctx); err != nil {
		s.log.Warn("grace period over: closing the connections still open", "error", err)
		s.http.Close()
	}
	cancel()
	if serveErr == nil {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	stopBG()
	wg.Wait()
	if err := s.checkpoint(context.Background()); err != nil {
		s.log.Error("final audit checkpoint", "error", err)
	}
	if err := s.Close(); err != nil {
		s.log.Error("close", "error", err)
		return errors.Join(serveErr, err)
	}
	s.log.Info("stopped")
	return serveErr
}

// Close releases everything without serving: the listener, the RPC client, the database and the
// vault (wiped). It is idempotent; Serve calls it at the end.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.http != nil {
			errs = append(errs, ignoreClosed(s.http.Close()))
		}
		if s.ln != nil {
			errs = append(errs, ignoreClosed(s.ln.Close()))
		}
		if s.lifecycleClose != nil {
			s.lifecycleClose()
		}
		if s.anomalyClose != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, s.anomalyClose(ctx))
			cancel()
		}
		if s.rpc != nil {
			s.rpc.Close()
		}
		if s.store != nil {
			errs = append(errs, s.store.Close())
		}
		if s.vault != nil {
			errs = append(errs, s.vault.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// checkpointLoop signs the audit head every interval when records were added since the last
// checkpoint.
func (s *Server) checkpointLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.Audit.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.checkpoint(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("audit checkpoint", "error", err)
			}
		}
	}
}

// checkpoint signs the audit chain's head unless it is already signed (or the chain is empty).
func (s *Server) checkpoint(ctx context.Context) error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	var (
		cp   store.AuditCheckpoint
		head store.AuditRecord
	)
	signed := false
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		var err error
		head, err = tx.AuditHead(ctx)
		if errors.Is(err, store.ErrNotFound) || (err == nil && head.Seq <= s.checkpointed) {
			return nil
		}
		if err != nil {
			return err
		}
		cp, err = s.audit.Checkpoint(ctx, tx)
		signed = err == nil
		return err
	})
	if ce := (*store.ConflictError)(nil); errors.As(err, &ce) && ce.Constraint == store.ConstraintAuditCheckpoint && head.Seq > 0 {
		// Another replica on the same database signed this head first.
		s.checkpointed = head.Seq
		return nil
	}
	if err != nil {
		return err
	}
	if signed {
		s.checkpointed = cp.Seq
		s.log.Debug("audit checkpoint", "seq", cp.Seq)
	}
	return nil
}

// reconcileLoop runs chain reconciliation until ctx ends; the reconciler logs and retries its
// own failures.
func (s *Server) reconcileLoop(ctx context.Context) {
	_ = s.reconciler.Run(ctx)
}

// expiryLoop runs when no reconciler does: every reconcile.interval it expires approval requests
// past their expiry, releasing the budget their payments held. That needs no chain (nothing was
// signed); signed authorizations past validBefore are left to a reconciler, which alone can tell a
// lapsed one from a settled one.
func (s *Server) expiryLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.Reconcile.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.svc.ExpireApprovals(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("expire approvals", "error", err)
			case n > 0:
				s.log.Info("approvals expired", "payments_cancelled", n)
			}
		}
	}
}
