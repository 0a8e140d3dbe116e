package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
)

func init() {
	extraCommands = append(extraCommands,
		command{"agent", "create, list, show, freeze and unfreeze agents (operator API); rotate and revoke them (in-process)", runAgent},
	)
}

const agentHelp = `usage: fleetkey agent create --fleet ID [--group ID] --external-id X [--name N] [--label K=V] --token-out FILE
       fleetkey agent create --fleet ID [--group ID] --from-file agents.jsonl --token-dir DIR
       fleetkey agent list [--fleet ID] [--group ID] [--status S] [--json]
       fleetkey agent show ID [--json]
       fleetkey agent freeze ID
       fleetkey agent unfreeze ID
       fleetkey agent credential ID --token-out FILE [--expires 720h]

create      provisions agents, idempotently by external id: an agent that exists is returned
            and gets no new token. A new agent's token is written to a new file (mode 0600,
            never over an existing file) and not printed unless --print-token. With
            --from-file each line is {"external_id","name"?,"labels"?} and each new token goes
            to DIR/EXTERNAL_ID.token.
list        lists agents, every page.
show        prints an agent, its keys (path, address, signatures) and its credentials.
freeze      refuses the agent's payments until unfreeze.
credential  issues another token for an agent.

Every command takes --api URL (default $FLEETKEY_API, else http://127.0.0.1:8402) and
--token-file FILE (default $FLEETKEY_TOKEN_FILE): an operator token (role admin or operator to
change, auditor to read).`

func runAgent(env *cliEnv, args []string) error {
	return runSubcommand(env, "agent", agentHelp+agentHelpExtra, append([]subcommand{
		{"create", runAgentCreate},
		{"list", runAgentList},
		{"show", runAgentShow},
		{"freeze", func(env *cliEnv, args []string) error { return runAgentStatus(env, "freeze", args) }},
		{"unfreeze", func(env *cliEnv, args []string) error { return runAgentStatus(env, "unfreeze", args) }},
		{"credential", runAgentCredential},
	}, agentSubcommands...), args)
}

// labelsFlag is a repeatable K=V flag.
type labelsFlag map[string]string

func (l labelsFlag) String() string { return labelsText(l) }
func (l labelsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return errors.New("want KEY=VALUE")
	}
	l[k] = val
	return nil
}

// maxAgentsFile bounds an --from-file batch.
const maxAgentsFile = 16 << 20

func readAgentsFile(path string) ([]sdk.NewAgent, error) {
	b, err := readBoundedFile(path, maxAgentsFile)
	if err != nil {
		return nil, err
	}
	var out []sdk.NewAgent
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), maxAgentsFile)
	for line := 1; sc.Scan(); line++ {
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		var a sdk.NewAgent
		dec := json.NewDecoder(bytes.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if a.ExternalID == "" {
			return nil, fmt.Errorf("%s:%d: external_id is required", path, line)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no agents", path)
	}
	return out, nil
}

func runAgentCreate(env *cliEnv, args []string) (err error) {
	fs := newFlagSet(env, "agent create", "--fleet ID [--group ID] (--external-id X | --from-file F) [flags]",
		"Provision agents; write each new agent's token to a new 0600 file.")
	cf := addClientFlags(fs)
	fleet := fs.String("fleet", "", "fleet id (required)")
	group := fs.String("group", "", "group id")
	externalID := fs.String("external-id", "", "your id of the agent, unique in the fleet")
	name := fs.String("name", "", "display name (default: the external id)")
	labels := labelsFlag{}
	fs.Var(labels, "label", "label KEY=VALUE (repeatable)")
	fromFile := fs.String("from-file", "", "JSON Lines file of agents to create in one batch")
	tokenOut := fs.String("token-out", "", "write the new agent's token to this new file (mode 0600)")
	tokenDir := fs.String("token-dir", "", "with --from-file: write each new token to DIR/EXTERNAL_ID.token")
	printToken := fs.Bool("print-token", false, "also print new tokens (they are secrets)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 0); err != nil {
		return err
	}
	if err := requireFlag(fs, "fleet", *fleet); err != nil {
		return err
	}
	var agents []sdk.NewAgent
	switch {
	case *fromFile != "" && (*externalID != "" || *name != "" || len(labels) > 0 || *tokenOut != ""):
		return errors.New("--from-file takes the agents from the file: drop --external-id, --name, --label and --token-out (use --token-dir)")
	case *fromFile != "":
		if *tokenDir == "" && !*printToken {
			return errors.New("--from-file needs --token-dir DIR (or --print-token): a new agent's token is shown only once")
		}
		if agents, err = readAgentsFile(*fromFile); err != nil {
			return err
		}
	case *externalID == "":
		return requireFlag(fs, "external-id", "")
	default:
		if *tokenDir != "" {
			return errors.New("--token-dir goes with --from-file; use --token-out FILE for one agent")
		}
		if *tokenOut == "" && !*printToken {
			return errors.New("--token-out FILE is required (or --print-token): a new agent's token is shown only once")
		}
		n := *name
		if n == "" {
			n = *externalID
		}
		agents = []sdk.NewAgent{{ExternalID: *externalID, Name: n, Labels: labels}}
	}

	// Token files are created before the call, so that a token is never received with
	// nowhere to put it.
	files := map[string]*os.File{}
	defer func() {
		for _, f := range files {
			discardSecretFile(f)
		}
	}()
	for _, a := range agents {
		path := *tokenOut
		if *tokenDir != "" {
			if err := os.MkdirAll(*tokenDir, 0o700); err != nil {
				return err
			}
			if path, err = tokenFilePath(*tokenDir, a.ExternalID); err != nil {
				return err
			}
		}
		if path == "" {
			continue
		}
		if _, dup := files[a.ExternalID]; dup {
			return fmt.Errorf("external id %q appears twice", a.ExternalID)
		}
		f, err := createSecretFile(path)
		if err != nil {
			return err
		}
		files[a.ExternalID] = f
	}

	c, err := cf.client()
	if err != nil {
		return err
	}
	out, err := c.CreateAgents(context.Background(), sdk.CreateAgentsRequest{FleetID: *fleet, GroupID: *group, Agents: agents})
	if err != nil {
		return apiError(err, *cf.api)
	}
	type result struct {
		sdk.ProvisionedAgent
		TokenFile string `json:"token_file,omitempty"`
		Token     string `json:"token,omitempty"` // only with --print-token
	}
	results := make([]result, len(out))
	var lost []error // tokens received but not written: the agents need a new credential
	for i, p := range out {
		r := result{ProvisionedAgent: p}
		if f := files[p.Agent.ExternalID]; f != nil && p.Created && p.Token != "" {
			delete(files, p.Agent.ExternalID)
			if err := writeToken(f, p.Token); err != nil {
				os.Remove(f.Name())
				lost = append(lost, fmt.Errorf("agent %s: %w (issue another: fleetkey agent credential %s --token-out FILE)", p.Agent.ID, err, p.Agent.ID))
			} else {
				r.TokenFile = f.Name()
			}
		}
		if *printToken && p.Token != "" {
			r.Token = p.Token.Reveal()
		}
		results[i] = r
	}
	if *asJSON {
		if err := printJSON(env.stdout, map[string]any{"agents": results}); err != nil {
			return err
		}
		return errors.Join(lost...)
	}
	defer func() {
		if len(lost) > 0 && err == nil {
			err = errors.Join(lost...)
		}
	}()
	for _, r := range results {
		state := "created"
		if !r.Created {
			state = "exists"
		}
		fmt.Fprintf(env.stdout, "%s %s external_id=%s address=%s", state, r.Agent.ID, r.Agent.ExternalID, r.Address)
		if r.TokenFile != "" {
			fmt.Fprintf(env.stdout, " token_file=%s", r.TokenFile)
		}
		if r.Token != "" {
			fmt.Fprintf(env.stdout, " token=%s", r.Token)
		}
		fmt.Fprintln(env.stdout)
		if !r.Created {
			fmt.Fprintf(env.stderr, "note: agent %s already existed; no new token (use \"fleetkey agent credential %s\")\n", r.Agent.ID, r.Agent.ID)
		}
	}
	return nil
}

func runAgentList(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "agent list", "[--fleet ID] [--group ID] [--status S] [--json]", "List agents.")
	cf := addClientFlags(fs)
	fleet := fs.String("fleet", "", "only this fleet")
	group := fs.String("group", "", "only this group")
	status := fs.String("status", "", "only this status: active, frozen, revoked or retired")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 0); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	var all []sdk.Agent
	f := sdk.AgentFilter{FleetID: *fleet, GroupID: *group, Status: *status}
	for {
		page, err := c.Agents(context.Background(), f)
		if err != nil {
			return apiError(err, *cf.api)
		}
		all = append(all, page.Agents...)
		if page.Next == "" || page.Next == f.After || len(page.Agents) == 0 {
			break
		}
		f.After = page.Next
	}
	if *asJSON {
		if all == nil {
			all = []sdk.Agent{}
		}
		return printJSON(env.stdout, map[string]any{"agents": all})
	}
	rows := make([][]string, len(all))
	for i, a := range all {
		rows[i] = []string{a.ID, a.Name, a.ExternalID, a.Status, a.FleetID, a.GroupID}
	}
	// The list answer carries no key address (agent show has the keys), so the table
	// has no column that would always read "-".
	return table(env.stdout, "ID\tNAME\tEXTERNAL ID\tSTATUS\tFLEET\tGROUP", rows)
}

func runAgentShow(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "agent show", "ID [--json]", "Print an agent, its keys and its credentials.")
	cf := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 1); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	d, err := c.Agent(context.Background(), pos[0])
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		return printJSON(env.stdout, d)
	}
	a := d.Agent
	fmt.Fprintf(env.stdout, "agent %s\n  name         %s\n  external id  %s\n  status       %s\n  fleet        %s\n  group        %s\n  index        %d\n  labels       %s\n  created      %s\n  updated      %s\n",
		a.ID, a.Name, a.ExternalID, a.Status, a.FleetID, a.GroupID, a.Index, labelsText(a.Labels),
		a.CreatedAt.UTC().Format(time.RFC3339), a.UpdatedAt.UTC().Format(time.RFC3339))
	fmt.Fprintln(env.stdout, "\nkeys:")
	rows := make([][]string, len(d.Keys))
	for i, k := range d.Keys {
		rows[i] = []string{k.ID, fmt.Sprint(k.Generation), k.Path, k.Address, k.Status, fmt.Sprint(k.SignCount)}
	}
	if err := table(env.stdout, "ID\tGEN\tPATH\tADDRESS\tSTATUS\tSIGNED", rows); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, "\ncredentials:")
	return credentialTable(env, d.Credentials)
}

func runAgentStatus(env *cliEnv, verb string, args []string) error {
	fs := newFlagSet(env, "agent "+verb, "ID", map[string]string{
		"freeze":   "Freeze an agent: its payments are refused until unfreeze.",
		"unfreeze": "Unfreeze a frozen agent.",
	}[verb])
	cf := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 1); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	op := c.FreezeAgent
	if verb == "unfreeze" {
		op = c.UnfreezeAgent
	}
	a, err := op(context.Background(), pos[0])
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		return printJSON(env.stdout, map[string]any{"agent": a})
	}
	fmt.Fprintf(env.stdout, "agent %s is %s\n", a.ID, a.Status)
	return nil
}

func runAgentCredential(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "agent credential", "ID --token-out FILE [--expires D]", "Issue another token for an agent.")
	cf := addClientFlags(fs)
	tokenOut := fs.String("token-out", "", "write the token to this new file (mode 0600; required)")
	expires := fs.Duration("expires", 0, "lifetime of the credential, e.g. 720h (default: no expiry)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 1); err != nil {
		return err
	}
	if err := requireFlag(fs, "token-out", *tokenOut); err != nil {
		return err
	}
	if *expires < 0 {
		return errors.New("--expires must be positive")
	}
	f, err := createSecretFile(*tokenOut)
	if err != nil {
		return err
	}
	defer func() { discardSecretFile(f) }() // f is nil once the token is in it
	c, err := cf.client()
	if err != nil {
		return err
	}
	var exp *time.Time
	if *expires > 0 {
		t := time.Now().Add(*expires).UTC().Truncate(time.Second)
		exp = &t
	}
	ic, err := c.IssueAgentCredential(context.Background(), pos[0], exp)
	if err != nil {
		return apiError(err, *cf.api)
	}
	if err := writeToken(f, ic.Token); err != nil {
		return err
	}
	f = nil
	if *asJSON {
		return printJSON(env.stdout, map[string]any{"credential": ic.Credential, "token_file": *tokenOut})
	}
	fmt.Fprintf(env.stdout, "credential %s for agent %s; token written to %s (expires %s)\n",
		ic.Credential.ID, pos[0], *tokenOut, timeOrDash(ic.Credential.ExpiresAt))
	return nil
}
