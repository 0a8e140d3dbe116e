// Package metrics exposes fleetkey's Prometheus metrics (text exposition format 0.0.4) on a
// registry of its own, never the process-global one: counters and a latency histogram fed by
// Service, a decorator of the payments service, and gauges read from the store at scrape time
// (pending approvals, budget utilisation of every fleet and group window).
//
// Label values are bounded by design: payments are labelled by group id and asset symbol, never
// by agent id, and the reason label takes its values from fixed sets of codes.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
)

// Outcomes of a payment request, the values of the outcome label.
const (
	OutcomeSigned   = "signed"
	OutcomeDenied   = "denied"
	OutcomeApproval = "approval"
	OutcomeFailed   = "failed"
)

// scrapeTimeout bounds the store reads of one scrape.
const scrapeTimeout = 5 * time.Second

// BuildInfo names the running binary in fleetkey_build_info.
type BuildInfo struct {
	Version, Commit, GoVersion string
}

// Config wires Metrics to what the scrape-time gauges read.
type Config struct {
	// Store is read at scrape time. Required.
	Store store.Store
	// Assets names assets by symbol in labels (an unknown asset is labelled by its address).
	Assets *signer.Registry
	Build  BuildInfo
	// Up reports whether the daemon can serve payments (fleetkey_up); nil means always.
	Up func(ctx context.Context) bool
	// Logger receives scrape-time read failures (default: discard).
	Logger *slog.Logger
}

// Metrics holds fleetkey's collectors and the registry they are exposed from.
type Metrics struct {
	reg   *prometheus.Registry
	store store.Store
	// symbols maps "network address" (address in lower case) to the asset's symbol.
	symbols  map[string]string
	log      *slog.Logger
	payments *prometheus.CounterVec
	amount   *prometheus.CounterVec
	signing  prometheus.Histogram

	// policies caches parsed policies by content hash (a version never changes).
	policies sync.Map // string → *policy.Policy
}

// New builds the collectors and registers them, with the Go runtime and process collectors, on a
// new registry.
func New(cfg Config) (*Metrics, error) {
	if cfg.Store == nil {
		return nil, errors.New("metrics: config has no store")
	}
	m := &Metrics{reg: prometheus.NewRegistry(), store: cfg.Store, symbols: map[string]string{}, log: cfg.Logger}
	if cfg.Assets != nil {
		for _, a := range cfg.Assets.Assets() {
			m.symbols[a.Network+" "+strings.ToLower(a.Address.Hex())] = a.Symbol
		}
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.payments = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fleetkey_payments_total",
		Help: "Payment requests by outcome (signed, denied, approval, failed), reason code, group id and asset symbol.",
	}, []string{"outcome", "reason", "group", "asset"})
	m.amount = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fleetkey_payment_amount_micro_total",
		Help: "Amount signed, in micro-units of the reference currency, by group id and asset symbol (replays not counted again).",
	}, []string{"group", "asset"})
	m.signing = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fleetkey_signing_duration_seconds",
		Help:    "Time to decide, reserve, sign and record one payment that was signed.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	up := cfg.Up
	if up == nil {
		up = func(context.Context) bool { return true }
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "fleetkey_build_info",
		Help:        "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{"version": cfg.Build.Version, "commit": cfg.Build.Commit, "goversion": cfg.Build.GoVersion},
	})
	build.Set(1)
	for _, c := range []prometheus.Collector{
		m.payments, m.amount, m.signing, build,
		&storeCollector{m: m, up: up},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Gatherer is the registry, for tests and for serving it elsewhere.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves the registry in the Prometheus text format. A gauge that cannot be read is left
// out of the answer (and logged) rather than failing the whole scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slogPrinter{m.log},
	})
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.l.Warn("metrics: scrape", "error", strings.TrimSpace(fmt.Sprintln(v...)))
}

// assetLabel names an asset by its registry symbol, else by its lower-case address.
func (m *Metrics) assetLabel(network, address string) string {
	if network == "" && address == "" {
		return ""
	}
	if sym, ok := m.symbols[network+" "+strings.ToLower(address)]; ok {
		return sym
	}
	return strings.ToLower(address)
}

var (
	descUp = prometheus.NewDesc("fleetkey_up",
		"1 when custody is unsealed and the database answers, else 0.", nil, nil)
	descPending = prometheus.NewDesc("fleetkey_approvals_pending",
		"Approvals waiting for votes.", nil, nil)
	descBudget = prometheus.NewDesc("fleetkey_budget_utilization_ratio",
		"Spent over limit of each rolling-window budget of the active fleet and group policies; kind is amount or count.",
		[]string{"level", "scope", "window", "kind"}, nil)
)

// storeCollector reads its gauges from the store at every scrape.
type storeCollector struct {
	m  *Metrics
	up func(context.Context) bool
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descUp
	ch <- descPending
	ch <- descBudget
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	up := 0.0
	if c.up(ctx) {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)

	var pending []store.Approval
	var budgets []budget
	now := time.Now()
	err := c.m.store.ReadTx(ctx, func(rt store.ReadTx) error {
		var err error
		if pending, err = rt.PendingApprovals(ctx, "", 0); err != nil {
			return err
		}
		budgets, err = c.m.budgets(ctx, rt, now)
		return err
	})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descPending, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(len(pending)))
	for _, b := range budgets {
		ch <- prometheus.MustNewConstMetric(descBudget, prometheus.GaugeValue, b.ratio, b.level, b.scope, b.window, b.kind)
	}
}

// budget is one gauge of fleetkey_budget_utilization_ratio.
type budget struct {
	level, scope, window, kind string
	ratio                      float64
}

// budgets reads the window limits of the active policy of every fleet and group and their
// totals. Agent-level budgets are left out: one series per agent would be unbounded.
func (m *Metrics) budgets(ctx context.Context, rt store.ReadTx, now time.Time) ([]budget, error) {
	fleets, err := rt.Fleets(ctx)
	if err != nil {
		return nil, err
	}
	var out []budget
	add := func(level store.Level, scope string) error {
		rec, err := rt.ActivePolicy(ctx, level, scope)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		p, err := m.policy(rec)
		if err != nil {
			// A stored policy that does not parse is the payments service's to refuse;
			// here it only means no gauge.
			m.log.Warn("metrics: stored policy does not parse", "policy_id", rec.ID, "error", err)
			return nil
		}
		set := policy.Set{Fleet: p}
		if level == store.LevelGroup {
			set = policy.Set{Group: p}
		}
		for _, w := range set.Windows() {
			sp, err := rt.Spend(ctx, level, scope, w.Window, now)
			if err != nil {
				return err
			}
			label := windowLabel(w)
			if w.MaxAmount >= 0 {
				out = append(out, budget{string(level), scope, label, "amount", ratio(sp.AmountMicro, w.MaxAmount)})
			}
			if w.MaxCount >= 0 {
				out = append(out, budget{string(level), scope, label, "count", ratio(sp.Count, w.MaxCount)})
			}
		}
		return nil
	}
	for _, f := range fleets {
		if err := add(store.LevelFleet, f.ID); err != nil {
			return nil, err
		}
		groups, err := rt.Groups(ctx, f.ID)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			if err := add(store.LevelGroup, g.ID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (m *Metrics) policy(rec store.PolicyRecord) (*policy.Policy, error) {
	if p, ok := m.policies.Load(rec.Hash); ok {
		return p.(*policy.Policy), nil
	}
	p, err := policy.Parse([]byte(rec.Source))
	if err != nil {
		return nil, err
	}
	m.policies.Store(rec.Hash, p)
	return p, nil
}

// windowLabel is the window as the policy writes it ("1h"), taken from its rule path
// "group:limits.windows[1h]".
func windowLabel(w policy.WindowLimit) string {
	if i, j := strings.LastIndexByte(w.Rule, '['), strings.LastIndexByte(w.Rule, ']'); i >= 0 && j > i+1 {
		return w.Rule[i+1 : j]
	}
	return w.Window.String()
}

func ratio(spent, limit int64) float64 {
	if limit == 0 {
		if spent == 0 {
			return 0
		}
		return 1 // a zero limit admits nothing: anything counted has used it all
	}
	return float64(spent) / float64(limit)
}
