package facilitator

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultReceiptTimeout is how long Settle waits for a receipt before answering
	// settlement_pending (the reference waits up to 180 s; its resource server retries once).
	DefaultReceiptTimeout = 2 * time.Minute
	// DefaultSettledTTL is how long a settled authorization is remembered, so that a replay
	// is refused without asking the chain.
	DefaultSettledTTL = time.Hour
	// DefaultMaxRequestBody bounds a /verify or /settle body.
	DefaultMaxRequestBody = 64 << 10
)

// validBeforeMargin is the reference's rule: an authorization must stay valid for at least six
// more seconds, so that the settlement transaction can still be mined in time.
const validBeforeMargin = 6

// Chain is one EVM chain the facilitator serves.
type Chain struct {
	// ChainID must be the chain id the Backend reports.
	ChainID uint64
	// Backend is the chain's JSON-RPC client (an *ethclient.Client).
	Backend Backend
	// NoV2 and NoV1 stop serving the chain under its CAIP-2 id (x402 v2) or its v1 network
	// name (x402 v1, only for chains that have one, see x402.V1NetworkName). By default both
	// are served, as the reference does.
	NoV2, NoV1 bool
}

// Config configures New.
type Config struct {
	// Chains are the networks served, at least one, each chain id once.
	Chains []Chain
	// Relayer signs settlement transactions and pays their gas. The Facilitator takes it
	// over: Close wipes it.
	Relayer *RelayerKey
	// ReceiptTimeout bounds the wait for a settlement receipt; 0 means DefaultReceiptTimeout.
	ReceiptTimeout time.Duration
	// SettledTTL is how long settled authorizations are remembered; 0 means
	// DefaultSettledTTL.
	SettledTTL time.Duration
	// MaxRequestBody bounds HTTP request bodies; 0 means DefaultMaxRequestBody.
	MaxRequestBody int64
	// Now replaces time.Now for the validity-window checks, for tests.
	Now func() time.Time
}

// chainState is a served chain with its relayer and caches.
type chainState struct {
	id      uint64
	backend Backend
	v2, v1  string // network strings served ("" = not served)
	relayer *chain.Sender

	mu       sync.Mutex
	code     map[common.Address]time.Time // assets known to have code, until
	metadata map[common.Address]tokenMeta
}

// tokenMeta is a token's on-chain EIP-712 name and version.
type tokenMeta struct {
	name       string
	hasName    bool
	version    string
	hasVersion bool
	until      time.Time
}

// assetCacheFor is how long an asset's code and EIP-712 metadata are cached (the reference
// caches getCode for 15 minutes). A token upgrade that changes its name shows up as a
// simulation failure at worst until then.
const assetCacheFor = 15 * time.Minute

// Facilitator verifies and settles exact-EVM x402 payments. It is safe for concurrent use.
type Facilitator struct {
	chains     []*chainState
	byID       map[uint64]*chainState
	byV2       map[string]*chainState
	byV1       map[string]*chainState
	key        *RelayerKey
	now        func() time.Time
	timeout    time.Duration
	settledTTL time.Duration
	maxBody    int64
	reg        *registry
	token      *abi.ABI
	supported  x402.SupportedResponse
	closed     atomic.Bool

	transferVRS, transferBytes abi.Method
	transferTopic              common.Hash
}

// New checks the configuration, asks each backend for its chain id and returns a Facilitator.
func New(ctx context.Context, cfg Config) (*Facilitator, error) {
	if cfg.Relayer == nil {
		return nil, errors.New("facilitator: no relayer key")
	}
	if len(cfg.Chains) == 0 {
		return nil, errors.New("facilitator: no chains to serve")
	}
	parsed, err := bindings.TestUSDMetaData.GetAbi()
	if err != nil {
		return nil, fmt.Errorf("facilitator: token abi: %w", err)
	}
	f := &Facilitator{
		byID: map[uint64]*chainState{}, byV2: map[string]*chainState{}, byV1: map[string]*chainState{},
		key: cfg.Relayer, now: cfg.Now, timeout: cfg.ReceiptTimeout, settledTTL: cfg.SettledTTL,
		maxBody: cfg.MaxRequestBody, reg: newRegistry(), token: parsed,
		transferTopic: parsed.Events["Transfer"].ID,
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.timeout <= 0 {
		f.timeout = DefaultReceiptTimeout
	}
	if f.settledTTL <= 0 {
		f.settledTTL = DefaultSettledTTL
	}
	if f.maxBody <= 0 {
		f.maxBody = DefaultMaxRequestBody
	}
	if f.transferVRS, err = bindings.MethodBySignature(parsed, "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"); err != nil {
		return nil, fmt.Errorf("facilitator: %w", err)
	}
	if f.transferBytes, err = bindings.MethodBySignature(parsed, "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"); err != nil {
		return nil, fmt.Errorf("facilitator: %w", err)
	}
	for _, c := range cfg.Chains {
		if c.Backend == nil {
			return nil, fmt.Errorf("facilitator: chain %d has no backend", c.ChainID)
		}
		if f.byID[c.ChainID] != nil {
			return nil, fmt.Errorf("facilitator: chain %d configured twice", c.ChainID)
		}
		got, err := c.Backend.ChainID(ctx)
		if err != nil {
			return nil, fmt.Errorf("facilitator: chain id of chain %d: %w", c.ChainID, err)
		}
		if !got.IsUint64() || got.Uint64() != c.ChainID {
			return nil, fmt.Errorf("facilitator: backend for chain %d reports chain id %s", c.ChainID, got)
		}
		cs := &chainState{
			id: c.ChainID, backend: c.Backend, relayer: newRelayer(c.Backend, cfg.Relayer, c.ChainID, f.now),
			code: map[common.Address]time.Time{}, metadata: map[common.Address]tokenMeta{},
		}
		if !c.NoV2 {
			cs.v2 = x402.EVMNetwork(c.ChainID)
			f.byV2[cs.v2] = cs
		}
		if name, ok := x402.V1NetworkName(c.ChainID); ok && !c.NoV1 {
			cs.v1 = name
			f.byV1[name] = cs
		}
		if cs.v1 == "" && cs.v2 == "" {
			return nil, fmt.Errorf("facilitator: chain %d would serve no network", c.ChainID)
		}
		f.byID[c.ChainID] = cs
		f.chains = append(f.chains, cs)
	}
	f.supported = f.buildSupported()
	return f, nil
}

func (f *Facilitator) buildSupported() x402.SupportedResponse {
	var s x402.SupportedResponse
	for _, cs := range f.chains {
		if cs.v2 != "" {
			s.Kinds = append(s.Kinds, x402.SupportedKind{X402Version: x402.V2, Scheme: x402.SchemeExact, Network: cs.v2})
		}
	}
	var v1 []x402.SupportedKind
	for _, cs := range f.chains {
		if cs.v1 != "" {
			v1 = append(v1, x402.SupportedKind{X402Version: x402.V1, Scheme: x402.SchemeExact, Network: cs.v1})
		}
	}
	sort.Slice(v1, func(i, j int) bool { return v1[i].Network < v1[j].Network })
	s.Kinds = append(s.Kinds, v1...)
	s.Extensions = []string{}
	s.Signers = map[string][]string{x402.NamespaceEIP155 + ":*": {f.key.Address().Hex()}}
	return s
}

// Address returns the relayer address, the account that submits settlements and pays gas.
func (f *Facilitator) Address() common.Address { return f.key.Address() }

// Close wipes the relayer key. Verify keeps working; Settle fails afterwards.
func (f *Facilitator) Close() error {
	f.closed.Store(true)
	return f.key.Close()
}

// Supported implements x402.Facilitator: a v2 kind per served chain, a v1 kind per served
// chain with a v1 name, no extensions, and the relayer as the signer for every EVM chain.
func (f *Facilitator) Supported(context.Context) (*x402.SupportedResponse, error) {
	s := f.supported
	s.Kinds = append([]x402.SupportedKind(nil), s.Kinds...)
	s.Signers = map[string][]string{}
	for k, v := range f.supported.Signers {
		s.Signers[k] = append([]string(nil), v...)
	}
	return &s, nil
}

// ErrBadRequest reports a request that is not a payment at all (missing or malformed
// paymentPayload or paymentRequirements); the HTTP handler answers 400.
var ErrBadRequest = errors.New("facilitator: bad request")

// UnsupportedError reports a payment for an x402 version, scheme or network this facilitator
// does not serve; the HTTP handler answers 500 with the reference's message.
type UnsupportedError struct {
	Version         int
	Scheme, Network string
}

func (e *UnsupportedError) Error() string {
	return "facilitator: " + e.Message()
}

// Message is the reference's wording, which the HTTP handler sends.
func (e *UnsupportedError) Message() string {
	if e.Version != x402.V1 && e.Version != x402.V2 {
		return fmt.Sprintf("No facilitator registered for x402 version: %d", e.Version)
	}
	return fmt.Sprintf("No facilitator registered for scheme: %s and network: %s", e.Scheme, e.Network)
}

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// verdict is a payment problem: a reason code and a human-readable message.
type verdict struct {
	reason, message string
}

func reject(reason, format string, args ...any) *verdict {
	return &verdict{reason: reason, message: fmt.Sprintf(format, args...)}
}

// payment is a request parsed far enough to check it.
type payment struct {
	version int
	chain   *chainState
	network string // the requirement's network string, echoed in settle responses
	payer   string // authorization.from as received
	auth    *exact.Authorization
	sig     []byte
	domain  exact.Domain
	payTo   common.Address
	amount  *big.Int
	digest  common.Hash
	key     authKey
	// fromHasCode is set by check: the payer is a contract (or delegated) account.
	fromHasCode bool
}

func (p *payment) fingerprint() common.Hash { return crypto.Keccak256Hash(p.digest[:], p.sig) }

// prepare decodes the request and runs the checks that need no chain access, in the
// reference's order. It returns the payment (possibly with only network and payer filled) and
// the first problem, or an error for requests that are not payments this facilitator serves.
func (f *Facilitator) prepare(req *x402.VerifyRequest) (*payment, *verdict, error) {
	if req == nil || isAbsent(req.PaymentPayload) || isAbsent(req.PaymentRequirements) {
		return nil, nil, badRequest("missing paymentPayload or paymentRequirements")
	}
	version, err := req.PayloadVersion()
	if err != nil {
		return nil, nil, badRequest("%v", err)
	}
	switch version {
	case x402.V2:
		return f.prepareV2(req)
	case x402.V1:
		return f.prepareV1(req)
	default:
		return nil, nil, &UnsupportedError{Version: version}
	}
}

func isAbsent(raw []byte) bool {
	s := string(trimSpace(raw))
	return s == "" || s == "null"
}

func (f *Facilitator) prepareV2(req *x402.VerifyRequest) (*payment, *verdict, error) {
	pl, err := req.PayloadV2()
	if err != nil {
		return nil, nil, badRequest("%v", err)
	}
	rq, err := req.RequirementsV2()
	if err != nil {
		return nil, nil, badRequest("%v", err)
	}
	cs := f.byV2[rq.Network]
	if cs == nil || rq.Scheme != x402.SchemeExact {
		return nil, nil, &UnsupportedError{Version: x402.V2, Scheme: rq.Scheme, Network: rq.Network}
	}
	p := &payment{version: x402.V2, chain: cs, network: rq.Network}
	inner, innerErr := x402.DecodeExactEVMPayload(pl.Payload)
	if innerErr == nil {
		p.payer = inner.Authorization.From
	}
	if pl.Accepted.Scheme != x402.SchemeExact {
		return p, reject(ReasonScheme, "accepted scheme %q is not exact", pl.Accepted.Scheme), nil
	}
	name, nok := rq.ExtraString("name")
	ver, vok := rq.ExtraString("version")
	if !nok || !vok {
		return p, reject(ReasonMissingDomain, "requirements extra lacks the token's EIP-712 name or version"), nil
	}
	if pl.Accepted.Network != rq.Network {
		return p, reject(ReasonNetworkMismatch, "accepted network %q differs from the requirement's %q", pl.Accepted.Network, rq.Network), nil
	}
	return p, f.parsePayment(p, inner, innerErr, rq.Asset, rq.PayTo, rq.Amount, name, ver), nil
}

func (f *Facilitator) prepareV1(req *x402.VerifyRequest) (*payment, *verdict, error) {
	pl, err := req.PayloadV1()
	if err != nil {
		return nil, nil, badRequest("%v", err)
	}
	rq, err := req.RequirementsV1()
	if err != nil {
		return nil, nil, badRequest("%v", err)
	}
	cs := f.byV1[rq.Network]
	if cs == nil || rq.Scheme != x402.SchemeExact {
		return nil, nil, &UnsupportedError{Version: x402.V1, Scheme: rq.Scheme, Network: rq.Network}
	}
	p := &payment{version: x402.V1, chain: cs, network: rq.Network}
	inner, innerErr := x402.DecodeExactEVMPayload(pl.Payload)
	if innerErr == nil {
		p.payer = inner.Authorization.From
	}
	if pl.Scheme != x402.SchemeExact {
		return p, reject(ReasonScheme, "payload scheme %q is not exact", pl.Scheme), nil
	}
	name, nok := rq.ExtraString("name")
	ver, vok := rq.ExtraString("version")
	if !nok || !vok {
		return p, reject(ReasonMissingDomain, "requirements extra lacks the token's EIP-712 name or version"), nil
	}
	if pl.Network != rq.Network {
		return p, reject(ReasonNetworkMismatch, "payload network %q differs from the requirement's %q", pl.Network, rq.Network), nil
	}
	return p, f.parsePayment(p, inner, innerErr, rq.Asset, rq.PayTo, rq.MaxAmountRequired, name, ver), nil
}

func (f *Facilitator) parsePayment(p *payment, inner *x402.ExactEVMPayload, innerErr error, asset, payTo, amount, name, version string) *verdict {
	if innerErr != nil {
		return reject(ReasonInvalidPayload, "%v", innerErr)
	}
	auth, err := exact.ParseAuthorization(inner.Authorization)
	if err != nil {
		return reject(ReasonInvalidPayload, "%v", err)
	}
	assetAddr, err := exact.ParseAddress(asset)
	if err != nil {
		return reject(ReasonInvalidRequirements, "asset: %v", err)
	}
	if p.payTo, err = exact.ParseAddress(payTo); err != nil {
		return reject(ReasonInvalidRequirements, "payTo: %v", err)
	}
	if p.amount, err = exact.ParseUint256(amount); err != nil {
		return reject(ReasonInvalidRequirements, "amount: %v", err)
	}
	sig, err := exact.DecodeSignature(inner.Signature)
	if err != nil {
		return reject(ReasonParseSignature, "signature is not 0x-prefixed hex")
	}
	p.auth, p.sig = auth, sig
	p.domain = exact.Domain{Name: name, Version: version, ChainID: p.chain.id, VerifyingContract: assetAddr}
	p.digest = exact.Hash(p.domain, auth).Digest
	p.key = authKey{chainID: p.chain.id, asset: assetAddr, from: auth.From, nonce: auth.Nonce}
	return nil
}

// refuseKnown refuses an authorization that this process is settling or has settled, without
// asking the chain. Either way its nonce is, or is about to be, used: the reference's answer to
// a second settlement of one payload is invalid_exact_evm_nonce_already_used, so that is the
// code here too.
func (f *Facilitator) refuseKnown(p *payment) *verdict {
	st, ok := f.reg.lookup(p.key, f.now())
	if !ok {
		return nil
	}
	return knownVerdict(st)
}

func knownVerdict(st entryState) *verdict {
	if st == stateSettled {
		return reject(ReasonNonceUsed, "authorization already settled by this facilitator")
	}
	return reject(ReasonNonceUsed, "authorization is being settled by this facilitator")
}

// Verify implements x402.Facilitator. A payment problem is an answer (IsValid false with the
// reason); an error is ErrBadRequest, an *UnsupportedError or a chain access failure.
func (f *Facilitator) Verify(ctx context.Context, req *x402.VerifyRequest) (*x402.VerifyResponse, error) {
	p, v, err := f.prepare(req)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = f.refuseKnown(p)
	}
	if v == nil {
		if v, err = f.check(ctx, p, true); err != nil {
			return nil, err
		}
	}
	if v != nil {
		return &x402.VerifyResponse{IsValid: false, InvalidReason: v.reason, InvalidMessage: v.message, Payer: p.payer}, nil
	}
	return &x402.VerifyResponse{IsValid: true, Payer: p.payer}, nil
}

var _ x402.Facilitator = (*Facilitator)(nil)
