package server

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/signer"
)

// TestConfigDefaults checks that the defaults, with only the unseal method chosen, are a valid
// configuration for one machine, and that the database follows the data directory.
func TestConfigDefaults(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err == nil {
		t.Fatal("defaults without an unseal method validated")
	}
	cfg.Unseal.PassphraseFile = "pass"
	cfg.DataDir = "/var/lib/fleetkey"
	cfg.Complete()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.DB != "/var/lib/fleetkey/fleetkey.db" {
		t.Errorf("db = %q", cfg.DB)
	}
	if cfg.Listen != "127.0.0.1:8402" || cfg.Log.Format != "json" || cfg.Log.Level != "info" {
		t.Errorf("defaults %+v", cfg)
	}
	if cfg.HTTP.WriteTimeout <= MaxLongPoll {
		t.Errorf("default write timeout %s does not cover the long poll", cfg.HTTP.WriteTimeout)
	}
	// An explicit db is kept.
	cfg = Default()
	cfg.DB = "/tmp/x.db"
	cfg.Complete()
	if cfg.DB != "/tmp/x.db" {
		t.Errorf("db = %q", cfg.DB)
	}
}

const fullConfig = `
listen: 127.0.0.1:9000
data_dir: /srv/fk
db: /srv/db/fk.db
rpc_url: https://rpc.example.com/v1/SECRETKEY
log:
  level: debug
  format: text
unseal:
  share_files: [/s/1, /s/2]
assets:
  - network: eip155:84532
    address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
    symbol: USDC
    decimals: 6
    eip712_name: USDC
    eip712_version: "2"
http:
  read_header_timeout: 5s
  read_timeout: 20s
  write_timeout: 2m
  idle_timeout: 1m
  max_body_bytes: 131072
audit:
  checkpoint_interval: 30s
reconcile:
  interval: 2s
lifecycle:
  rotation_check_interval: 10m
shutdown_grace: 20s
`

// TestParseConfig decodes every key, and the printed form decodes back to the same value.
func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Listen: "127.0.0.1:9000", DataDir: "/srv/fk", DB: "/srv/db/fk.db", RPCURL: "https://rpc.example.com/v1/SECRETKEY",
		Log:    LogConfig{Level: "debug", Format: "text"},
		Unseal: UnsealConfig{ShareFiles: []string{"/s/1", "/s/2"}},
		Assets: []AssetConfig{{Network: "eip155:84532", Address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
			Symbol: "USDC", Decimals: 6, EIP712Name: "USDC", EIP712Version: "2"}},
		HTTP: HTTPConfig{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 20 * time.Second, WriteTimeout: 2 * time.Minute,
			IdleTimeout: time.Minute, MaxBodyBytes: 131072},
		Audit:         AuditConfig{CheckpointInterval: 30 * time.Second},
		Reconcile:     ReconcileConfig{Interval: 2 * time.Second},
		Lifecycle:     LifecycleConfig{RotationCheckInterval: 10 * time.Minute},
		ShutdownGrace: 20 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", cfg, want)
	}
	back, err := ParseConfig(cfg.YAML())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cfg) {
		t.Fatalf("round trip\n%+v\nwant\n%+v", back, cfg)
	}
	red := cfg.Redacted().YAML()
	if strings.Contains(string(red), "SECRETKEY") {
		t.Fatalf("redacted config shows the RPC path:\n%s", red)
	}
	if !strings.Contains(string(red), "https://rpc.example.com/<redacted>") {
		t.Fatalf("redacted config lost the RPC host:\n%s", red)
	}

	// LoadConfig names the file in its errors.
	path := filepath.Join(t.TempDir(), "fleetkey.yaml")
	if err := os.WriteFile(path, []byte(fullConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadConfig(path); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("LoadConfig: %v", err)
	}
	if _, err := LoadConfig(path + ".missing"); err == nil {
		t.Fatal("missing file loaded")
	}
}

// TestParseConfigRefuses checks that misspelt keys, wrong types and several documents are errors.
func TestParseConfigRefuses(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown key", "listn: 127.0.0.1:1\n", "listn"},
		{"unknown nested key", "http:\n  write_timout: 2m\n", "write_timout"},
		{"duration as number", "shutdown_grace: 5\n", "line 1: cannot unmarshal !!int `5` into time.Duration"},
		{"bad duration", "shutdown_grace: soon\n", "soon"},
		{"two documents", "listen: a:1\n---\nlisten: b:1\n", "more than one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	// An empty file is the defaults.
	cfg, err := ParseConfig(nil)
	if err != nil || !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("empty config: %+v, %v", cfg, err)
	}
}

// TestValidateListsEveryProblem breaks every setting at once and expects one problem per field.
func TestValidateListsEveryProblem(t *testing.T) {
	cfg := Config{
		Listen:  "localhost",
		DataDir: "",
		DB:      "",
		RPCURL:  "ftp://rpc.example.com",
		Log:     LogConfig{Level: "loud", Format: "xml"},
		Unseal:  UnsealConfig{PassphraseFile: "p", ShareFiles: []string{""}},
		Assets: []AssetConfig{
			{Network: "eip155:1", Address: "0x12", Symbol: "", Decimals: 77},
			{Network: "eip155:1", Address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Symbol: "A", EIP712Name: "A", EIP712Version: "1"},
		},
		HTTP:          HTTPConfig{ReadHeaderTimeout: 0, ReadTimeout: -time.Second, WriteTimeout: time.Minute, IdleTimeout: 0, MaxBodyBytes: 10},
		Audit:         AuditConfig{CheckpointInterval: time.Millisecond},
		Reconcile:     ReconcileConfig{Interval: 0},
		Lifecycle:     LifecycleConfig{RotationCheckInterval: time.Millisecond},
		ShutdownGrace: 0,
	}
	err := cfg.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
		if p.Message == "" {
			t.Errorf("%s: empty message", p.Field)
		}
		if !strings.Contains(err.Error(), p.Field+": "+p.Message) {
			t.Errorf("error text lacks %s", p.Field)
		}
	}
	want := []string{
		"listen", "data_dir", "db", "rpc_url", "lifecycle.rotation_check_interval", "reconcile.interval", "log.level", "log.format",
		"unseal", "unseal.share_files[0]", "assets[0]",
		"http.read_header_timeout", "http.read_timeout", "http.idle_timeout", "http.write_timeout",
		"http.max_body_bytes", "audit.checkpoint_interval", "shutdown_grace",
	}
	if !slices.Equal(fields, want) {
		t.Fatalf("problems in\n%q\nwant\n%q\n%v", fields, want, err)
	}

	// Each asset problem is named; with every entry well formed, the registry's own checks
	// (here: a network that is not CAIP-2) are reported under "assets".
	cfg = Default()
	cfg.Unseal.PassphraseFile = "p"
	cfg.Complete()
	cfg.Assets = []AssetConfig{{Network: "base", Address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Symbol: "USDC", EIP712Name: "USDC", EIP712Version: "2"}}
	if err := cfg.Validate(); !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "assets" {
		t.Fatalf("bad network: %v", err)
	}
	cfg.Assets = append(cfg.Assets[:0],
		AssetConfig{Network: "eip155:8453", Address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Symbol: "USDC", EIP712Name: "USDC", EIP712Version: "2"},
		AssetConfig{Network: "eip155:8453", Address: "0x036cbd53842c5426634e7929541ec2318f3dcf7e", Symbol: "USDC2", EIP712Name: "USDC", EIP712Version: "2"})
	if err := cfg.Validate(); !errors.As(err, &ve) || !strings.Contains(err.Error(), "registered twice") {
		t.Fatalf("duplicate asset: %v", err)
	}

	// Listen addresses: port 0 is allowed (tests), no host is not (it would listen everywhere).
	for listen, ok := range map[string]bool{"127.0.0.1:0": true, "[::1]:8402": true, ":8402": false, "127.0.0.1:70000": false, "127.0.0.1:http": false} {
		cfg := Default()
		cfg.Unseal.PassphraseFile = "p"
		cfg.Listen = listen
		cfg.Complete()
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("listen %q: err = %v", listen, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8545":               "http://127.0.0.1:8545",
		"http://127.0.0.1:8545/":              "http://127.0.0.1:8545",
		"https://mainnet.infura.io/v3/abcdef": "https://mainnet.infura.io/<redacted>",
		"https://user:pw@rpc.example.com":     "https://rpc.example.com/<redacted>",
		"wss://rpc.example.com/?key=abc":      "wss://rpc.example.com/<redacted>",
		"not a url at all :%":                 "<redacted>",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDefaultBodyLimitFitsLargestDemand: with the default body limit, a payment request that
// carries the largest demand the parser accepts (a v2 header of signer.MaxDemandSize bytes),
// the longest resource URL and idempotency key is not refused as too large (413).
func TestDefaultBodyLimitFitsLargestDemand(t *testing.T) {
	body, err := json.Marshal(map[string]any{
		"x402_version":     2,
		"payment_required": strings.Repeat("A", signer.MaxDemandSize),
		"resource_url":     "https://" + strings.Repeat("a", payments.MaxResourceURLLen-len("https://")),
		"method":           "GET",
		"preferred":        0,
		"idempotency_key":  strings.Repeat("k", payments.MaxIdempotencyKeyLen),
	})
	if err != nil {
		t.Fatal(err)
	}
	if limit := Default().HTTP.MaxBodyBytes; int64(len(body)) > limit {
		t.Errorf("the largest payment request is %d bytes, over the default body limit of %d", len(body), limit)
	}
}
