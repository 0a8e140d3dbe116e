package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"gopkg.in/yaml.v3"

	"github.com/fleetkey/fleetkey/internal/anomaly"
	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store/postgres"
)

// Defaults of the settings that have one. Every setting has a default that works on one
// machine; only how to unseal must be given.
const (
	DefaultListen            = "127.0.0.1:8402"
	DefaultDataDir           = "./fleetkey-data"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 90 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	// DefaultMaxBodyBytes is the API's own default, which leaves room for the largest 402
	// demand the parser accepts (x402.MaxHeaderSize) inside a payment request.
	DefaultMaxBodyBytes       = api.DefaultMaxBodyBytes
	DefaultCheckpointInterval = time.Minute
	DefaultShutdownGrace      = 15 * time.Second
	DefaultReconcileInterval  = 5 * time.Second
	// DefaultRotationCheckInterval is how often the daemon looks for keys their policy's
	// rotation rule says are due.
	DefaultRotationCheckInterval = time.Minute
)

// MaxLongPoll is the longest an agent's GET /v1/payments/{id}?wait= may hold a request; the
// write timeout must leave room for it.
const MaxLongPoll = 60 * time.Second

// Config is the daemon's configuration: decoded from one YAML file (LoadConfig), overridden by
// flags, completed (Complete) and checked (Validate). It holds no secret, only the paths of the
// files that do, so printing it is safe.
type Config struct {
	// Listen is the TCP address of the HTTP API, /readyz and /metrics; port 0 picks a free one.
	Listen string `yaml:"listen"`
	// DataDir holds the sealed root (custody.seal) and, by default, the database.
	DataDir string `yaml:"data_dir"`
	// DB is the SQLite database file (default DataDir/fleetkey.db), or a postgres:// URL
	// (several replicas may share one PostgreSQL database). The URL carries no password:
	// give it in PGPASSWORD or a PGPASSFILE.
	DB string `yaml:"db"`
	// DBPool tunes the PostgreSQL connection pool; unused with SQLite.
	DBPool DBPoolConfig `yaml:"db_pool"`
	// RPCURL is an EVM JSON-RPC endpoint. When set, authorizations are reconciled with the
	// chain and /readyz checks that the endpoint answers. Optional.
	RPCURL string `yaml:"rpc_url"`

	Log       LogConfig       `yaml:"log"`
	Unseal    UnsealConfig    `yaml:"unseal"`
	Assets    []AssetConfig   `yaml:"assets"`
	HTTP      HTTPConfig      `yaml:"http"`
	Audit     AuditConfig     `yaml:"audit"`
	Reconcile ReconcileConfig `yaml:"reconcile"`
	// Lifecycle names the accounts the key lifecycle routes submit transactions from; the
	// routes run when rpc_url is set (docs/lifecycle.md).
	Lifecycle LifecycleConfig `yaml:"lifecycle"`
	// Anomaly, when the section is present, runs the anomaly detector on the signing path
	// (docs/anomaly.md); absent, there is none.
	Anomaly *anomaly.Settings `yaml:"anomaly"`
	// ShutdownGrace is how long in-flight requests may run after SIGINT/SIGTERM.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
}

// LogConfig selects the daemon's log output (always stderr).
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// UnsealConfig says how to open the sealed root: exactly one of a passphrase file (mode 0600)
// or the share files of K operators.
type UnsealConfig struct {
	PassphraseFile string   `yaml:"passphrase_file,omitempty"`
	ShareFiles     []string `yaml:"share_files,omitempty"`
}

// AssetConfig is one trusted token: payments in any other asset are refused.
type AssetConfig struct {
	// Network is the CAIP-2 chain id, e.g. eip155:8453.
	Network string `yaml:"network"`
	// Address is the token contract, 0x + 40 hex digits.
	Address  string `yaml:"address"`
	Symbol   string `yaml:"symbol"`
	Decimals uint8  `yaml:"decimals"`
	// EIP712Name and EIP712Version are the token's EIP-712 domain ("USD Coin", "2").
	EIP712Name    string `yaml:"eip712_name"`
	EIP712Version string `yaml:"eip712_version"`
}

// HTTPConfig bounds the HTTP server.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	// WriteTimeout must exceed MaxLongPoll.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// AuditConfig tunes the audit log.
type AuditConfig struct {
	// CheckpointInterval is how often the chain head is signed with the audit key when records
	// were added since the last checkpoint; one more is signed at shutdown.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
}

// DBPoolConfig tunes the PostgreSQL connection pool; zero values take the defaults of
// package store/postgres (16 connections, none kept idle, 1h lifetime, 30m idle time,
// 5s connect timeout).
type DBPoolConfig struct {
	MaxConns        int32         `yaml:"max_conns,omitempty"`
	MinConns        int32         `yaml:"min_conns,omitempty"`
	MaxConnLifetime time.Duration `yaml:"max_conn_lifetime,omitempty"`
	MaxConnIdleTime time.Duration `yaml:"max_conn_idle_time,omitempty"`
	// ConnectTimeout bounds each dial, so that requests fail quickly while the database is
	// unreachable.
	ConnectTimeout time.Duration `yaml:"connect_timeout,omitempty"`
}

// LifecycleConfig gives the key lifecycle (POST /v1/agents/{id}/revoke and /rotate) its
// accounts: hex private key files of mode 0600. Without them those routes answer 503.
type LifecycleConfig struct {
	// RelayerKeyFile is the account that submits cancellations and sweeps and pays their gas.
	RelayerKeyFile string `yaml:"relayer_key_file,omitempty"`
	// GasSponsorKeyFile is the account that funds an agent key's gas for allowance resets.
	GasSponsorKeyFile string `yaml:"gas_sponsor_key_file,omitempty"`
	// LogsFromBlock is the first block searched for Approval logs.
	LogsFromBlock uint64 `yaml:"logs_from_block,omitempty"`
	// RotationCheckInterval is how often the daemon rotates the agents whose key the rotation
	// rule of their policy says is due (docs/policy.md); 0 turns scheduled rotation off in this
	// daemon. Every replica may run it: a key another replica just rotated is not rotated again.
	RotationCheckInterval time.Duration `yaml:"rotation_check_interval"`
}

// ReconcileConfig tunes chain reconciliation.
type ReconcileConfig struct {
	// Interval is the pause between reconciliation passes when RPCURL is set; without it, the
	// pause between sweeps of expired approval requests.
	Interval time.Duration `yaml:"interval"`
}

// Default returns the configuration of a daemon on one machine, before the unseal method is
// chosen.
func Default() Config {
	return Config{
		Listen:  DefaultListen,
		DataDir: DefaultDataDir,
		Log:     LogConfig{Level: "info", Format: "json"},
		HTTP: HTTPConfig{
			ReadHeaderTimeout: DefaultReadHeaderTimeout, ReadTimeout: DefaultReadTimeout,
			WriteTimeout: DefaultWriteTimeout, IdleTimeout: DefaultIdleTimeout, MaxBodyBytes: DefaultMaxBodyBytes,
		},
		Audit:         AuditConfig{CheckpointInterval: DefaultCheckpointInterval},
		Reconcile:     ReconcileConfig{Interval: DefaultReconcileInterval},
		Lifecycle:     LifecycleConfig{RotationCheckInterval: DefaultRotationCheckInterval},
		ShutdownGrace: DefaultShutdownGrace,
	}
}

// LoadConfig reads a YAML configuration file over Default. Unknown keys are refused, so a
// misspelt setting is an error rather than silently ignored.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes YAML over Default; see LoadConfig.
func ParseConfig(b []byte) (Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("more than one YAML document")
	}
	return cfg, nil
}

// Complete fills the settings derived from others: DB defaults to DataDir/fleetkey.db.
func (c *Config) Complete() {
	if c.DB == "" && c.DataDir != "" {
		c.DB = datadir.Path(c.DataDir, datadir.DB)
	}
}

// Redacted is the configuration to show: the RPC URL keeps only its scheme and host (its user
// info, path and query often carry an API key). Everything else is paths and numbers.
func (c Config) Redacted() Config {
	if c.RPCURL != "" {
		c.RPCURL = redactURL(c.RPCURL)
	}
	return c
}

// YAML renders the configuration as a file LoadConfig reads back. It holds no secret.
func (c Config) YAML() []byte {
	b, err := yaml.Marshal(c)
	if err != nil {
		// Config has only strings, numbers, durations and slices of them.
		panic("server: marshal config: " + err.Error())
	}
	return b
}

// Problem is one invalid setting.
type Problem struct {
	// Field is the setting's YAML path, e.g. "http.write_timeout" or "assets[1].address".
	Field   string
	Message string
}

// ValidationError lists every invalid setting of a Config.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Field, p.Message)
	}
	return b.String()
}

// Validate checks every setting and returns a *ValidationError naming each invalid one, or nil.
func (c Config) Validate() error { return c.validate(true) }

func (c Config) validate(needUnseal bool) error {
	var ps []Problem
	bad := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if host, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "%q is not HOST:PORT", c.Listen)
	} else if n, err := strconv.ParseUint(port, 10, 16); err != nil || (port != "0" && n == 0) {
		bad("listen", "port %q is not a number from 0 to 65535", port)
	} else if host == "" {
		bad("listen", "give the interface to listen on, e.g. 127.0.0.1:%s (an empty host listens on every interface)", port)
	}
	if c.DataDir == "" {
		bad("data_dir", "is empty")
	}
	if c.Anomaly != nil {
		if err := c.Anomaly.Validate(); err != nil {
			bad("anomaly", "%v", err)
		}
	}
	if c.DB == "" {
		bad("db", "is empty")
	} else if postgres.IsURL(c.DB) {
		if u, err := url.Parse(c.DB); err != nil {
			bad("db", "not a URL: %v", err)
		} else if _, ok := u.User.Password(); ok {
			bad("db", "the URL holds a password: give it in PGPASSWORD or a PGPASSFILE instead")
		}
	}
	p := c.DBPool
	if p.MaxConns < 0 || p.MinConns < 0 || p.MaxConnLifetime < 0 || p.MaxConnIdleTime < 0 || p.ConnectTimeout < 0 {
		bad("db_pool", "negative setting")
	} else if p.MaxConns > 0 && p.MinConns > p.MaxConns {
		bad("db_pool.min_conns", "%d is above max_conns %d", p.MinConns, p.MaxConns)
	}
	if c.RPCURL != "" {
		u, err := url.Parse(c.RPCURL)
		switch {
		case err != nil:
			bad("rpc_url", "not a URL: %v", err)
		case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss":
			bad("rpc_url", "scheme %q: want http, https, ws or wss", u.Scheme)
		case u.Host == "":
			bad("rpc_url", "has no host")
		}
	}
	if (c.Lifecycle.RelayerKeyFile != "" || c.Lifecycle.GasSponsorKeyFile != "") && c.RPCURL == "" {
		bad("lifecycle", "relayer_key_file and gas_sponsor_key_file need rpc_url")
	}
	if v := c.Lifecycle.RotationCheckInterval; v != 0 && v < time.Second {
		bad("lifecycle.rotation_check_interval", "%s is below 1s (0 turns scheduled rotation off)", v)
	}
	if c.Reconcile.Interval < 100*time.Millisecond {
		bad("reconcile.interval", "%s is below 100ms", c.Reconcile.Interval)
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		bad("log.level", "%v", err)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "%q: want json or text", c.Log.Format)
	}
	switch {
	case c.Unseal.PassphraseFile != "" && len(c.Unseal.ShareFiles) > 0:
		bad("unseal", "give either passphrase_file or share_files, not both")
	case needUnseal && c.Unseal.PassphraseFile == "" && len(c.Unseal.ShareFiles) == 0:
		bad("unseal", "give passphrase_file (or --passphrase-file) or share_files (or --share-file, once per share)")
	}
	for i, f := range c.Unseal.ShareFiles {
		if f == "" {
			bad(fmt.Sprintf("unseal.share_files[%d]", i), "is empty")
		}
	}
	for i, a := range c.Assets {
		field := fmt.Sprintf("assets[%d]", i)
		if _, err := a.asset(); err != nil {
			bad(field, "%v", err)
		}
	}
	if allAssetsParse(c.Assets) {
		// The registry's own checks: CAIP-2 EVM network, no asset listed twice.
		if _, err := c.registry(); err != nil {
			bad("assets", "%v", err)
		}
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"http.read_header_timeout", c.HTTP.ReadHeaderTimeout},
		{"http.read_timeout", c.HTTP.ReadTimeout},
		{"http.idle_timeout", c.HTTP.IdleTimeout},
	} {
		if d.v <= 0 {
			bad(d.field, "%s is not positive", d.v)
		}
	}
	if c.HTTP.WriteTimeout <= MaxLongPoll {
		bad("http.write_timeout", "%s must exceed %s, the longest an agent may wait for an approval in one request", c.HTTP.WriteTimeout, MaxLongPoll)
	}
	if c.HTTP.MaxBodyBytes < 1<<10 || c.HTTP.MaxBodyBytes > 64<<20 {
		bad("http.max_body_bytes", "%d is outside 1024 to 67108864", c.HTTP.MaxBodyBytes)
	}
	if c.Audit.CheckpointInterval < time.Second {
		bad("audit.checkpoint_interval", "%s is below 1s", c.Audit.CheckpointInterval)
	}
	if c.ShutdownGrace <= 0 || c.ShutdownGrace > 10*time.Minute {
		bad("shutdown_grace", "%s is outside (0, 10m]", c.ShutdownGrace)
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

func allAssetsParse(as []AssetConfig) bool {
	for _, a := range as {
		if _, err := a.asset(); err != nil {
			return false
		}
	}
	return true
}

// asset checks one entry; the registry checks the rest (CAIP-2 EVM network, duplicates).
func (a AssetConfig) asset() (signer.Asset, error) {
	var errs []string
	if a.Network == "" {
		errs = append(errs, "network is empty")
	}
	if !common.IsHexAddress(a.Address) || !strings.HasPrefix(strings.ToLower(a.Address), "0x") {
		errs = append(errs, fmt.Sprintf("address %q is not 0x + 40 hex digits", a.Address))
	}
	if a.Symbol == "" {
		errs = append(errs, "symbol is empty")
	}
	if a.Decimals > signer.MaxDecimals {
		errs = append(errs, fmt.Sprintf("decimals %d above %d", a.Decimals, signer.MaxDecimals))
	}
	if a.EIP712Name == "" || a.EIP712Version == "" {
		errs = append(errs, "eip712_name and eip712_version are required (the token's EIP-712 domain)")
	}
	if len(errs) > 0 {
		return signer.Asset{}, errors.New(strings.Join(errs, "; "))
	}
	return signer.Asset{Network: a.Network, Address: common.HexToAddress(a.Address), Symbol: a.Symbol,
		Decimals: a.Decimals, EIP712Name: a.EIP712Name, EIP712Version: a.EIP712Version}, nil
}

// registry builds the trusted asset registry (empty when no asset is configured: then every
// payment is refused as unknown_asset).
func (c Config) registry() (*signer.Registry, error) {
	assets := make([]signer.Asset, 0, len(c.Assets))
	for _, ac := range c.Assets {
		a, err := ac.asset()
		if err != nil {
			return nil, err
		}
		assets = append(assets, a)
	}
	return signer.NewRegistry(assets)
}
