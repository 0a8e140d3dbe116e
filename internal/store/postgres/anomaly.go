package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

var (
	_ store.AnomalyTx = (*tx)(nil)

	qAnomalyState    = q(`SELECT data, audit_seq FROM anomaly_state WHERE key = ?`)
	qAnomalyStatePut = q(`INSERT INTO anomaly_state (key, data, audit_seq, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET data = excluded.data, audit_seq = excluded.audit_seq, updated_at = excluded.updated_at`)
	qAlertCols = `id, fleet_id, agent_id, pay_to, signal, severity, action, detail, status, created_at, acked_by, acked_at`
	qAlert     = q(`SELECT ` + qAlertCols + ` FROM anomaly_alerts WHERE id = ?`)
	qAlertIns  = q(`INSERT INTO anomaly_alerts (` + qAlertCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, '', NULL)`)
	qAlertAck  = q(`UPDATE anomaly_alerts SET status = 'acked', acked_by = ?, acked_at = ? WHERE id = ? AND status = 'open'`)
)

func (t *tx) AnomalyState(ctx context.Context, key string) ([]byte, uint64, error) {
	var (
		data []byte
		seq  int64
	)
	err := t.queryRow(ctx, qAnomalyState, key).Scan(&data, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, &store.NotFoundError{Entity: "anomaly state", Key: key}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: %w", err)
	}
	return data, uint64(seq), nil
}

func (t *tx) PutAnomalyState(ctx context.Context, key string, data []byte, auditSeq uint64, at time.Time) error {
	if key == "" || len(data) == 0 {
		return fmt.Errorf("postgres: anomaly state needs a key and data")
	}
	if _, err := t.exec(ctx, qAnomalyStatePut, key, data, int64(auditSeq), nsReq(now(at))); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func scanAlert(s scanner) (store.Alert, error) {
	var (
		a  store.Alert
		ca int64
		aa sql.NullInt64
	)
	err := s.Scan(&a.ID, &a.FleetID, &a.AgentID, &a.PayTo, &a.Signal, &a.Severity, &a.Action, &a.Detail, &a.Status, &ca, &a.AckedBy, &aa)
	a.CreatedAt, a.AckedAt = fromNSReq(ca), fromNS(aa)
	return a, err
}

func (t *tx) Alert(ctx context.Context, id string) (store.Alert, error) {
	return one(t.queryRow(ctx, qAlert, id), scanAlert, "alert", id)
}

func (t *tx) Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	query := `SELECT ` + qAlertCols + ` FROM anomaly_alerts WHERE 1 = 1`
	var args []any
	for _, c := range []struct{ col, v string }{{"status", string(f.Status)}, {"fleet_id", f.FleetID}, {"agent_id", f.AgentID}} {
		if c.v != "" {
			query += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	query += " ORDER BY created_at DESC, id DESC"
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return queryAll(ctx, t, scanAlert, query, args...)
}

func (t *tx) CreateAlert(ctx context.Context, a store.Alert) (store.Alert, error) {
	switch {
	case a.FleetID == "" || a.Signal == "" || a.Severity == "" || a.Action == "":
		return store.Alert{}, fmt.Errorf("postgres: an alert needs a fleet, a signal, a severity and an action")
	case a.Severity != "low" && a.Severity != "medium" && a.Severity != "high":
		return store.Alert{}, fmt.Errorf("postgres: alert severity %q is not low, medium or high", a.Severity)
	}
	if a.Detail == "" {
		a.Detail = "{}"
	}
	if !json.Valid([]byte(a.Detail)) {
		return store.Alert{}, fmt.Errorf("postgres: alert detail is not JSON")
	}
	if a.ID == "" {
		a.ID = store.NewID("alr")
	}
	a.CreatedAt = now(a.CreatedAt)
	a.Status, a.AckedBy, a.AckedAt = store.AlertOpen, "", time.Time{}
	if _, err := t.exec(ctx, qAlertIns, a.ID, a.FleetID, a.AgentID, a.PayTo, a.Signal, a.Severity, a.Action, a.Detail, nsReq(a.CreatedAt)); err != nil {
		return store.Alert{}, err
	}
	return a, nil
}

func (t *tx) AckAlert(ctx context.Context, id, by string, at time.Time) (store.Alert, error) {
	if by == "" {
		return store.Alert{}, fmt.Errorf("postgres: acknowledging an alert needs who acknowledges it")
	}
	if _, err := t.exec(ctx, qAlertAck, by, nsReq(now(at)), id); err != nil {
		return store.Alert{}, err
	}
	return t.Alert(ctx, id)
}
