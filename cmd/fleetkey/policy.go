package main

import (
	"encoding/json"

	"fmt"
	"io"
	"os"

	"github.com/fleetkey/fleetkey/internal/policy"
)

func init() {
	extraCommands = append(extraCommands,
		command{"policy", "check or test a policy file; apply it to a fleet, group or agent, or show what applies", runPolicy},
	)
}

const policyHelp = `usage: fleetkey policy check FILE [--json]
       fleetkey policy test FILE CASES [--json]
       fleetkey policy apply --level fleet|group|agent --scope ID FILE [--json]
       fleetkey policy show --level fleet|group|agent --scope ID [--source] [--json]

check   parses and validates a policy (docs/policy.md) and prints its name and content hash;
        every problem is reported with its line.
test    evaluates the policy against the fixture cases in CASES (a YAML list, see
        docs/policy.md) without signing anything, prints one line per case and exits 1 if any
        case fails.
apply   checks the policy here, then makes it the active version at the fleet, group or agent
        --scope on the daemon (--api, an admin or operator --token-file). Applying the active
        version's content again changes nothing.
show    prints the active version and every earlier one at a scope; --source prints the
        active policy's YAML.`

func runPolicy(env *cliEnv, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.stderr, policyHelp)
		return errUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(env.stdout, policyHelp)
		return nil
	case "check":
		return runPolicyCheck(env, args[1:])
	case "test":
		return runPolicyTest(env, args[1:])
	case "apply":
		return runPolicyApply(env, args[1:])
	case "show":
		return runPolicyShow(env, args[1:])
	default:
		fmt.Fprintf(env.stderr, "fleetkey policy: unknown subcommand %q\n%s\n", args[0], policyHelp)
		return errUsage
	}
}

func readPolicyFile(path string) (*policy.Policy, error) {
	src, err := readBoundedFile(path, policy.MaxDocumentSize)
	if err != nil {
		return nil, err
	}
	p, err := policy.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s:\n%w", path, err)
	}
	return p, nil
}

// readBoundedFile reads a file of at most limit bytes, with an error that names the file.
func readBoundedFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}

func runPolicyCheck(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "policy check", "FILE [--json]", "Parse and validate a policy file; print its name and content hash.")
	asJSON := fs.Bool("json", false, "print a JSON object")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	p, err := readPolicyFile(fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(map[string]string{"name": p.Name(), "hash": p.Hash(), "file": fs.Arg(0)})
	}
	fmt.Fprintf(env.stdout, "policy %q is valid\nhash %s\n", p.Name(), p.Hash())
	return nil
}

type caseJSON struct {
	Name     string          `json:"name"`
	Line     int             `json:"line"`
	Pass     bool            `json:"pass"`
	Failure  string          `json:"failure,omitempty"`
	Decision policy.Decision `json:"decision"`
}

func runPolicyTest(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "policy test", "FILE CASES [--json]", "Evaluate a policy against fixture cases without signing.")
	asJSON := fs.Bool("json", false, "print one JSON object per case")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errUsage
	}
	p, err := readPolicyFile(fs.Arg(0))
	if err != nil {
		return err
	}
	cases, err := readBoundedFile(fs.Arg(1), policy.MaxDocumentSize)
	if err != nil {
		return err
	}
	results, err := policy.CheckCases(p, cases)
	if err != nil {
		return fmt.Errorf("%s:\n%w", fs.Arg(1), err)
	}
	failed := 0
	enc := json.NewEncoder(env.stdout)
	for _, r := range results {
		if !r.Pass {
			failed++
		}
		if *asJSON {
			if err := enc.Encode(caseJSON{r.Name, r.Line, r.Pass, r.Failure, r.Decision}); err != nil {
				return err
			}
			continue
		}
		status := "ok  "
		if !r.Pass {
			status = "FAIL"
		}
		d := r.Decision
		detail := string(d.Outcome)
		if d.Reason != "" {
			detail += " (" + string(d.Reason) + ", " + d.Rule + ")"
		}
		fmt.Fprintf(env.stdout, "%s %s: %s\n", status, r.Name, detail)
		if !r.Pass {
			fmt.Fprintf(env.stdout, "     line %d: %s\n", r.Line, r.Failure)
		}
	}
	if !*asJSON {
		fmt.Fprintf(env.stdout, "%d cases, %d failed (policy %s)\n", len(results), failed, p.Hash())
	}
	if failed > 0 {
		return exitError{code: 1}
	}
	return nil
}
