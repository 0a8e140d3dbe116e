package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/store"
)

// maxExportLine bounds one line of an export: far above any record fleetkey writes.
const maxExportLine = 16 << 20

// VerifyExport checks a chain given as JSON Lines in the form Export writes (and the operator
// API's /v1/audit/records and /v1/audit/checkpoints send), exactly as Verify checks a store:
// the same report, the same first problem. It lets a client that holds no database, such as
// `fleetkey audit verify` against a remote daemon, check what it downloaded.
//
// Records must come in increasing Seq order and checkpoints in increasing Seq order (the two
// may interleave in any way). A record's "data" is taken in canonical form (Canonical), which
// undoes the HTML escaping a JSON encoder may have applied in transit; "data_text" is taken
// as it is. A line that is not a record or a checkpoint of that form is an error naming the
// line; a tampered chain is reported in Report.Problem.
func VerifyExport(ctx context.Context, r io.Reader, trusted common.Address) (Report, error) {
	var (
		m    memChain
		line int
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxExportLine)
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if err := m.add(b); err != nil {
			return Report{}, fmt.Errorf("audit: verify export: line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("audit: verify export: after line %d: %w", line, err)
	}
	return Verify(ctx, &m, trusted)
}

// exportLine is either line type of an export.
type exportLine struct {
	Type      string          `json:"type"`
	Seq       uint64          `json:"seq"`
	Time      string          `json:"time"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	Subject   string          `json:"subject"`
	Data      json.RawMessage `json:"data"`
	DataText  *string         `json:"data_text"`
	PrevHash  string          `json:"prev_hash"`
	Hash      string          `json:"hash"`
	Signer    string          `json:"signer"`
	Signature string          `json:"signature"`
}

// memChain is an export held in memory, read by Verify through the store's read interface.
type memChain struct {
	recs []store.AuditRecord
	cps  []store.AuditCheckpoint
}

func (m *memChain) add(b []byte) error {
	var l exportLine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return fmt.Errorf("not an export line: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, l.Time)
	if err != nil {
		return fmt.Errorf("%s %d: time: %w", l.Type, l.Seq, err)
	}
	hash, err := hex32(l.Hash)
	if err != nil {
		return fmt.Errorf("%s %d: hash: %w", l.Type, l.Seq, err)
	}
	switch l.Type {
	case "record":
		if n := len(m.recs); n > 0 && m.recs[n-1].Seq >= l.Seq {
			return fmt.Errorf("record %d follows record %d: records must be in increasing seq order", l.Seq, m.recs[n-1].Seq)
		}
		prev, err := hex32(l.PrevHash)
		if err != nil {
			return fmt.Errorf("record %d: prev_hash: %w", l.Seq, err)
		}
		rec := store.AuditRecord{Seq: l.Seq, Time: t, Actor: l.Actor, Action: l.Action, Subject: l.Subject, PrevHash: prev, Hash: hash}
		switch {
		case len(l.Data) > 0 && l.DataText != nil:
			return fmt.Errorf("record %d has both data and data_text", l.Seq)
		case len(l.Data) > 0:
			if rec.Data, err = Canonical(l.Data); err != nil {
				return fmt.Errorf("record %d: %w", l.Seq, err)
			}
		case l.DataText != nil:
			rec.Data = []byte(*l.DataText)
		default:
			rec.Data = []byte{}
		}
		m.recs = append(m.recs, rec)
	case "checkpoint":
		if n := len(m.cps); n > 0 && m.cps[n-1].Seq >= l.Seq {
			return fmt.Errorf("checkpoint %d follows checkpoint %d: checkpoints must be in increasing seq order", l.Seq, m.cps[n-1].Seq)
		}
		sig, err := hex.DecodeString(strings.TrimPrefix(l.Signature, "0x"))
		if err != nil || len(sig) != 65 {
			return fmt.Errorf("checkpoint %d: signature is not 65 bytes of hex", l.Seq)
		}
		c := store.AuditCheckpoint{Seq: l.Seq, Hash: hash, Time: t, Signer: l.Signer}
		copy(c.Signature[:], sig)
		m.cps = append(m.cps, c)
	default:
		return fmt.Errorf("type %q is neither record nor checkpoint", l.Type)
	}
	return nil
}

func hex32(s string) ([32]byte, error) {
	var out [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return out, fmt.Errorf("not 32 bytes of hex")
	}
	copy(out[:], b)
	return out, nil
}

func (m *memChain) ReadTx(_ context.Context, fn func(store.ReadTx) error) error {
	return fn(memTx{m: m})
}

// memTx answers the two reads Verify makes. The embedded interface is nil: any other read
// would panic, and Verify makes none.
type memTx struct {
	store.ReadTx
	m *memChain
}

func (t memTx) AuditRecords(_ context.Context, after uint64, limit int) ([]store.AuditRecord, error) {
	i := sort.Search(len(t.m.recs), func(i int) bool { return t.m.recs[i].Seq > after })
	j := min(i+limit, len(t.m.recs))
	return t.m.recs[i:j], nil
}

func (t memTx) AuditCheckpoints(context.Context) ([]store.AuditCheckpoint, error) {
	return t.m.cps, nil
}
