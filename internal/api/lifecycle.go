package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/lifecycle"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// LifecycleService is the key lifecycle the API exposes (docs/lifecycle.md);
// *lifecycle.Manager satisfies it.
type LifecycleService interface {
	Deps(ctx context.Context, agentID string) (*lifecycle.DepMap, error)
	Revoke(ctx context.Context, r lifecycle.RevokeRequest) (*lifecycle.Report, error)
	Rotate(ctx context.Context, r lifecycle.RotateRequest) (*lifecycle.Report, error)
	Jobs(ctx context.Context, f store.JobFilter) ([]*lifecycle.Report, error)
}

// CodeLifecycleUnavailable answers the lifecycle routes of a daemon configured
// without them (no chain, relayer or gas sponsor): 503.
const CodeLifecycleUnavailable = "lifecycle_unavailable"

var errLifecycleOff = &Error{Status: http.StatusServiceUnavailable, Code: CodeLifecycleUnavailable,
	Message: "key lifecycle is not configured on this daemon (rpc_url and lifecycle.relayer_key_file, lifecycle.gas_sponsor_key_file)"}

type depsResponse struct {
	Deps *lifecycle.DepMap `json:"deps"`
}

type reportResponse struct {
	Report *lifecycle.Report `json:"report"`
}

type jobsResponse struct {
	Jobs []*lifecycle.Report `json:"jobs"`
}

type revokeRequest struct{}

type rotateRequest struct {
	Outstanding string `json:"outstanding"`
}

// lifecycleError maps the lifecycle's refusals; the rest as serviceError.
func lifecycleError(err error) *Error {
	switch {
	case errors.Is(err, lifecycle.ErrNoChain), errors.Is(err, lifecycle.ErrNoJobs):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeLifecycleUnavailable, Message: strings.TrimPrefix(err.Error(), "lifecycle: "), Cause: err}
	case errors.Is(err, lifecycle.ErrAlreadyRevoked), errors.Is(err, lifecycle.ErrTreasuryUnset), errors.Is(err, lifecycle.ErrBusy):
		return &Error{Status: http.StatusConflict, Code: CodeStateConflict, Message: strings.TrimPrefix(err.Error(), "lifecycle: "), Cause: err}
	}
	return serviceError(err)
}

func (h *handler) agentDeps(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	id, e := pathID(r, "id", "agent")
	if e != nil {
		return 0, nil, e
	}
	st.agentID = id
	if e := h.inScope(r, op, payments.ScopeAgent, id); e != nil {
		return 0, nil, e
	}
	if h.lc == nil {
		return 0, nil, errLifecycleOff
	}
	d, err := h.lc.Deps(r.Context(), id)
	if err != nil {
		return 0, nil, lifecycleError(err)
	}
	return http.StatusOK, depsResponse{Deps: d}, nil
}

func (h *handler) agentJobs(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	id, e := pathID(r, "id", "agent")
	if e != nil {
		return 0, nil, e
	}
	st.agentID = id
	if e := h.inScope(r, op, payments.ScopeAgent, id); e != nil {
		return 0, nil, e
	}
	if h.lc == nil {
		return 0, nil, errLifecycleOff
	}
	js, err := h.lc.Jobs(r.Context(), store.JobFilter{AgentID: id})
	if err != nil {
		return 0, nil, lifecycleError(err)
	}
	if js == nil {
		js = []*lifecycle.Report{}
	}
	return http.StatusOK, jobsResponse{Jobs: js}, nil
}

// revokeAgent runs (or resumes) the agent's revocation and answers its report:
// status done, or running with the error of the step that failed (POST again
// to resume).
func (h *handler) revokeAgent(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	id, e := pathID(r, "id", "agent")
	if e != nil {
		return 0, nil, e
	}
	st.agentID = id
	if e := h.inScope(r, op, payments.ScopeAgent, id); e != nil {
		return 0, nil, e
	}
	var req revokeRequest
	if e := h.body(w, r, &req, true); e != nil {
		return 0, nil, e
	}
	if h.lc == nil {
		return 0, nil, errLifecycleOff
	}
	rep, err := h.lc.Revoke(r.Context(), lifecycle.RevokeRequest{AgentID: id, Actor: audit.OperatorActor(op.CredentialID)})
	return jobAnswer(rep, err)
}

// rotateAgent runs (or resumes) the agent's key rotation.
func (h *handler) rotateAgent(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	id, e := pathID(r, "id", "agent")
	if e != nil {
		return 0, nil, e
	}
	st.agentID = id
	if e := h.inScope(r, op, payments.ScopeAgent, id); e != nil {
		return 0, nil, e
	}
	var req rotateRequest
	if e := h.body(w, r, &req, true); e != nil {
		return 0, nil, e
	}
	switch lifecycle.Outstanding(req.Outstanding) {
	case "", lifecycle.OutstandingCancel, lifecycle.OutstandingExpire:
	default:
		return 0, nil, badRequest(`outstanding must be "cancel" or "expire"`, nil)
	}
	if h.lc == nil {
		return 0, nil, errLifecycleOff
	}
	rep, err := h.lc.Rotate(r.Context(), lifecycle.RotateRequest{AgentID: id, Actor: audit.OperatorActor(op.CredentialID), Outstanding: lifecycle.Outstanding(req.Outstanding)})
	return jobAnswer(rep, err)
}

// jobAnswer: a job that ran (to its end or to a failed step) is answered with
// its report; a refusal before it started is an error.
func jobAnswer(rep *lifecycle.Report, err error) (int, any, error) {
	if rep != nil && rep.JobID != "" {
		return http.StatusOK, reportResponse{Report: rep}, nil
	}
	if err == nil {
		return 0, nil, internalError(errors.New("lifecycle: no report"))
	}
	return 0, nil, lifecycleError(err)
}
