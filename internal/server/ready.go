package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// checkTimeout bounds each readiness check.
const checkTimeout = 2 * time.Second

// Check results in a /readyz answer.
const (
	CheckOK      = "ok"
	CheckFailed  = "failed"
	CheckSkipped = "skipped"
)

// Readiness is the body of GET /readyz.
type Readiness struct {
	// Status is "ready" or "unavailable".
	Status string `json:"status"`
	// Checks maps custody, database and rpc to ok, failed or skipped (rpc without rpc_url).
	Checks map[string]string `json:"checks"`
	// Failed lists the failed checks, in the order above.
	Failed []string `json:"failed,omitempty"`
}

// Ready runs the readiness checks: custody unsealed, database answering a read, and the RPC
// endpoint answering eth_chainId when one is configured. A failure's cause is logged, not
// returned: /readyz is unauthenticated.
func (s *Server) Ready(ctx context.Context) Readiness {
	r := Readiness{Status: "ready", Checks: map[string]string{}}
	for _, c := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"custody", func(context.Context) error { return s.custodyCheck() }},
		{"database", s.databaseCheck},
		{"rpc", s.rpcCheck},
	} {
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		err := c.run(cctx)
		cancel()
		switch {
		case errors.Is(err, errSkipped):
			r.Checks[c.name] = CheckSkipped
		case err != nil:
			r.Checks[c.name] = CheckFailed
			r.Failed = append(r.Failed, c.name)
			r.Status = "unavailable"
			s.log.Warn("readiness check failed", "check", c.name, "error", err)
		default:
			r.Checks[c.name] = CheckOK
		}
	}
	return r
}

var errSkipped = errors.New("skipped")

// custodyCheck derives the audit key: it fails once the vault is closed (sealed).
func (s *Server) custodyCheck() error {
	_, err := s.vault.Key(s.auditPath)
	return err
}

// databaseCheck reads the audit head in a read transaction.
func (s *Server) databaseCheck(ctx context.Context) error {
	return s.store.ReadTx(ctx, func(rt store.ReadTx) error {
		_, err := rt.AuditHead(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

func (s *Server) rpcCheck(ctx context.Context) error {
	if s.rpc == nil {
		return errSkipped
	}
	var chainID string
	return s.rpc.CallContext(ctx, &chainID, "eth_chainId")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	rd := s.Ready(r.Context())
	status := http.StatusOK
	if rd.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(rd)
}
