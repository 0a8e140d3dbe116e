package store

import (
	"context"
	"time"
)

// AlertStatus is the state of an anomaly alert.
type AlertStatus string

// Alert statuses. An open alert keeps its response in force (an agent held for
// approval, a payee blocked); acknowledging it lifts that.
const (
	AlertOpen  AlertStatus = "open"
	AlertAcked AlertStatus = "acked"
)

// Alert is an anomaly signal that called for more than a record: what was seen,
// how bad, and the response taken. Signal, Severity and Action are the names
// package anomaly defines; Detail is a JSON object.
type Alert struct {
	ID        string
	FleetID   string
	AgentID   string // empty for a fleet-wide signal
	PayTo     string // empty when the signal names no payee
	Signal    string
	Severity  string
	Action    string
	Detail    string
	Status    AlertStatus
	CreatedAt time.Time
	AckedBy   string
	AckedAt   time.Time
}

// AlertFilter selects alerts, newest first; zero fields do not filter.
type AlertFilter struct {
	Status  AlertStatus
	FleetID string
	AgentID string
	Limit   int // 0: no limit
}

// AnomalyReadTx is the optional read side of anomaly storage. A backend's ReadTx
// implements it when the backend stores anomaly state; callers find it with a
// type assertion, so the core interfaces do not grow.
type AnomalyReadTx interface {
	// AnomalyState returns the saved detector state under key and the audit
	// sequence number it covers (ErrNotFound when none was saved).
	AnomalyState(ctx context.Context, key string) (data []byte, auditSeq uint64, err error)
	Alert(ctx context.Context, id string) (Alert, error)
	Alerts(ctx context.Context, f AlertFilter) ([]Alert, error)
}

// AnomalyTx is the optional write side of anomaly storage (see AnomalyReadTx).
type AnomalyTx interface {
	AnomalyReadTx
	// PutAnomalyState replaces the state saved under key.
	PutAnomalyState(ctx context.Context, key string, data []byte, auditSeq uint64, at time.Time) error
	// CreateAlert stores a new open alert; ID and CreatedAt are filled in when zero.
	CreateAlert(ctx context.Context, a Alert) (Alert, error)
	// AckAlert acknowledges an open alert; acknowledging an acknowledged one
	// changes nothing and returns it.
	AckAlert(ctx context.Context, id, by string, at time.Time) (Alert, error)
}
