// Package simulate measures fleetkey's anomaly detection (internal/anomaly) on a
// labelled fleet workload: normal agents with different habits and merchants,
// and attack scenarios, all paying through a real payments.Service on SQLite with
// the detector on its signing path, in one process, under a simulated clock.
//
// It reports, per scenario, whether the attack was detected, how many attack
// payments were signed (and how much money they moved) before containment, and
// after how many attack payments the first alert came; and the false-alarm rate:
// the share of normal agents that got an alert, per simulated day.
//
// The workload is drawn from a seeded PCG generator (math/rand/v2) so that a run
// can be reproduced exactly; nothing secret comes from it (keys and nonces come
// from crypto/rand inside custody and the signer, as always).
package simulate

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/anomaly"
	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/keys/hd"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
	"github.com/fleetkey/fleetkey/x402"
)

// ReviewDelay is how long after an alert on a normal agent (or a fleet-wide one
// outside an attack) the simulated operator acknowledges it as benign, which
// lifts its response and vouches for its payee. Alerts on attacked agents are
// never acknowledged.
const ReviewDelay = time.Hour

// Scenario names, in the order they are reported.
const (
	PromptInjection       = "prompt_injection"
	CompromisedDependency = "compromised_dependency"
	SlowDrain             = "slow_drain"
	RunawayLoop           = "runaway_loop"
	ReplayedRequests      = "replayed_requests"
	SecondRuntime         = "second_runtime"
)

// Scenarios lists every scenario.
func Scenarios() []string {
	return []string{PromptInjection, CompromisedDependency, SlowDrain, RunawayLoop, ReplayedRequests, SecondRuntime}
}

// Options sizes a run. Zero values take the defaults.
type Options struct {
	// Agents is the number of normal agents (default 100); Days the simulated days
	// (default 7, at least 3: attacks start once every baseline is warm).
	Agents int
	Days   int
	// Seed selects the workload (default 1).
	Seed uint64
	// Scenarios to run (default all).
	Scenarios []string
	// Dir holds the database, kept after the run (default a temporary directory,
	// removed after). It must not hold one already.
	Dir string
	// PerPaymentLimit is the fleet policy's per-payment limit in micro-units
	// (default 500000, $0.50).
	PerPaymentLimit int64
}

// ScenarioResult is one scenario's outcome. AmountLost is in the asset's whole
// units (USDC).
type ScenarioResult struct {
	Name                   string  `json:"name"`
	Detected               bool    `json:"detected"`
	PaymentsLost           int     `json:"payments_lost"`
	AmountLost             float64 `json:"amount_lost"`
	DetectionDelayPayments int     `json:"detection_delay_payments"`
	// Attempts is how many attack payments the scenario made (table only).
	Attempts int `json:"-"`
	// FirstSignal names the signal of the first alert (table only).
	FirstSignal string `json:"-"`
}

// Result is a run's outcome; its JSON form is the report's.
type Result struct {
	Scenarios []ScenarioResult `json:"scenarios"`
	// FalseAlarmRate is the share of normal agents alerted on per simulated day:
	// distinct (normal agent, day) pairs with an alert over agents × days.
	FalseAlarmRate float64 `json:"false_alarm_rate"`
	Stats          Stats   `json:"-"`
}

// Stats describes the run (table only).
type Stats struct {
	NormalAgents, VictimAgents, Days int
	Payments, Signed, Held, Denied   int
	FlaggedAgentDays                 int
	// FalseAlarms counts the alerts on normal agents and the fleet-wide alerts
	// outside attacks, by signal.
	FalseAlarms map[string]int
	// FleetAlertsOutsideAttacks counts fleet-wide alerts raised while no attack ran.
	FleetAlertsOutsideAttacks int
	// Acked counts the false alarms the simulated operator acknowledged.
	Acked int
	// PayP50 and PayP99 are percentiles of the wall time per Pay call.
	PayP50, PayP99 time.Duration
	Elapsed        time.Duration
}

// asset is Base Sepolia USDC (x402.md §3.1.1), the simulated fleet's only asset.
var asset = signer.Asset{
	Network: "eip155:84532", Address: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
	Symbol: "USDC", Decimals: 6, EIP712Name: "USDC", EIP712Version: "2",
}

// clock is the simulated clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

// recorder keeps every alert the detector raises.
type recorder struct {
	mu     sync.Mutex
	alerts []store.Alert
}

func (r *recorder) Notify(a store.Alert) { r.mu.Lock(); r.alerts = append(r.alerts, a); r.mu.Unlock() }

func (r *recorder) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.alerts) }

func (r *recorder) since(i int) []store.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.alerts[i:])
}

func (o *Options) defaults() error {
	if o.Agents == 0 {
		o.Agents = 100
	}
	if o.Days == 0 {
		o.Days = 7
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.PerPaymentLimit == 0 {
		o.PerPaymentLimit = 500_000
	}
	if len(o.Scenarios) == 0 || slices.Contains(o.Scenarios, "all") {
		o.Scenarios = Scenarios()
	}
	switch {
	case o.Agents < 10 || o.Agents > 5000:
		return fmt.Errorf("simulate: %d normal agents; 10 to 5000 are supported", o.Agents)
	case o.Days < 3 || o.Days > 60:
		return fmt.Errorf("simulate: %d days; 3 to 60 are supported (attacks start on day 3)", o.Days)
	case o.PerPaymentLimit < 100_000:
		return errors.New("simulate: the per-payment limit must be at least 0.10")
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(Scenarios(), s) {
			return fmt.Errorf("simulate: unknown scenario %q (known: %v, or all)", s, Scenarios())
		}
	}
	return nil
}

// env is the fleetkey under test.
type env struct {
	st    *sqlite.Store
	vault *custody.Vault
	svc   *payments.Service
	det   *anomaly.Detector
	rec   *recorder
	clk   *clock
	fleet store.Fleet
}

func newEnv(ctx context.Context, dir string, start time.Time, limit int64) (*env, error) {
	e := &env{clk: &clock{t: start}, rec: &recorder{}}
	var err error
	if e.st, err = sqlite.Open(ctx, filepath.Join(dir, "fleetkey.db"), sqlite.Options{SynchronousNormal: true}); err != nil {
		return nil, err
	}
	entropy := make([]byte, 32)
	if _, err := rand.Read(entropy); err != nil {
		return nil, err
	}
	words, err := hd.EntropyToMnemonic(entropy)
	clear(entropy)
	if err != nil {
		return nil, err
	}
	m, err := custody.NewMnemonic([]byte(words))
	if err != nil {
		return nil, err
	}
	if e.vault, err = custody.VaultFromMnemonic(m, custody.Passphrase{}); err != nil {
		return nil, err
	}
	reg, err := signer.NewRegistry([]signer.Asset{asset})
	if err != nil {
		return nil, err
	}
	alog, err := audit.New(audit.Options{Now: e.clk.now})
	if err != nil {
		return nil, err
	}
	if e.det, err = anomaly.New(ctx, anomaly.Config{
		Store: e.st, Audit: alog, Now: e.clk.now, PerPaymentLimit: limit,
		Approvers: []string{"secops"}, Quorum: 1, ApprovalExpiresAfter: time.Hour,
		Notifiers: []anomaly.Notifier{e.rec}, FlushEvery: -1,
	}); err != nil {
		return nil, err
	}
	if e.svc, err = payments.New(payments.Config{Store: e.st, Keys: e.vault, Registry: reg, Audit: alog, Now: e.clk.now, Detector: e.det}); err != nil {
		return nil, err
	}
	src := fmt.Sprintf("version: 1\nname: simulated-fleet\nlimits:\n  per_payment: %q\n  windows:\n    - window: 24h\n      max_amount: \"1000000\"\nmax_validity: 5m\n",
		policy.FormatAmount(limit))
	p, err := policy.Parse([]byte(src))
	if err != nil {
		return nil, err
	}
	err = e.st.Tx(ctx, func(tx store.Tx) error {
		var err error
		if e.fleet, err = tx.CreateFleet(ctx, store.Fleet{Name: "simulated", Index: 1}); err != nil {
			return err
		}
		_, err = tx.PutPolicy(ctx, store.PutPolicyRequest{Level: store.LevelFleet, ScopeID: e.fleet.ID, Name: p.Name(), Hash: p.Hash(), Source: src, Now: start})
		return err
	})
	return e, err
}

func (e *env) close(ctx context.Context) {
	_ = e.det.Close(ctx)
	_ = e.st.Close()
	_ = e.vault.Close()
}

// merchant is a payee with a few priced endpoints.
type merchant struct {
	payTo  string
	origin string
	prices []int64 // per endpoint, micro-units
}

func address(seed uint64, label string) string {
	h := sha256.Sum256([]byte(strconv.FormatUint(seed, 10) + "/" + label))
	return common.BytesToAddress(h[:20]).Hex()
}

func newMerchant(r *mrand.Rand, seed uint64, name string) merchant {
	m := merchant{payTo: address(seed, name), origin: name + ".example.com"}
	base := math.Exp(math.Log(1000) + r.Float64()*(math.Log(100_000)-math.Log(1000)))
	for range 2 + r.IntN(5) {
		m.prices = append(m.prices, int64(base*(0.5+1.5*r.Float64())))
	}
	return m
}

// habit is how a normal agent pays.
type habit int

const (
	steady habit = iota // a working window, payments spread over it
	batch               // one to three bursts a day
	sparse              // a few payments a day
)

func (h habit) String() string { return [...]string{"steady", "batch", "sparse"}[h] }

// agent is a simulated agent and its habits.
type agent struct {
	id, name  string
	habit     habit
	start     float64 // active window start, hours UTC
	length    float64 // window length, hours
	perDay    float64 // payments per day (steady, sparse), batches per day (batch)
	batchSize int
	favs      []int // merchant indexes
	victim    string
	runtime   int
	// runtimes is the runtime generation of each day.
	runtimes []int
	seq      int
}

// event is one payment request at a simulated time.
type event struct {
	at       time.Time
	agent    *agent
	payTo    string
	url      string
	amount   int64
	runtime  string
	idem     string
	scenario int // index in Options.Scenarios, -1 for normal traffic
}

type workload struct {
	r         *mrand.Rand
	seed      uint64
	start     time.Time
	merchants []merchant
	zipf      []float64 // cumulative popularity
	used      []int     // merchants some normal agent has as a favourite
	longTail  int
}

func (w *workload) pickMerchant() int {
	x := w.r.Float64() * w.zipf[len(w.zipf)-1]
	return sort.SearchFloat64s(w.zipf, x)
}

func (w *workload) newAgent(i int, h habit) *agent {
	a := &agent{name: fmt.Sprintf("sim-%04d", i), habit: h, start: w.r.Float64() * 24}
	switch h {
	case steady:
		a.length, a.perDay = 8+w.r.Float64()*8, 15+w.r.Float64()*45
	case batch:
		a.length, a.perDay, a.batchSize = 12+w.r.Float64()*8, float64(1+w.r.IntN(3)), 10+w.r.IntN(21)
	case sparse:
		a.length, a.perDay = 12+w.r.Float64()*8, 2+w.r.Float64()*6
	}
	nf := 2 + w.r.IntN(5)
	if h == batch {
		nf = 1 + w.r.IntN(3)
	}
	for len(a.favs) < nf {
		if m := w.pickMerchant(); !slices.Contains(a.favs, m) {
			a.favs = append(a.favs, m)
		}
	}
	return a
}

// normal makes a normal payment of a at t.
func (w *workload) normal(a *agent, t time.Time) event {
	mi := a.favs[w.r.IntN(len(a.favs))]
	switch x := w.r.Float64(); {
	case x < 0.0002:
		// A merchant nobody paid before: a real novelty, and a true false alarm
		// if the detector alerts on it.
		w.longTail++
		m := newMerchant(w.r, w.seed, fmt.Sprintf("longtail%d", w.longTail))
		return w.pay(a, t, m, w.r.IntN(len(m.prices)))
	case x < 0.02 && len(w.used) > 0:
		// Another merchant the fleet uses: agents find merchants through the
		// same tools and registries.
		mi = w.used[w.r.IntN(len(w.used))]
	}
	m := w.merchants[mi]
	return w.pay(a, t, m, w.r.IntN(len(m.prices)))
}

func (w *workload) pay(a *agent, t time.Time, m merchant, ep int) event {
	return event{at: t, agent: a, payTo: m.payTo, amount: m.prices[ep], scenario: -1, idem: a.nextKey(),
		url: fmt.Sprintf("https://%s/v1/e%d?q=%d", m.origin, ep, w.r.IntN(1_000_000))}
}

// nextKey is the agent's next idempotency key.
func (a *agent) nextKey() string {
	a.seq++
	return fmt.Sprintf("%s-%d", a.name, a.seq)
}

// days generates a's normal traffic over the run.
func (w *workload) days(a *agent, days int) []event {
	var out []event
	for d := range days {
		from := w.start.Add(time.Duration(d)*24*time.Hour + time.Duration(a.start*float64(time.Hour)))
		span := time.Duration(a.length * float64(time.Hour))
		var day []event
		switch a.habit {
		case steady, sparse:
			n := poisson(w.r, a.perDay)
			for range n {
				day = append(day, w.normal(a, from.Add(time.Duration(w.r.Float64()*float64(span)))))
			}
		case batch:
			for b := range int(a.perDay) {
				t := from.Add(time.Duration(float64(b)/a.perDay*float64(span)) + time.Duration(w.r.NormFloat64()*float64(20*time.Minute)))
				m := w.merchants[a.favs[w.r.IntN(len(a.favs))]]
				for range a.batchSize {
					ev := w.pay(a, t, m, w.r.IntN(len(m.prices)))
					if w.r.Float64() < 0.1 {
						ev = w.normal(a, t)
					}
					day = append(day, ev)
					t = t.Add(5*time.Second + time.Duration(w.r.Float64()*float64(10*time.Second)))
				}
			}
		}
		sort.Slice(day, func(i, j int) bool { return day[i].at.Before(day[j].at) })
		// A runtime restart now and then, at the start of a day (the previous one
		// has been idle since the day before).
		if d > 0 && w.r.Float64() < 1.0/20 {
			a.runtime++
		}
		a.runtimes = append(a.runtimes, a.runtime)
		for i := range day {
			day[i].runtime = fmt.Sprintf("rt-%s-%d", a.name, a.runtime)
		}
		out = append(out, day...)
	}
	return out
}

func poisson(r *mrand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Run builds the fleet, plays the workload and reports.
func Run(ctx context.Context, opt Options) (*Result, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	began := time.Now()
	dir := opt.Dir
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("simulate: %w", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "fleetkey.db")); err == nil {
			return nil, fmt.Errorf("simulate: %s already holds a database; give a new directory", dir)
		}
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "fleetkey-simulate-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	e, err := newEnv(ctx, dir, start, opt.PerPaymentLimit)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	defer e.close(ctx)

	w := &workload{r: mrand.New(mrand.NewPCG(opt.Seed, opt.Seed^0x5eed)), seed: opt.Seed, start: start}
	for i := range 40 {
		w.merchants = append(w.merchants, newMerchant(w.r, opt.Seed, fmt.Sprintf("m%02d", i)))
		w.zipf = append(w.zipf, 1/float64(i+1))
		if i > 0 {
			w.zipf[i] += w.zipf[i-1]
		}
	}
	var agents []*agent
	for i := range opt.Agents {
		a := w.newAgent(i, habit(w.r.IntN(3)))
		agents = append(agents, a)
		for _, m := range a.favs {
			if !slices.Contains(w.used, m) {
				w.used = append(w.used, m)
			}
		}
	}
	attackDay := start.Add(2 * 24 * time.Hour)
	var events []event
	sc := make([]*scenario, len(opt.Scenarios))
	for i, name := range opt.Scenarios {
		sc[i] = &scenario{name: name}
		n := 1
		if name == CompromisedDependency {
			n = max(3, opt.Agents/10)
		}
		for range n {
			a := w.newAgent(len(agents), steady)
			// Victims are busy in the hours of their attack (a second runtime is
			// only concurrent with an active first one).
			a.perDay, a.start, a.length = 40+w.r.Float64()*20, 8, 10
			a.victim = name
			agents = append(agents, a)
			sc[i].victims = append(sc[i].victims, a)
		}
		sc[i].start = attackDay.Add(time.Duration(10*60+30*i) * time.Minute)
	}
	for _, a := range agents {
		events = append(events, w.days(a, opt.Days)...)
	}
	for i, s := range sc {
		events = append(events, w.attack(s, i, events)...)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })

	// Provision everyone.
	byID := map[string]*agent{}
	for i := 0; i < len(agents); i += payments.MaxBatch {
		req := payments.ProvisionRequest{FleetID: e.fleet.ID}
		for _, a := range agents[i:min(i+payments.MaxBatch, len(agents))] {
			req.Agents = append(req.Agents, payments.NewAgent{ExternalID: a.name, Name: a.name,
				Labels: map[string]string{"habit": a.habit.String(), "victim": a.victim}})
		}
		ps, err := e.svc.ProvisionAgents(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("simulate: provision: %w", err)
		}
		for j, p := range ps {
			agents[i+j].id = p.Agent.ID
			byID[p.Agent.ID] = agents[i+j]
		}
	}

	res := &Result{Stats: Stats{NormalAgents: opt.Agents, VictimAgents: len(agents) - opt.Agents, Days: opt.Days}}
	var (
		lat []time.Duration
		// review holds the alerts the operator will find benign and acknowledge
		// an hour after they were raised.
		review []store.Alert
	)
	for _, ev := range events {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for len(review) > 0 && !review[0].CreatedAt.Add(ReviewDelay).After(ev.at) {
			e.clk.set(review[0].CreatedAt.Add(ReviewDelay))
			if _, err := e.det.Ack(ctx, review[0].ID, audit.OperatorActor("sim-operator")); err != nil {
				return nil, fmt.Errorf("simulate: ack: %w", err)
			}
			res.Stats.Acked++
			review = review[1:]
		}
		e.clk.set(ev.at)
		before := e.rec.count()
		t0 := time.Now()
		pr, err := e.pay(ctx, ev)
		lat = append(lat, time.Since(t0))
		res.Stats.Payments++
		signedNew := err == nil && !pr.Replayed && !pr.NeedsApproval
		switch {
		case signedNew:
			res.Stats.Signed++
		case err == nil && pr.NeedsApproval:
			res.Stats.Held++
		case errors.Is(err, payments.ErrDenied):
			res.Stats.Denied++
		case err != nil && !errors.Is(err, store.ErrIdempotencyMismatch) && !isInactive(err):
			return nil, fmt.Errorf("simulate: %s at %s: %w", ev.agent.name, ev.at.Format(time.RFC3339), err)
		}
		if ev.scenario >= 0 {
			s := sc[ev.scenario]
			s.attempts++
			if signedNew {
				s.lost++
				s.amount += ev.amount
			}
		}
		for _, al := range e.rec.since(before) {
			if a := byID[al.AgentID]; (a != nil && a.victim == "") || (al.AgentID == "" && !attributed(al, sc, byID)) {
				review = append(review, al)
			}
			for _, s := range sc {
				if !s.detected && s.owns(al, byID) && !al.CreatedAt.Before(s.start) {
					s.detected, s.delay, s.signal = true, s.attempts, al.Signal
					if ev.scenario >= 0 && sc[ev.scenario] == s {
						// The attempt that raised it was not yet seen before detection.
						s.delay--
					}
				}
			}
		}
	}

	flagged := map[string]bool{}
	res.Stats.FalseAlarms = map[string]int{}
	for _, al := range e.rec.since(0) {
		a := byID[al.AgentID]
		switch {
		case a != nil && a.victim == "":
			day := int(al.CreatedAt.Sub(start) / (24 * time.Hour))
			flagged[al.AgentID+"/"+strconv.Itoa(day)] = true
			res.Stats.FalseAlarms[al.Signal]++
		case al.AgentID == "" && !attributed(al, sc, byID):
			res.Stats.FleetAlertsOutsideAttacks++
			res.Stats.FalseAlarms[al.Signal]++
		}
	}
	res.Stats.FlaggedAgentDays = len(flagged)
	res.FalseAlarmRate = float64(len(flagged)) / float64(opt.Agents*opt.Days)
	for _, s := range sc {
		res.Scenarios = append(res.Scenarios, ScenarioResult{Name: s.name, Detected: s.detected, PaymentsLost: s.lost,
			AmountLost: float64(s.amount) / 1e6, DetectionDelayPayments: s.delay, Attempts: s.attempts, FirstSignal: s.signal})
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		res.Stats.PayP50, res.Stats.PayP99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	res.Stats.Elapsed = time.Since(began)
	return res, nil
}

func isInactive(err error) bool {
	var se *store.StateError
	return errors.As(err, &se)
}

func attributed(al store.Alert, sc []*scenario, byID map[string]*agent) bool {
	for _, s := range sc {
		if s.owns(al, byID) {
			return true
		}
	}
	return false
}

// pay sends one event to the service as its agent's runtime would.
func (e *env) pay(ctx context.Context, ev event) (*payments.PayResult, error) {
	a, idem := ev.agent, ev.idem
	demand, err := x402.EncodeHeader(x402.PaymentRequiredV2{
		X402Version: 2, Error: "Payment required", Resource: x402.ResourceInfo{URL: ev.url},
		Accepts: []x402.PaymentRequirementsV2{{
			Scheme: "exact", Network: asset.Network, Amount: strconv.FormatInt(ev.amount, 10),
			Asset: asset.Address.Hex(), PayTo: ev.payTo, MaxTimeoutSeconds: 300,
			Extra: json.RawMessage(`{"name":"USDC","version":"2"}`),
		}},
	})
	if err != nil {
		return nil, err
	}
	return e.svc.Pay(anomaly.WithRuntime(ctx, ev.runtime), a.id, payments.PayRequest{
		Version: 2, Raw: []byte(demand), ResourceURL: ev.url, Method: "GET", IdempotencyKey: idem,
	})
}
