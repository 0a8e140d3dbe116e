package payments

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
)

// KeySource derives signing handles for agent keys. *custody.Vault satisfies it.
type KeySource interface {
	Key(p hd.Path) (*custody.Key, error)
}

// Config wires a Service to its collaborators. Every field but Now is required.
type Config struct {
	Store    store.Store
	Keys     KeySource
	Registry *signer.Registry
	Audit    *audit.Log
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Detector, when set, screens every payment before its reservation and hears
	// every outcome (package anomaly).
	Detector Detector
}

// Service provisions agents, authenticates them and signs their payments. It is
// safe for concurrent use.
type Service struct {
	store store.Store
	keys  KeySource
	reg   *signer.Registry
	log   *audit.Log
	now   func() time.Time

	// policies caches parsed policies by content hash: a policy version never
	// changes its source, so a hash names one compiled policy forever.
	policies sync.Map // string → *policy.Policy
	// signers caches custody handles by key id. A handle holds only public data
	// (path, public key, address); caching it saves a BIP-32 derivation and a
	// public-key computation per payment.
	signers sync.Map // string → *custody.Key
	// requests counts payment requests per scope for rate rules.
	requests requestCounter
	// commit group-commits the per-payment writes.
	commit *committer
	names  nameCache
	// agents caches what payments read about their agent (see load).
	agents agentCache
	// detector is Config.Detector (nil: none).
	detector Detector
}

// nameCache maps fleet and group ids to their names. The store has no way to
// rename either, so a name read once is the name for good.
type nameCache struct{ fleets, groups sync.Map }

func (c *nameCache) fleet(ctx context.Context, rt store.ReadTx, id string) (string, error) {
	if n, ok := c.fleets.Load(id); ok {
		return n.(string), nil
	}
	f, err := rt.Fleet(ctx, id)
	if err != nil {
		return "", err
	}
	c.fleets.Store(id, f.Name)
	return f.Name, nil
}

func (c *nameCache) group(ctx context.Context, rt store.ReadTx, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if n, ok := c.groups.Load(id); ok {
		return n.(string), nil
	}
	g, err := rt.Group(ctx, id)
	if err != nil {
		return "", err
	}
	c.groups.Store(id, g.Name)
	return g.Name, nil
}

// New checks the configuration and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("payments: config has no store")
	case cfg.Keys == nil:
		return nil, errors.New("payments: config has no key source")
	case cfg.Registry == nil:
		return nil, errors.New("payments: config has no asset registry")
	case cfg.Audit == nil:
		return nil, errors.New("payments: config has no audit log")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{store: cfg.Store, keys: cfg.Keys, reg: cfg.Registry, log: cfg.Audit, now: now, commit: &committer{st: cfg.Store}, detector: cfg.Detector}, nil
}

func (s *Service) clock() time.Time { return s.now().UTC() }

// parsePolicy returns the compiled policy of a stored version, parsing it once per
// hash. A source that does not hash to its recorded hash is refused: the hash is
// what every decision and audit record names, so it must be the policy applied.
func (s *Service) parsePolicy(rec store.PolicyRecord) (*policy.Policy, error) {
	if p, ok := s.policies.Load(rec.Hash); ok {
		return p.(*policy.Policy), nil
	}
	p, err := policy.Parse([]byte(rec.Source))
	if err != nil {
		return nil, fmt.Errorf("payments: stored policy %s: %w", rec.ID, err)
	}
	if p.Hash() != rec.Hash {
		return nil, fmt.Errorf("payments: stored policy %s hashes to %s, recorded as %s", rec.ID, p.Hash(), rec.Hash)
	}
	s.policies.Store(rec.Hash, p)
	return p, nil
}

// signerFor returns the custody handle of a stored key, checking once that custody
// derives the address the store recorded for it: a mismatch means the vault is not
// the one the agents were provisioned from, and nothing may be signed.
func (s *Service) signerFor(k store.Key) (*custody.Key, error) {
	if h, ok := s.signers.Load(k.ID); ok {
		return h.(*custody.Key), nil
	}
	p, err := hd.ParsePath(k.Path)
	if err != nil {
		return nil, fmt.Errorf("payments: key %s: %w", k.ID, err)
	}
	h, err := s.keys.Key(p)
	if err != nil {
		return nil, fmt.Errorf("payments: key %s: %w", k.ID, err)
	}
	addr, err := store.NormalizeAddress(h.Address().Hex())
	if err != nil {
		return nil, err
	}
	if addr != k.Address {
		return nil, fmt.Errorf("payments: custody derives %s at %s, the store records %s for key %s", addr, k.Path, k.Address, k.ID)
	}
	s.signers.Store(k.ID, h)
	return h, nil
}
