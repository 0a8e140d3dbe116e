package devmode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fleetkey/fleetkey/internal/demo"
)

// writeBanner says, at every start, that this mode is for development only.
func writeBanner(w io.Writer, dir string) {
	line := strings.Repeat("!", 78)
	fmt.Fprintf(w, `%s
!!  fleetkey dev: DEVELOPMENT ONLY. NEVER USE FOR ANYTHING OF VALUE.
!!  The root seed in %s is unsealed by a passphrase stored next to it
!!  (%s), the chain is an in-memory devnet whose accounts have public keys,
!!  and the tokens in that directory spend the demo budgets. Run "fleetkey serve" for real use.
%s
`, line, dir, PassphraseFile, line)
}

// writeAddresses prints where everything is, once everything serves.
func writeAddresses(w io.Writer, e *Env) {
	m := e.manifest
	state := "new data directory"
	if e.reused {
		state = "reused data directory (keys, agents, policies, payments and audit kept; the chain is new)"
	}
	fmt.Fprintf(w, "\nfleetkey dev is up: %s\n", state)
	row := func(k, v string) { fmt.Fprintf(w, "  %-12s %s\n", k, v) }
	row("api", m.APIURL+"   admin token: "+m.AdminTokenFile)
	row("dashboard", "none yet")
	row("rpc", fmt.Sprintf("%s   chain %d (%s), %s %s", m.RPCURL, m.ChainID, m.Network, m.Token.Symbol, m.Token.Address))
	row("facilitator", m.FacilitatorURL)
	row("demo api", m.DemoAPIURL+"   GET /catalog lists the endpoints")
	groups := map[string][]string{}
	var order []string
	for _, a := range m.Agents {
		if _, ok := groups[a.Group]; !ok {
			order = append(order, a.Group)
		}
		groups[a.Group] = append(groups[a.Group], a.Name)
	}
	var parts []string
	for _, g := range order {
		parts = append(parts, fmt.Sprintf("%s: %s", g, strings.Join(groups[g], ", ")))
	}
	row("fleet", fmt.Sprintf("%s (%d agents; %s), each funded with %s %s", m.Fleet.Name, len(m.Agents), strings.Join(parts, "; "),
		demo.FormatAmount(FundAmount, m.Token.Decimals), m.Token.Symbol))
	approval := "approve with: fleetkey approvals approve ID --api " + m.APIURL + " --token-file " + m.ApproverTokenFile
	if !e.opt.NoTraffic {
		approval = "auto-approver on (dev only): " + m.Approver + " approves every pending approval"
	}
	row("approver", m.Approver+" ("+m.ApproverTokenFile+"); "+approval)
	row("manifest", e.dir+"/"+ManifestFile)
	row("daemon log", m.LogFile)
	row("try", m.Sidecar)
	row("", "curl -i http://"+e.sidecarAddr+"/"+m.DemoAPIURL+"/weather")
	if e.opt.NoTraffic {
		fmt.Fprintf(w, "\nno simulated traffic (--no-traffic). Ctrl-C stops everything; the next start reuses the data directory.\n")
		return
	}
	fmt.Fprintf(w, "\nsimulated traffic (Ctrl-C stops everything; the next start reuses the data directory):\n")
}

// summaryBlock renders the live summary: the fleet block (FleetLines lines, the daemon's own
// view, with or without traffic), then with traffic the demo.SummaryLines lines of the
// simulated agents and the approver's line. The number of lines never changes within a run.
func (e *Env) summaryBlock(ctx context.Context) []string {
	var lines []string
	if e.view != nil {
		st, err := e.view.read(ctx)
		if err != nil {
			lines = append(lines, "fleet     unavailable: "+err.Error(), "")
		} else {
			lines = append(lines, fleetLines(st)...)
		}
	}
	if e.sum == nil {
		return lines
	}
	var b bytes.Buffer
	e.sum.Render(&b)
	lines = append(lines, strings.Split(strings.TrimRight(b.String(), "\n"), "\n")...)
	return append(lines, e.approverLine())
}

func (e *Env) approverLine() string {
	n := int64(0)
	if e.approved != nil {
		n = e.approved.approved.Load()
	}
	return fmt.Sprintf("approver  %s (auto-approver, dev only): %d approved", demo.Approver, n)
}

// drawSummary redraws the summary every Refresh: in place on a terminal, else as plain lines
// whenever it changed.
func (e *Env) drawSummary(ctx context.Context) {
	t := time.NewTicker(e.opt.Refresh)
	defer t.Stop()
	drawn := 0
	var last string
	for {
		lines := e.summaryBlock(ctx)
		text := strings.Join(lines, "\n")
		switch {
		case e.opt.Live:
			var b strings.Builder
			if drawn > 0 {
				fmt.Fprintf(&b, "\x1b[%dA", drawn)
			}
			for _, l := range lines {
				b.WriteString("\r\x1b[2K" + clip(l, e.opt.Width-1) + "\n")
			}
			io.WriteString(e.out, b.String())
			drawn = len(lines)
		case text != last:
			fmt.Fprintf(e.out, "%s\n%s\n", time.Now().UTC().Format(time.TimeOnly), text)
		}
		last = text
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// clip cuts s to n runes, ending in "…" when cut; n <= 0 leaves it whole.
func clip(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
