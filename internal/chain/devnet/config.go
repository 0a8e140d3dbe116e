package devnet

import (
	"errors"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"time"
)

// Defaults applied by Start to zero Config fields.
const (
	DefaultChainID          = 1337
	DefaultListen           = "127.0.0.1:8545"
	DefaultBlockInterval    = time.Second
	DefaultMaxTimestampLead = 5 * time.Second
	DefaultTokenName        = "TestUSD"
	DefaultTokenVersion     = "2"
	// DefaultGasLimit is the block gas limit (go-ethereum's default gas ceiling).
	DefaultGasLimit = 60_000_000
)

// TokenDecimals is TestUSD's number of decimals, as USDC.
const TokenDecimals = 6

var (
	// DefaultBalance is the ether balance of each dev account in the genesis: 1000 ETH.
	DefaultBalance = new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18))
	// DefaultTokenMint is the TestUSD minted to each dev account: 1,000,000 tokens.
	DefaultTokenMint = big.NewInt(1_000_000 * 1_000_000)
)

// Config configures a devnet. The zero value gives chain id 1337 on 127.0.0.1:8545 with ten
// funded accounts.
type Config struct {
	// ChainID is the EIP-155 chain id, used for transaction signatures, eth_chainId and the
	// token's EIP-712 domain. 0 means 1337. Use 84532 to stand in for base-sepolia with x402 v1
	// clients, which only know named networks.
	ChainID uint64
	// Listen is the loopback host:port of the HTTP JSON-RPC server; port 0 picks a free port
	// (see Devnet.RPCURL). Empty means 127.0.0.1:8545. Only loopback addresses are accepted:
	// the dev keys are public, so the chain must not be reachable from the network.
	Listen string
	// BlockInterval is how often an empty block is produced when no transaction arrives, so
	// that block timestamps follow the clock. 0 means 1s; a negative value disables idle
	// blocks. Values below one second are refused: block timestamps have one-second resolution.
	BlockInterval time.Duration
	// MaxTimestampLead bounds how far the latest block's timestamp may run ahead of the wall
	// clock when blocks are mined faster than one per second. 0 means 5s, which keeps every
	// authorization that a facilitator accepts (validBefore at least 6s ahead) valid on chain.
	// Raise it to trade timestamp accuracy for speed in throughput benchmarks.
	MaxTimestampLead time.Duration
	// Accounts is the number of funded dev accounts, 1..MaxAccounts; 0 means MaxAccounts.
	Accounts int
	// Balance is each dev account's ether balance in wei; nil means DefaultBalance.
	Balance *big.Int
	// TokenName and TokenVersion are the TestUSD EIP-712 domain name and version; empty means
	// "TestUSD" and "2".
	TokenName, TokenVersion string
	// TokenMint is the TestUSD amount (atomic units) minted to each dev account; nil means
	// DefaultTokenMint. Zero mints nothing.
	TokenMint *big.Int
	// GasLimit is the block gas limit; 0 means DefaultGasLimit.
	GasLimit uint64
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.ChainID == 0 {
		c.ChainID = DefaultChainID
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.BlockInterval == 0 {
		c.BlockInterval = DefaultBlockInterval
	}
	if c.MaxTimestampLead == 0 {
		c.MaxTimestampLead = DefaultMaxTimestampLead
	}
	if c.Accounts == 0 {
		c.Accounts = MaxAccounts
	}
	if c.Balance == nil {
		c.Balance = DefaultBalance
	}
	if c.TokenName == "" {
		c.TokenName = DefaultTokenName
	}
	if c.TokenVersion == "" {
		c.TokenVersion = DefaultTokenVersion
	}
	if c.TokenMint == nil {
		c.TokenMint = DefaultTokenMint
	}
	if c.GasLimit == 0 {
		c.GasLimit = DefaultGasLimit
	}
	return c
}

// ErrNotLoopback reports a Listen address that is not a loopback address.
var ErrNotLoopback = errors.New("devnet: listen address must be loopback")

// Validate checks c after defaults are applied (Start calls it).
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, _, err := splitLoopback(c.Listen); err != nil {
		return err
	}
	if c.BlockInterval > 0 && c.BlockInterval < time.Second {
		return fmt.Errorf("devnet: block interval %s is below one second", c.BlockInterval)
	}
	if c.MaxTimestampLead < 0 {
		return fmt.Errorf("devnet: negative max timestamp lead %s", c.MaxTimestampLead)
	}
	if c.Accounts < 1 || c.Accounts > MaxAccounts {
		return fmt.Errorf("devnet: %d accounts requested, between 1 and %d are available", c.Accounts, MaxAccounts)
	}
	if c.Balance.Sign() < 0 || c.TokenMint.Sign() < 0 {
		return errors.New("devnet: negative balance or mint amount")
	}
	if c.GasLimit < 5_000_000 {
		return fmt.Errorf("devnet: block gas limit %d is too small to deploy the token", c.GasLimit)
	}
	return nil
}

// splitLoopback splits a host:port and checks that host is a loopback IP or "localhost".
func splitLoopback(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("devnet: listen address %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("devnet: listen port %q: %w", portStr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", 0, fmt.Errorf("%w, got %q", ErrNotLoopback, addr)
	}
	return host, int(port), nil
}
