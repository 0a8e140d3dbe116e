// Command fleetkey is the fleetkey CLI and daemon: key custody and x402 payment signing for fleets
// of AI agents. This package only parses flags and wires packages together; the logic lives in
// the domain packages under internal/ and in the public x402 and sdk packages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one CLI subcommand. run receives the arguments after the command name.
type command struct {
	name    string
	summary string
	run     func(env *cliEnv, args []string) error
}

// cliEnv carries the process streams so commands can be tested in-process.
type cliEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// errUsage marks an error already explained by printed usage text: exit 2, no extra message.
var errUsage = errors.New("usage")

// exitError carries a specific exit code for a failure that was already reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func commands() []command {
	cmds := []command{
		{"version", "print version, commit and Go version", runVersion},
	}
	cmds = append(cmds, extraCommands...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	return cmds
}

// extraCommands is filled by the init functions of the command files, so that each command's
// wiring stays in its own file.
var extraCommands []command

func main() {
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(run(env, os.Args[1:]))
}

func run(env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return run(env, []string{args[1], "--help"})
		}
		printUsage(env.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(env, args[1:])
		var ee exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case errors.As(err, &ee):
			return ee.code
		default:
			fmt.Fprintf(env.stderr, "fleetkey %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(env.stderr, "fleetkey: unknown command %q\n", args[0])
	fmt.Fprintf(env.stderr, "hint: run \"fleetkey help\" for the list of commands\n")
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "fleetkey: key custody and x402 payment signing for fleets of AI agents\n\n")
	fmt.Fprintf(w, "usage: fleetkey <command> [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nrun \"fleetkey <command> --help\" for the flags of a command\n")
}

// newFlagSet returns a flag set that prints "usage: fleetkey NAME ARGS" and the flag defaults
// to env.stderr on error and to env.stdout for --help.
func newFlagSet(env *cliEnv, name, argsUsage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: fleetkey %s %s\n\n%s\n", name, argsUsage, strings.TrimSpace(description))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; --help prints usage to stdout and returns flag.ErrHelp, any other
// parse error has already been printed with the usage and becomes errUsage.
func parseFlags(env *cliEnv, fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(env.stdout)
			fs.Usage()
			return flag.ErrHelp
		}
		if a == "--" {
			break
		}
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return nil
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }
