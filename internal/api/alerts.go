package api

import (
	"context"
	"net/http"

	"github.com/fleetkey/fleetkey/internal/anomaly"
	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// AlertService is the anomaly alerts the API exposes (docs/anomaly.md);
// *anomaly.Detector satisfies it.
type AlertService interface {
	Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error)
	// Ack acknowledges an alert for an audit actor and lifts its response.
	Ack(ctx context.Context, alertID, actor string) (store.Alert, error)
}

// CodeAnomalyUnavailable answers the alert routes of a daemon running without
// the anomaly detector: 503.
const CodeAnomalyUnavailable = "anomaly_unavailable"

var errAnomalyOff = &Error{Status: http.StatusServiceUnavailable, Code: CodeAnomalyUnavailable,
	Message: "anomaly detection is not configured on this daemon (the anomaly section of the config file)"}

type alertsResponse struct {
	Alerts []anomaly.AlertPayload `json:"alerts"`
}

type alertResponse struct {
	Alert anomaly.AlertPayload `json:"alert"`
}

func (h *handler) alerts(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	q, e := query(r, "status", "agent_id", "limit")
	if e != nil {
		return 0, nil, e
	}
	f := store.AlertFilter{Status: store.AlertOpen}
	switch s := q.Get("status"); s {
	case "", "open":
	case "acked":
		f.Status = store.AlertAcked
	case "all":
		f.Status = ""
	default:
		return 0, nil, badRequest("status must be open, acked or all", nil)
	}
	if f.AgentID, e = idParam(q, "agent_id"); e != nil {
		return 0, nil, e
	}
	if f.Limit, e = limitParam(q); e != nil {
		return 0, nil, e
	}
	if f.FleetID, e = h.scopedFleetParam(r, op, ""); e != nil {
		return 0, nil, e
	}
	if h.alertSvc == nil {
		return 0, nil, errAnomalyOff
	}
	as, err := h.alertSvc.Alerts(r.Context(), f)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	out := make([]anomaly.AlertPayload, len(as))
	for i, a := range as {
		out[i] = anomaly.PayloadOf(a)
	}
	return http.StatusOK, alertsResponse{Alerts: out}, nil
}

func (h *handler) ackAlert(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	id, e := pathID(r, "id", "alert")
	if e != nil {
		return 0, nil, e
	}
	if h.alertSvc == nil {
		return 0, nil, errAnomalyOff
	}
	if e := h.inScope(r, op, payments.ScopeAlert, id); e != nil {
		return 0, nil, e
	}
	a, err := h.alertSvc.Ack(r.Context(), id, audit.OperatorActor(op.CredentialID))
	if err != nil {
		return 0, nil, serviceError(err)
	}
	return http.StatusOK, alertResponse{Alert: anomaly.PayloadOf(a)}, nil
}
