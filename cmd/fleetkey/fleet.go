package main

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
)

func init() {
	extraCommands = append(extraCommands,
		command{"fleet", "create and list fleets (operator API)", runFleet},
		command{"group", "create and list the groups of a fleet (operator API)", runGroup},
	)
}

const fleetHelp = `usage: fleetkey fleet create NAME [--treasury ADDRESS] [--json]
       fleetkey fleet list [--json]

A fleet holds agents and groups; each fleet gets its own BIP-44 account index, so no two
fleets share a key. --treasury is the address idle funds are swept to.

Every command takes --api URL and --token-file FILE (an operator token; admin or operator to
create).`

const groupHelp = `usage: fleetkey group create --fleet ID NAME [--json]
       fleetkey group list --fleet ID [--json]

Groups split a fleet for policies and budgets (fleet → group → agent).

Every command takes --api URL and --token-file FILE (an operator token; admin or operator to
create).`

func runFleet(env *cliEnv, args []string) error {
	return runSubcommand(env, "fleet", fleetHelp, []subcommand{
		{"create", runFleetCreate},
		{"list", runFleetList},
	}, args)
}

func runGroup(env *cliEnv, args []string) error {
	return runSubcommand(env, "group", groupHelp, []subcommand{
		{"create", runGroupCreate},
		{"list", runGroupList},
	}, args)
}

func runFleetCreate(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "fleet create", "NAME [--treasury ADDRESS] [--json]", "Create a fleet.")
	cf := addClientFlags(fs)
	treasury := fs.String("treasury", "", "treasury address")
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
	f, err := c.CreateFleet(context.Background(), pos[0], *treasury)
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		return printJSON(env.stdout, map[string]any{"fleet": f})
	}
	fmt.Fprintf(env.stdout, "fleet %s created (name %s, index %d)\n", f.ID, f.Name, f.Index)
	return nil
}

func runFleetList(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "fleet list", "[--json]", "List fleets.")
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
	fl, err := c.Fleets(context.Background())
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		if fl == nil {
			fl = []sdk.Fleet{}
		}
		return printJSON(env.stdout, map[string]any{"fleets": fl})
	}
	rows := make([][]string, len(fl))
	for i, f := range fl {
		rows[i] = []string{f.ID, f.Name, fmt.Sprint(f.Index), f.Treasury, f.CreatedAt.UTC().Format(time.RFC3339)}
	}
	return table(env.stdout, "ID\tNAME\tINDEX\tTREASURY\tCREATED", rows)
}

func runGroupCreate(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "group create", "--fleet ID NAME [--json]", "Create a group in a fleet.")
	cf := addClientFlags(fs)
	fleet := fs.String("fleet", "", "fleet id (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 1); err != nil {
		return err
	}
	if err := requireFlag(fs, "fleet", *fleet); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	g, err := c.CreateGroup(context.Background(), *fleet, pos[0])
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		return printJSON(env.stdout, map[string]any{"group": g})
	}
	fmt.Fprintf(env.stdout, "group %s created (name %s, fleet %s)\n", g.ID, g.Name, g.FleetID)
	return nil
}

func runGroupList(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "group list", "--fleet ID [--json]", "List the groups of a fleet.")
	cf := addClientFlags(fs)
	fleet := fs.String("fleet", "", "fleet id (required)")
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
	c, err := cf.client()
	if err != nil {
		return err
	}
	gs, err := c.Groups(context.Background(), *fleet)
	if err != nil {
		return apiError(err, *cf.api)
	}
	if *asJSON {
		if gs == nil {
			gs = []sdk.Group{}
		}
		return printJSON(env.stdout, map[string]any{"groups": gs})
	}
	rows := make([][]string, len(gs))
	for i, g := range gs {
		rows[i] = []string{g.ID, g.Name, g.FleetID, g.CreatedAt.UTC().Format(time.RFC3339)}
	}
	return table(env.stdout, "ID\tNAME\tFLEET\tCREATED", rows)
}
