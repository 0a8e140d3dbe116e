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
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

func init() {
	extraCommands = append(extraCommands,
		command{"facilitator", "run an x402 facilitator (verify and settle exact-EVM payments) over HTTP", runFacilitator},
	)
}

const facilitatorHelp = `
Serve the x402 facilitator API (POST /verify, POST /settle, GET /supported) for the "exact" scheme
on the EVM chain behind --rpc, for x402 v2 (CAIP-2 network "eip155:<chain id>") and v1 (the
chain's network name, when it has one: chain 84532 is "base-sepolia").

The relayer account sends the settlement transactions and pays their gas. Its hex private key is
read from --key-file, which must have mode 0600; the key is never logged or printed and is wiped
on shutdown. The chain id comes from the RPC. --networks restricts what is served to the listed
networks of that chain (CAIP-2 ids or v1 names).

Logs are JSON lines on stderr; the listen URL is printed on stdout once the server accepts
connections. SIGINT or SIGTERM stop it gracefully (settlements in progress may finish).`

func runFacilitator(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "facilitator", "--rpc URL --key-file FILE [flags]", facilitatorHelp)
	rpcURL := fs.String("rpc", "", "JSON-RPC URL of the chain (required)")
	keyFile := fs.String("key-file", "", "file holding the relayer's hex private key, mode 0600 (required)")
	listen := fs.String("listen", "127.0.0.1:4022", "address to serve HTTP on")
	networks := fs.String("networks", "", "comma-separated networks to serve (default: the RPC's chain, v2 and v1)")
	receiptTimeout := fs.Duration("receipt-timeout", facilitator.DefaultReceiptTimeout, "how long a settlement waits for its receipt before answering settlement_pending")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	switch {
	case *rpcURL == "":
		return errors.New("--rpc URL is required (the JSON-RPC endpoint of the chain to settle on)")
	case *keyFile == "":
		return errors.New("--key-file FILE is required (the relayer's hex private key, mode 0600)")
	case *receiptTimeout <= 0:
		return errors.New("--receipt-timeout must be positive")
	}
	// The key is read before any network access so that a bad key file fails fast.
	key, err := facilitator.ReadRelayerKeyFile(*keyFile)
	if err != nil {
		return err
	}
	defer key.Close()

	log := slog.New(slog.NewJSONHandler(env.stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dialCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	// Concurrent verifications and settlements each make several calls: keep connections to
	// the node alive (the default transport keeps two idle connections per host).
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}
	rc, err := rpc.DialOptions(dialCtx, *rpcURL, rpc.WithHTTPClient(hc))
	if err != nil {
		return fmt.Errorf("rpc %s: %w", *rpcURL, err)
	}
	client := ethclient.NewClient(rc)
	defer client.Close()
	id, err := client.ChainID(dialCtx)
	if err != nil {
		return fmt.Errorf("rpc %s: chain id: %w", *rpcURL, err)
	}
	if !id.IsUint64() {
		return fmt.Errorf("rpc %s: chain id %s out of range", *rpcURL, id)
	}
	ch, err := servedNetworks(id.Uint64(), *networks)
	if err != nil {
		return err
	}
	ch.Backend = client
	fac, err := facilitator.New(dialCtx, facilitator.Config{Chains: []facilitator.Chain{ch}, Relayer: key, ReceiptTimeout: *receiptTimeout})
	if err != nil {
		return err
	}
	defer fac.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logRequests(log, fac.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A settlement may wait for its receipt up to --receipt-timeout.
		WriteTimeout: *receiptTimeout + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	sup, _ := fac.Supported(ctx)
	var kinds []string
	for _, k := range sup.Kinds {
		kinds = append(kinds, fmt.Sprintf("v%d:%s", k.X402Version, k.Network))
	}
	url := "http://" + ln.Addr().String()
	log.Info("facilitator started", "url", url, "chain_id", id.Uint64(), "relayer", fac.Address().Hex(), "kinds", kinds)
	fmt.Fprintf(env.stdout, "facilitator listening on %s\n", url)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "err", err.Error())
	}
	log.Info("stopped")
	return nil
}

// servedNetworks turns --networks into the chain's v2/v1 switches. Every entry must name the
// RPC's chain: a CAIP-2 id serves v2, a v1 name serves v1.
func servedNetworks(chainID uint64, list string) (facilitator.Chain, error) {
	ch := facilitator.Chain{ChainID: chainID}
	if strings.TrimSpace(list) == "" {
		return ch, nil
	}
	ch.NoV1, ch.NoV2 = true, true
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		id, err := x402.EVMChainID(n)
		if err != nil {
			return ch, fmt.Errorf("--networks: %w", err)
		}
		if id != chainID {
			return ch, fmt.Errorf("--networks: %s is chain %d, but the RPC serves chain %d", n, id, chainID)
		}
		if strings.Contains(n, ":") {
			ch.NoV2 = false
		} else {
			ch.NoV1 = false
		}
	}
	return ch, nil
}

// logRequests logs one line per request: never bodies, which carry payment payloads.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration_ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
