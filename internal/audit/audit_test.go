package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/custody"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

// custody's signing handle is the production checkpoint signer.
var _ audit.Signer = (*custody.Key)(nil)

type keySigner struct{ k *ecdsa.PrivateKey }

func (s keySigner) SignDigest(d [32]byte) ([65]byte, error) {
	var out [65]byte
	sig, err := crypto.Sign(d[:], s.k)
	copy(out[:], sig)
	return out, err
}

func (s keySigner) Address() common.Address { return crypto.PubkeyToAddress(s.k.PublicKey) }

func newSigner(t testing.TB) keySigner {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return keySigner{k}
}

var ctx = context.Background()

// clock is a deterministic, strictly increasing clock.
func clock() func() time.Time {
	t := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Millisecond + 7); return t }
}

type chain struct {
	s      *sqlite.Store
	path   string
	signer keySigner
	log    *audit.Log
}

// newChain builds a chain of n records with a checkpoint every `every`.
func newChain(t testing.TB, n int, every uint64) *chain {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{SynchronousNormal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &chain{s: s, path: path, signer: newSigner(t)}
	c.log, err = audit.New(audit.Options{Signer: c.signer, CheckpointEvery: every, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	const batch = 500
	for i := 0; i < n; i += batch {
		err := s.Tx(ctx, func(tx store.Tx) error {
			for j := i; j < i+batch && j < n; j++ {
				_, err := c.log.Append(ctx, tx, audit.Entry{Actor: audit.AgentActor(fmt.Sprint(j % 7)), Action: audit.ActionPaymentSigned,
					Subject: fmt.Sprintf("auth_%d", j), Data: map[string]any{"amount_micro": j * 10, "payee": "0xabc", "note": "<&>"}})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// raw opens a second, plain connection to tamper with the database behind the store.
func (c *chain) raw(t testing.TB, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+c.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("tamper %q: %v", query, err)
	}
}

func (c *chain) verify(t testing.TB) audit.Report {
	t.Helper()
	rep, err := audit.Verify(ctx, c.s, c.signer.Address())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestVerifyUntouched10000(t *testing.T) {
	c := newChain(t, 10000, 1000)
	rep := c.verify(t)
	if !rep.OK() || rep.Records != 10000 || rep.Head != 10000 || rep.Checkpoints != 10 || rep.LastCheckpoint != 10000 {
		t.Fatalf("report = %+v, problem %v", rep, rep.Problem)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	const n, every = 60, 20
	cases := []struct {
		name   string
		tamper func(*testing.T, *chain)
		seq    uint64
		kind   audit.ProblemKind
	}{
		{"edit data", func(t *testing.T, c *chain) {
			c.raw(t, `UPDATE audit_records SET data = '{"amount_micro":1}' WHERE seq = 17`)
		}, 17, audit.ProblemHashMismatch},
		{"edit actor", func(t *testing.T, c *chain) {
			c.raw(t, `UPDATE audit_records SET actor = 'operator:mallory' WHERE seq = 3`)
		}, 3, audit.ProblemHashMismatch},
		{"edit time", func(t *testing.T, c *chain) {
			c.raw(t, `UPDATE audit_records SET time = time + 1 WHERE seq = 44`)
		}, 44, audit.ProblemHashMismatch},
		{"edit and re-hash", func(t *testing.T, c *chain) {
			rec := record(t, c, 17)
			rec.Data = []byte(`{"amount_micro":1}`)
			h := audit.RecordHash(rec)
			c.raw(t, `UPDATE audit_records SET data = ?, hash = ? WHERE seq = 17`, string(rec.Data), hex.EncodeToString(h[:]))
		}, 18, audit.ProblemBrokenLink},
		{"delete a record", func(t *testing.T, c *chain) {
			c.raw(t, `DELETE FROM audit_records WHERE seq = 31`)
		}, 31, audit.ProblemGap},
		{"delete the first record", func(t *testing.T, c *chain) {
			c.raw(t, `DELETE FROM audit_records WHERE seq = 1`)
		}, 1, audit.ProblemGap},
		{"swap two records", func(t *testing.T, c *chain) {
			c.raw(t, `UPDATE audit_records SET seq = 1000000 WHERE seq = 25`)
			c.raw(t, `UPDATE audit_records SET seq = 25 WHERE seq = 26`)
			c.raw(t, `UPDATE audit_records SET seq = 26 WHERE seq = 1000000`)
		}, 25, audit.ProblemReordered},
		{"change a checkpoint hash", func(t *testing.T, c *chain) {
			c.raw(t, `UPDATE audit_checkpoints SET hash = ? WHERE seq = 40`, hex.EncodeToString(make([]byte, 32)))
		}, 40, audit.ProblemBadCheckpointSignature},
		{"move a checkpoint", func(t *testing.T, c *chain) {
			c.raw(t, `UPDATE audit_checkpoints SET seq = 39 WHERE seq = 40`)
		}, 39, audit.ProblemBadCheckpointSignature},
		{"checkpoint signed by another key", func(t *testing.T, c *chain) {
			other := newSigner(t)
			rec := record(t, c, 20)
			tm := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			sig, _ := other.SignDigest(audit.CheckpointDigest(20, rec.Hash, tm))
			c.raw(t, `UPDATE audit_checkpoints SET signature = ?, time = ? WHERE seq = 20`, hex.EncodeToString(sig[:]), tm.UnixNano())
		}, 20, audit.ProblemBadCheckpointSignature},
		{"rewrite the chain after a checkpoint", func(t *testing.T, c *chain) {
			// Re-hash every record from 10 on: the chain is self-consistent again,
			// but the signed checkpoint at 20 remembers the old head.
			prev := record(t, c, 9).Hash
			for seq := uint64(10); seq <= n; seq++ {
				rec := record(t, c, seq)
				if seq == 10 {
					rec.Data = []byte(`{"amount_micro":0}`)
				}
				rec.PrevHash = prev
				rec.Hash = audit.RecordHash(rec)
				c.raw(t, `UPDATE audit_records SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?`,
					string(rec.Data), hex.EncodeToString(rec.PrevHash[:]), hex.EncodeToString(rec.Hash[:]), seq)
				prev = rec.Hash
			}
		}, 20, audit.ProblemCheckpointMismatch},
		{"truncate the end", func(t *testing.T, c *chain) {
			c.raw(t, `DELETE FROM audit_records WHERE seq > 50`)
		}, 60, audit.ProblemCheckpointBeyondHead},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t, n, every)
			if rep := c.verify(t); !rep.OK() {
				t.Fatalf("fresh chain: %v", rep.Problem)
			}
			tc.tamper(t, c)
			rep := c.verify(t)
			if rep.OK() {
				t.Fatal("tampering not detected")
			}
			if rep.Problem.Seq != tc.seq || rep.Problem.Kind != tc.kind {
				t.Fatalf("problem = %v, want %s at seq %d", rep.Problem, tc.kind, tc.seq)
			}
		})
	}
}

func record(t testing.TB, c *chain, seq uint64) store.AuditRecord {
	t.Helper()
	var r store.AuditRecord
	err := c.s.ReadTx(ctx, func(tx store.ReadTx) error {
		rs, err := tx.AuditRecords(ctx, seq-1, 1)
		if err != nil {
			return err
		}
		if len(rs) != 1 || rs[0].Seq != seq {
			return fmt.Errorf("record %d not found", seq)
		}
		r = rs[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyNeedsTrustedSignerWhenCheckpointed(t *testing.T) {
	c := newChain(t, 5, 5)
	if _, err := audit.Verify(ctx, c.s, common.Address{}); err == nil {
		t.Fatal("verify without a trusted signer succeeded on a checkpointed chain")
	}
	empty := newChain(t, 0, 0)
	rep, err := audit.Verify(ctx, empty.s, common.Address{})
	if err != nil || !rep.OK() || rep.Records != 0 {
		t.Fatalf("empty chain: %+v, %v", rep, err)
	}
}

func TestAppendRollsBackWithTheChange(t *testing.T) {
	c := newChain(t, 3, 0)
	boom := errors.New("boom")
	err := c.s.Tx(ctx, func(tx store.Tx) error {
		if _, err := c.log.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: "payment.expired"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := c.s.Tx(ctx, func(tx store.Tx) error {
		r, err := c.log.Append(ctx, tx, audit.Entry{Actor: audit.OperatorActor("op1"), Action: audit.ActionPolicyApplied, Subject: "pol_1"})
		if err == nil && r.Seq != 4 {
			t.Errorf("seq after rollback = %d, want 4", r.Seq)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rep := c.verify(t); !rep.OK() || rep.Records != 4 {
		t.Fatalf("report = %+v", rep)
	}
}

func TestManualCheckpoint(t *testing.T) {
	c := newChain(t, 7, 0)
	var cp store.AuditCheckpoint
	if err := c.s.Tx(ctx, func(tx store.Tx) (err error) { cp, err = c.log.Checkpoint(ctx, tx); return err }); err != nil {
		t.Fatal(err)
	}
	if cp.Seq != 7 {
		t.Fatalf("checkpoint at %d", cp.Seq)
	}
	rep := c.verify(t)
	if !rep.OK() || rep.Checkpoints != 1 || rep.LastCheckpoint != 7 {
		t.Fatalf("report = %+v", rep)
	}
	noSigner, err := audit.New(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.s.Tx(ctx, func(tx store.Tx) error { _, err := noSigner.Checkpoint(ctx, tx); return err }); err == nil {
		t.Error("checkpoint without a signer succeeded")
	}
	if _, err := audit.New(audit.Options{CheckpointEvery: 10}); err == nil {
		t.Error("New accepted automatic checkpoints without a signer")
	}
}

func TestAppendValidatesEntry(t *testing.T) {
	c := newChain(t, 0, 0)
	bad := []audit.Entry{
		{Actor: "", Action: "x.y"},
		{Actor: "root", Action: "x.y"},
		{Actor: "agent:", Action: "x.y"},
		{Actor: "robot:1", Action: "x.y"},
		{Actor: audit.System, Action: ""},
		{Actor: audit.System, Action: "Payment.Signed"},
		{Actor: audit.System, Action: "payment signed"},
		{Actor: audit.System, Action: "x", Data: json.RawMessage(`{"a":`)},
		{Actor: audit.System, Action: "x", Data: func() {}},
	}
	for _, e := range bad {
		err := c.s.Tx(ctx, func(tx store.Tx) error { _, err := c.log.Append(ctx, tx, e); return err })
		if err == nil {
			t.Errorf("Append(%+v) succeeded", e)
		}
	}
}

func TestCanonical(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, `{}`},
		{map[string]any{"b": 1, "a": []int{2, 1}}, `{"a":[2,1],"b":1}`},
		{json.RawMessage(` { "z" : 1.50, "a" : {"y":true,"x":null} } `), `{"a":{"x":null,"y":true},"z":1.50}`},
		{[]byte(`"<&>"`), `"<&>"`},
		{struct {
			B string `json:"b"`
			A int64  `json:"a"`
		}{"é", 1 << 62}, `{"a":4611686018427387904,"b":"é"}`},
	}
	for _, c := range cases {
		got, err := audit.Canonical(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("Canonical(%v) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{``, `{`, `{} {}`, `[1,]`} {
		if _, err := audit.Canonical(json.RawMessage(bad)); err == nil {
			t.Errorf("Canonical(%q) accepted", bad)
		}
	}
}

// TestRecordHashEncoding rebuilds the documented encoding byte by byte and pins one
// known answer, so that the format cannot change silently.
func TestRecordHashEncoding(t *testing.T) {
	r := store.AuditRecord{Seq: 258, Time: time.Unix(1767225600, 123456789).UTC(), Actor: "agent:agt_1",
		Action: "payment.signed", Subject: "auth_1", Data: []byte(`{"amount_micro":10000}`)}
	r.PrevHash = sha256.Sum256([]byte("previous"))
	var b bytes.Buffer
	lp := func(s string) {
		binary.Write(&b, binary.BigEndian, uint32(len(s)))
		b.WriteString(s)
	}
	lp("fleetkey/audit/record/v1")
	binary.Write(&b, binary.BigEndian, uint64(258))
	binary.Write(&b, binary.BigEndian, int64(1767225600123456789))
	lp(r.Actor)
	lp(r.Action)
	lp(r.Subject)
	lp(string(r.Data))
	b.Write(r.PrevHash[:])
	want := sha256.Sum256(b.Bytes())
	got := audit.RecordHash(r)
	if got != want {
		t.Fatalf("RecordHash = %x, documented encoding gives %x", got, want)
	}
	const pinned = "da9afa4c391900e15d8b70794cd9049b34171622b5a78d89fade6bc43bec6fe4"
	if hex.EncodeToString(got[:]) != pinned {
		t.Fatalf("RecordHash = %x, pinned %s", got, pinned)
	}
	// Moving a byte between two length-prefixed fields changes the hash.
	r2 := r
	r2.Actor, r2.Action = "agent:agt_1p", "ayment.signed"
	if audit.RecordHash(r2) == got {
		t.Fatal("field boundaries are not bound into the hash")
	}
}

func TestExport(t *testing.T) {
	c := newChain(t, 25, 10)
	var out bytes.Buffer
	if err := audit.Export(ctx, c.s, &out); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	var (
		records, checkpoints int
		prev                 [32]byte
		lastSeq              uint64
	)
	for sc.Scan() {
		var line struct {
			Type      string          `json:"type"`
			Seq       uint64          `json:"seq"`
			Time      string          `json:"time"`
			Actor     string          `json:"actor"`
			Action    string          `json:"action"`
			Subject   string          `json:"subject"`
			Data      json.RawMessage `json:"data"`
			PrevHash  string          `json:"prev_hash"`
			Hash      string          `json:"hash"`
			Signature string          `json:"signature"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		switch line.Type {
		case "record":
			// The export alone is enough to re-verify the chain.
			tm, err := time.Parse(time.RFC3339Nano, line.Time)
			if err != nil {
				t.Fatal(err)
			}
			rec := store.AuditRecord{Seq: line.Seq, Time: tm, Actor: line.Actor, Action: line.Action, Subject: line.Subject, Data: line.Data, PrevHash: prev}
			h := audit.RecordHash(rec)
			if hex.EncodeToString(h[:]) != line.Hash || hex.EncodeToString(prev[:]) != line.PrevHash {
				t.Fatalf("exported record %d does not re-verify", line.Seq)
			}
			prev, lastSeq = h, line.Seq
			records++
		case "checkpoint":
			if line.Seq != lastSeq || len(line.Signature) != 132 {
				t.Errorf("checkpoint %d after record %d, signature %q", line.Seq, lastSeq, line.Signature)
			}
			checkpoints++
		default:
			t.Fatalf("unknown line type %q", line.Type)
		}
	}
	if records != 25 || checkpoints != 2 {
		t.Fatalf("%d records, %d checkpoints", records, checkpoints)
	}
}
