package devmode

import (
	"bytes"
	"context"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fleetkey/fleetkey/internal/demo"
)

func TestSummaryDrawing(t *testing.T) {
	sum := demo.NewSummary(6, "TUSD")
	sum.Add(demo.Event{Agent: "scout", Method: "GET", Path: "/weather", Kind: demo.KindNormal, Outcome: demo.OutcomePaid, Amount: big.NewInt(1000)})
	sum.Add(demo.Event{Agent: "pager", Method: "GET", Path: "/hostile/foreign-payto", Kind: demo.KindForeignPayTo, Outcome: demo.OutcomeDenied, Reason: "pay_to_not_allowed"})
	done, cancel := context.WithCancel(context.Background())
	cancel() // draw once, then return

	var live bytes.Buffer
	e := &Env{opt: Options{Live: true, Width: 40, Refresh: DefaultRefresh}, out: &live, sum: sum}
	e.drawSummary(done)
	lines := strings.Split(strings.TrimSuffix(live.String(), "\n"), "\n")
	if len(lines) != demo.SummaryLines+1 {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), demo.SummaryLines+1, live.String())
	}
	for _, l := range lines {
		text := strings.TrimPrefix(l, "\r\x1b[2K")
		if text == l {
			t.Errorf("line not cleared before drawing: %q", l)
		}
		if n := utf8.RuneCountInString(text); n > 39 {
			t.Errorf("line of %d runes on a 40-column terminal: %q", n, text)
		}
	}
	if !strings.Contains(live.String(), "payments  2 requests") {
		t.Errorf("summary:\n%s", live.String())
	}

	var plain bytes.Buffer
	e = &Env{opt: Options{Refresh: DefaultRefresh}, out: &plain, sum: sum}
	e.drawSummary(done)
	if strings.Contains(plain.String(), "\x1b") {
		t.Errorf("escape codes when not a terminal: %q", plain.String())
	}
	for _, want := range []string{"foreign_payto 1/1 refused", "pay_to_not_allowed 1", "approver  alice (auto-approver, dev only): 0 approved"} {
		if !strings.Contains(plain.String(), want) {
			t.Errorf("plain summary lacks %q:\n%s", want, plain.String())
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 0, "abc"},
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"a · b · c", 5, "a · …"},
	} {
		if got := clip(c.in, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
