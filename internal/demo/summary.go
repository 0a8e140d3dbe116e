package demo

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"
)

// SummaryLines is the number of lines Summary.Render writes, always the
// same, so that a terminal can redraw the block in place: payments, denied,
// one line per hostile kind, last.
const SummaryLines = 7

// maxReasons is how many reasons one line of Render names.
const maxReasons = 4

// Summary aggregates traffic events. It is safe for concurrent use; Add can
// be TrafficConfig.Emit directly.
type Summary struct {
	decimals uint8
	symbol   string

	mu       sync.Mutex
	requests int
	paid     int
	amount   big.Int
	denied   map[string]int
	rejected map[string]int
	pending  int
	failed   map[string]int
	hostile  map[Kind]*HostileStats
	// refusals counts, per hostile kind, the reasons of its refusals.
	refusals map[Kind]map[string]int
	last     *Event
}

// HostileStats counts the requests to the endpoints of one hostile kind.
type HostileStats struct {
	// Requests made; Refused of them denied by the payer or not paid twice
	// after a repeated 402 (rejected-by-server); Paid of them settled, which
	// a careful signer never lets happen.
	Requests, Refused, Paid int
}

// Stats is a copy of a Summary's totals.
type Stats struct {
	Requests int
	// Paid requests and their total amount in atomic units.
	Paid   int
	Amount *big.Int
	// Denied counts denials by reason; Rejected counts repeated 402s by the
	// server's reason.
	Denied   map[string]int
	Rejected map[string]int
	// ApprovalsPending counts requests left waiting for an approver.
	ApprovalsPending int
	// Failed counts the other outcomes by reason.
	Failed  map[string]int
	Hostile map[Kind]HostileStats
	// Refusals counts, per hostile kind, why its requests were refused: the
	// denial's reason code, or "rejected-by-server (REASON)" for a repeated
	// 402.
	Refusals map[Kind]map[string]int
}

// NewSummary returns an empty summary that renders amounts of a token with
// the given decimals and symbol.
func NewSummary(decimals uint8, symbol string) *Summary {
	return &Summary{decimals: decimals, symbol: symbol, denied: map[string]int{}, rejected: map[string]int{}, failed: map[string]int{}, hostile: map[Kind]*HostileStats{}, refusals: map[Kind]map[string]int{}}
}

// Add counts one event.
func (s *Summary) Add(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	reason := e.Reason
	if reason == "" {
		reason = "unknown"
	}
	switch e.Outcome {
	case OutcomePaid:
		s.paid++
		if e.Amount != nil {
			s.amount.Add(&s.amount, e.Amount)
		}
	case OutcomeDenied:
		s.denied[reason]++
	case OutcomeRejected:
		s.rejected[reason]++
	case OutcomeApprovalPending:
		s.pending++
	default:
		s.failed[reason]++
	}
	if e.Kind.Hostile() {
		h := s.hostile[e.Kind]
		if h == nil {
			h = &HostileStats{}
			s.hostile[e.Kind] = h
		}
		h.Requests++
		switch e.Outcome {
		case OutcomePaid:
			h.Paid++
		case OutcomeDenied, OutcomeRejected:
			h.Refused++
			why := reason
			if e.Outcome == OutcomeRejected {
				why = string(OutcomeRejected) + " (" + reason + ")"
			}
			if s.refusals[e.Kind] == nil {
				s.refusals[e.Kind] = map[string]int{}
			}
			s.refusals[e.Kind][why]++
		}
	}
	ev := e
	if e.Amount != nil {
		ev.Amount = new(big.Int).Set(e.Amount)
	}
	s.last = &ev
}

// Stats returns a copy of the totals.
func (s *Summary) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats()
}

func (s *Summary) stats() Stats {
	st := Stats{Requests: s.requests, Paid: s.paid, Amount: new(big.Int).Set(&s.amount),
		Denied: maps.Clone(s.denied), Rejected: maps.Clone(s.rejected),
		ApprovalsPending: s.pending, Failed: maps.Clone(s.failed), Hostile: map[Kind]HostileStats{},
		Refusals: map[Kind]map[string]int{}}
	for k, h := range s.hostile {
		st.Hostile[k] = *h
	}
	for k, r := range s.refusals {
		st.Refusals[k] = maps.Clone(r)
	}
	return st
}

// Render writes the summary as SummaryLines lines, for example:
//
//	payments  128 requests · 97 paid, 1.234 TestUSD · 2 awaiting approval · 0 failed
//	denied    19: rate_limited 9, pay_to_not_allowed 4, amount_above_per_payment_limit 3, +1 more
//	hostile   overcharge    3/3 refused: amount_above_per_payment_limit 3
//	          foreign_payto 4/4 refused: pay_to_not_allowed 4
//	          wrong_domain  3/3 refused: domain_mismatch 3
//	          repeat_402    2/2 refused: rejected-by-server (Payment required) 2
//	last      scout GET /weather: paid 0.001 TestUSD
//
// A hostile request that got paid, which a careful signer never allows, ends
// its kind's line with "PAID n".
func (s *Summary) Render(w io.Writer) error {
	s.mu.Lock()
	st := s.stats()
	var last *Event
	if s.last != nil {
		e := *s.last
		last = &e
	}
	s.mu.Unlock()

	var b strings.Builder
	fmt.Fprintf(&b, "payments  %d requests · %d paid, %s %s · %d awaiting approval · %d failed\n",
		st.Requests, st.Paid, FormatAmount(st.Amount, s.decimals), s.symbol, st.ApprovalsPending, total(st.Failed))
	fmt.Fprintf(&b, "denied    %s\n", reasons(st.Denied))
	for i, k := range Kinds()[1:] {
		h := st.Hostile[k]
		label := "hostile"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(&b, "%-9s %-13s %d/%d refused", label, k, h.Refused, h.Requests)
		if h.Refused > 0 {
			fmt.Fprintf(&b, ": %s", counts(st.Refusals[k], 3))
		}
		if h.Paid > 0 {
			fmt.Fprintf(&b, " · PAID %d", h.Paid)
		}
		b.WriteString("\n")
	}
	if last == nil {
		b.WriteString("last      -\n")
	} else {
		fmt.Fprintf(&b, "last      %s %s %s: %s", last.Agent, last.Method, last.Path, last.Outcome)
		if last.Amount != nil {
			fmt.Fprintf(&b, " %s %s", FormatAmount(last.Amount, s.decimals), s.symbol)
		}
		if last.Reason != "" {
			fmt.Fprintf(&b, " (%s)", oneLine(last.Reason, 100))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// reasons renders counts by reason, largest first.
func reasons(m map[string]int) string {
	total := total(m)
	if total == 0 {
		return "0"
	}
	return fmt.Sprintf("%d: %s", total, counts(m, maxReasons))
}

// counts renders at most n counts by reason, largest first.
func counts(m map[string]int, n int) string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	parts := make([]string, 0, n+1)
	for i, k := range keys {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(keys)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", oneLine(k, 60), m[k]))
	}
	return strings.Join(parts, ", ")
}

// oneLine keeps a reason on one line of bounded length.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
