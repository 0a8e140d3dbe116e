package main

// This file reads and writes the database directly, like audit_offline.go: the
// HTTP API has no alert routes yet, so "fleetkey alerts" works on a data directory
// (the daemon may be running: SQLite serializes the writes, and a running
// detector lifts the response of an acknowledged alert at its next reload).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/fleetkey/fleetkey/internal/anomaly"
	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

func init() {
	extraCommands = append(extraCommands, command{"alerts", "list and acknowledge anomaly alerts", runAlerts})
}

const alertsHelp = `usage: fleetkey alerts list [--data-dir DIR] [--status open|acked|all] [--agent ID] [--limit N] [--json]
       fleetkey alerts ack [--data-dir DIR] [--as NAME] ALERT_ID...

list  prints the anomaly alerts of DIR/fleetkey.db, newest first (open ones by default).
ack   acknowledges alerts (recorded as anomaly.ack by operator:NAME): an agent held for
      approval by an alert pays again without approval, a payee blocked by one is paid again,
      and the alert's payee counts as known from then on. A frozen agent stays frozen until
      "fleetkey agent unfreeze".`

func runAlerts(env *cliEnv, args []string) error {
	return runSubcommand(env, "alerts", alertsHelp, []subcommand{
		{"list", runAlertsList},
		{"ack", runAlertsAck},
	}, args)
}

func openAlertStore(ctx context.Context, dir string) (*sqlite.Store, error) {
	path := datadir.Path(dir, datadir.DB)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database in %s: %w", dir, err)
	}
	return sqlite.Open(ctx, path, sqlite.Options{})
}

func runAlertsList(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "alerts list", "[flags]", "Lists anomaly alerts, newest first.")
	dir := fs.String("data-dir", defaultDataDir, "data directory holding fleetkey.db")
	status := fs.String("status", "open", "open, acked or all")
	agent := fs.String("agent", "", "only this agent's alerts")
	limit := fs.Int("limit", 100, "at most this many (0: all)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	f := store.AlertFilter{AgentID: *agent, Limit: *limit}
	switch *status {
	case "open", "acked":
		f.Status = store.AlertStatus(*status)
	case "all":
	default:
		return fmt.Errorf("--status %q is not open, acked or all", *status)
	}
	if *limit < 0 {
		return fmt.Errorf("--limit %d is negative", *limit)
	}
	ctx := context.Background()
	st, err := openAlertStore(ctx, *dir)
	if err != nil {
		return err
	}
	defer st.Close()
	as, err := anomaly.Alerts(ctx, st, f)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]anomaly.AlertPayload, 0, len(as))
		for _, a := range as {
			out = append(out, anomaly.PayloadOf(a))
		}
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(as) == 0 {
		fmt.Fprintln(env.stdout, "no alerts")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tSTATUS\tSIGNAL\tSEVERITY\tACTION\tAGENT\tPAY TO\tDETAIL")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.CreatedAt.Format(time.RFC3339), a.Status, a.Signal, a.Severity,
			a.Action, dash(a.AgentID), dash(a.PayTo), a.Detail)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runAlertsAck(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "alerts ack", "[flags] ALERT_ID...", "Acknowledges anomaly alerts and lifts their responses.")
	dir := fs.String("data-dir", defaultDataDir, "data directory holding fleetkey.db")
	as := fs.String("as", "", "operator name recorded in the audit log (default: the OS user)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	name := *as
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = "local-" + u.Username
		}
	}
	if name == "" {
		return fmt.Errorf("no operator name: pass --as NAME")
	}
	ctx := context.Background()
	st, err := openAlertStore(ctx, *dir)
	if err != nil {
		return err
	}
	defer st.Close()
	log, err := audit.New(audit.Options{})
	if err != nil {
		return err
	}
	for _, id := range fs.Args() {
		a, err := anomaly.AckAlert(ctx, st, log, id, audit.OperatorActor(name), time.Now())
		if err != nil {
			return fmt.Errorf("ack %s: %w", id, err)
		}
		fmt.Fprintf(env.stdout, "%s acknowledged (%s %s, %s)\n", a.ID, a.Signal, a.Severity, a.Action)
	}
	return nil
}
