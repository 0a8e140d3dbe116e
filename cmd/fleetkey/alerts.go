package main

// "fleetkey alerts" talks to the daemon through the sdk (--api, --token-file) or, with
// --data-dir, reads and writes a data directory's database directly, like "audit verify
// --data-dir" (the daemon may be running: SQLite serializes the writes, and a running
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
	"github.com/fleetkey/fleetkey/sdk"
)

func init() {
	extraCommands = append(extraCommands, command{"alerts", "list and acknowledge anomaly alerts", runAlerts})
}

const alertsHelp = `usage: fleetkey alerts list [--status open|acked|all] [--agent ID] [--limit N] [--json]
       fleetkey alerts ack ALERT_ID...

list  prints the anomaly alerts, newest first (open ones by default).
ack   acknowledges alerts (recorded as anomaly.ack): an agent held for approval by an alert
      pays again without approval, a payee blocked by one is paid again, and the alert's
      payee counts as known from then on. A frozen agent stays frozen until
      "fleetkey agent unfreeze".

Both take --api URL and --token-file FILE (an operator token; ack needs admin or operator),
or --data-dir DIR to work on DIR/fleetkey.db directly, without a daemon (ack then takes
--as NAME for the audit record).`

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
	cf := addClientFlags(fs)
	dir := fs.String("data-dir", "", "read DIR/fleetkey.db directly instead of asking the daemon")
	status := fs.String("status", "open", "open, acked or all")
	agent := fs.String("agent", "", "only this agent's alerts")
	limit := fs.Int("limit", 100, "at most this many")
	asJSON := fs.Bool("json", false, "print a JSON array")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 0); err != nil {
		return err
	}
	switch *status {
	case "open", "acked", "all":
	default:
		return fmt.Errorf("--status %q is not open, acked or all", *status)
	}
	if *limit < 1 {
		return fmt.Errorf("--limit %d is not positive", *limit)
	}
	ctx := context.Background()
	var out []sdk.Alert
	if *dir != "" {
		st, err := openAlertStore(ctx, *dir)
		if err != nil {
			return err
		}
		defer st.Close()
		f := store.AlertFilter{AgentID: *agent, Limit: *limit}
		if *status != "all" {
			f.Status = store.AlertStatus(*status)
		}
		as, err := anomaly.Alerts(ctx, st, f)
		if err != nil {
			return err
		}
		for _, a := range as {
			out = append(out, sdkAlert(a))
		}
	} else {
		c, err := cf.client()
		if err != nil {
			return err
		}
		if out, err = c.Alerts(ctx, sdk.AlertFilter{Status: *status, AgentID: *agent, Limit: *limit}); err != nil {
			return apiError(err, *cf.api)
		}
	}
	if *asJSON {
		if out == nil {
			out = []sdk.Alert{}
		}
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(env.stdout, "no alerts")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tSTATUS\tSIGNAL\tSEVERITY\tACTION\tAGENT\tPAY TO\tDETAIL")
	for _, a := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.CreatedAt.UTC().Format(time.RFC3339), a.Status, a.Signal, a.Severity,
			a.Action, dash(a.AgentID), dash(a.PayTo), a.Detail)
	}
	return tw.Flush()
}

// sdkAlert is a stored alert in the API's form.
func sdkAlert(a store.Alert) sdk.Alert {
	p := anomaly.PayloadOf(a)
	out := sdk.Alert{ID: p.ID, FleetID: p.FleetID, AgentID: p.AgentID, PayTo: p.PayTo, Signal: p.Signal, Severity: p.Severity,
		Action: p.Action, Detail: p.Detail, Status: p.Status, CreatedAt: p.CreatedAt, AckedBy: p.AckedBy}
	if p.AckedAt != nil {
		out.AckedAt = *p.AckedAt
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runAlertsAck(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "alerts ack", "[flags] ALERT_ID...", "Acknowledges anomaly alerts and lifts their responses.")
	cf := addClientFlags(fs)
	dir := fs.String("data-dir", "", "write DIR/fleetkey.db directly instead of asking the daemon")
	as := fs.String("as", "", "with --data-dir: operator name recorded in the audit log (default: the OS user)")
	ids, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		fs.Usage()
		return errUsage
	}
	ctx := context.Background()
	var ack func(id string) (sdk.Alert, error)
	if *dir != "" {
		name := *as
		if name == "" {
			if u, err := user.Current(); err == nil {
				name = "local-" + u.Username
			}
		}
		if name == "" {
			return fmt.Errorf("no operator name: pass --as NAME")
		}
		st, err := openAlertStore(ctx, *dir)
		if err != nil {
			return err
		}
		defer st.Close()
		log, err := audit.New(audit.Options{})
		if err != nil {
			return err
		}
		ack = func(id string) (sdk.Alert, error) {
			a, err := anomaly.AckAlert(ctx, st, log, id, audit.OperatorActor(name), time.Now())
			return sdkAlert(a), err
		}
	} else {
		if *as != "" {
			return fmt.Errorf("--as is for --data-dir; the daemon records the token's credential")
		}
		c, err := cf.client()
		if err != nil {
			return err
		}
		ack = func(id string) (sdk.Alert, error) {
			a, err := c.AckAlert(ctx, id)
			if err != nil {
				return sdk.Alert{}, apiError(err, *cf.api)
			}
			return *a, nil
		}
	}
	for _, id := range ids {
		a, err := ack(id)
		if err != nil {
			return fmt.Errorf("ack %s: %w", id, err)
		}
		fmt.Fprintf(env.stdout, "%s acknowledged (%s %s, %s)\n", a.ID, a.Signal, a.Severity, a.Action)
	}
	return nil
}
