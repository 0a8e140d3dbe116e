package devnet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
)

// MulticallAddress is the canonical Multicall3 address, the same on every chain; the devnet puts
// its Multicall runtime code there.
var MulticallAddress = common.HexToAddress("0xcA11bde05977b3631167028862bE2a173976CA11")

// TokenInfo describes the deployed TestUSD token.
type TokenInfo struct {
	Address  common.Address
	Name     string // EIP-712 domain name
	Version  string // EIP-712 domain version
	Symbol   string
	Decimals uint8
}

// Devnet is a running development chain. Its state lives in memory and is gone after Close.
type Devnet struct {
	cfg      Config
	stack    *node.Node
	backend  *eth.Ethereum
	beacon   *catalyst.SimulatedBeacon
	client   *ethclient.Client
	rpcURL   string
	accounts []DevAccount
	token    TokenInfo

	sealMu sync.Mutex // serialises block production
	quit   chan struct{}
	done   chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Start creates the chain, serves it on cfg.Listen and sets up the dev accounts, the multicall
// contract and the token. ctx bounds the setup only; the devnet runs until Close.
func Start(ctx context.Context, cfg Config) (*Devnet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	host, port, err := splitLoopback(cfg.Listen)
	if err != nil {
		return nil, err
	}
	accounts, err := devAccounts(cfg.Accounts)
	if err != nil {
		return nil, err
	}

	genesis := core.DeveloperGenesisBlock(cfg.GasLimit, nil)
	genesis.Config.ChainID = new(big.Int).SetUint64(cfg.ChainID)
	// Stop at Osaka, the fork public chains run; go-ethereum's dev preset also enables the next,
	// unscheduled fork, whose repricing would make gas figures unlike any real network's.
	genesis.Config.BogotaTime = nil
	alloc := maps.Clone(genesis.Alloc)
	for _, a := range accounts {
		alloc[a.Address] = types.Account{Balance: new(big.Int).Set(cfg.Balance)}
	}
	// A contract created by a transaction starts with nonce 1 (EIP-161); match that.
	alloc[MulticallAddress] = types.Account{Code: common.FromHex(bindings.MulticallDeployedBin), Nonce: 1, Balance: new(big.Int)}
	genesis.Alloc = alloc

	nodeConf := node.DefaultConfig
	nodeConf.Name = "fleetkey-devnet"
	nodeConf.DataDir = "" // in memory
	nodeConf.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0}
	nodeConf.HTTPHost = host
	nodeConf.HTTPPort = port
	nodeConf.HTTPModules = []string{"eth", "net", "web3"}
	nodeConf.HTTPVirtualHosts = []string{"localhost"} // requests to an IP address always pass
	nodeConf.WSHost, nodeConf.IPCPath, nodeConf.AuthAddr = "", "", ""
	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("devnet: new node: %w", err)
	}

	ethConf := ethconfig.Defaults
	ethConf.Genesis = genesis
	ethConf.NetworkId = cfg.ChainID
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true
	// Accept any tip, as `geth --dev` does, so that clients suggesting tiny fees still get mined.
	ethConf.Miner.GasPrice = big.NewInt(1)
	// The chain is small: search logs directly rather than through the asynchronous log index,
	// so eth_getLogs sees a block as soon as it is mined.
	ethConf.LogNoHistory = true
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: new eth service: %w", err)
	}
	stack.RegisterAPIs([]rpc.API{{
		Namespace: "eth",
		Service:   filters.NewFilterAPI(filters.NewFilterSystem(backend.APIBackend, filters.Config{})),
	}})
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: start node: %w", err)
	}
	// Period 0: the beacon seals only when asked; run() decides when.
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: simulated beacon: %w", err)
	}

	d := &Devnet{
		cfg:      cfg,
		stack:    stack,
		backend:  backend,
		beacon:   beacon,
		client:   ethclient.NewClient(stack.Attach()),
		rpcURL:   stack.HTTPEndpoint(),
		accounts: accounts,
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go d.run()
	// The transaction indexer starts its first pass on a new head; give it one.
	d.trySeal()
	if err := d.waitTxIndex(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.setup(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// setup deploys the token from account 0 (nonce 0), waits for it, then mints to every account.
// run is already mining, as for any client.
func (d *Devnet) setup(ctx context.Context) error {
	key, err := d.accounts[0].PrivateKey()
	if err != nil {
		return err
	}
	chainID := new(big.Int).SetUint64(d.cfg.ChainID)
	opts, err := bind.NewKeyedTransactorWithChainID(key, chainID)
	if err != nil {
		return fmt.Errorf("devnet: transactor: %w", err)
	}
	sender := chain.NewSender(d.client, d.accounts[0].Address, opts.Signer, chainID)

	parsed, err := bindings.TestUSDMetaData.GetAbi()
	if err != nil {
		return fmt.Errorf("devnet: token abi: %w", err)
	}
	args, err := parsed.Pack("", d.cfg.TokenName, d.cfg.TokenVersion)
	if err != nil {
		return fmt.Errorf("devnet: token constructor: %w", err)
	}
	deploy, err := sender.Send(ctx, chain.Tx{Data: append(common.FromHex(bindings.TestUSDMetaData.Bin), args...), Gas: 3_000_000})
	if err != nil {
		return fmt.Errorf("devnet: deploy token: %w", err)
	}
	tokenAddr := crypto.CreateAddress(d.accounts[0].Address, deploy.Nonce())
	if _, err := chain.WaitSuccess(ctx, d.client, deploy.Hash()); err != nil {
		return fmt.Errorf("devnet: deploy token: %w", err)
	}
	if d.cfg.TokenMint.Sign() > 0 {
		var mints []common.Hash
		for _, a := range d.accounts {
			data, err := parsed.Pack("mint", a.Address, d.cfg.TokenMint)
			if err != nil {
				return fmt.Errorf("devnet: mint call: %w", err)
			}
			tx, err := sender.Send(ctx, chain.Tx{To: &tokenAddr, Data: data})
			if err != nil {
				return fmt.Errorf("devnet: mint to %s: %w", a.Address.Hex(), err)
			}
			mints = append(mints, tx.Hash())
		}
		for _, h := range mints {
			if _, err := chain.WaitSuccess(ctx, d.client, h); err != nil {
				return fmt.Errorf("devnet: mint: %w", err)
			}
		}
	}
	d.token = TokenInfo{
		Address:  tokenAddr,
		Name:     d.cfg.TokenName,
		Version:  d.cfg.TokenVersion,
		Symbol:   "TUSD",
		Decimals: TokenDecimals,
	}
	return nil
}

// waitTxIndex waits for go-ethereum's transaction indexer to finish its first pass: until then
// eth_getTransactionReceipt answers "transaction indexing is in progress", an error that clients
// such as viem do not retry.
func (d *Devnet) waitTxIndex(ctx context.Context) error {
	for !d.backend.BlockChain().TxIndexDone() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("devnet: waiting for the transaction index: %w", ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// RPCURL returns the HTTP JSON-RPC endpoint, with the real port when Config.Listen asked for 0.
func (d *Devnet) RPCURL() string { return d.rpcURL }

// ChainID returns the chain id.
func (d *Devnet) ChainID() uint64 { return d.cfg.ChainID }

// Network returns the CAIP-2 network id, "eip155:<chain id>".
func (d *Devnet) Network() string { return fmt.Sprintf("eip155:%d", d.cfg.ChainID) }

// Token returns the deployed TestUSD token.
func (d *Devnet) Token() TokenInfo { return d.token }

// Multicall returns the address of the Multicall3-compatible contract.
func (d *Devnet) Multicall() common.Address { return MulticallAddress }

// Accounts returns the funded dev accounts (public test keys).
func (d *Devnet) Accounts() []DevAccount { return append([]DevAccount(nil), d.accounts...) }

// Client returns an in-process client of the chain (no HTTP round trip). It is closed by Close.
func (d *Devnet) Client() *ethclient.Client { return d.client }

// Mine seals a block now (with whatever transactions are pending) unless the chain is already at
// its maximum timestamp lead, and reports whether it did.
func (d *Devnet) Mine() bool {
	ok, _ := d.trySeal()
	return ok
}

// Close stops block production, the RPC server and the chain. It is safe to call more than once.
func (d *Devnet) Close() error {
	d.closeOnce.Do(func() {
		close(d.quit)
		<-d.done
		d.closeErr = d.stop()
	})
	return d.closeErr
}

func (d *Devnet) stop() error {
	d.client.Close()
	err := d.beacon.Stop()
	return errors.Join(err, d.stack.Close())
}

// Manifest is the JSON description of a running devnet that `fleetkey devnet --json` prints and
// --manifest writes. It contains the dev accounts' public test keys.
type Manifest struct {
	RPCURL    string            `json:"rpc_url"`
	ChainID   uint64            `json:"chain_id"`
	Network   string            `json:"network"`
	Token     ManifestToken     `json:"token"`
	Multicall string            `json:"multicall"`
	Accounts  []ManifestAccount `json:"accounts"`
}

// ManifestToken is the token part of a Manifest.
type ManifestToken struct {
	Address  string `json:"address"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Symbol   string `json:"symbol"`
	Decimals uint8  `json:"decimals"`
}

// ManifestAccount is a dev account in a Manifest; PrivateKey is a public test key.
type ManifestAccount struct {
	Address    string `json:"address"`
	PrivateKey string `json:"private_key"`
	Path       string `json:"path"`
}

// Manifest describes the devnet. Addresses are EIP-55 checksummed.
func (d *Devnet) Manifest() Manifest {
	m := Manifest{
		RPCURL:  d.rpcURL,
		ChainID: d.cfg.ChainID,
		Network: d.Network(),
		Token: ManifestToken{
			Address:  d.token.Address.Hex(),
			Name:     d.token.Name,
			Version:  d.token.Version,
			Symbol:   d.token.Symbol,
			Decimals: d.token.Decimals,
		},
		Multicall: MulticallAddress.Hex(),
	}
	for _, a := range d.accounts {
		m.Accounts = append(m.Accounts, ManifestAccount{Address: a.Address.Hex(), PrivateKey: a.PrivateKeyHex, Path: a.Path()})
	}
	return m
}
