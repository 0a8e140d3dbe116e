package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// testAnomaly checks the optional anomaly storage (store.AnomalyTx): saved state
// replaced under its key, alerts created open, filtered newest first, acknowledged
// once. A backend without it is skipped with a message.
func testAnomaly(t *testing.T, s store.Store) {
	var supported bool
	read(t, s, func(rt store.ReadTx) error { _, supported = rt.(store.AnomalyReadTx); return nil })
	if !supported {
		t.Skip("backend has no anomaly storage (store.AnomalyTx)")
	}
	anomaly := func(fn func(store.AnomalyTx) error) error {
		return s.Tx(ctx(), func(tx store.Tx) error {
			at, ok := tx.(store.AnomalyTx)
			if !ok {
				t.Fatal("ReadTx implements AnomalyReadTx but Tx does not implement AnomalyTx")
			}
			return fn(at)
		})
	}
	err := anomaly(func(tx store.AnomalyTx) error {
		_, _, err := tx.AnomalyState(ctx(), "fleet:x")
		return err
	})
	wantErr(t, err, store.ErrNotFound)
	for i, data := range [][]byte{[]byte(`{"v":1}`), []byte(`{"v":2}`)} {
		if err := anomaly(func(tx store.AnomalyTx) error {
			return tx.PutAnomalyState(ctx(), "fleet:x", data, uint64(10+i), t0)
		}); err != nil {
			t.Fatal(err)
		}
	}
	read(t, s, func(rt store.ReadTx) error {
		data, seq, err := rt.(store.AnomalyReadTx).AnomalyState(ctx(), "fleet:x")
		if err != nil {
			return err
		}
		if !bytes.Equal(data, []byte(`{"v":2}`)) || seq != 11 {
			t.Errorf("state %s at %d, want {\"v\":2} at 11", data, seq)
		}
		return nil
	})
	if err := anomaly(func(tx store.AnomalyTx) error { return tx.PutAnomalyState(ctx(), "", []byte("x"), 0, t0) }); err == nil {
		t.Error("state without a key accepted")
	}

	var a1, a2 store.Alert
	if err := anomaly(func(tx store.AnomalyTx) (err error) {
		a1, err = tx.CreateAlert(ctx(), store.Alert{FleetID: "flt_1", AgentID: "agt_1", PayTo: "0xabc", Signal: "new_payee",
			Severity: "medium", Action: "require_approval", Detail: `{"k":1}`, CreatedAt: t0})
		if err != nil {
			return err
		}
		a2, err = tx.CreateAlert(ctx(), store.Alert{FleetID: "flt_1", Signal: "payee_spread", Severity: "high",
			Action: "block_payee", CreatedAt: t0.Add(time.Second)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if a1.ID == "" || a1.Status != store.AlertOpen || a2.Detail != "{}" {
		t.Fatalf("created %+v and %+v", a1, a2)
	}
	for _, bad := range []store.Alert{
		{Signal: "x", Severity: "low", Action: "record"},
		{FleetID: "f", Signal: "x", Severity: "extreme", Action: "record"},
		{FleetID: "f", Signal: "x", Severity: "low", Action: "record", Detail: "{"},
	} {
		if err := anomaly(func(tx store.AnomalyTx) error { _, err := tx.CreateAlert(ctx(), bad); return err }); err == nil {
			t.Errorf("alert %+v accepted", bad)
		}
	}
	read(t, s, func(rt store.ReadTx) error {
		ar := rt.(store.AnomalyReadTx)
		all, err := ar.Alerts(ctx(), store.AlertFilter{})
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].ID != a2.ID || all[1].ID != a1.ID {
			t.Errorf("alerts %+v, want a2 then a1", all)
		}
		mine, err := ar.Alerts(ctx(), store.AlertFilter{AgentID: "agt_1", Status: store.AlertOpen})
		if err != nil {
			return err
		}
		if len(mine) != 1 || mine[0] != a1 {
			t.Errorf("agent filter: %+v, want %+v", mine, a1)
		}
		if got, _ := ar.Alerts(ctx(), store.AlertFilter{Limit: 1}); len(got) != 1 {
			t.Errorf("limit 1 gave %d", len(got))
		}
		return nil
	})
	var acked store.Alert
	if err := anomaly(func(tx store.AnomalyTx) (err error) {
		acked, err = tx.AckAlert(ctx(), a1.ID, "operator:op_1", t0.Add(time.Minute))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if acked.Status != store.AlertAcked || acked.AckedBy != "operator:op_1" || !acked.AckedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("acked %+v", acked)
	}
	// A second acknowledgement changes nothing.
	if err := anomaly(func(tx store.AnomalyTx) (err error) {
		acked, err = tx.AckAlert(ctx(), a1.ID, "operator:op_2", t0.Add(time.Hour))
		return err
	}); err != nil || acked.AckedBy != "operator:op_1" {
		t.Errorf("second ack: %+v, %v", acked, err)
	}
	err = anomaly(func(tx store.AnomalyTx) error { _, err := tx.AckAlert(ctx(), "alr_missing", "op", t0); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ack of a missing alert: %v", err)
	}
	read(t, s, func(rt store.ReadTx) error {
		open, err := rt.(store.AnomalyReadTx).Alerts(ctx(), store.AlertFilter{Status: store.AlertOpen})
		if len(open) != 1 || open[0].ID != a2.ID {
			t.Errorf("open alerts %+v", open)
		}
		return err
	})
}
