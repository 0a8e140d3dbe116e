package payments

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/audit"
)

// TestRecordRefused: a request refused before Pay leaves exactly one payment.failed record
// of the agent, with the reason and only a well-formed idempotency key; bad input records
// nothing.
func TestRecordRefused(t *testing.T) {
	e := newEnv(t)
	ag := e.provision("", "a")[0]
	for _, tc := range []struct {
		name, key, wantKey string
	}{
		{"well-formed key", "k-1", "k-1"},
		{"no key", "", ""},
		{"key with a space", "a b", ""},
		{"key too long", strings.Repeat("k", MaxIdempotencyKeyLen+1), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.auditCount()
			if err := e.svc.RecordRefused(e.ctx, ag.Agent.ID, tc.key, `unknown field "amount"`); err != nil {
				t.Fatal(err)
			}
			rec := e.lastAudit()
			if e.auditCount() != before+1 || rec.Action != audit.ActionPaymentFailed || rec.Actor != audit.AgentActor(ag.Agent.ID) || rec.Subject != ag.Agent.ID {
				t.Fatalf("%d records, last %s by %s on %s", e.auditCount()-before, rec.Action, rec.Actor, rec.Subject)
			}
			var data struct {
				Error          string `json:"error"`
				IdempotencyKey string `json:"idempotency_key"`
			}
			if err := json.Unmarshal(rec.Data, &data); err != nil {
				t.Fatal(err)
			}
			if data.Error != `payments: bad payment request: unknown field "amount"` || data.IdempotencyKey != tc.wantKey {
				t.Errorf("data %s", rec.Data)
			}
		})
	}
	before := e.auditCount()
	if err := e.svc.RecordRefused(e.ctx, "", "k", "x"); err == nil {
		t.Error("no agent: accepted")
	}
	if err := e.svc.RecordRefused(e.ctx, ag.Agent.ID, "k", ""); err == nil {
		t.Error("no reason: accepted")
	}
	if e.auditCount() != before {
		t.Errorf("refused calls appended %d records", e.auditCount()-before)
	}
	if as := e.authorizations(ag.Agent.ID); len(as) != 0 {
		t.Errorf("%d authorizations", len(as))
	}
	e.VerifyAudit()
}
