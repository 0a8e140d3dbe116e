package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
)

func init() {
	extraCommands = append(extraCommands,
		command{"credential", "create, list and revoke operator credentials, revoke agent credentials (operator API, unscoped admin)", runCredential},
	)
}

const credentialHelp = `usage: fleetkey credential create --name N --role R [--fleet ID] [--expires 720h] --token-out FILE
       fleetkey credential list [--json]
       fleetkey credential revoke ID

create  issues an operator credential; its token is written to a new file (mode 0600, never
        over an existing file) and shown nowhere else. Roles: admin (everything), operator
        (fleets, groups, agents, policies), approver (votes on approvals; its --name must be
        one a policy lists as approver), auditor (reads, audit log). --fleet scopes it to one
        fleet: it acts only on that fleet's groups, agents, policies, approvals, payments and
        alerts; other fleets' records answer 404 as if absent; it may not create fleets or
        credentials or read the audit log (one chain across every fleet).
list    lists operator credentials (never a token or its hash).
revoke  revokes a credential at once: an operator's (ids from "credential list") or an
        agent's (ids from "agent show ID").

Every command takes --api URL and --token-file FILE (an admin token).`

func runCredential(env *cliEnv, args []string) error {
	return runSubcommand(env, "credential", credentialHelp, []subcommand{
		{"create", runCredentialCreate},
		{"list", runCredentialList},
		{"revoke", runCredentialRevoke},
	}, args)
}

func runCredentialCreate(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "credential create", "--name N --role R [--fleet ID] [--expires D] --token-out FILE", "Issue an operator credential.")
	cf := addClientFlags(fs)
	name := fs.String("name", "", "the operator's name (approvers: as policies list them; required)")
	role := fs.String("role", "", "admin, operator, approver or auditor (required)")
	expires := fs.Duration("expires", 0, "lifetime, e.g. 720h (default: no expiry)")
	fleet := fs.String("fleet", "", "scope the credential to this fleet id (default: every fleet)")
	tokenOut := fs.String("token-out", "", "write the token to this new file (mode 0600; required)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 0); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"name", *name}, {"role", *role}, {"token-out", *tokenOut}} {
		if err := requireFlag(fs, f.name, f.v); err != nil {
			return err
		}
	}
	switch *role {
	case sdk.RoleAdmin, sdk.RoleOperator, sdk.RoleApprover, sdk.RoleAuditor:
	default:
		return fmt.Errorf("--role %q: want admin, operator, approver or auditor", *role)
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
	req := sdk.NewCredential{Name: *name, Role: *role, FleetID: *fleet}
	if *expires > 0 {
		t := time.Now().Add(*expires).UTC().Truncate(time.Second)
		req.ExpiresAt = &t
	}
	ic, err := c.CreateCredential(context.Background(), req)
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
	scope := "every fleet"
	if ic.Credential.FleetID != "" {
		scope = "scoped to fleet " + ic.Credential.FleetID
	}
	fmt.Fprintf(env.stdout, "credential %s (%s, role %s, %s); token written to %s (expires %s)\n",
		ic.Credential.ID, ic.Credential.Name, ic.Credential.Role, scope, *tokenOut, timeOrDash(ic.Credential.ExpiresAt))
	return nil
}

func credentialTable(env *cliEnv, cs []sdk.Credential) error {
	rows := make([][]string, len(cs))
	for i, c := range cs {
		fleet := c.FleetID
		if fleet == "" {
			fleet = "-"
		}
		rows[i] = []string{c.ID, c.Kind, c.Name, c.Role, fleet, c.CreatedAt.UTC().Format(time.RFC3339),
			timeOrDash(c.ExpiresAt), timeOrDash(c.RevokedAt), timeOrDash(c.LastUsedAt)}
	}
	return table(env.stdout, "ID\tKIND\tNAME\tROLE\tFLEET\tCREATED\tEXPIRES\tREVOKED\tLAST USED", rows)
}

func runCredentialList(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "credential list", "[--json]", "List operator credentials.")
	cf := addClientFlags(fs)
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
	cs, err := c.Credentials(context.Background())
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		if cs == nil {
			cs = []sdk.Credential{}
		}
		return printJSON(env.stdout, map[string]any{"credentials": cs})
	}
	return credentialTable(env, cs)
}

func runCredentialRevoke(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "credential revoke", "ID", "Revoke an operator or agent credential at once (ids from \"credential list\" or \"agent show\").")
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
	cr, err := c.RevokeCredential(context.Background(), pos[0])
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		return printJSON(env.stdout, map[string]any{"credential": cr})
	}
	fmt.Fprintf(env.stdout, "credential %s (%s) revoked at %s\n", cr.ID, cr.Name, timeOrDash(cr.RevokedAt))
	return nil
}
