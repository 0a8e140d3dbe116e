package devmode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/demo"
	"github.com/fleetkey/fleetkey/internal/metrics"
	"github.com/fleetkey/fleetkey/internal/server"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// Defaults of a development environment.
const (
	// DefaultDataDir is where `fleetkey dev` keeps its state.
	DefaultDataDir = "./fleetkey-dev"
	// ChainID is the devnet's chain id: base-sepolia's, so that one chain serves x402 v2
	// (eip155:84532) and v1 ("base-sepolia") and the demo API has its v1 endpoint.
	ChainID = 84532
	// DefaultRefresh is how often the live summary is redrawn.
	DefaultRefresh = 2 * time.Second
	// portTries is how many ports after a default are tried when it is taken.
	portTries = 50
)

// Default ports: the API's 8402 as `fleetkey serve`; SidecarPort is left free for
// `fleetkey sidecar`, whose default it is. A component whose default is taken moves past the
// others' defaults and SidecarPort, so that it never takes the port another one, or the
// sidecar the terminal suggests, expects.
const (
	DefaultAPIPort         = 8402
	SidecarPort            = 8403
	DefaultDemoAPIPort     = 8404
	DefaultFacilitatorPort = 8405
	DefaultRPCPort         = 8545
)

// Dev accounts of the devnet (public test keys) and their roles here.
const (
	// treasuryAccount owns TestUSD (it deployed it) and mints to the agents.
	treasuryAccount = 0
	// merchantAccount receives the demo API's payments.
	merchantAccount = 1
	// relayerAccount sends the facilitator's settlements; the genesis funds it with ether.
	relayerAccount = 9
)

// FundAmount is the TestUSD (atomic units) minted to every demo agent on every start: 1000
// tokens, ten times the fleet's daily budget.
var FundAmount = big.NewInt(1000 * 1_000_000)

// Ports are the ports to listen on; 0 means the default. When a port is taken the next free one
// is used.
type Ports struct {
	API, Facilitator, DemoAPI, RPC int
}

// Options configure a development environment.
type Options struct {
	// DataDir holds the state (default DefaultDataDir).
	DataDir string
	// Fresh deletes the contents of DataDir first; only a directory that a development
	// environment created (MarkerFile or ManifestFile present) is ever wiped.
	Fresh bool
	// NoTraffic starts everything but the simulated agents and the auto-approver.
	NoTraffic bool
	// Ports overrides the default ports; AnyPort asks for free ports chosen by the system
	// (tests).
	Ports   Ports
	AnyPort bool
	// Out receives the banner, the addresses and the live summary (default io.Discard).
	Out io.Writer
	// Live redraws the summary in place (a terminal); otherwise it is printed as plain lines
	// when it changed.
	Live bool
	// Width, when positive, is the terminal's width: in Live mode lines are cut to fit, so that
	// none wraps and the redraw stays in place.
	Width int
	// Refresh is how often the summary is drawn (default DefaultRefresh).
	Refresh time.Duration
	// Build names the binary in the daemon's log and metrics.
	Build metrics.BuildInfo
}

// Env is a running development environment. Start builds it, Run serves it until its context
// ends and then stops everything.
type Env struct {
	opt      Options
	dir      string
	manifest Manifest
	out      io.Writer

	net     *devnet.Devnet
	fac     *facilitator.Facilitator
	facSrv  *http.Server
	facLn   net.Listener
	demoAPI *demo.PaidAPI
	demoSrv *http.Server
	demoLn  net.Listener
	srv     *server.Server
	stopSrv context.CancelFunc
	srvDone chan error
	logFile *os.File
	// lock holds the data directory's lock until close.
	lock      *os.File
	fleet     *provisioned
	fleetName string
	reused    bool
	// sidecarAddr is where the suggested `fleetkey sidecar` listens: SidecarPort, or the next
	// free port when it is taken.
	sidecarAddr string
	sum         *demo.Summary
	approved    *approver
	// view reads the daemon's own counts for the fleet block of the live summary.
	view *fleetView

	closeOnce sync.Once
}

// Start prints the development-only banner and builds the environment: data directory (locked),
// seal, devnet, facilitator, daemon (serving from here on, so that the demo fleet is provisioned
// through its operator API), demo fleet, funding, demo API. Run writes the manifest and serves
// the rest. Whatever was started is stopped again when a step fails.
func Start(ctx context.Context, opt Options) (_ *Env, err error) {
	if opt.DataDir == "" {
		opt.DataDir = DefaultDataDir
	}
	if opt.Out == nil {
		opt.Out = io.Discard
	}
	if opt.Refresh <= 0 {
		opt.Refresh = DefaultRefresh
	}
	e := &Env{opt: opt, dir: opt.DataDir, out: opt.Out}
	writeBanner(e.out, e.dir)
	defer func() {
		if err != nil {
			e.close()
		}
	}()

	if e.lock, err = prepareDir(e.dir, opt.Fresh); err != nil {
		return nil, err
	}
	vault, created, err := unsealDev(e.dir)
	if err != nil {
		return nil, err
	}
	// The vault is closed here on failure until server.New owns it.
	defer func() {
		if err != nil && vault != nil {
			vault.Close()
		}
	}()
	e.reused = !created
	if err := bootstrapAdmin(ctx, e.dir, vault); err != nil {
		return nil, err
	}

	// A probed port can be taken before the devnet binds it: then the next one is tried.
	rpcPort := opt.Ports.RPC
	for attempt := 1; ; attempt++ {
		rpcAddr, err := e.probe(rpcPort, DefaultRPCPort)
		if err != nil {
			return nil, fmt.Errorf("devmode: rpc port: %w", err)
		}
		e.net, err = devnet.Start(ctx, devnet.Config{ChainID: ChainID, Listen: rpcAddr})
		if err == nil {
			break
		}
		if !addrInUse(err) || attempt == bindAttempts || e.opt.AnyPort {
			return nil, err
		}
		rpcPort = portOf(rpcAddr) + 1
	}
	accounts := e.net.Accounts()
	treasury, merchant := accounts[treasuryAccount], accounts[merchantAccount]

	relayer, err := facilitator.NewRelayerKey([]byte(accounts[relayerAccount].PrivateKeyHex))
	if err != nil {
		return nil, err
	}
	if e.fac, err = facilitator.New(ctx, facilitator.Config{
		Chains: []facilitator.Chain{{ChainID: ChainID, Backend: e.net.Client()}}, Relayer: relayer,
	}); err != nil {
		relayer.Close()
		return nil, fmt.Errorf("devmode: facilitator: %w", err)
	}
	if e.facLn, err = e.listen(opt.Ports.Facilitator, DefaultFacilitatorPort); err != nil {
		return nil, fmt.Errorf("devmode: facilitator port: %w", err)
	}
	e.facSrv = &http.Server{Handler: e.fac.Handler(), ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout: facilitator.DefaultReceiptTimeout + 30*time.Second}

	if e.logFile, err = os.OpenFile(filepath.Join(e.dir, LogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
		return nil, fmt.Errorf("devmode: log file: %w", err)
	}
	tok := e.net.Token()
	cfg := server.Default()
	cfg.DataDir = e.dir
	cfg.RPCURL = e.net.RPCURL()
	cfg.ShutdownGrace = 5 * time.Second
	cfg.Assets = []server.AssetConfig{{Network: e.net.Network(), Address: tok.Address.Hex(), Symbol: tok.Symbol,
		Decimals: tok.Decimals, EIP712Name: tok.Name, EIP712Version: tok.Version}}
	logger, err := server.NewLogger(e.logFile, cfg.Log)
	if err != nil {
		return nil, err
	}
	apiPort := opt.Ports.API
	for attempt := 1; ; attempt++ {
		if cfg.Listen, err = e.probe(apiPort, DefaultAPIPort); err != nil {
			return nil, fmt.Errorf("devmode: api port: %w", err)
		}
		// server.New owns the vault from here on, and closes it if it fails.
		e.srv, err = server.New(ctx, cfg, server.Options{Logger: logger, Vault: vault, Build: opt.Build})
		vault = nil
		if err == nil {
			break
		}
		if !addrInUse(err) || attempt == bindAttempts || e.opt.AnyPort {
			return nil, err
		}
		// The probed port was taken meanwhile: unseal again for the next one.
		if vault, _, err = unsealDev(e.dir); err != nil {
			return nil, err
		}
		apiPort = portOf(cfg.Listen) + 1
	}

	// The daemon serves from here on, so that the fleet is provisioned through its API.
	srvCtx, stopSrv := context.WithCancel(context.Background())
	e.stopSrv, e.srvDone = stopSrv, make(chan error, 1)
	go func() { e.srvDone <- e.srv.Serve(srvCtx) }()

	spec, err := demo.Fleet(ChainID, tok.Address, merchant.Address)
	if err != nil {
		return nil, err
	}
	if e.fleet, err = provision(ctx, e.srv.URL(), e.dir, treasury.Address.Hex(), spec); err != nil {
		return nil, err
	}
	e.fleetName = spec.Name
	if err := e.fund(ctx); err != nil {
		return nil, err
	}

	if e.demoAPI, err = demo.NewPaidAPI(demo.Config{ChainID: ChainID, Token: tok, Merchant: merchant.Address, Facilitator: e.fac}); err != nil {
		return nil, err
	}
	if err := e.demoAPI.CheckSupported(ctx); err != nil {
		return nil, err
	}
	if e.demoLn, err = e.listen(opt.Ports.DemoAPI, DefaultDemoAPIPort); err != nil {
		return nil, fmt.Errorf("devmode: demo api port: %w", err)
	}
	e.demoSrv = &http.Server{Handler: e.demoAPI, ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout: facilitator.DefaultReceiptTimeout + 30*time.Second}

	if e.sidecarAddr, err = e.probe(0, SidecarPort); err != nil {
		return nil, fmt.Errorf("devmode: sidecar port: %w", err)
	}
	e.manifest = e.buildManifest(treasury.Address, merchant.Address)
	e.view = newFleetView(e.srv.Metrics().Gatherer(), e.srv.Store())
	return e, nil
}

// Manifest is what dev.json holds (written by Run once everything serves).
func (e *Env) Manifest() Manifest { return e.manifest }

// probe returns a free loopback address: the given port, or the default, or the next free one
// after it; port 0 with AnyPort. The port is released again for the component that binds it.
func (e *Env) probe(port, def int) (string, error) {
	ln, err := e.listen(port, def)
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// listen binds a loopback port: port (or def when 0) or the next free one; any free port with
// AnyPort.
func (e *Env) listen(port, def int) (net.Listener, error) {
	if e.opt.AnyPort {
		return net.Listen("tcp", "127.0.0.1:0")
	}
	if port == 0 {
		port = def
	}
	var firstErr error
	for p := port; p < port+portTries && p <= 65535; p++ {
		if e.reserved(p, def) {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("ports %d to %d are all taken: %w", port, port+portTries-1, firstErr)
}

// reserved reports whether a component whose default port is def must skip port p: the
// defaults of the other components and SidecarPort, unless Options.Ports asks for p.
func (e *Env) reserved(p, def int) bool {
	if p == def {
		return false
	}
	o := e.opt.Ports
	if p == o.API || p == o.Facilitator || p == o.DemoAPI || p == o.RPC {
		return false
	}
	switch p {
	case DefaultAPIPort, SidecarPort, DefaultDemoAPIPort, DefaultFacilitatorPort, DefaultRPCPort:
		return true
	}
	return false
}

// bindAttempts bounds the retries when a probed port is taken before it is bound.
const bindAttempts = 3

// addrInUse reports an error of binding a port another process holds.
func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// portOf is the port of a host:port address (0 if it has none).
func portOf(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// fund mints FundAmount TestUSD from the treasury (the token's owner) to every agent: the chain
// is new on every start.
func (e *Env) fund(ctx context.Context) error {
	acct := e.net.Accounts()[treasuryAccount]
	key, err := acct.PrivateKey()
	if err != nil {
		return err
	}
	chainID := new(big.Int).SetUint64(ChainID)
	opts, err := bind.NewKeyedTransactorWithChainID(key, chainID)
	if err != nil {
		return err
	}
	abi, err := bindings.TestUSDMetaData.GetAbi()
	if err != nil {
		return err
	}
	sender := chain.NewSender(e.net.Client(), acct.Address, opts.Signer, chainID)
	token := e.net.Token().Address
	var txs []common.Hash
	for _, a := range e.fleet.Agents {
		data, err := abi.Pack("mint", common.HexToAddress(a.Address), FundAmount)
		if err != nil {
			return err
		}
		tx, err := sender.Send(ctx, chain.Tx{To: &token, Data: data})
		if err != nil {
			return fmt.Errorf("devmode: fund %s: %w", a.Name, err)
		}
		txs = append(txs, tx.Hash())
	}
	for _, h := range txs {
		if _, err := chain.WaitSuccess(ctx, e.net.Client(), h); err != nil {
			return fmt.Errorf("devmode: fund: %w", err)
		}
	}
	return nil
}

func (e *Env) buildManifest(treasury, merchant common.Address) Manifest {
	tok := e.net.Token()
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join(e.dir, name))
		if err != nil {
			return filepath.Join(e.dir, name)
		}
		return p
	}
	absPath := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	dataDir := absPath(e.dir)
	m := Manifest{
		APIURL: e.srv.URL(), RPCURL: e.net.RPCURL(), ChainID: ChainID, Network: e.net.Network(),
		FacilitatorURL: "http://" + e.facLn.Addr().String(), DemoAPIURL: "http://" + e.demoLn.Addr().String(),
		Token:    ManifestToken{Address: tok.Address.Hex(), Name: tok.Name, Version: tok.Version, Decimals: tok.Decimals, Symbol: tok.Symbol},
		Treasury: treasury.Hex(), Merchant: merchant.Hex(),
		AdminTokenFile: abs(datadir.AdminToken), Approver: demo.Approver, ApproverTokenFile: abs(ApproverTokenFile),
		PassphraseFile: abs(PassphraseFile), DataDir: dataDir, LogFile: abs(LogFile),
		Fleet:   ManifestFleet{ID: e.fleet.FleetID, Name: e.fleetName},
		Traffic: !e.opt.NoTraffic, PID: os.Getpid(),
	}
	for i, a := range e.fleet.Agents {
		m.Agents = append(m.Agents, ManifestAgent{Name: a.Name, ID: a.ID, Group: a.Group,
			Address: common.HexToAddress(a.Address).Hex(), TokenFile: absPath(e.fleet.TokenFiles[i])})
	}
	for _, ep := range e.demoAPI.Endpoints() {
		m.DemoEndpoints = append(m.DemoEndpoints, ManifestEndpoint{Path: ep.Path, Price: ep.Price, Kind: string(ep.Kind), URL: m.DemoAPIURL + ep.Path})
	}
	if len(m.Agents) > 0 {
		a := m.Agents[0]
		m.Sidecar = fmt.Sprintf("fleetkey sidecar --api %s --token-file %s --listen %s", m.APIURL, a.TokenFile, e.sidecarAddr)
		m.MCP = fmt.Sprintf("fleetkey mcp --api %s --token-file %s", m.APIURL, a.TokenFile)
	}
	return m
}

// Run serves until ctx ends: the facilitator, the demo API, the daemon and, unless NoTraffic,
// the simulated agents and the auto-approver, with the live summary on Out. dev.json is written
// once everything serves and removed at shutdown. Then everything stops: traffic first, then
// the demo API and the facilitator, then the daemon (a last audit checkpoint, the seed wiped),
// then the devnet. Run returns nil after a shutdown asked for by ctx.
func (e *Env) Run(ctx context.Context) error {
	defer e.close()
	errc := make(chan error, 3)
	go func() { errc <- serveHTTP("facilitator", e.facSrv, e.facLn) }()
	go func() { errc <- serveHTTP("demo api", e.demoSrv, e.demoLn) }()
	b, err := json.MarshalIndent(e.manifest, "", "  ")
	if err != nil {
		return err
	}
	manifestPath := filepath.Join(e.dir, ManifestFile)
	if err := writeFileAtomic(manifestPath, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("devmode: manifest: %w", err)
	}
	defer os.Remove(manifestPath)
	writeAddresses(e.out, e)

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var wg sync.WaitGroup
	if !e.opt.NoTraffic {
		if err := e.startTraffic(runCtx, &wg); err != nil {
			stopRun()
			wg.Wait()
			return err
		}
	}
	wg.Go(func() { e.drawSummary(runCtx) })

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		runErr = err
	case err := <-e.srvDone:
		runErr = fmt.Errorf("devmode: daemon stopped: %w", err)
		e.srvDone <- err
	}
	if e.opt.NoTraffic {
		fmt.Fprintln(e.out, "\nshutting down: demo api, facilitator, daemon, devnet")
	} else {
		fmt.Fprintln(e.out, "\nshutting down: traffic, demo api, facilitator, daemon, devnet")
	}
	stopRun()
	wg.Wait()
	// The last summary, read while the daemon still serves.
	last, cancelLast := context.WithTimeout(context.Background(), 5*time.Second)
	fmt.Fprintln(e.out, strings.Join(e.summaryBlock(last), "\n"))
	cancelLast()
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.demoSrv.Shutdown(shut)
	e.facSrv.Shutdown(shut)
	e.stopSrv()
	err = <-e.srvDone
	e.srvDone = nil
	if err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil {
		fmt.Fprintln(e.out, "stopped cleanly; the next start reuses", e.dir)
	}
	return runErr
}

func serveHTTP(name string, srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("devmode: %s: %w", name, err)
	}
	return nil
}

// Close stops whatever runs; Run calls it. It is idempotent.
func (e *Env) Close() error {
	e.close()
	return nil
}

func (e *Env) close() {
	e.closeOnce.Do(func() {
		if e.demoSrv != nil {
			e.demoSrv.Close()
		} else if e.demoLn != nil {
			e.demoLn.Close()
		}
		if e.facSrv != nil {
			e.facSrv.Close()
		}
		if e.facLn != nil {
			e.facLn.Close()
		}
		switch {
		case e.srvDone != nil:
			// Serve shuts the daemon down: last checkpoint, database closed, seed wiped.
			e.stopSrv()
			<-e.srvDone
		case e.srv != nil:
			e.srv.Close()
		}
		if e.fac != nil {
			e.fac.Close()
		}
		if e.net != nil {
			e.net.Close()
		}
		if e.logFile != nil {
			e.logFile.Close()
		}
		if e.lock != nil {
			e.lock.Close()
		}
	})
}

// logger is for the environment's own events (the auto-approver), into the daemon's log file.
func (e *Env) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(e.logFile, nil)).With("component", "fleetkey-dev")
}
