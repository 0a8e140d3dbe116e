package devmode

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fleetkey/fleetkey/internal/demo"
	"github.com/fleetkey/fleetkey/internal/metrics"
	"github.com/fleetkey/fleetkey/internal/store"
)

// FleetLines is the number of lines of the fleet block of the live summary, always the same so
// that a terminal can redraw it in place.
const FleetLines = 2

// maxFleetReasons is how many denial reasons the fleet block names.
const maxFleetReasons = 4

// Metric names the fleet block reads from the daemon's registry (docs/operations.md).
const (
	metricPayments = "fleetkey_payments_total"
	metricAmount   = "fleetkey_payment_amount_micro_total"
	metricPending  = "fleetkey_approvals_pending"
	// replayedReason marks an idempotent replay of a signed payment: not a new payment.
	replayedReason = "replayed"
)

// microDecimals are the decimals of the amount counter's micro-units.
const microDecimals = 6

// authPageSize bounds one page of the ledger read.
const authPageSize = 500

// fleetStats is the daemon's own view of the payments since this start, whoever made them: the
// simulated agents, or the user's agents through the sidecar, the SDK or MCP.
type fleetStats struct {
	// Signed payments (replays not counted again) and their amounts in micro-units of the
	// reference currency, by asset symbol.
	Signed int
	Amount map[string]*big.Int
	// Denied counts policy denials by reason code.
	Denied map[string]int
	// Failed counts the payment requests that were neither signed, denied nor held.
	Failed int
	// Pending is the number of approvals waiting for votes now.
	Pending int
	// Settled counts the authorizations created since this start that the reconciler found
	// settled on chain.
	Settled int
}

// fleetView reads fleetStats from the daemon running in this process: the payment counters and
// the pending-approvals gauge of its Prometheus registry, and the ledger for settlements. One
// read costs one scrape of the registry and one read transaction that touches only the
// authorizations created since the last read and the ones still open (by primary key), never a
// scan of the whole ledger.
type fleetView struct {
	gather prometheus.Gatherer
	st     store.Store

	mu sync.Mutex
	// after is the cursor of the ledger read: authorization ids sort by creation time, and
	// the first cursor is an id made at start, so only this start's authorizations are read.
	after string
	// open holds the authorizations not settled yet that may still settle: reserved, signed
	// or expired (the chain is the truth: an expired one can still settle).
	open    map[string]struct{}
	settled int
}

func newFleetView(g prometheus.Gatherer, st store.Store) *fleetView {
	return &fleetView{gather: g, st: st, after: store.NewID("auth"), open: map[string]struct{}{}}
}

// read returns the current stats.
func (v *fleetView) read(ctx context.Context) (fleetStats, error) {
	s := fleetStats{Amount: map[string]*big.Int{}, Denied: map[string]int{}}
	mfs, err := v.gather.Gather()
	if err != nil && len(mfs) == 0 {
		return s, fmt.Errorf("devmode: read metrics: %w", err)
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case metricPayments:
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, p := range m.GetLabel() {
					l[p.GetName()] = p.GetValue()
				}
				n := int(m.GetCounter().GetValue())
				switch l["outcome"] {
				case metrics.OutcomeSigned:
					if l["reason"] != replayedReason {
						s.Signed += n
					}
				case metrics.OutcomeDenied:
					s.Denied[l["reason"]] += n
				case metrics.OutcomeFailed:
					s.Failed += n
				}
			}
		case metricAmount:
			for _, m := range mf.GetMetric() {
				asset := ""
				for _, p := range m.GetLabel() {
					if p.GetName() == "asset" {
						asset = p.GetValue()
					}
				}
				a := s.Amount[asset]
				if a == nil {
					a = new(big.Int)
					s.Amount[asset] = a
				}
				// Counters are float64: exact up to 2^53 micro-units, far beyond a dev run.
				a.Add(a, big.NewInt(int64(m.GetCounter().GetValue())))
			}
		case metricPending:
			for _, m := range mf.GetMetric() {
				s.Pending += int(m.GetGauge().GetValue())
			}
		}
	}
	if s.Settled, err = v.settledCount(ctx); err != nil {
		return s, err
	}
	return s, nil
}

// settledCount brings the settlement count up to date: the authorizations created since the
// last read join the open ones, and every open one is read again by id.
func (v *fleetView) settledCount(ctx context.Context) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var (
		after   string
		open    map[string]struct{}
		settled int
	)
	// ReadTx may run fn more than once: every run starts again from the last committed read.
	err := v.st.ReadTx(ctx, func(rt store.ReadTx) error {
		after, open, settled = v.after, maps.Clone(v.open), v.settled
		for id := range open {
			a, err := rt.Authorization(ctx, id)
			if err != nil {
				return err
			}
			if !mayStillSettle(a.Status) {
				delete(open, id)
			}
			if a.Status == store.AuthSettled {
				settled++
			}
		}
		for {
			page, err := rt.Authorizations(ctx, store.AuthorizationFilter{After: after, Limit: authPageSize})
			if err != nil {
				return err
			}
			for _, a := range page {
				after = a.ID
				switch {
				case a.Status == store.AuthSettled:
					settled++
				case mayStillSettle(a.Status):
					open[a.ID] = struct{}{}
				}
			}
			if len(page) < authPageSize {
				return nil
			}
		}
	})
	if err != nil {
		return v.settled, fmt.Errorf("devmode: read ledger: %w", err)
	}
	v.after, v.open, v.settled = after, open, settled
	return settled, nil
}

func mayStillSettle(s store.AuthStatus) bool {
	return s == store.AuthReserved || s == store.AuthSigned || s == store.AuthExpired
}

// fleetLines renders the fleet block as FleetLines lines, for example:
//
//	fleet     12 signed, 0.123 TUSD · 10 settled · 2 awaiting approval · 0 failed
//	          5 denied: rate_limited 3, pay_to_not_allowed 2
func fleetLines(s fleetStats) []string {
	assets := slices.Sorted(maps.Keys(s.Amount))
	var amounts []string
	for _, a := range assets {
		amt := demo.FormatAmount(s.Amount[a], microDecimals)
		if a != "" {
			amt += " " + a
		}
		amounts = append(amounts, amt)
	}
	if len(amounts) == 0 {
		amounts = []string{"0"}
	}
	first := fmt.Sprintf("fleet     %d signed, %s · %d settled · %d awaiting approval · %d failed",
		s.Signed, strings.Join(amounts, " + "), s.Settled, s.Pending, s.Failed)

	denied := 0
	for _, n := range s.Denied {
		denied += n
	}
	second := fmt.Sprintf("          %d denied", denied)
	if denied > 0 {
		keys := slices.SortedFunc(maps.Keys(s.Denied), func(a, b string) int {
			if c := cmp.Compare(s.Denied[b], s.Denied[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		var parts []string
		for i, k := range keys {
			if i == maxFleetReasons {
				parts = append(parts, fmt.Sprintf("+%d more", len(keys)-maxFleetReasons))
				break
			}
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Denied[k]))
		}
		second += ": " + strings.Join(parts, ", ")
	}
	return []string{first, second}
}
