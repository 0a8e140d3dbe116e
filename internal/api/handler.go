package api

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/payments"
)

// OpenAPI is the OpenAPI 3.1 document of the agent API, served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// AgentService is what the agent API needs of the signing service;
// *payments.Service implements it.
type AgentService interface {
	Authenticate(ctx context.Context, token string) (payments.AgentIdentity, error)
	Pay(ctx context.Context, agentID string, r payments.PayRequest) (*payments.PayResult, error)
}

// AgentConfig configures NewAgentHandler.
type AgentConfig struct {
	// Payments authenticates agents and pays. Required.
	Payments AgentService
	// Logger receives one record per request (default: discard).
	Logger *slog.Logger
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
}

// Route is one method and path the agent handler serves.
type Route struct {
	Method, Path string
}

// AgentRoutes are the routes NewAgentHandler registers, and exactly those: the
// handler is built from this list, and a test compares it with openapi.yaml.
var AgentRoutes = []Route{
	{http.MethodGet, "/healthz"},
	{http.MethodGet, "/openapi.yaml"},
	{http.MethodGet, "/v1/agent"},
	{http.MethodPost, "/v1/payments"},
}

// reqState is what a route learned, for the request log.
type reqState struct {
	agentID, authorizationID, outcome string
}

// routeFunc answers one request: a status and a body to send as JSON, or an
// error (an *Error, or anything else, which becomes a 500). It may set headers
// but never writes.
type routeFunc func(w http.ResponseWriter, r *http.Request, st *reqState) (int, any, error)

type agentHandler struct {
	svc     AgentService
	log     *slog.Logger
	maxBody int64
}

// NewAgentHandler returns the agent API. It panics if cfg.Payments is nil, a
// programming error.
func NewAgentHandler(cfg AgentConfig) http.Handler {
	if cfg.Payments == nil {
		panic("api: AgentConfig.Payments is required")
	}
	h := &agentHandler{svc: cfg.Payments, log: cfg.Logger, maxBody: cfg.MaxBodyBytes}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	funcs := map[Route]routeFunc{
		{http.MethodGet, "/healthz"}:      h.healthz,
		{http.MethodGet, "/openapi.yaml"}: h.openapi,
		{http.MethodGet, "/v1/agent"}:     h.authenticated(h.whoami),
		{http.MethodPost, "/v1/payments"}: h.authenticated(h.pay),
	}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range AgentRoutes {
		f, ok := funcs[rt]
		if !ok {
			panic("api: no handler for route " + rt.Method + " " + rt.Path)
		}
		mux.Handle(rt.Method+" "+rt.Path, h.serve(f))
		allowed[rt.Path] = append(allowed[rt.Path], rt.Method)
	}
	if len(funcs) != len(AgentRoutes) {
		panic("api: a handler is not in AgentRoutes")
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

// serve runs f, renders its answer or error, and logs the request once.
func (h *agentHandler) serve(f routeFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqState{}
		status, body, err := f(w, r, st)
		var apiErr *Error
		if err != nil {
			if !errors.As(err, &apiErr) {
				apiErr = internalError(err)
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
		if st.agentID != "" {
			attrs = append(attrs, slog.String("agent_id", st.agentID))
		}
		if st.authorizationID != "" {
			attrs = append(attrs, slog.String("authorization_id", st.authorizationID))
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

// authedFunc is a route that acts for an authenticated agent.
type authedFunc func(w http.ResponseWriter, r *http.Request, id payments.AgentIdentity, st *reqState) (int, any, error)

var errUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
	Message: "a valid agent bearer token is required"}

// authenticated resolves the bearer token to the agent it acts for. Every refusal
// gets the same answer: which check failed would help someone probing tokens.
func (h *agentHandler) authenticated(f authedFunc) routeFunc {
	return func(w http.ResponseWriter, r *http.Request, st *reqState) (int, any, error) {
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
	}
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

func (h *agentHandler) healthz(http.ResponseWriter, *http.Request, *reqState) (int, any, error) {
	return http.StatusOK, map[string]string{"status": "ok"}, nil
}

// openapi is the one answer that is not JSON.
func (h *agentHandler) openapi(w http.ResponseWriter, r *http.Request, st *reqState) (int, any, error) {
	return http.StatusOK, rawBody{contentType: "application/yaml", b: OpenAPI}, nil
}

// agentResponse is GET /v1/agent.
type agentResponse struct {
	AgentID string `json:"agent_id"`
	FleetID string `json:"fleet_id"`
	GroupID string `json:"group_id,omitempty"`
}

func (h *agentHandler) whoami(_ http.ResponseWriter, _ *http.Request, id payments.AgentIdentity, _ *reqState) (int, any, error) {
	return http.StatusOK, agentResponse{AgentID: id.AgentID, FleetID: id.FleetID, GroupID: id.GroupID}, nil
}
