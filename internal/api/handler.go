package api

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// OpenAPI is the OpenAPI 3.1 document of the API, served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// AgentService is what the agent routes need of the signing service;
// *payments.Service implements it.
type AgentService interface {
	Authenticate(ctx context.Context, token string) (payments.AgentIdentity, error)
	Pay(ctx context.Context, agentID string, r payments.PayRequest) (*payments.PayResult, error)
	Payment(ctx context.Context, agentID, authorizationID string) (*payments.PayResult, error)
	WaitPayment(ctx context.Context, agentID, authorizationID string, max time.Duration) (*payments.PayResult, error)
}

// OperatorService is what the operator routes need of the signing service;
// *payments.Service implements it. Role checks are the handler's: the service
// is told who acts, for its audit records and the approver check of Vote.
type OperatorService interface {
	AuthenticateOperator(ctx context.Context, token string) (payments.OperatorIdentity, error)

	CreateOperatorCredential(ctx context.Context, actor payments.OperatorIdentity, r payments.NewCredential) (payments.IssuedCredential, error)
	OperatorCredentials(ctx context.Context) ([]store.Credential, error)
	RevokeCredential(ctx context.Context, actor payments.OperatorIdentity, id string) (store.Credential, error)
	IssueAgentCredential(ctx context.Context, actor payments.OperatorIdentity, agentID string, expiresAt time.Time) (payments.IssuedCredential, error)

	CreateFleet(ctx context.Context, actor payments.OperatorIdentity, name, treasury string) (store.Fleet, error)
	Fleets(ctx context.Context) ([]store.Fleet, error)
	CreateGroup(ctx context.Context, actor payments.OperatorIdentity, fleetID, name string) (store.Group, error)
	Groups(ctx context.Context, fleetID string) ([]store.Group, error)

	ProvisionAgents(ctx context.Context, r payments.ProvisionRequest) ([]payments.Provisioned, error)
	Agents(ctx context.Context, f store.AgentFilter) ([]store.Agent, error)
	AgentDetail(ctx context.Context, agentID string) (payments.AgentDetail, error)
	SetAgentStatus(ctx context.Context, actor payments.OperatorIdentity, agentID string, status store.AgentStatus) (store.Agent, error)

	ApplyPolicy(ctx context.Context, actor payments.OperatorIdentity, level store.Level, scopeID, name, source string) (store.PolicyRecord, bool, error)
	Policies(ctx context.Context, level store.Level, scopeID string) (*store.PolicyRecord, []store.PolicyRecord, error)

	Approvals(ctx context.Context, status store.ApprovalStatus, approverName string, limit int) ([]payments.ApprovalView, error)
	Approval(ctx context.Context, id string) (payments.ApprovalView, error)
	Vote(ctx context.Context, actor payments.OperatorIdentity, approvalID string, d store.VoteDecision) (payments.ApprovalView, error)
	Authorizations(ctx context.Context, f store.AuthorizationFilter) ([]store.Authorization, error)

	// InScope is nil when actor may act on the record (kind, id): always for an
	// unscoped credential, for a fleet-scoped one only inside its fleet; else a
	// not-found error, so other fleets stay invisible.
	InScope(ctx context.Context, actor payments.OperatorIdentity, kind payments.ScopeKind, id string) error
}

// Config configures NewHandler.
type Config struct {
	// Payments authenticates agents and pays. Required.
	Payments AgentService
	// Operators authenticates operators and runs their requests. Required.
	Operators OperatorService
	// Audit is the audit chain the auditor routes read (a store.Store is one).
	// Required.
	Audit audit.Reader
	// AuditKey is the address of the key that signs audit checkpoints, served at
	// GET /v1/audit/key; the zero address answers 404 there.
	AuditKey common.Address
	// Logger receives one record per request (default: discard).
	Logger *slog.Logger
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Lifecycle runs the key lifecycle routes (deps, revoke, rotate, jobs); nil
	// answers them 503 lifecycle_unavailable.
	Lifecycle LifecycleService
	// Alerts serves the anomaly alert routes; nil answers them 503
	// anomaly_unavailable.
	Alerts AlertService
	// Extra mounts handlers the daemon owns, without authentication; each route
	// must be one of ExtraRoutes (openapi.yaml documents exactly those). The
	// handler logs their requests like its own.
	Extra map[Route]http.Handler
}

// Route is one method and path the handler serves; a path may hold {name}
// wildcards as in net/http patterns and OpenAPI paths.
type Route struct {
	Method, Path string
}

// Routes are the routes NewHandler registers itself, and exactly those: the
// handler is built from this list, and a test compares it (with ExtraRoutes)
// with openapi.yaml.
var Routes = []Route{
	{http.MethodGet, "/healthz"},
	{http.MethodGet, "/openapi.yaml"},

	{http.MethodGet, "/v1/agent"},
	{http.MethodPost, "/v1/payments"},
	{http.MethodGet, "/v1/payments/{id}"},

	{http.MethodGet, "/v1/operator"},
	{http.MethodPost, "/v1/credentials"},
	{http.MethodGet, "/v1/credentials"},
	{http.MethodPost, "/v1/credentials/{id}/revoke"},
	{http.MethodGet, "/v1/fleets"},
	{http.MethodPost, "/v1/fleets"},
	{http.MethodGet, "/v1/fleets/{id}/groups"},
	{http.MethodPost, "/v1/fleets/{id}/groups"},
	{http.MethodPost, "/v1/agents"},
	{http.MethodGet, "/v1/agents"},
	{http.MethodGet, "/v1/agents/{id}"},
	{http.MethodPost, "/v1/agents/{id}/freeze"},
	{http.MethodPost, "/v1/agents/{id}/unfreeze"},
	{http.MethodPost, "/v1/agents/{id}/credentials"},
	{http.MethodGet, "/v1/agents/{id}/deps"},
	{http.MethodGet, "/v1/agents/{id}/jobs"},
	{http.MethodPost, "/v1/agents/{id}/revoke"},
	{http.MethodPost, "/v1/agents/{id}/rotate"},
	{http.MethodPut, "/v1/policies/{level}/{scope_id}"},
	{http.MethodGet, "/v1/policies/{level}/{scope_id}"},
	{http.MethodGet, "/v1/alerts"},
	{http.MethodPost, "/v1/alerts/{id}/ack"},
	{http.MethodGet, "/v1/approvals"},
	{http.MethodGet, "/v1/approvals/{id}"},
	{http.MethodPost, "/v1/approvals/{id}/approve"},
	{http.MethodPost, "/v1/approvals/{id}/deny"},
	{http.MethodGet, "/v1/authorizations"},
	{http.MethodGet, "/v1/audit/records"},
	{http.MethodGet, "/v1/audit/checkpoints"},
	{http.MethodGet, "/v1/audit/key"},
}

// ExtraRoutes are the unauthenticated routes the daemon may mount through
// Config.Extra: readiness and Prometheus metrics. openapi.yaml documents them.
var ExtraRoutes = []Route{
	{http.MethodGet, "/readyz"},
	{http.MethodGet, "/metrics"},
}

// statusClientClosed is logged (never seen by anyone) for a request whose
// client went away, as nginx does.
const statusClientClosed = 499

// reqState is what a route learned, for the request log.
type reqState struct {
	agentID, credentialID, role, authorizationID, outcome string
}

// routeFunc answers one request: a status and a body to send as JSON, or an
// error (an *Error, or anything else, which becomes a 500). It may set headers
// but never writes.
type routeFunc func(w http.ResponseWriter, r *http.Request, st *reqState) (int, any, error)

// Who may call a route.
const (
	accessPublic   = "public"
	accessAgent    = "agent"
	accessOperator = "operator"
)

// endpoint is one route's answer and who may ask: anyone, an agent, or an
// operator with one of roles.
type endpoint struct {
	access string
	roles  []store.Role
	f      routeFunc
}

type handler struct {
	svc      AgentService
	ops      OperatorService
	audit    audit.Reader
	auditKey common.Address
	log      *slog.Logger
	maxBody  int64
	lc       LifecycleService
	alertSvc AlertService
}

// NewHandler returns the API: agent and operator routes, /healthz,
// /openapi.yaml and the daemon's extra routes. It panics on a configuration no
// caller could mean (a missing service, an extra route openapi.yaml does not
// document), a programming error.
func NewHandler(cfg Config) http.Handler {
	if cfg.Payments == nil || cfg.Operators == nil || cfg.Audit == nil {
		panic("api: Config.Payments, Config.Operators and Config.Audit are required")
	}
	h := &handler{svc: cfg.Payments, ops: cfg.Operators, audit: cfg.Audit, auditKey: cfg.AuditKey,
		log: cfg.Logger, maxBody: cfg.MaxBodyBytes, lc: cfg.Lifecycle, alertSvc: cfg.Alerts}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	eps := h.endpoints()
	if len(eps) != len(Routes) {
		panic("api: a handler is not in Routes")
	}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range Routes {
		ep, ok := eps[rt]
		if !ok {
			panic("api: no handler for route " + rt.Method + " " + rt.Path)
		}
		mux.Handle(rt.Method+" "+rt.Path, h.serve(ep.f))
		allowed[rt.Path] = append(allowed[rt.Path], rt.Method)
	}
	for _, rt := range slices.SortedFunc(maps.Keys(cfg.Extra), func(a, b Route) int { return strings.Compare(a.Path+a.Method, b.Path+b.Method) }) {
		if !slices.Contains(ExtraRoutes, rt) {
			panic(fmt.Sprintf("api: extra route %s %s is not one of ExtraRoutes", rt.Method, rt.Path))
		}
		if cfg.Extra[rt] == nil {
			panic(fmt.Sprintf("api: extra route %s %s has no handler", rt.Method, rt.Path))
		}
		mux.Handle(rt.Method+" "+rt.Path, h.logged(cfg.Extra[rt]))
		allowed[rt.Path] = append(allowed[rt.Path], rt.Method)
	}
	// A method-less pattern is less specific than "METHOD /path", so it catches
	// only the other methods: answered in JSON rather than the mux's plain text.
	for p, methods := range allowed {
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead)
		}
		allow := strings.Join(methods, ", ")
		mux.Handle(p, h.serve(func(w http.ResponseWriter, r *http.Request, st *reqState) (int, any, error) {
			w.Header().Set("Allow", allow)
			return 0, nil, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "method not allowed; allowed: " + allow}
		}))
	}
	notFound := h.serve(func(http.ResponseWriter, *http.Request, *reqState) (int, any, error) {
		return 0, nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no such route"}
	})
	mux.Handle("/", notFound)
	// The mux would redirect an unclean path ("//v1/agent", "/v1/./agent") with an
	// HTML body; no client of this API needs that, and every answer is JSON.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "" || p[0] != '/' || path.Clean(p) != p {
			notFound.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// endpoints is the handler's route table. Roles: admin (A), operator (O),
// approver (P), auditor (U); openapi.yaml names each route's in x-roles.
func (h *handler) endpoints() map[Route]endpoint {
	const (
		A = store.RoleAdmin
		O = store.RoleOperator
		P = store.RoleApprover
		U = store.RoleAuditor
	)
	public := func(f routeFunc) endpoint { return endpoint{access: accessPublic, f: f} }
	return map[Route]endpoint{
		{http.MethodGet, "/healthz"}:      public(h.healthz),
		{http.MethodGet, "/openapi.yaml"}: public(h.openapi),

		{http.MethodGet, "/v1/agent"}:         h.agent(h.whoami),
		{http.MethodPost, "/v1/payments"}:     h.agent(h.pay),
		{http.MethodGet, "/v1/payments/{id}"}: h.agent(h.payment),

		{http.MethodGet, "/v1/operator"}:                    h.operator(h.whoamiOperator, A, O, P, U),
		{http.MethodPost, "/v1/credentials"}:                h.operator(unscoped(h.createCredential), A),
		{http.MethodGet, "/v1/credentials"}:                 h.operator(unscoped(h.credentials), A),
		{http.MethodPost, "/v1/credentials/{id}/revoke"}:    h.operator(unscoped(h.revokeCredential), A),
		{http.MethodGet, "/v1/fleets"}:                      h.operator(h.fleets, A, O, U),
		{http.MethodPost, "/v1/fleets"}:                     h.operator(unscoped(h.createFleet), A, O),
		{http.MethodGet, "/v1/fleets/{id}/groups"}:          h.operator(h.groups, A, O, U),
		{http.MethodPost, "/v1/fleets/{id}/groups"}:         h.operator(h.createGroup, A, O),
		{http.MethodPost, "/v1/agents"}:                     h.operator(h.provisionAgents, A, O),
		{http.MethodGet, "/v1/agents"}:                      h.operator(h.agents, A, O, U),
		{http.MethodGet, "/v1/agents/{id}"}:                 h.operator(h.agentDetail, A, O, U),
		{http.MethodPost, "/v1/agents/{id}/freeze"}:         h.operator(h.setAgentStatus(store.AgentFrozen), A, O),
		{http.MethodPost, "/v1/agents/{id}/unfreeze"}:       h.operator(h.setAgentStatus(store.AgentActive), A, O),
		{http.MethodPost, "/v1/agents/{id}/credentials"}:    h.operator(h.issueAgentCredential, A, O),
		{http.MethodGet, "/v1/agents/{id}/deps"}:            h.operator(h.agentDeps, A, O, U),
		{http.MethodGet, "/v1/agents/{id}/jobs"}:            h.operator(h.agentJobs, A, O, U),
		{http.MethodPost, "/v1/agents/{id}/revoke"}:         h.operator(h.revokeAgent, A, O),
		{http.MethodPost, "/v1/agents/{id}/rotate"}:         h.operator(h.rotateAgent, A, O),
		{http.MethodPut, "/v1/policies/{level}/{scope_id}"}: h.operator(h.applyPolicy, A, O),
		{http.MethodGet, "/v1/policies/{level}/{scope_id}"}: h.operator(h.policies, A, O, U),
		{http.MethodGet, "/v1/alerts"}:                      h.operator(h.alerts, A, O, U),
		{http.MethodPost, "/v1/alerts/{id}/ack"}:            h.operator(h.ackAlert, A, O),
		{http.MethodGet, "/v1/approvals"}:                   h.operator(h.approvals, A, O, P, U),
		{http.MethodGet, "/v1/approvals/{id}"}:              h.operator(h.approval, A, O, P, U),
		{http.MethodPost, "/v1/approvals/{id}/approve"}:     h.operator(h.vote(store.VoteApprove), A, P),
		{http.MethodPost, "/v1/approvals/{id}/deny"}:        h.operator(h.vote(store.VoteDeny), A, P),
		{http.MethodGet, "/v1/authorizations"}:              h.operator(h.authorizations, A, O, U),
		{http.MethodGet, "/v1/audit/records"}:               h.operator(unscoped(h.auditRecords), A, U),
		{http.MethodGet, "/v1/audit/checkpoints"}:           h.operator(unscoped(h.auditCheckpoints), A, U),
		{http.MethodGet, "/v1/audit/key"}:                   h.operator(unscoped(h.auditKeyAddress), A, U),
	}
}

// serve runs f, renders its answer or error, and logs the request once.
func (h *handler) serve(f routeFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqState{}
		status, body, err := f(w, r, st)
		var apiErr *Error
		if err != nil {
			if !errors.As(err, &apiErr) {
				apiErr = internalError(err)
			}
			if cerr := r.Context().Err(); apiErr.Status >= 500 && cerr != nil && errors.Is(err, cerr) {
				// The client left (a long poll given up): nothing failed here.
				apiErr = &Error{Status: statusClientClosed, Code: "client_closed_request", Message: "the client closed the request", Cause: err}
			}
			status = apiErr.Status
			renderError(w, apiErr)
		} else if werr := writeJSON(w, status, body); werr != nil {
			apiErr = internalError(werr)
		}
		if st.outcome == "" {
			st.outcome = "ok"
			if apiErr != nil {
				st.outcome = apiErr.Code
			}
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", r.Pattern),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("outcome", st.outcome),
		}
		for _, a := range []struct{ k, v string }{
			{"agent_id", st.agentID}, {"credential_id", st.credentialID}, {"role", st.role},
			{"authorization_id", st.authorizationID},
		} {
			if a.v != "" {
				attrs = append(attrs, slog.String(a.k, a.v))
			}
		}
		level := slog.LevelInfo
		if apiErr == nil && (r.URL.Path == "/healthz" || r.URL.Path == "/openapi.yaml") {
			level = slog.LevelDebug // probes would drown the payments
		}
		if apiErr != nil {
			attrs = append(attrs, apiErr.logAttrs()...)
			if apiErr.Status >= 500 {
				level = slog.LevelError
			}
		}
		h.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// logged logs a request to an extra route: one record, at debug level unless
// it failed, since probes and scrapes would drown the payments.
func (h *handler) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		level := slog.LevelDebug
		if sw.status >= 400 {
			level = slog.LevelWarn
		}
		h.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("route", r.Pattern),
			slog.Int("status", sw.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		)
	})
}

// statusWriter remembers the status an extra route's handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// agentFunc is a route that acts for an authenticated agent.
type agentFunc func(w http.ResponseWriter, r *http.Request, id payments.AgentIdentity, st *reqState) (int, any, error)

// operatorFunc is a route that acts for an authenticated operator of an allowed role.
type operatorFunc func(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error)

var (
	errUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
		Message: "a valid agent bearer token is required"}
	errOperatorUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
		Message: "a valid operator bearer token is required"}
)

// agent resolves the bearer token to the agent it acts for. Every refusal gets
// the same answer (an operator token too): which check failed would help
// someone probing tokens.
func (h *handler) agent(f agentFunc) endpoint {
	return endpoint{access: accessAgent, f: func(w http.ResponseWriter, r *http.Request, st *reqState) (int, any, error) {
		token, ok := bearerToken(r.Header.Values("Authorization"))
		if !ok {
			return 0, nil, errUnauthenticated
		}
		id, err := h.svc.Authenticate(r.Context(), token)
		switch {
		case errors.Is(err, payments.ErrUnauthenticated):
			return 0, nil, errUnauthenticated
		case err != nil:
			return 0, nil, internalError(err)
		}
		st.agentID = id.AgentID
		return f(w, r, id, st)
	}}
}

// operator resolves the bearer token to the operator it names and admits only
// the given roles. A token that is not a usable operator's (an agent token too)
// is a 401; a usable one of another role a 403.
func (h *handler) operator(f operatorFunc, roles ...store.Role) endpoint {
	return endpoint{access: accessOperator, roles: roles, f: func(w http.ResponseWriter, r *http.Request, st *reqState) (int, any, error) {
		token, ok := bearerToken(r.Header.Values("Authorization"))
		if !ok {
			return 0, nil, errOperatorUnauthenticated
		}
		op, err := h.ops.AuthenticateOperator(r.Context(), token)
		switch {
		case errors.Is(err, payments.ErrUnauthenticated):
			return 0, nil, errOperatorUnauthenticated
		case err != nil:
			return 0, nil, internalError(err)
		}
		st.credentialID, st.role = op.CredentialID, string(op.Role)
		if !slices.Contains(roles, op.Role) {
			return 0, nil, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: fmt.Sprintf("role %s may not do this; allowed: %s", op.Role, joinRoles(roles))}
		}
		return f(w, r, op, st)
	}}
}

// unscoped admits only a credential without a fleet scope: the route reaches
// beyond one fleet (credentials, new fleets, the one audit chain of every
// fleet). A scoped credential gets a 403 that names no other fleet.
func unscoped(f operatorFunc) operatorFunc {
	return func(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
		if err := op.RequireUnscoped(); err != nil {
			return 0, nil, serviceError(err)
		}
		return f(w, r, op, st)
	}
}

// inScope answers 404 when op is scoped to another fleet than the record's
// (payments.Service.InScope is the check).
func (h *handler) inScope(r *http.Request, op payments.OperatorIdentity, kind payments.ScopeKind, id string) *Error {
	if !op.Scoped() {
		return nil
	}
	if err := h.ops.InScope(r.Context(), op, kind, id); err != nil {
		return serviceError(err)
	}
	return nil
}

// scopedFleetParam is the fleet a list is filtered to: op's own when scoped (a
// requested fleet_id of another fleet is a 404), else the requested one.
func (h *handler) scopedFleetParam(r *http.Request, op payments.OperatorIdentity, requested string) (string, *Error) {
	if !op.Scoped() {
		return requested, nil
	}
	if requested != "" && requested != op.FleetID {
		return "", serviceError(&store.NotFoundError{Entity: "fleet", Key: requested})
	}
	return op.FleetID, nil
}

func joinRoles(roles []store.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// bearerToken takes the token of the one Authorization header, scheme Bearer
// (case-insensitive, RFC 9110 §11.1).
func bearerToken(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

func (h *handler) healthz(http.ResponseWriter, *http.Request, *reqState) (int, any, error) {
	return http.StatusOK, map[string]string{"status": "ok"}, nil
}

// openapi is the one answer that is not JSON.
func (h *handler) openapi(w http.ResponseWriter, r *http.Request, st *reqState) (int, any, error) {
	return http.StatusOK, rawBody{contentType: "application/yaml", b: OpenAPI}, nil
}

// agentResponse is GET /v1/agent.
type agentResponse struct {
	AgentID string `json:"agent_id"`
	FleetID string `json:"fleet_id"`
	GroupID string `json:"group_id,omitempty"`
}

func (h *handler) whoami(_ http.ResponseWriter, _ *http.Request, id payments.AgentIdentity, _ *reqState) (int, any, error) {
	return http.StatusOK, agentResponse{AgentID: id.AgentID, FleetID: id.FleetID, GroupID: id.GroupID}, nil
}

// The signing service is what both halves of the API talk to.
var (
	_ AgentService    = (*payments.Service)(nil)
	_ OperatorService = (*payments.Service)(nil)
)
