package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/store"
)

// Reader is what Verify and Export read from; store.Store satisfies it.
type Reader interface {
	ReadTx(ctx context.Context, fn func(store.ReadTx) error) error
}

// ProblemKind classifies a broken link.
type ProblemKind string

const (
	// ProblemGap: a sequence number is missing (a record was deleted).
	ProblemGap ProblemKind = "gap"
	// ProblemReordered: the record's PrevHash is the previous record's successor's,
	// i.e. two records were swapped.
	ProblemReordered ProblemKind = "reordered"
	// ProblemBrokenLink: the record's PrevHash is not the previous record's Hash.
	ProblemBrokenLink ProblemKind = "broken_link"
	// ProblemHashMismatch: the record's content does not hash to its Hash (an edit).
	ProblemHashMismatch ProblemKind = "hash_mismatch"
	// ProblemBadCheckpointSignature: a checkpoint is not signed by the trusted key.
	ProblemBadCheckpointSignature ProblemKind = "bad_checkpoint_signature"
	// ProblemCheckpointMismatch: a validly signed checkpoint names another hash than
	// the chain has at its Seq (the chain was rewritten after it).
	ProblemCheckpointMismatch ProblemKind = "checkpoint_mismatch"
	// ProblemCheckpointBeyondHead: a checkpoint is past the end of the chain
	// (records were removed from the end).
	ProblemCheckpointBeyondHead ProblemKind = "checkpoint_beyond_head"
)

// Problem is the first broken link Verify found.
type Problem struct {
	Seq    uint64
	Kind   ProblemKind
	Detail string
}

func (p Problem) String() string {
	return fmt.Sprintf("seq %d: %s: %s", p.Seq, p.Kind, p.Detail)
}

// Report is the result of Verify.
type Report struct {
	// Records is how many records were checked, up to and including Head.
	Records  uint64
	Head     uint64
	HeadHash [32]byte
	// Checkpoints is how many checkpoints were verified; LastCheckpoint the Seq of
	// the last good one (0 when none).
	Checkpoints    int
	LastCheckpoint uint64
	// Problem is the first problem found; nil when the chain is intact.
	Problem *Problem
}

// OK reports whether the chain verified.
func (r Report) OK() bool { return r.Problem == nil }

const pageSize = 1000

// Verify checks the whole chain and every checkpoint in one read snapshot. trusted is
// the audit key's address; it is required when the chain has checkpoints. The error
// is for failures to read; a tampered chain is reported in Report.Problem.
func Verify(ctx context.Context, r Reader, trusted common.Address) (Report, error) {
	var rep Report
	err := r.ReadTx(ctx, func(tx store.ReadTx) error {
		rep = Report{}
		cps, err := tx.AuditCheckpoints(ctx)
		if err != nil {
			return err
		}
		if len(cps) > 0 && trusted == (common.Address{}) {
			return errors.New("the chain has checkpoints but no trusted signer was given")
		}
		v := verifier{cps: cps, trusted: trusted, rep: &rep}
		var (
			buf   []store.AuditRecord
			after uint64
			done  bool
		)
		fill := func() error {
			if done || len(buf) >= 2 {
				return nil
			}
			page, err := tx.AuditRecords(ctx, after, pageSize)
			if err != nil {
				return err
			}
			if len(page) < pageSize {
				done = true
			}
			if len(page) > 0 {
				after = page[len(page)-1].Seq
			}
			buf = append(buf, page...)
			return nil
		}
		for {
			if err := fill(); err != nil {
				return err
			}
			if len(buf) == 0 {
				break
			}
			rec := buf[0]
			var next *store.AuditRecord
			if len(buf) > 1 {
				next = &buf[1]
			}
			if v.record(rec, next) {
				return nil
			}
			buf = buf[1:]
		}
		v.tail()
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	return rep, nil
}

type verifier struct {
	cps     []store.AuditCheckpoint
	cpi     int
	trusted common.Address
	rep     *Report
	prev    [32]byte
}

func (v *verifier) fail(seq uint64, kind ProblemKind, format string, args ...any) bool {
	v.rep.Problem = &Problem{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	return true
}

// record checks one record (and the checkpoints up to it); true means stop.
func (v *verifier) record(r store.AuditRecord, next *store.AuditRecord) bool {
	want := v.rep.Head + 1
	if r.Seq != want {
		return v.fail(want, ProblemGap, "record %d is missing (next present is %d)", want, r.Seq)
	}
	if r.PrevHash != v.prev {
		if next != nil && next.PrevHash == v.prev {
			return v.fail(r.Seq, ProblemReordered, "record %d links to %x…, which follows record %d; records %d and %d are out of order",
				r.Seq, r.PrevHash[:4], r.Seq, r.Seq, next.Seq)
		}
		return v.fail(r.Seq, ProblemBrokenLink, "prev_hash %x… is not record %d's hash %x…", r.PrevHash[:4], r.Seq-1, v.prev[:4])
	}
	if got := RecordHash(r); got != r.Hash {
		return v.fail(r.Seq, ProblemHashMismatch, "content hashes to %x…, stored hash is %x…", got[:4], r.Hash[:4])
	}
	v.prev = r.Hash
	v.rep.Head, v.rep.HeadHash = r.Seq, r.Hash
	v.rep.Records++
	for v.cpi < len(v.cps) && v.cps[v.cpi].Seq <= r.Seq {
		c := v.cps[v.cpi]
		v.cpi++
		if !v.signedByTrusted(c) {
			return v.fail(c.Seq, ProblemBadCheckpointSignature, "checkpoint at %d is not signed by %s", c.Seq, v.trusted.Hex())
		}
		if c.Seq != r.Seq || c.Hash != r.Hash {
			return v.fail(c.Seq, ProblemCheckpointMismatch, "signed checkpoint hash %x… differs from the chain's %x…", c.Hash[:4], r.Hash[:4])
		}
		v.rep.Checkpoints++
		v.rep.LastCheckpoint = c.Seq
	}
	return false
}

// tail checks the checkpoints after the last record.
func (v *verifier) tail() {
	if v.cpi < len(v.cps) {
		c := v.cps[v.cpi]
		if !v.signedByTrusted(c) {
			v.fail(c.Seq, ProblemBadCheckpointSignature, "checkpoint at %d is not signed by %s", c.Seq, v.trusted.Hex())
			return
		}
		v.fail(c.Seq, ProblemCheckpointBeyondHead, "signed checkpoint at %d but the chain ends at %d", c.Seq, v.rep.Head)
	}
}

func (v *verifier) signedByTrusted(c store.AuditCheckpoint) bool {
	if !strings.EqualFold(c.Signer, v.trusted.Hex()) {
		return false
	}
	d := CheckpointDigest(c.Seq, c.Hash, c.Time)
	pub, err := crypto.SigToPub(d[:], c.Signature[:])
	if err != nil {
		return false
	}
	return crypto.PubkeyToAddress(*pub) == v.trusted
}

// ExportedRecord and ExportedCheckpoint are the JSON Lines objects Export writes
// (and the operator API serves, so that a client can write what it pages through as
// an export and verify it with VerifyExport).
type ExportedRecord struct {
	Type     string          `json:"type"`
	Seq      uint64          `json:"seq"`
	Time     string          `json:"time"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject"`
	Data     json.RawMessage `json:"data,omitempty"`
	DataText string          `json:"data_text,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// ExportedCheckpoint is one checkpoint line of Export; see ExportedRecord.
type ExportedCheckpoint struct {
	Type      string `json:"type"`
	Seq       uint64 `json:"seq"`
	Hash      string `json:"hash"`
	Time      string `json:"time"`
	Signer    string `json:"signer"`
	Signature string `json:"signature"`
}

// RecordLine is r as Export writes it: times RFC 3339 with nanoseconds in UTC
// (exactly the hashed value), hashes hex, Data embedded as JSON when it is valid
// JSON, else as the string data_text.
func RecordLine(r store.AuditRecord) ExportedRecord {
	line := ExportedRecord{Type: "record", Seq: r.Seq, Time: r.Time.UTC().Format(time.RFC3339Nano),
		Actor: r.Actor, Action: r.Action, Subject: r.Subject,
		PrevHash: hex.EncodeToString(r.PrevHash[:]), Hash: hex.EncodeToString(r.Hash[:])}
	if json.Valid(r.Data) {
		line.Data = r.Data
	} else {
		line.DataText = string(r.Data)
	}
	return line
}

// CheckpointLine is c as Export writes it.
func CheckpointLine(c store.AuditCheckpoint) ExportedCheckpoint {
	return ExportedCheckpoint{Type: "checkpoint", Seq: c.Seq, Hash: hex.EncodeToString(c.Hash[:]),
		Time: c.Time.UTC().Format(time.RFC3339Nano), Signer: c.Signer, Signature: "0x" + hex.EncodeToString(c.Signature[:])}
}

// Export writes the chain as JSON Lines from one read snapshot: one object per record
// ("type":"record") in Seq order, each checkpoint ("type":"checkpoint") right after its
// record. Times are RFC 3339 with nanoseconds in UTC (exactly the hashed value), hashes
// hex. Data is embedded as JSON when it is valid JSON, else as the string data_text.
func Export(ctx context.Context, r Reader, w io.Writer) error {
	err := r.ReadTx(ctx, func(tx store.ReadTx) error {
		cps, err := tx.AuditCheckpoints(ctx)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		ci := 0
		var after uint64
		for {
			page, err := tx.AuditRecords(ctx, after, pageSize)
			if err != nil {
				return err
			}
			for _, rec := range page {
				for ; ci < len(cps) && cps[ci].Seq < rec.Seq; ci++ {
					if err := enc.Encode(CheckpointLine(cps[ci])); err != nil {
						return err
					}
				}
				if err := enc.Encode(RecordLine(rec)); err != nil {
					return err
				}
				after = rec.Seq
			}
			if len(page) < pageSize {
				break
			}
		}
		for ; ci < len(cps); ci++ {
			if err := enc.Encode(CheckpointLine(cps[ci])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}
