package main

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/sdk"
)

// policy apply and policy show: the policy subcommands that talk to the daemon.

func checkLevel(level string) error {
	switch level {
	case sdk.LevelFleet, sdk.LevelGroup, sdk.LevelAgent:
		return nil
	}
	return fmt.Errorf("--level %q: want fleet, group or agent", level)
}

func runPolicyApply(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "policy apply", "--level L --scope ID FILE [--json]",
		"Check a policy file, then make it the active policy at a fleet, group or agent.")
	cf := addClientFlags(fs)
	level := fs.String("level", "", "fleet, group or agent (required)")
	scope := fs.String("scope", "", "id of the fleet, group or agent (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 1); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"level", *level}, {"scope", *scope}} {
		if err := requireFlag(fs, f.name, f.v); err != nil {
			return err
		}
	}
	if err := checkLevel(*level); err != nil {
		return err
	}
	src, err := readBoundedFile(pos[0], policy.MaxDocumentSize)
	if err != nil {
		return err
	}
	// The daemon checks again; checking here names the line before anything is sent.
	p, err := policy.Parse(src)
	if err != nil {
		return fmt.Errorf("%s:\n%w", pos[0], err)
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	ap, err := c.ApplyPolicy(context.Background(), *level, *scope, p.Name(), string(src))
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		return printJSON(env.stdout, ap)
	}
	pv := ap.Policy
	if ap.Changed {
		fmt.Fprintf(env.stdout, "policy %q applied at %s %s: version %d, hash %s\n", pv.Name, pv.Level, pv.ScopeID, pv.Version, pv.Hash)
	} else {
		fmt.Fprintf(env.stdout, "policy %q unchanged at %s %s: version %d (hash %s) is already active\n", pv.Name, pv.Level, pv.ScopeID, pv.Version, pv.Hash)
	}
	return nil
}

func runPolicyShow(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "policy show", "--level L --scope ID [--source] [--json]",
		"Show the active policy and every version at a fleet, group or agent.")
	cf := addClientFlags(fs)
	level := fs.String("level", "", "fleet, group or agent (required)")
	scope := fs.String("scope", "", "id of the fleet, group or agent (required)")
	source := fs.Bool("source", false, "print only the active policy's YAML")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 0); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"level", *level}, {"scope", *scope}} {
		if err := requireFlag(fs, f.name, f.v); err != nil {
			return err
		}
	}
	if err := checkLevel(*level); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	pv, err := c.Policies(context.Background(), *level, *scope)
	if err != nil {
		return apiError(err, *cf.api)
	}
	switch {
	case *asJSON:
		if pv.Versions == nil {
			pv.Versions = []sdk.Policy{}
		}
		return printJSON(env.stdout, pv)
	case *source:
		if pv.Active == nil {
			return fmt.Errorf("no active policy at %s %s", *level, *scope)
		}
		_, err := fmt.Fprint(env.stdout, pv.Active.Source)
		return err
	}
	if pv.Active == nil {
		fmt.Fprintf(env.stdout, "no active policy at %s %s\n", *level, *scope)
	} else {
		fmt.Fprintf(env.stdout, "active: %q version %d, hash %s\n", pv.Active.Name, pv.Active.Version, pv.Active.Hash)
	}
	rows := make([][]string, len(pv.Versions))
	for i, v := range pv.Versions {
		active := ""
		if v.Active {
			active = "yes"
		}
		rows[i] = []string{fmt.Sprint(v.Version), v.Name, v.Hash, active, v.CreatedAt.UTC().Format(time.RFC3339)}
	}
	return table(env.stdout, "VERSION\tNAME\tHASH\tACTIVE\tCREATED", rows)
}
