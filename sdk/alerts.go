package sdk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// CodeAnomalyUnavailable is the error code of the alert routes on a daemon running without
// anomaly detection (no anomaly section in its configuration): 503.
const CodeAnomalyUnavailable = "anomaly_unavailable"

// Alert is an anomaly alert (GET /v1/alerts): what a detector saw, how bad, and the response
// taken (docs/anomaly.md).
type Alert struct {
	ID      string `json:"id"`
	FleetID string `json:"fleet_id"`
	// AgentID is empty for a fleet-wide signal; PayTo when the signal names no payee.
	AgentID string `json:"agent_id,omitempty"`
	PayTo   string `json:"pay_to,omitempty"`
	// Signal is e.g. new_payee or payee_spread; Severity low, medium or high; Action record,
	// alert, require_approval, freeze_agent or block_payee.
	Signal   string `json:"signal"`
	Severity string `json:"severity"`
	Action   string `json:"action"`
	// Detail is what the detector measured, per signal.
	Detail    json.RawMessage `json:"detail"`
	Status    string          `json:"status"` // open or acked
	CreatedAt time.Time       `json:"created_at"`
	AckedBy   string          `json:"acked_by,omitempty"`
	AckedAt   time.Time       `json:"acked_at,omitzero"`
}

// AlertFilter selects alerts; zero fields do not filter, except Status, whose zero value
// lists the open ones ("all" lists every status).
type AlertFilter struct {
	Status  string
	AgentID string
	Limit   int
}

// Alerts calls GET /v1/alerts: alerts newest first.
func (c *Client) Alerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	q := url.Values{}
	setIf(q, "status", f.Status)
	setIf(q, "agent_id", f.AgentID)
	var out struct {
		Alerts []Alert `json:"alerts"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/alerts", pageQuery(q, "", f.Limit), nil, &out); err != nil {
		return nil, err
	}
	return out.Alerts, nil
}

// AckAlert calls POST /v1/alerts/{id}/ack: acknowledges an alert, lifting its response.
func (c *Client) AckAlert(ctx context.Context, id string) (*Alert, error) {
	p, err := seg("alert id", id)
	if err != nil {
		return nil, err
	}
	var out struct {
		Alert Alert `json:"alert"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/alerts/"+p+"/ack", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Alert, nil
}
