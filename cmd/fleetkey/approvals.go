package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
)

func init() {
	extraCommands = append(extraCommands,
		command{"approvals", "list pending payment approvals, approve or deny them (operator API)", runApprovals},
	)
}

const approvalsHelp = `usage: fleetkey approvals list [--status pending|approved|denied|expired|all] [--approver NAME] [--limit N] [--json]
       fleetkey approvals show ID [--json]
       fleetkey approvals approve ID [--json]
       fleetkey approvals deny ID [--json]

A payment above a policy's approval threshold waits, with its budget reserved, until enough of
the approvers the policy names approve it (then it is signed at once) or one denies it or it
expires. approve and deny need an approver or admin token whose credential name is one of the
approval's approvers.

Every command takes --api URL and --token-file FILE (an operator token).`

func runApprovals(env *cliEnv, args []string) error {
	return runSubcommand(env, "approvals", approvalsHelp, []subcommand{
		{"list", runApprovalsList},
		{"show", func(env *cliEnv, args []string) error { return runApprovalAction(env, "show", args) }},
		{"approve", func(env *cliEnv, args []string) error { return runApprovalAction(env, "approve", args) }},
		{"deny", func(env *cliEnv, args []string) error { return runApprovalAction(env, "deny", args) }},
	}, args)
}

func approvalRow(a sdk.Approval) []string {
	p := a.Payment
	return []string{a.ID, a.Status, p.AgentID, p.Amount, p.Asset, p.PayTo, p.ResourceURL, a.Rule,
		fmt.Sprintf("%d/%d", approvedVotes(a), a.Quorum), strings.Join(a.Approvers, ","), a.ExpiresAt.UTC().Format(time.RFC3339)}
}

func approvedVotes(a sdk.Approval) int {
	n := 0
	for _, v := range a.Votes {
		if v.Decision == "approve" {
			n++
		}
	}
	return n
}

const approvalHeader = "ID\tSTATUS\tAGENT\tAMOUNT\tASSET\tPAY TO\tRESOURCE\tRULE\tVOTES\tAPPROVERS\tEXPIRES"

func runApprovalsList(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "approvals list", "[--status S] [--limit N] [--json]", "List approvals (default: pending).")
	cf := addClientFlags(fs)
	status := fs.String("status", "pending", "pending, approved, denied, expired or all")
	approver := fs.String("approver", "", "only approvals that name this approver")
	limit := fs.Int("limit", 0, "at most this many (default: the server's)")
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
	as, err := c.Approvals(context.Background(), sdk.ApprovalFilter{Status: *status, Approver: *approver, Limit: *limit})
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		if as == nil {
			as = []sdk.Approval{}
		}
		return printJSON(env.stdout, map[string]any{"approvals": as})
	}
	rows := make([][]string, len(as))
	for i, a := range as {
		rows[i] = approvalRow(a)
	}
	return table(env.stdout, approvalHeader, rows)
}

func runApprovalAction(env *cliEnv, verb string, args []string) error {
	fs := newFlagSet(env, "approvals "+verb, "ID [--json]", map[string]string{
		"show":    "Print one approval and its payment.",
		"approve": "Vote to approve a payment; the last vote needed signs it.",
		"deny":    "Vote to deny a payment.",
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
	op := map[string]func(context.Context, string) (*sdk.Approval, error){
		"show": c.Approval, "approve": c.Approve, "deny": c.Deny,
	}[verb]
	a, err := op(context.Background(), pos[0])
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		return printJSON(env.stdout, map[string]any{"approval": a})
	}
	if verb != "show" {
		fmt.Fprintf(env.stdout, "approval %s is %s (%d of %d approvals; payment %s is %s)\n",
			a.ID, a.Status, approvedVotes(*a), a.Quorum, a.AuthorizationID, a.Payment.Status)
		return nil
	}
	return table(env.stdout, approvalHeader, [][]string{approvalRow(*a)})
}
