package main

// This file holds the operator lifecycle commands (deps, agent rotate, agent revoke, orphans).
// They run in-process against the data directory (sealed root), the database (SQLite or
// PostgreSQL, as the daemon's configuration says) and the chain, not
// through the daemon's API: they need custody to sign cancellations and sweeps, which only the
// daemon or this process may hold. (The daemon serves deps, revoke and rotate over its API too;
// orphans, group and predicate revocation are CLI-only.) Like audit_offline.go, it is left out
// of the client files' import ban.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/lifecycle"
	"github.com/fleetkey/fleetkey/internal/server"
	"github.com/fleetkey/fleetkey/internal/signer"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/postgres"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// agentSubcommands and agentHelpExtra extend "fleetkey agent" from other files.
var (
	agentSubcommands []subcommand
	agentHelpExtra   string
)

func init() {
	extraCommands = append(extraCommands,
		command{"deps", "dependency map of an agent's keys: authorizations, allowances, credentials, payees (in-process)", runDeps},
		command{"orphans", "list or sweep wallets left behind by revoked, rotated or idle agents (in-process)", runOrphans},
	)
	agentSubcommands = append(agentSubcommands,
		subcommand{"rotate", runAgentRotate},
		subcommand{"revoke", runAgentRevoke},
	)
	agentHelpExtra += `

lifecycle (in-process on the daemon's data directory and chain, not through the API; see
"fleetkey agent rotate --help", "fleetkey agent revoke --help" and docs/lifecycle.md):
       fleetkey agent rotate (ID | --due [--max-age D --max-signatures N]) [--outstanding cancel|expire]
                             --config FILE --relayer-key-file F
       fleetkey agent revoke (ID... | --group ID | --fleet ID [--paid-to ADDR --since 1h]) [--dry-run]
                             --config FILE --relayer-key-file F --gas-sponsor-key-file F`
}

// lifecycleFlags are the flags of every in-process lifecycle command.
type lifecycleFlags struct {
	config, relayerKey, sponsorKey, actor string
	fromBlock                             uint64
	json                                  bool
}

func (lf *lifecycleFlags) register(fs *flag.FlagSet, relayer, sponsor bool) {
	fs.StringVar(&lf.config, "config", "", "the daemon's configuration file: data dir, database, unseal, assets, rpc_url (required)")
	if relayer {
		fs.StringVar(&lf.relayerKey, "relayer-key-file", "", "hex private key (mode 0600) of the relayer account that submits cancellations and sweeps and pays their gas")
	}
	if sponsor {
		fs.StringVar(&lf.sponsorKey, "gas-sponsor-key-file", "", "hex private key (mode 0600) of the account that funds an agent key's gas for allowance resets")
	}
	fs.StringVar(&lf.actor, "actor", "cli", "name recorded as the audit actor (operator:NAME)")
	fs.Uint64Var(&lf.fromBlock, "logs-from-block", 0, "first block searched for Approval logs")
	fs.BoolVar(&lf.json, "json", false, "print JSON")
}

// lifecycleEnv is an open data directory and chain.
type lifecycleEnv struct {
	m     *lifecycle.Manager
	close func()
}

func openLifecycle(ctx context.Context, lf *lifecycleFlags, needRelayer, needSponsor bool) (*lifecycleEnv, error) {
	if lf.config == "" {
		return nil, errors.New("--config FILE is required (the daemon's configuration: data_dir, unseal, assets, rpc_url)")
	}
	cfg, err := server.LoadConfig(lf.config)
	if err != nil {
		return nil, err
	}
	cfg.Complete()
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	ok := false
	defer func() {
		if !ok {
			cleanup()
		}
	}()
	var assets []signer.Asset
	for _, a := range cfg.Assets {
		if !common.IsHexAddress(a.Address) {
			return nil, fmt.Errorf("asset %s: address %q is not an address", a.Symbol, a.Address)
		}
		assets = append(assets, signer.Asset{Network: a.Network, Address: common.HexToAddress(a.Address), Symbol: a.Symbol,
			Decimals: a.Decimals, EIP712Name: a.EIP712Name, EIP712Version: a.EIP712Version})
	}
	reg, err := signer.NewRegistry(assets)
	if err != nil {
		return nil, err
	}
	vault, err := unsealFromFlags(cfg.DataDir, cfg.Unseal.PassphraseFile, cfg.Unseal.ShareFiles)
	if err != nil {
		return nil, fmt.Errorf("unseal %s: %w", cfg.DataDir, err)
	}
	closers = append(closers, func() { vault.Close() })
	var st store.Store
	if postgres.IsURL(cfg.DB) {
		p := cfg.DBPool
		st, err = postgres.Open(ctx, cfg.DB, postgres.Options{MaxConns: 4, MinConns: 0, MaxConnLifetime: p.MaxConnLifetime,
			MaxConnIdleTime: p.MaxConnIdleTime, ConnectTimeout: p.ConnectTimeout})
	} else {
		st, err = sqlite.Open(ctx, cfg.DB, sqlite.Options{})
	}
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { st.Close() })
	alog, err := audit.New(audit.Options{})
	if err != nil {
		return nil, err
	}
	mc := lifecycle.Config{Store: st, Keys: vault, Registry: reg, Audit: alog, LogsFromBlock: lf.fromBlock}
	if cfg.RPCURL != "" {
		cl, err := ethclient.DialContext(ctx, cfg.RPCURL)
		if err != nil {
			return nil, fmt.Errorf("rpc_url: %w", err)
		}
		closers = append(closers, cl.Close)
		id, err := cl.ChainID(ctx)
		if err != nil {
			return nil, fmt.Errorf("rpc_url: chain id: %w", err)
		}
		mc.Backend, mc.ChainID = cl, id.Uint64()
		if lf.relayerKey != "" {
			k, err := facilitator.ReadRelayerKeyFile(lf.relayerKey)
			if err != nil {
				return nil, err
			}
			closers = append(closers, func() { k.Close() })
			mc.Relayer = k.NewSender(cl, mc.ChainID)
		}
		if lf.sponsorKey != "" {
			k, err := facilitator.ReadRelayerKeyFile(lf.sponsorKey)
			if err != nil {
				return nil, fmt.Errorf("gas sponsor: %w", err)
			}
			closers = append(closers, func() { k.Close() })
			mc.GasSponsor = k.NewSender(cl, mc.ChainID)
		}
	}
	switch {
	case (needRelayer || needSponsor) && cfg.RPCURL == "":
		return nil, fmt.Errorf("%s has no rpc_url: this command needs the chain", lf.config)
	case needRelayer && lf.relayerKey == "":
		return nil, errors.New("--relayer-key-file FILE is required (the account that submits cancellations and sweeps)")
	case needSponsor && lf.sponsorKey == "":
		return nil, errors.New("--gas-sponsor-key-file FILE is required (the account that funds gas for allowance resets)")
	}
	m, err := lifecycle.New(mc)
	if err != nil {
		return nil, err
	}
	ok = true
	return &lifecycleEnv{m: m, close: cleanup}, nil
}

func lifecycleContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Minute)
}

const depsHelp = `Prints everything an agent's keys are tied to: outstanding (signed, unsettled) authorizations,
ERC-20 allowances granted on the configured tokens (from Approval logs, confirmed with
allowance()), EIP-2612 permit nonces, balances, credentials, the policies that apply, and the
payees and origins paid. Without rpc_url in the configuration, the on-chain half is left out.

Runs in-process on the daemon's data directory (read only; the daemon may keep running).`

func runDeps(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "deps", "AGENT_ID [--json | --dot] --config FILE", depsHelp)
	var lf lifecycleFlags
	lf.register(fs, false, false)
	dot := fs.Bool("dot", false, "print a Graphviz digraph")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 1); err != nil {
		return err
	}
	ctx, cancel := lifecycleContext()
	defer cancel()
	le, err := openLifecycle(ctx, &lf, false, false)
	if err != nil {
		return err
	}
	defer le.close()
	d, err := le.m.Deps(ctx, pos[0])
	if err != nil {
		return err
	}
	switch {
	case lf.json:
		return printJSON(env.stdout, d)
	case *dot:
		return d.WriteDOT(env.stdout)
	default:
		return d.WriteTable(env.stdout)
	}
}

const rotateHelp = `Gives the agent its next key (generation+1): the old key stops signing payments at once
(draining), its outstanding authorizations are cancelled on chain (--outstanding cancel) or left
to expire (expire: their amounts stay behind), and its token balance is swept to the new address
with an EIP-3009 authorization the old key signs and the relayer submits (the old address needs no
gas). The agent's credential does not change. A rotation that stopped part-way is resumed.

Scheduled rotation: --due rotates every active agent whose key is older than --max-age or has
signed --max-signatures payments (--dry-run lists them); run it from cron. --due without
--max-age and --max-signatures applies the rotation rule of each agent's policies (rotation:
max_key_age, max_signatures, outstanding; docs/policy.md), as the daemon does every
lifecycle.rotation_check_interval.

Runs in-process on the daemon's data directory and chain (the daemon also serves it over its
API when configured: docs/lifecycle.md).`

func runAgentRotate(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "agent rotate", "(AGENT_ID | --due [--max-age D --max-signatures N] [--dry-run]) [--outstanding cancel|expire] --config FILE --relayer-key-file FILE", rotateHelp)
	var lf lifecycleFlags
	lf.register(fs, true, false)
	outstanding := fs.String("outstanding", "", "what to do with the old key's outstanding authorizations: cancel or expire (default: cancel; with --due by policy, the policy's rotation.outstanding)")
	due := fs.Bool("due", false, "rotate every agent whose key is due by --max-age or --max-signatures, or without them by its policy's rotation rule (no AGENT_ID)")
	maxAge := fs.Duration("max-age", 0, "with --due: rotate keys older than this")
	maxSigs := fs.Int64("max-signatures", 0, "with --due: rotate keys that signed this many payments")
	fleetID := fs.String("fleet", "", "with --due: only this fleet")
	dry := fs.Bool("dry-run", false, "with --due: list the agents due, rotate nothing")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, map[bool]int{true: 0, false: 1}[*due]); err != nil {
		return err
	}
	ctx, cancel := lifecycleContext()
	defer cancel()
	le, err := openLifecycle(ctx, &lf, !*dry, false)
	if err != nil {
		return err
	}
	defer le.close()
	if *due {
		return rotateDue(ctx, env, le.m, lifecycle.Schedule{MaxAge: *maxAge, MaxSignatures: *maxSigs, FleetID: *fleetID},
			*dry, lf, lifecycle.Outstanding(*outstanding))
	}
	rep, err := le.m.Rotate(ctx, lifecycle.RotateRequest{AgentID: pos[0], Actor: audit.OperatorActor(lf.actor), Outstanding: lifecycle.Outstanding(*outstanding)})
	if rep != nil {
		if perr := printReport(env, rep, lf.json); perr != nil {
			return perr
		}
	}
	return err
}

// rotateDue rotates every agent the schedule says is due (or lists them with dry).
func rotateDue(ctx context.Context, env *cliEnv, m *lifecycle.Manager, s lifecycle.Schedule, dry bool, lf lifecycleFlags, o lifecycle.Outstanding) error {
	var (
		due []lifecycle.Due
		err error
	)
	if s.MaxAge == 0 && s.MaxSignatures == 0 {
		// By policy: agents whose policy cannot be read are named in err, the others go ahead.
		due, err = m.DueByPolicy(ctx, s.FleetID)
		if err != nil && due == nil {
			return err
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "%v\n", err)
		}
	} else if due, err = m.DueForRotation(ctx, s); err != nil {
		return err
	}
	// policyErr is returned at the end: the agents that could be checked are handled first.
	var policyErr error
	if err != nil {
		policyErr = errors.New("some agents' policies could not be read (above); their keys were not checked")
	}
	if dry || len(due) == 0 {
		if lf.json {
			if err := printJSON(env.stdout, map[string]any{"due": due}); err != nil {
				return err
			}
			return policyErr
		}
		for _, d := range due {
			fmt.Fprintf(env.stdout, "due %s key %s: %s\n", d.AgentID, d.KeyID, d.Reason)
		}
		fmt.Fprintf(env.stdout, "%d agents due for rotation\n", len(due))
		return policyErr
	}
	failed := 0
	for _, d := range due {
		out := o
		if out == "" {
			out = d.Outstanding
		}
		rep, err := m.Rotate(ctx, lifecycle.RotateRequest{AgentID: d.AgentID, Actor: audit.OperatorActor(lf.actor), Outstanding: out, Reason: d.Reason})
		if rep != nil {
			if perr := printReport(env, rep, lf.json); perr != nil {
				return perr
			}
		}
		if err != nil {
			failed++
			fmt.Fprintf(env.stderr, "agent %s: %v\n", d.AgentID, err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d rotations failed; run the same command again to resume them", failed, len(due))
	}
	return policyErr
}

const revokeHelp = `Revokes agents as resumable jobs, each step recorded: credentials revoked; agent and keys
revoked (every payment refused from then on); outstanding authorizations cancelled on chain
(cancelAuthorization signed in custody, submitted by the relayer); every allowance set to 0
(approve from the key, its gas funded just before by the gas sponsor); tokens swept to the fleet's
treasury (EIP-3009, relayed) and native coin when worth the gas. Prints each step's result and
transaction hashes. Running it again resumes an unfinished revocation and does nothing twice.

Select agents by id, or every active agent of --group or --fleet, optionally only those that
paid --paid-to ADDR in the last --since. --dry-run lists what each would undo.

Runs in-process on the daemon's data directory and chain (the daemon also serves it over its
API when configured: docs/lifecycle.md).`

func runAgentRevoke(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "agent revoke", "(AGENT_ID... | --group ID | --fleet ID [--paid-to ADDR --since 1h]) [--dry-run] --config FILE --relayer-key-file F --gas-sponsor-key-file F", revokeHelp)
	var lf lifecycleFlags
	lf.register(fs, true, true)
	group := fs.String("group", "", "revoke every active agent of this group")
	fleet := fs.String("fleet", "", "revoke every active agent of this fleet")
	paidTo := fs.String("paid-to", "", "only agents that paid this address")
	since := fs.Duration("since", 0, "with --paid-to: only payments made in this last duration (0: ever)")
	dry := fs.Bool("dry-run", false, "list what would be undone, change nothing")
	concurrency := fs.Int("concurrency", 4, "agents revoked at once")
	ids, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if len(ids) == 0 && *group == "" && *fleet == "" && *paidTo == "" {
		fs.Usage()
		return errUsage
	}
	ctx, cancel := lifecycleContext()
	defer cancel()
	le, err := openLifecycle(ctx, &lf, !*dry, !*dry)
	if err != nil {
		return err
	}
	defer le.close()
	sel := lifecycle.Selector{FleetID: *fleet, GroupID: *group, AgentIDs: ids, PaidTo: *paidTo}
	if *since > 0 {
		sel.Since = time.Now().Add(-*since)
	}
	var targets []string
	if len(ids) == 1 && *group == "" && *fleet == "" && *paidTo == "" {
		targets = ids // one agent by id: revoke (or resume) whatever its status
	} else {
		agents, err := le.m.Select(ctx, sel)
		if err != nil {
			return err
		}
		for _, a := range agents {
			targets = append(targets, a.ID)
		}
	}
	if *dry {
		return printDryRun(ctx, env, le.m, targets, lf.json)
	}
	if len(targets) == 1 {
		rep, err := le.m.Revoke(ctx, lifecycle.RevokeRequest{AgentID: targets[0], Actor: audit.OperatorActor(lf.actor)})
		if rep != nil {
			if perr := printReport(env, rep, lf.json); perr != nil {
				return perr
			}
		}
		return err
	}
	if len(targets) == 0 {
		fmt.Fprintln(env.stderr, "no agent matches")
		return nil
	}
	start := time.Now()
	outs := le.m.RevokeAll(ctx, targets, audit.OperatorActor(lf.actor), *concurrency)
	failed := 0
	for _, o := range outs {
		if o.Error != "" {
			failed++
		}
	}
	if lf.json {
		if err := printJSON(env.stdout, outs); err != nil {
			return err
		}
	} else {
		for _, o := range outs {
			if o.Report != nil {
				if err := printReport(env, o.Report, false); err != nil {
					return err
				}
			}
			if o.Error != "" {
				fmt.Fprintf(env.stdout, "agent %s: error: %s\n", o.AgentID, o.Error)
			}
		}
		fmt.Fprintf(env.stdout, "revoked %d of %d agents in %s\n", len(outs)-failed, len(outs), time.Since(start).Round(time.Millisecond))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d revocations failed; run the same command again to resume them", failed, len(outs))
	}
	return nil
}

func printDryRun(ctx context.Context, env *cliEnv, m *lifecycle.Manager, ids []string, asJSON bool) error {
	var maps []*lifecycle.DepMap
	for _, id := range ids {
		d, err := m.Deps(ctx, id)
		if err != nil {
			return err
		}
		maps = append(maps, d)
	}
	if asJSON {
		return printJSON(env.stdout, map[string]any{"dry_run": true, "agents": maps})
	}
	fmt.Fprintf(env.stdout, "dry run: %d agents would be revoked\n", len(maps))
	for _, d := range maps {
		creds, outstanding, allowances := 0, 0, 0
		var bal []string
		for _, c := range d.Credentials {
			if c.Usable {
				creds++
			}
		}
		for _, k := range d.Keys {
			outstanding += len(k.Outstanding)
			allowances += len(k.Allowances)
			for _, b := range k.Balances {
				bal = append(bal, b.Amount+" "+b.Symbol+" from "+k.Address)
			}
		}
		fmt.Fprintf(env.stdout, "agent %s (%s): revoke %d credentials and %d keys; cancel %d authorizations; reset %d allowances; sweep %s to %s\n",
			d.Agent.ID, d.Agent.Name, creds, len(d.Keys), outstanding, allowances, orDash(strings.Join(bal, ", ")), orDash(d.Agent.Treasury))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printReport prints a job report: one line per step and one per action.
func printReport(env *cliEnv, r *lifecycle.Report, asJSON bool) error {
	if asJSON {
		return printJSON(env.stdout, r)
	}
	w := env.stdout
	resumed := ""
	if r.Resumed {
		resumed = " (resumed)"
	}
	fmt.Fprintf(w, "%s job %s for agent %s: %s%s\n", r.Kind, r.JobID, r.AgentID, r.Status, resumed)
	for _, s := range r.Steps {
		fmt.Fprintf(w, "  %-15s %s", s.Name, s.Status)
		if s.Note != "" {
			fmt.Fprintf(w, "  (%s)", s.Note)
		}
		if s.Error != "" {
			fmt.Fprintf(w, "  error: %s", s.Error)
		}
		fmt.Fprintln(w)
		for _, a := range s.Actions {
			fmt.Fprintf(w, "    %-20s %s", a.What, a.Subject)
			if a.Amount != "" {
				fmt.Fprintf(w, " amount %s", a.Amount)
			}
			if a.To != "" {
				fmt.Fprintf(w, " to %s", a.To)
			}
			if a.TxHash != "" {
				fmt.Fprintf(w, " tx %s", a.TxHash)
			}
			if a.Note != "" {
				fmt.Fprintf(w, " (%s)", a.Note)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

const orphansHelp = `usage: fleetkey orphans list [--idle 720h] [--fleet ID] [--json] --config FILE
       fleetkey orphans sweep [--dry-run] [--idle 720h] [--fleet ID] --config FILE --relayer-key-file F

list   keys that still hold tokens or native coin but belong to revoked or retired agents, drained
       generations, revoked keys, or (with --idle) agents with no payment in that long.
sweep  moves their tokens to the fleet's treasury (EIP-3009 signed by the key, relayed) and their
       native coin when worth the gas, then retires the keys that are not active.

Runs in-process on the daemon's data directory and chain (no API route).`

func runOrphans(env *cliEnv, args []string) error {
	return runSubcommand(env, "orphans", orphansHelp, []subcommand{
		{"list", func(env *cliEnv, args []string) error { return runOrphansCmd(env, args, false) }},
		{"sweep", func(env *cliEnv, args []string) error { return runOrphansCmd(env, args, true) }},
	}, args)
}

func runOrphansCmd(env *cliEnv, args []string, sweep bool) error {
	name := "orphans list"
	if sweep {
		name = "orphans sweep"
	}
	fs := newFlagSet(env, name, "[flags]", orphansHelp)
	var lf lifecycleFlags
	lf.register(fs, sweep, false)
	idle := fs.Duration("idle", 0, "also count agents with no payment in this long (0: no)")
	fleetID := fs.String("fleet", "", "only this fleet")
	dry := false
	if sweep {
		fs.BoolVar(&dry, "dry-run", false, "report what would move, move nothing")
	}
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 0); err != nil {
		return err
	}
	ctx, cancel := lifecycleContext()
	defer cancel()
	le, err := openLifecycle(ctx, &lf, sweep && !dry, false)
	if err != nil {
		return err
	}
	defer le.close()
	f := lifecycle.OrphanFilter{FleetID: *fleetID, IdleFor: *idle}
	if !sweep {
		found, err := le.m.Orphans(ctx, f)
		if err != nil {
			return err
		}
		if lf.json {
			return printJSON(env.stdout, map[string]any{"orphans": found})
		}
		printOrphans(env, found)
		return nil
	}
	rep, err := le.m.SweepOrphans(ctx, f, dry, audit.OperatorActor(lf.actor))
	if rep != nil {
		if lf.json {
			if perr := printJSON(env.stdout, rep); perr != nil {
				return perr
			}
		} else {
			if dry {
				fmt.Fprintln(env.stdout, "dry run: nothing moved")
			}
			printOrphans(env, rep.Found)
			for _, a := range rep.Actions {
				fmt.Fprintf(env.stdout, "%-13s %s %s %s to %s tx %s %s\n", a.What, a.Subject, a.Amount, orDash(a.Asset), orDash(a.To), orDash(a.TxHash), a.Note)
			}
			fmt.Fprintf(env.stdout, "retired %d keys\n", len(rep.Retired))
		}
	}
	return err
}

func printOrphans(env *cliEnv, found []lifecycle.Orphan) {
	if len(found) == 0 {
		fmt.Fprintln(env.stdout, "no orphaned wallet holds funds")
		return
	}
	for _, o := range found {
		var bal []string
		for _, b := range o.Balances {
			bal = append(bal, b.Amount+" "+b.Symbol)
		}
		fmt.Fprintf(env.stdout, "%s %s (agent %s, key %s gen %d %s): %s; native %s wei; treasury %s\n",
			o.Address, o.Reason, o.AgentID, o.KeyID, o.Generation, o.KeyStatus, orDash(strings.Join(bal, ", ")), o.Native, orDash(o.Treasury))
	}
}
