package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// Errors callers branch on. Each is returned before anything is changed.
var (
	// ErrAlreadyRevoked: the agent is revoked (or retired) and no revocation job of
	// it is unfinished.
	ErrAlreadyRevoked = errors.New("lifecycle: agent already revoked")
	// ErrTreasuryUnset: the agent's fleet has no treasury address to sweep to.
	ErrTreasuryUnset = errors.New("lifecycle: fleet treasury is not set")
	// ErrNoChain: the operation needs the chain (RPC, relayer, gas sponsor) and the
	// Manager was configured without it.
	ErrNoChain = errors.New("lifecycle: no chain configured")
	// ErrNoJobs: the store does not keep lifecycle jobs (store.JobWriter).
	ErrNoJobs = errors.New("lifecycle: store keeps no lifecycle jobs")
	// ErrBusy: another job is running for the agent, or this job is running now,
	// in this process or in another one on the same database (which holds its
	// lease).
	ErrBusy = errors.New("lifecycle: another job is running for the agent")
	// ErrAlreadyRotated: RotateRequest.OnlyKeyID is no longer the agent's active
	// key (someone rotated it first); nothing was done.
	ErrAlreadyRotated = errors.New("lifecycle: the key was already rotated")
)

// KeySource derives custody handles for agent keys; *custody.Vault satisfies it.
type KeySource interface {
	Key(p hd.Path) (*custody.Key, error)
}

// Backend is the JSON-RPC access lifecycle needs; *ethclient.Client has it.
type Backend interface {
	bind.ContractBackend
	chain.Backend
	chain.ReceiptReader
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
}

// Config wires a Manager. Store, Keys, Registry and Audit are required; Backend,
// ChainID, Relayer and GasSponsor are needed by every step that touches the chain
// (without them deps shows the off-chain half and chain steps fail with
// ErrNoChain).
type Config struct {
	Store    store.Store
	Keys     KeySource
	Registry *signer.Registry
	Audit    *audit.Log

	Backend Backend
	ChainID uint64
	// Relayer submits cancellations and sweeps (the facilitator's account on the
	// devnet) and pays their gas.
	Relayer *chain.Sender
	// GasSponsor funds an agent key's gas just before the key resets an allowance.
	GasSponsor *chain.Sender
	// LogsFromBlock is the first block searched for Approval logs (0: genesis).
	LogsFromBlock uint64
	// SweepValidity is how long a sweep authorization is valid (default 1h).
	SweepValidity time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Manager runs lifecycle operations. It is safe for concurrent use; jobs of one
// agent are serialized by the store (one running job per agent).
type Manager struct {
	cfg    Config
	now    func() time.Time
	token  *abi.ABI
	assets []signer.Asset // registered on cfg.ChainID

	// running holds the agents whose job runs in this process, so that two calls
	// never run one job's steps at once.
	running sync.Map // agent id → struct{}
	// policies caches compiled policies by content hash (see DueByPolicy).
	policies sync.Map // hash → *policy.Policy

	// owner is this Manager's id in the job leases it takes (random per Manager,
	// so per process), so that two processes never run one job's steps at once.
	owner string
	// leased, set by tests, is called once a job's lease is taken, before its steps.
	leased func(jobID string)

	// failAfter, set by tests, makes a job fail right after the named step is
	// recorded done, as a crash there would.
	failAfter string
	// failAfterSubmit, set by tests, makes the named step fail right after it has
	// recorded a submitted transaction, before waiting for it.
	failAfterSubmit string
}

// New checks cfg and returns a Manager.
func New(cfg Config) (*Manager, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("lifecycle: config has no store")
	case cfg.Keys == nil:
		return nil, errors.New("lifecycle: config has no key source")
	case cfg.Registry == nil:
		return nil, errors.New("lifecycle: config has no asset registry")
	case cfg.Audit == nil:
		return nil, errors.New("lifecycle: config has no audit log")
	}
	if cfg.SweepValidity <= 0 {
		cfg.SweepValidity = time.Hour
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	tok, err := bindings.TestUSDMetaData.GetAbi()
	if err != nil {
		return nil, fmt.Errorf("lifecycle: token abi: %w", err)
	}
	m := &Manager{cfg: cfg, now: now, token: tok, owner: store.NewID("mgr")}
	for _, a := range cfg.Registry.Assets() {
		if id, err := x402.EVMChainID(a.Network); err == nil && cfg.ChainID != 0 && id == cfg.ChainID {
			m.assets = append(m.assets, a)
		}
	}
	return m, nil
}

func (m *Manager) clock() time.Time { return m.now().UTC() }

func (m *Manager) hasChain() bool { return m.cfg.Backend != nil && m.cfg.ChainID != 0 }

func (m *Manager) needChain(relayer, sponsor bool) error {
	switch {
	case !m.hasChain():
		return fmt.Errorf("%w: an RPC URL and chain id are required", ErrNoChain)
	case relayer && m.cfg.Relayer == nil:
		return fmt.Errorf("%w: a relayer account is required", ErrNoChain)
	case sponsor && m.cfg.GasSponsor == nil:
		return fmt.Errorf("%w: a gas-sponsor account is required", ErrNoChain)
	}
	return nil
}

// handle returns the custody handle of a stored key, checking that custody
// derives the address the store recorded.
func (m *Manager) handle(k store.Key) (*custody.Key, error) {
	p, err := hd.ParsePath(k.Path)
	if err != nil {
		return nil, fmt.Errorf("lifecycle: key %s: %w", k.ID, err)
	}
	h, err := m.cfg.Keys.Key(p)
	if err != nil {
		return nil, fmt.Errorf("lifecycle: key %s: %w", k.ID, err)
	}
	if got, _ := store.NormalizeAddress(h.Address().Hex()); got != k.Address {
		return nil, fmt.Errorf("lifecycle: custody derives %s at %s, the store records %s for key %s", got, k.Path, k.Address, k.ID)
	}
	return h, nil
}

// domain returns the EIP-712 domain of a registered asset on the Manager's chain.
func (m *Manager) domain(a signer.Asset) exact.Domain {
	return exact.Domain{Name: a.EIP712Name, Version: a.EIP712Version, ChainID: m.cfg.ChainID, VerifyingContract: a.Address}
}
