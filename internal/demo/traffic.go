package demo

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// Outcome is what became of one simulated request.
type Outcome string

// The outcomes of a simulated request.
const (
	// OutcomePaid: the payment was made and the endpoint answered.
	OutcomePaid Outcome = "paid"
	// OutcomeDenied: the payer refused (policy, or a check of the demand);
	// Event.Reason says why.
	OutcomeDenied Outcome = "denied"
	// OutcomeApprovalPending: the payment waits for an approver.
	OutcomeApprovalPending Outcome = "approval-pending"
	// OutcomeRejected: the server answered 402 again to the paid request (the
	// payment was not settled and is not sent again); Event.Reason is the
	// server's reason.
	OutcomeRejected Outcome = "rejected-by-server"
	// OutcomeFailed: anything else (the payer or the API failed).
	OutcomeFailed Outcome = "failed"
)

// Event reports one simulated request.
type Event struct {
	Time  time.Time
	Agent string
	Group string
	// Method and Path name the endpoint, Kind its kind.
	Method string
	Path   string
	Kind   Kind
	// Outcome and, for every outcome but paid, Reason: a denial reason code
	// ("pay_to_not_allowed"), the server's reason, or an error's text.
	Outcome Outcome
	Reason  string
	// Amount is what the 402 asked, in the token's atomic units (nil when
	// no demand was seen).
	Amount *big.Int
	// Transaction is the settlement transaction of a paid request.
	Transaction string
}

// Classifier maps an error of the Payer to an outcome and a reason. It sees
// every payer error except cancellation of the traffic's context.
type Classifier func(err error) (Outcome, string)

// ClassifyError is the default Classifier. It knows the errors of fleetkey's
// SDK payer: a payment the API denied (sdk.ErrDenied) is OutcomeDenied with
// the API's reason code ("pay_to_not_allowed", "domain_mismatch"); one still
// waiting for approvers when the payer stopped waiting (sdk.ErrApprovalPending)
// is OutcomeApprovalPending; one the approvers refused (sdk.ErrNotApproved) is
// OutcomeDenied with reason "not_approved". Any other error is OutcomeFailed
// with the error's text.
func ClassifyError(err error) (Outcome, string) {
	var apiErr *sdk.APIError
	switch {
	case errors.Is(err, sdk.ErrApprovalPending):
		return OutcomeApprovalPending, "awaiting approval"
	case errors.Is(err, sdk.ErrNotApproved):
		return OutcomeDenied, "not_approved"
	case errors.As(err, &apiErr) && errors.Is(apiErr, sdk.ErrDenied):
		if apiErr.Reason == "" {
			return OutcomeDenied, "denied"
		}
		return OutcomeDenied, apiErr.Reason
	}
	return OutcomeFailed, err.Error()
}

// Traffic defaults.
const (
	// DefaultMaxPerSecond bounds the requests of all agents together.
	DefaultMaxPerSecond = 4
	// DefaultRequestTimeout bounds one request, payment (and a wait for an
	// approval) included.
	DefaultRequestTimeout = 3 * time.Minute
	// maxBody is how much of a response is read before it is discarded.
	maxBody = 1 << 20
)

// TrafficAgent is one simulated agent.
type TrafficAgent struct {
	Name, Group string
	// Payer pays the agent's 402s (`fleetkey dev`: sdk.NewPayer with the
	// agent's token).
	Payer x402.Payer
	// Pace is the mean time between two requests; 0 means DefaultPace.
	Pace time.Duration
}

// TrafficConfig configures simulated traffic.
type TrafficConfig struct {
	// APIURL is the demo API's base URL, e.g. "http://127.0.0.1:4021".
	APIURL string
	// Endpoints are the endpoints to pick from, by Weight (PaidAPI.Endpoints).
	Endpoints []Endpoint
	Agents    []TrafficAgent
	// MaxPerSecond bounds the requests of all agents together; 0 means
	// DefaultMaxPerSecond.
	MaxPerSecond float64
	// RequestTimeout bounds one request; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Classify maps payer errors; nil means ClassifyError.
	Classify Classifier
	// Emit receives every event, from the agents' goroutines concurrently
	// (Summary.Add is safe for that). Nil drops them.
	Emit func(Event)
	// Transport sends the HTTP requests; nil means a transport of its own.
	Transport http.RoundTripper
}

// Traffic is simulated agent traffic against the demo API: each agent, in its
// own goroutine, picks an endpoint by weight (mostly honest ones, now and
// then a hostile one or the one that needs approval), fetches it through an
// x402 client paying with the agent's Payer, and reports an Event.
type Traffic struct {
	cfg   TrafficConfig
	base  *url.URL
	total int

	mu   sync.Mutex
	next time.Time // when the next request may start, across all agents
	gap  time.Duration
}

// NewTraffic validates the configuration.
func NewTraffic(cfg TrafficConfig) (*Traffic, error) {
	u, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("demo: traffic: api url %q is not an http(s) url", cfg.APIURL)
	}
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("demo: traffic: no endpoints")
	}
	if len(cfg.Agents) == 0 {
		return nil, errors.New("demo: traffic: no agents")
	}
	for i, a := range cfg.Agents {
		if a.Name == "" || a.Payer == nil {
			return nil, fmt.Errorf("demo: traffic: agent %d has no name or no payer", i)
		}
		if a.Pace < 0 {
			return nil, fmt.Errorf("demo: traffic: agent %s: negative pace", a.Name)
		}
	}
	t := &Traffic{cfg: cfg, base: u}
	for _, e := range cfg.Endpoints {
		if e.Weight < 0 {
			return nil, fmt.Errorf("demo: traffic: endpoint %s: negative weight", e.Path)
		}
		t.total += e.Weight
	}
	if t.total == 0 {
		return nil, errors.New("demo: traffic: every endpoint has weight 0")
	}
	if cfg.MaxPerSecond < 0 || cfg.RequestTimeout < 0 {
		return nil, errors.New("demo: traffic: negative rate or timeout")
	}
	rate := cfg.MaxPerSecond
	if rate == 0 {
		rate = DefaultMaxPerSecond
	}
	t.gap = time.Duration(float64(time.Second) / rate)
	if t.cfg.RequestTimeout == 0 {
		t.cfg.RequestTimeout = DefaultRequestTimeout
	}
	if t.cfg.Classify == nil {
		t.cfg.Classify = ClassifyError
	}
	if t.cfg.Emit == nil {
		t.cfg.Emit = func(Event) {}
	}
	if t.cfg.Transport == nil {
		t.cfg.Transport = &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute}
	}
	return t, nil
}

// Run runs the agents until ctx is done and returns nil once all of them have
// stopped; no event is emitted after it returns. A request cut short by the
// cancellation is not reported.
func (t *Traffic) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, a := range t.cfg.Agents {
		wg.Go(func() { t.agent(ctx, a) })
	}
	wg.Wait()
	return nil
}

func (t *Traffic) agent(ctx context.Context, a TrafficAgent) {
	pace := a.Pace
	if pace == 0 {
		pace = DefaultPace
	}
	// Start at a random point of the first interval, so agents do not march
	// in step.
	wait := time.Duration(randN(uint64(pace)))
	for {
		if !sleep(ctx, wait) || !t.reserve(ctx) {
			return
		}
		ep := t.pick()
		ev, ok := t.fetch(ctx, a, ep)
		if !ok {
			return
		}
		t.cfg.Emit(ev)
		// Uniform in [pace/2, 3·pace/2).
		wait = pace/2 + time.Duration(randN(uint64(pace)))
	}
}

// reserve waits for the shared rate limit.
func (t *Traffic) reserve(ctx context.Context) bool {
	t.mu.Lock()
	now := time.Now()
	at := t.next
	if at.Before(now) {
		at = now
	}
	t.next = at.Add(t.gap)
	t.mu.Unlock()
	return sleep(ctx, at.Sub(now))
}

func (t *Traffic) pick() Endpoint {
	n := int(randN(uint64(t.total)))
	for _, e := range t.cfg.Endpoints {
		if n < e.Weight {
			return e
		}
		n -= e.Weight
	}
	return t.cfg.Endpoints[len(t.cfg.Endpoints)-1]
}

// demandPayer remembers the demand it was asked to pay.
type demandPayer struct {
	x402.Payer
	req *x402.PaymentRequest
}

func (p *demandPayer) Pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	p.req = req
	return p.Payer.Pay(ctx, req)
}

// fetch makes one request; ok is false when the traffic was cancelled.
func (t *Traffic) fetch(ctx context.Context, a TrafficAgent, ep Endpoint) (Event, bool) {
	ev := Event{Agent: a.Name, Group: a.Group, Method: ep.Method, Path: ep.Path, Kind: ep.Kind}
	if ev.Method == "" {
		ev.Method = http.MethodGet
	}
	rctx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
	defer cancel()
	u := *t.base
	u.Path += ep.Path
	req, err := http.NewRequestWithContext(rctx, ev.Method, u.String(), nil)
	if err != nil {
		ev.Time, ev.Outcome, ev.Reason = time.Now(), OutcomeFailed, err.Error()
		return ev, true
	}
	payer := &demandPayer{Payer: a.Payer}
	client := x402.NewClient(payer, x402.WithBaseTransport(t.cfg.Transport))
	resp, err := client.Do(req)
	ev.Time = time.Now()
	if ctx.Err() != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return ev, false
	}
	ev.Amount = demandAmount(payer.req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		ev.Outcome, ev.Reason = t.cfg.Classify(err)
		return ev, true
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	res := x402.ResultFromResponse(resp)
	paid := res != nil && res.Payment != nil
	switch {
	case paid && resp.StatusCode < 300:
		ev.Outcome = OutcomePaid
		if res.Settlement != nil {
			ev.Transaction = res.Settlement.Transaction
		}
	case paid && errors.Is(res.Err, x402.ErrPaymentRejected):
		ev.Outcome = OutcomeRejected
		ev.Reason = strings.TrimPrefix(res.Err.Error(), x402.ErrPaymentRejected.Error()+": ")
	case res != nil && res.Err != nil:
		ev.Outcome, ev.Reason = OutcomeFailed, res.Err.Error()
	case resp.StatusCode < 300:
		ev.Outcome, ev.Reason = OutcomeFailed, "served without payment"
	default:
		ev.Outcome, ev.Reason = OutcomeFailed, fmt.Sprintf("status %d", resp.StatusCode)
	}
	return ev, true
}

// demandAmount is the amount of the demand's first requirement, which is the
// only one the demo API offers.
func demandAmount(req *x402.PaymentRequest) *big.Int {
	if req == nil {
		return nil
	}
	var s string
	switch {
	case req.V2 != nil && len(req.V2.Accepts) > 0:
		s = req.V2.Accepts[0].Amount
	case req.V1 != nil && len(req.V1.Accepts) > 0:
		s = req.V1.Accepts[0].MaxAmountRequired
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 {
		return nil
	}
	return v
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// randN returns a uniform integer in [0, n) from crypto/rand; 0 when n is 0.
func randN(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	// Rejection sampling keeps the result unbiased.
	limit := ^uint64(0) - ^uint64(0)%n
	var b [8]byte
	for {
		rand.Read(b[:]) // never fails: it crashes the program instead
		if v := binary.LittleEndian.Uint64(b[:]); v < limit {
			return v % n
		}
	}
}
