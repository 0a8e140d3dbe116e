package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
)

// The client commands (agent, fleet, group, credential, policy apply|show, approvals, pay,
// audit) talk to a running daemon only through the public sdk package; a test keeps them
// from importing custody, key, store or payments code.

// Environment variables the client commands read for their defaults.
const (
	envAPI       = "FLEETKEY_API"
	envTokenFile = "FLEETKEY_TOKEN_FILE"
	defaultAPI   = "http://127.0.0.1:8402"
)

// maxTokenFile bounds a token file: a token is 52 characters.
const maxTokenFile = 4 << 10

// clientFlags are the flags every client command takes.
type clientFlags struct {
	api, tokenFile *string
}

func addClientFlags(fs *flag.FlagSet) clientFlags {
	api := os.Getenv(envAPI)
	if api == "" {
		api = defaultAPI
	}
	return clientFlags{
		api:       fs.String("api", api, "fleetkey API URL; $"+envAPI+" sets the default"),
		tokenFile: fs.String("token-file", os.Getenv(envTokenFile), "file holding the bearer token, mode 0600; $"+envTokenFile+" sets the default"),
	}
}

// client reads the token file and returns a client of the API.
func (cf clientFlags) client(opts ...sdk.Option) (*sdk.Client, error) {
	tok, err := readTokenFile(*cf.tokenFile)
	if err != nil {
		return nil, err
	}
	return sdk.NewClient(*cf.api, tok, append([]sdk.Option{sdk.WithUserAgent("fleetkey-cli/" + readBuildInfo().Version)}, opts...)...)
}

// readTokenFile reads a bearer token from a file only its owner may read, like the
// passphrase files of init and serve. Non-regular files (a pipe, /dev/fd/N) are read as they
// are.
func readTokenFile(path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("no token: give --token-file FILE or set %s", envTokenFile)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if fi.Mode().IsRegular() {
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return "", fmt.Errorf("token file %s has mode %04o, which lets others read it; run chmod 600 on it", path, perm)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("%s is too large for a token file", path)
	}
	tok := strings.TrimSpace(string(b))
	clear(b)
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, nil
}

// createSecretFile creates path for a token: mode 0600, never over an existing file. The
// caller writes the token once it has it, or removes the empty file.
func createSecretFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%s already exists; a token file is never overwritten", path)
	}
	return f, err
}

// writeToken writes a token and a newline into a file from createSecretFile and closes it.
func writeToken(f *os.File, t sdk.Token) error {
	_, err := io.WriteString(f, t.Reveal()+"\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write token to %s: %w", f.Name(), err)
	}
	return nil
}

// discardSecretFile removes a token file that got no token.
func discardSecretFile(f *os.File) {
	if f != nil {
		f.Close()
		os.Remove(f.Name())
	}
}

// parseArgs parses flags that may come before, between or after the positional arguments
// ("agent show ID --json"), and returns the positional ones. After "--" everything is
// positional.
func parseArgs(env *cliEnv, fs *flag.FlagSet, args []string) ([]string, error) {
	if err := parseFlags(env, fs, args); err != nil {
		return nil, err
	}
	var pos []string
	rest := fs.Args()
	consumedDashes := len(args) > len(rest) && args[len(args)-len(rest)-1] == "--"
	for len(rest) > 0 && !consumedDashes {
		pos = append(pos, rest[0])
		next := rest[1:]
		if err := fs.Parse(next); err != nil {
			return nil, errUsage
		}
		rest = fs.Args()
		consumedDashes = len(next) > len(rest) && next[len(next)-len(rest)-1] == "--"
	}
	return append(pos, rest...), nil
}

// subcommand is one verb of a command group ("agent create").
type subcommand struct {
	name string
	run  func(env *cliEnv, args []string) error
}

// runSubcommand dispatches args[0] among subs; help is the group's usage text.
func runSubcommand(env *cliEnv, group, help string, subs []subcommand, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.stderr, help)
		return errUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprintln(env.stdout, help)
		return nil
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(env, args[1:])
		}
	}
	fmt.Fprintf(env.stderr, "fleetkey %s: unknown subcommand %q\n%s\n", group, args[0], help)
	return errUsage
}

// needArgs checks the number of positional arguments, printing usage when it is wrong.
func needArgs(fs *flag.FlagSet, pos []string, n int) error {
	if len(pos) != n {
		fs.Usage()
		return errUsage
	}
	return nil
}

// requireFlag reports a missing required flag with the usage.
func requireFlag(fs *flag.FlagSet, name, value string) error {
	if value == "" {
		fmt.Fprintf(fs.Output(), "flag --%s is required\n", name)
		fs.Usage()
		return errUsage
	}
	return nil
}

// printJSON writes v as indented JSON. Tokens in v stay redacted (sdk.Token).
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table prints aligned columns.
func table(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		for i, c := range r {
			if c == "" {
				r[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func timeOrDash(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func labelsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// apiError adds a hint to the errors a user can act on: a daemon that is not there, a token
// of the wrong kind, a role that may not act.
func apiError(err error, api string) error {
	var ne *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &ne) && ne.Op == "dial":
		return fmt.Errorf("%w\nhint: is \"fleetkey serve\" running at %s? (--api or $%s)", err, api, envAPI)
	case errors.Is(err, sdk.ErrUnauthenticated):
		return fmt.Errorf("%w\nhint: the token was refused (unknown, revoked or expired, or its agent is frozen or revoked); operator commands need an operator token (fko_…), pay needs an agent token (fka_…)", err)
	case errors.Is(err, sdk.ErrForbidden):
		return fmt.Errorf("%w\nhint: the token's role may not do this; see \"fleetkey credential\" for roles", err)
	}
	return err
}

// tokenFilePath is where a batch writes an agent's token: DIR/EXTERNAL_ID.token. An
// external id that is not a plain file name is refused rather than rewritten.
func tokenFilePath(dir, externalID string) (string, error) {
	if externalID == "" || externalID == "." || externalID == ".." || len(externalID) > 128 {
		return "", fmt.Errorf("external id %q cannot name a token file", externalID)
	}
	for _, c := range externalID {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", fmt.Errorf("external id %q cannot name a token file (use letters, digits, '-', '_', '.')", externalID)
		}
	}
	return filepath.Join(dir, externalID+".token"), nil
}
