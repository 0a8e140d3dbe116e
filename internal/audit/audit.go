// Package audit is fleetkey's tamper-evident log: an append-only chain of records, each
// committing to its predecessor with SHA-256 (FIPS 180-4), and checkpoints that sign a
// chain head with secp256k1 ECDSA (SEC 1) under an audit key held by custody.
//
// # Record hash
//
// Every record stores PrevHash (32 zero bytes for Seq 1) and
//
//	Hash = SHA-256( lp("fleetkey/audit/record/v1") || u64(Seq) || i64(Time) ||
//	                lp(Actor) || lp(Action) || lp(Subject) || lp(Data) || PrevHash )
//
// where u64 and i64 are 8-byte big-endian integers, Time is Unix nanoseconds UTC, and
// lp(x) is the 4-byte big-endian length of x followed by x. Length prefixes make the
// encoding injective: no two different records hash the same bytes. Data is canonical
// JSON (Canonical): object keys sorted, no insignificant white space, numbers as
// written, no HTML escaping.
//
// # Checkpoints
//
// A checkpoint signs
//
//	Digest = SHA-256( lp("fleetkey/audit/checkpoint/v1") || u64(Seq) || Hash || i64(Time) )
//
// with the audit key; the 65-byte signature is r || s || v (v in {0, 1}), as
// custody.Key.SignDigest returns it. The audit key is derived by custody at KeyPath,
// m/44'/60'/2147483646'/0'/0': a fleet-level index no fleet can take
// (store.ReservedFleetIndexes), hardened so that neither it nor any agent key reveals
// the other. It signs only these domain-separated digests and never holds funds.
//
// # Concurrency
//
// Append runs inside the caller's store.Tx: the record commits or rolls back with the
// change it describes. It reads the chain head and writes Seq+1 in that same
// transaction, and the store refuses any Seq that is not head+1, so concurrent writers
// can never fork the chain or leave a gap (SQLite serialises write transactions;
// PostgreSQL must lock the head, see package store).
//
// # Verification
//
// Verify walks the chain in Seq order and the checkpoints beside it and reports the
// first problem: a missing Seq (a deleted record), a PrevHash that does not match
// (records reordered or one re-hashed), a Hash that does not match the record's content
// (an edit), a checkpoint whose signature is not the trusted key's, or a signed
// checkpoint whose hash is not the chain's at that Seq or that lies beyond the chain's
// end (records removed from the end). Removing records from the end after the last
// checkpoint cannot be detected from the database alone; checkpoints bound that loss.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/store"
)

// KeyPath is the custody derivation path of the audit checkpoint key.
const KeyPath = "m/44'/60'/2147483646'/0'/0'"

const (
	recordTag     = "fleetkey/audit/record/v1"
	checkpointTag = "fleetkey/audit/checkpoint/v1"
)

// Actions recorded by fleetkey. The list is open: any lower-case dotted name is valid, and
// packages name their own (payments: credential.created, fleet.created, payment.replayed, …).
// A payment request is recorded once, by its outcome (payment.signed, payment.denied,
// payment.failed, approval.created or payment.replayed), never by a separate request record.
const (
	ActionPaymentDenied    = "payment.denied"
	ActionPaymentSigned    = "payment.signed"
	ActionPaymentSettled   = "payment.settled"
	ActionPaymentExpired   = "payment.expired"
	ActionPaymentFailed    = "payment.failed"
	ActionAgentCreated     = "agent.created"
	ActionAgentStatus      = "agent.status"
	ActionKeyCreated       = "key.created"
	ActionKeyStatus        = "key.status"
	ActionCredentialRevoke = "credential.revoked"
	ActionPolicyApplied    = "policy.applied"
	ActionApprovalCreated  = "approval.created"
	ActionApprovalVoted    = "approval.voted"
)

// System is the actor of fleetkey's own actions (expiry, reconciliation).
const System = "system"

// AgentActor and OperatorActor name the actor behind a credential.
func AgentActor(id string) string    { return "agent:" + id }
func OperatorActor(id string) string { return "operator:" + id }

// Signer signs checkpoint digests; *custody.Key satisfies it.
type Signer interface {
	SignDigest(digest [32]byte) ([65]byte, error)
	Address() common.Address
}

// Entry is what a caller records; Append adds sequence, time and hashes.
type Entry struct {
	Actor   string
	Action  string
	Subject string
	// Data is any JSON-encodable value (or json.RawMessage); it is stored in
	// canonical form. nil is stored as {}.
	Data any
}

// Options configure a Log.
type Options struct {
	// Signer signs checkpoints; required when CheckpointEvery > 0 or Checkpoint is
	// called.
	Signer Signer
	// CheckpointEvery makes Append write a checkpoint at every multiple of this
	// sequence number; 0 writes none automatically.
	CheckpointEvery uint64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Log appends to the audit chain of a store. It is safe for concurrent use.
type Log struct {
	signer Signer
	every  uint64
	now    func() time.Time
}

// New returns a Log.
func New(o Options) (*Log, error) {
	if o.CheckpointEvery > 0 && o.Signer == nil {
		return nil, errors.New("audit: automatic checkpoints need a signer")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Log{signer: o.Signer, every: o.CheckpointEvery, now: o.Now}, nil
}

// Append adds a record to the chain inside tx and, when due, a checkpoint.
func (l *Log) Append(ctx context.Context, tx store.Tx, e Entry) (store.AuditRecord, error) {
	if err := checkActor(e.Actor); err != nil {
		return store.AuditRecord{}, err
	}
	if err := checkAction(e.Action); err != nil {
		return store.AuditRecord{}, err
	}
	data, err := Canonical(e.Data)
	if err != nil {
		return store.AuditRecord{}, err
	}
	r := store.AuditRecord{Seq: 1, Time: l.now().UTC(), Actor: e.Actor, Action: e.Action, Subject: e.Subject, Data: data}
	head, err := tx.AuditHead(ctx)
	switch {
	case err == nil:
		r.Seq, r.PrevHash = head.Seq+1, head.Hash
	case !errors.Is(err, store.ErrNotFound):
		return store.AuditRecord{}, fmt.Errorf("audit: read head: %w", err)
	}
	r.Hash = RecordHash(r)
	if err := tx.AppendAudit(ctx, r); err != nil {
		return store.AuditRecord{}, fmt.Errorf("audit: append: %w", err)
	}
	if l.every > 0 && r.Seq%l.every == 0 {
		if _, err := l.checkpoint(ctx, tx, r); err != nil {
			return store.AuditRecord{}, err
		}
	}
	return r, nil
}

// Checkpoint signs the current head inside tx.
func (l *Log) Checkpoint(ctx context.Context, tx store.Tx) (store.AuditCheckpoint, error) {
	head, err := tx.AuditHead(ctx)
	if err != nil {
		return store.AuditCheckpoint{}, fmt.Errorf("audit: checkpoint: %w", err)
	}
	return l.checkpoint(ctx, tx, head)
}

func (l *Log) checkpoint(ctx context.Context, tx store.Tx, head store.AuditRecord) (store.AuditCheckpoint, error) {
	if l.signer == nil {
		return store.AuditCheckpoint{}, errors.New("audit: no checkpoint signer")
	}
	c := store.AuditCheckpoint{Seq: head.Seq, Hash: head.Hash, Time: l.now().UTC(),
		Signer: strings.ToLower(l.signer.Address().Hex())}
	sig, err := l.signer.SignDigest(CheckpointDigest(c.Seq, c.Hash, c.Time))
	if err != nil {
		return store.AuditCheckpoint{}, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	c.Signature = sig
	if err := tx.PutAuditCheckpoint(ctx, c); err != nil {
		return store.AuditCheckpoint{}, fmt.Errorf("audit: store checkpoint: %w", err)
	}
	return c, nil
}

func checkActor(a string) error {
	if a == System {
		return nil
	}
	kind, id, ok := strings.Cut(a, ":")
	if ok && id != "" && (kind == "agent" || kind == "operator") {
		return nil
	}
	return fmt.Errorf("audit: actor %q is not system, agent:<id> or operator:<id>", a)
}

func checkAction(a string) error {
	if a == "" {
		return errors.New("audit: empty action")
	}
	for _, c := range []byte(a) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return fmt.Errorf("audit: action %q is not a lower-case dotted name", a)
		}
	}
	return nil
}

// Canonical encodes v as canonical JSON: keys sorted, compact, numbers kept as
// written, no HTML escaping. json.RawMessage and []byte are parsed as JSON first.
func Canonical(v any) ([]byte, error) {
	var raw []byte
	switch x := v.(type) {
	case nil:
		return []byte("{}"), nil
	case map[string]any:
		if plain(x, 0) {
			return encodePlain(x)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("audit: encode data: %w", err)
		}
		raw = b
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("audit: encode data: %w", err)
		}
		raw = b
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var val any
	if err := dec.Decode(&val); err != nil {
		return nil, fmt.Errorf("audit: data is not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("audit: data has trailing content")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(val); err != nil {
		return nil, fmt.Errorf("audit: encode data: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// plain reports whether v is made only of maps with string keys, string slices,
// valid UTF-8 strings, integers, booleans and nil. For such a value the encoder
// below (sorted keys, compact, no HTML escaping) writes exactly the canonical form
// that encoding, decoding and encoding again would give, without the round trip:
// what the round trip changes (struct field order, floats, HTML escapes, invalid
// UTF-8) cannot occur in it.
func plain(v any, depth int) bool {
	if depth > 16 {
		return false
	}
	switch x := v.(type) {
	case nil, bool, int, int64, int32, uint32, uint64:
		return true
	case string:
		return utf8.ValidString(x)
	case []string:
		for _, s := range x {
			if !utf8.ValidString(s) {
				return false
			}
		}
		return true
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !plain(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

func encodePlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("audit: encode data: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// RecordHash computes a record's hash from its content and PrevHash (its Hash field is
// ignored).
func RecordHash(r store.AuditRecord) [32]byte {
	h := sha256.New()
	var n [8]byte
	lp := func(s []byte) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(s)))
		h.Write(n[:4])
		h.Write(s)
	}
	lp([]byte(recordTag))
	binary.BigEndian.PutUint64(n[:], r.Seq)
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(r.Time.UnixNano()))
	h.Write(n[:])
	lp([]byte(r.Actor))
	lp([]byte(r.Action))
	lp([]byte(r.Subject))
	lp(r.Data)
	h.Write(r.PrevHash[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// CheckpointDigest is the digest the audit key signs for a checkpoint.
func CheckpointDigest(seq uint64, hash [32]byte, t time.Time) [32]byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint32(n[:4], uint32(len(checkpointTag)))
	h.Write(n[:4])
	h.Write([]byte(checkpointTag))
	binary.BigEndian.PutUint64(n[:], seq)
	h.Write(n[:])
	h.Write(hash[:])
	binary.BigEndian.PutUint64(n[:], uint64(t.UnixNano()))
	h.Write(n[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}
