package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/fleetkey/fleetkey/internal/simulate"
)

func init() {
	extraCommands = append(extraCommands, command{"simulate", "measure anomaly detection on a simulated fleet with attacks", runSimulate})
}

func runSimulate(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "simulate", "[flags]", `
Runs a labelled fleet workload in-process: a real signing service on SQLite (in a
temporary directory) with the anomaly detector on its signing path, under a
simulated clock. Normal agents with different habits pay their merchants; attack
scenarios start on the third simulated day. Prints, per scenario, whether it was
detected, the attack payments signed (and their amount) before containment and the
detection delay in attack payments, and the share of normal agents alerted on per
simulated day.`)
	scenarios := fs.String("scenarios", "all", "comma-separated scenarios ("+strings.Join(simulate.Scenarios(), ", ")+") or all")
	agents := fs.Int("agents", 100, "normal agents")
	days := fs.Int("days", 7, "simulated days (at least 3)")
	seed := fs.Uint64("seed", 1, "workload seed")
	asJSON := fs.Bool("json", false, "print one JSON object")
	keep := fs.String("data-dir", "", "keep the simulated fleet's database in this new directory (for fleetkey alerts list, audit verify)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	var names []string
	for _, s := range strings.Split(*scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			names = append(names, s)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := simulate.Run(ctx, simulate.Options{Agents: *agents, Days: *days, Seed: *seed, Scenarios: names, Dir: *keep})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tdetected\tpayments lost\tamount lost (USDC)\tdetection delay (payments)\tattack payments\tfirst alert")
	for _, s := range res.Scenarios {
		fmt.Fprintf(tw, "%s\t%v\t%d\t%.6f\t%d\t%d\t%s\n", s.Name, s.Detected, s.PaymentsLost, s.AmountLost, s.DetectionDelayPayments, s.Attempts, s.FirstSignal)
	}
	tw.Flush()
	st := res.Stats
	fmt.Fprintf(env.stdout, "\nfalse alarms: %.4f of normal agents per day (%d agent-days of %d normal agents x %d days)\n",
		res.FalseAlarmRate, st.FlaggedAgentDays, st.NormalAgents, st.Days)
	fmt.Fprintf(env.stdout, "fleet-wide alerts outside attacks: %d; false alarms acknowledged by the simulated operator after %s: %d\n",
		st.FleetAlertsOutsideAttacks, simulate.ReviewDelay, st.Acked)
	if len(st.FalseAlarms) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(st.FalseAlarms)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, st.FalseAlarms[k]))
		}
		fmt.Fprintf(env.stdout, "false alerts by signal: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(env.stdout, "payments: %d (signed %d, held for approval %d, denied %d) by %d normal and %d attacked agents\n",
		st.Payments, st.Signed, st.Held, st.Denied, st.NormalAgents, st.VictimAgents)
	fmt.Fprintf(env.stdout, "Pay wall time: p50 %s, p99 %s; run took %s\n", st.PayP50, st.PayP99, st.Elapsed.Round(1e7))
	return nil
}
