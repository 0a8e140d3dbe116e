package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/sdk"
)

func init() {
	extraCommands = append(extraCommands,
		command{"audit", "verify the hash-chained audit log, or export it as JSON Lines", runAudit},
	)
}

const auditHelp = `usage: fleetkey audit verify [--signer ADDRESS] [--json]
       fleetkey audit verify --data-dir DIR [--signer ADDRESS] [--json]
       fleetkey audit export [-o FILE]

verify  downloads every audit record and signed checkpoint from the daemon (--api, an admin or
        auditor --token-file) and checks here, not on the server, that each record hashes to
        its stored hash and links to the one before, that no sequence number is missing, and
        that every checkpoint is signed by the audit key and names the chain's hash at its
        sequence number. It prints the first broken link and exits 1. The audit key's address
        should come from a source you trust (--signer); without it the server's answer to GET
        /v1/audit/key is used, and the output says so.
        With --data-dir it reads DIR/fleetkey.db directly instead (no daemon needed; the file
        is only read: a consistent snapshot is copied to a temporary file first).
export  writes the records and checkpoints as JSON Lines to stdout or -o FILE, the input
        format of verifiers (and of audit.VerifyExport).`

func runAudit(env *cliEnv, args []string) error {
	return runSubcommand(env, "audit", auditHelp, []subcommand{
		{"verify", runAuditVerify},
		{"export", runAuditExport},
	}, args)
}

// downloadAudit writes the daemon's chain as export JSON Lines: checkpoints first (fetched
// before the records, so none can name a record the download has not reached), then every
// record, page by page until an empty page.
func downloadAudit(ctx context.Context, c *sdk.Client, w io.Writer) (records, checkpoints int, err error) {
	cps, err := c.AuditCheckpoints(ctx)
	if err != nil {
		return 0, 0, err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, cp := range cps {
		cp.Type = "checkpoint"
		if err := enc.Encode(cp); err != nil {
			return 0, 0, err
		}
	}
	var after uint64
	for {
		page, err := c.AuditRecords(ctx, after, 1000)
		if err != nil {
			return 0, 0, err
		}
		if len(page) == 0 {
			return records, len(cps), nil
		}
		for _, r := range page {
			if r.Seq <= after {
				return 0, 0, fmt.Errorf("the server sent record %d after record %d", r.Seq, after)
			}
			r.Type = "record"
			if err := enc.Encode(r); err != nil {
				return 0, 0, err
			}
			after = r.Seq
			records++
		}
	}
}

// verifyOutput is the --json form of a verification.
type verifyOutput struct {
	OK             bool         `json:"ok"`
	Records        uint64       `json:"records"`
	Head           uint64       `json:"head"`
	HeadHash       string       `json:"head_hash,omitempty"`
	Checkpoints    int          `json:"checkpoints"`
	LastCheckpoint uint64       `json:"last_checkpoint"`
	Signer         string       `json:"signer,omitempty"`
	SignerSource   string       `json:"signer_source,omitempty"`
	Problem        *problemJSON `json:"problem,omitempty"`
}

type problemJSON struct {
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// reportVerify prints a verification and turns a broken chain into exit status 1.
func reportVerify(env *cliEnv, rep audit.Report, signer common.Address, source string, asJSON bool) error {
	out := verifyOutput{OK: rep.OK(), Records: rep.Records, Head: rep.Head, Checkpoints: rep.Checkpoints,
		LastCheckpoint: rep.LastCheckpoint}
	if p := rep.Problem; p != nil {
		out.Problem = &problemJSON{Seq: p.Seq, Kind: string(p.Kind), Detail: p.Detail}
	}
	if rep.Head > 0 {
		out.HeadHash = hex.EncodeToString(rep.HeadHash[:])
	}
	if signer != (common.Address{}) {
		out.Signer, out.SignerSource = signer.Hex(), source
	}
	if asJSON {
		if err := printJSON(env.stdout, out); err != nil {
			return err
		}
	} else if rep.OK() {
		fmt.Fprintf(env.stdout, "audit chain intact: %s, head %d (%s), %s verified", plural(int(rep.Records), "record"), rep.Head, out.HeadHash, plural(rep.Checkpoints, "checkpoint"))
		if rep.Checkpoints > 0 {
			fmt.Fprintf(env.stdout, ", the last at %d, signed by %s (%s)", rep.LastCheckpoint, signer.Hex(), source)
		}
		fmt.Fprintln(env.stdout)
	}
	if !rep.OK() {
		fmt.Fprintf(env.stderr, "fleetkey audit verify: audit chain broken at seq %d: %s: %s\n", rep.Problem.Seq, rep.Problem.Kind, rep.Problem.Detail)
		if rep.Records > 0 {
			fmt.Fprintf(env.stderr, "the chain is intact up to seq %d\n", rep.Head)
		}
		return exitError{code: 1}
	}
	return nil
}

func runAuditVerify(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "audit verify", "[--signer ADDRESS] [--data-dir DIR] [--json]",
		"Verify the audit log's hash chain and signed checkpoints; exit 1 at the first broken link.")
	cf := addClientFlags(fs)
	signerFlag := fs.String("signer", "", "address of the audit checkpoint key (trusted)")
	dataDir := fs.String("data-dir", "", "verify DIR/fleetkey.db directly instead of asking the daemon")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 0); err != nil {
		return err
	}
	var signer common.Address
	source := "--signer"
	if *signerFlag != "" {
		if !common.IsHexAddress(*signerFlag) {
			return fmt.Errorf("--signer %q is not a 20-byte hex address", *signerFlag)
		}
		signer = common.HexToAddress(*signerFlag)
	}
	ctx := context.Background()
	if *dataDir != "" {
		rep, err := verifyDataDir(ctx, *dataDir, signer)
		if err != nil {
			return err
		}
		return reportVerify(env, rep, signer, source, *asJSON)
	}

	c, err := cf.client()
	if err != nil {
		return err
	}
	var export bytes.Buffer
	_, checkpoints, err := downloadAudit(ctx, c, &export)
	if err != nil {
		return apiError(err, *cf.api)
	}
	if checkpoints > 0 && signer == (common.Address{}) {
		addr, err := c.AuditKey(ctx)
		if err != nil {
			return apiError(err, *cf.api)
		}
		if !common.IsHexAddress(addr) {
			return fmt.Errorf("the server's audit key %q is not an address", addr)
		}
		signer, source = common.HexToAddress(addr), "from the server"
		fmt.Fprintf(env.stderr, "note: the checkpoint key address %s came from the server being verified; pass --signer ADDRESS from a source you trust\n", signer.Hex())
	}
	rep, err := audit.VerifyExport(ctx, &export, signer)
	if err != nil {
		return err
	}
	return reportVerify(env, rep, signer, source, *asJSON)
}

func runAuditExport(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "audit export", "[-o FILE]", "Write the audit log as JSON Lines.")
	cf := addClientFlags(fs)
	out := fs.String("o", "", "write to this new file instead of stdout")
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
	w := env.stdout
	var tmp *os.File
	if *out != "" {
		if _, err := os.Lstat(*out); err == nil {
			return fmt.Errorf("%s already exists", *out)
		}
		// Written beside the target and renamed at the end: a failed download leaves no
		// partial export that looks whole.
		if tmp, err = os.CreateTemp(filepath.Dir(*out), ".audit-export-*"); err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		w = tmp
	}
	records, checkpoints, err := downloadAudit(context.Background(), c, w)
	if err != nil {
		return apiError(err, *cf.api)
	}
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Link(tmp.Name(), *out); err != nil {
			return errors.Join(fmt.Errorf("write %s", *out), err)
		}
		fmt.Fprintf(env.stderr, "exported %d records and %d checkpoints to %s\n", records, checkpoints, *out)
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
