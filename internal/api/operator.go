package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// List limits: a page holds DefaultLimit items unless the request asks for up
// to MaxLimit.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// maxIDLen bounds an identifier in a path or query; fleetkey's own are 30 to 31
// characters ("agt_" and 26 more).
const maxIDLen = 64

// validID reports whether s could be an identifier: 1 to 64 letters, digits,
// '_' or '-'. Anything else cannot name a record, and is refused before the
// store is asked.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func badID(what string) *Error {
	return badRequest(fmt.Sprintf("the %s id must be 1 to %d letters, digits, '_' or '-'", what, maxIDLen), nil)
}

// pathID is the {name} path value, checked with validID.
func pathID(r *http.Request, name, what string) (string, *Error) {
	id := r.PathValue(name)
	if !validID(id) {
		return "", badID(what)
	}
	return id, nil
}

// query returns the request's query parameters, refusing any not in allowed
// and any given twice: a misspelt filter must not silently list everything.
func query(r *http.Request, allowed ...string) (url.Values, *Error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("the query string is malformed", err)
	}
	for k, vs := range q {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, badRequest(fmt.Sprintf("unknown query parameter %q; this route takes none", truncate(k)), nil)
			}
			return nil, badRequest(fmt.Sprintf("unknown query parameter %q; allowed: %s", truncate(k), strings.Join(allowed, ", ")), nil)
		}
		if len(vs) > 1 {
			return nil, badRequest(fmt.Sprintf("query parameter %q is given %d times", k, len(vs)), nil)
		}
	}
	return q, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// limitParam reads limit: 1 to MaxLimit, DefaultLimit when absent.
// page cuts a list fetched with limit+1 rows (one more than asked tells whether
// there is a next page) to limit, and returns the id the next page starts after,
// or "" on the last page.
func page[T any](rows []T, limit int, id func(T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, id(rows[limit-1])
}

func limitParam(q url.Values) (int, *Error) {
	s := q.Get("limit")
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, badRequest(fmt.Sprintf("limit must be an integer from 1 to %d", MaxLimit), err)
	}
	return n, nil
}

// idParam reads an optional id-valued query parameter.
func idParam(q url.Values, name string) (string, *Error) {
	s := q.Get(name)
	if s != "" && !validID(s) {
		return "", badRequest(fmt.Sprintf("%s must be 1 to %d letters, digits, '_' or '-'", name, maxIDLen), nil)
	}
	return s, nil
}

// expiryParam reads an optional RFC 3339 expiry, which must lie in the future.
func expiryParam(field, s string) (time.Time, *Error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRequest(field+" must be an RFC 3339 time such as 2030-01-02T15:04:05Z", err)
	}
	if !t.After(time.Now()) {
		return time.Time{}, badRequest(field+" is in the past", nil)
	}
	return t.UTC(), nil
}

// body decodes the request body strictly into v, within the size limit.
func (h *handler) body(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) *Error {
	return decodeStrict(http.MaxBytesReader(w, r.Body, h.maxBody), v, allowEmpty)
}

// serviceError maps the service's errors on operator routes. The messages are
// built from the error text only where it describes the caller's own input or
// records the caller may read anyway.
func serviceError(err error) *Error {
	var (
		se *store.StateError
		nf *store.NotFoundError
		ce *store.ConflictError
	)
	switch {
	case errors.Is(err, payments.ErrDenied), errors.Is(err, store.ErrIdempotencyMismatch):
		return payError(err)
	case errors.Is(err, payments.ErrBadRequest):
		// The sentinel's own words ("bad payment request") would mislead here.
		msg := strings.TrimPrefix(err.Error(), payments.ErrBadRequest.Error()+": ")
		return badRequest(strings.TrimPrefix(msg, "payments: "), err)
	case errors.Is(err, payments.ErrUnauthenticated):
		return errOperatorUnauthenticated
	case errors.Is(err, payments.ErrForbidden), errors.Is(err, store.ErrNotApprover):
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: strings.TrimPrefix(err.Error(), "payments: "), Cause: err}
	case errors.As(err, &nf):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf("%s %s not found", nf.Entity, nf.Key), Cause: err}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "not found", Cause: err}
	case errors.As(err, &se):
		return &Error{Status: http.StatusConflict, Code: CodeStateConflict,
			Message: fmt.Sprintf("cannot %s: %s %s is %s", se.Op, se.Entity, se.ID, se.Status), Cause: err}
	case errors.Is(err, store.ErrState):
		return &Error{Status: http.StatusConflict, Code: CodeStateConflict, Message: "the record's state does not allow this", Cause: err}
	case errors.As(err, &ce):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: "conflicts with an existing record (" + ce.Constraint + ")", Cause: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: "conflicts with an existing record", Cause: err}
	}
	return internalError(err)
}

// operatorResponse is GET /v1/operator.
type operatorResponse struct {
	CredentialID string `json:"credential_id"`
	Name         string `json:"name"`
	Role         string `json:"role"`
	FleetID      string `json:"fleet_id,omitempty"`
}

func (h *handler) whoamiOperator(_ http.ResponseWriter, _ *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	return http.StatusOK, operatorResponse{CredentialID: op.CredentialID, Name: op.Name, Role: string(op.Role), FleetID: op.FleetID}, nil
}

// Credentials.

type createCredentialRequest struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	ExpiresAt string `json:"expires_at"`
	FleetID   string `json:"fleet_id"`
}

// issuedResponse is a new credential with its token, sent this once.
type issuedResponse struct {
	Credential credentialView `json:"credential"`
	Token      string         `json:"token"`
}

func issuedOf(ic payments.IssuedCredential) issuedResponse {
	out := issuedResponse{Credential: credentialOf(ic.Credential), Token: ic.Token.Reveal()}
	ic.Token.Wipe()
	return out
}

type credentialResponse struct {
	Credential credentialView `json:"credential"`
}

type credentialsResponse struct {
	Credentials []credentialView `json:"credentials"`
}

// maxNameLen bounds a name (credential, fleet, group, agent, policy) and an
// external id; the service checks names more closely.
const maxNameLen = payments.MaxNameLen

func checkName(field, s string, required bool) *Error {
	switch {
	case s == "" && required:
		return badRequest(field+" is required", nil)
	case len(s) > maxNameLen:
		return badRequest(fmt.Sprintf("%s is longer than %d bytes", field, maxNameLen), nil)
	}
	return nil
}

func validRole(r store.Role) bool {
	return r == store.RoleAdmin || r == store.RoleOperator || r == store.RoleApprover || r == store.RoleAuditor
}

func (h *handler) createCredential(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
	var req createCredentialRequest
	if e := h.body(w, r, &req, false); e != nil {
		return 0, nil, e
	}
	if e := checkName("name", req.Name, true); e != nil {
		return 0, nil, e
	}
	if !validRole(store.Role(req.Role)) {
		return 0, nil, badRequest("role must be admin, operator, approver or auditor", nil)
	}
	exp, e := expiryParam("expires_at", req.ExpiresAt)
	if e != nil {
		return 0, nil, e
	}
	if req.FleetID != "" && !validID(req.FleetID) {
		return 0, nil, badID("fleet")
	}
	ic, err := h.ops.CreateOperatorCredential(r.Context(), op, payments.NewCredential{Name: req.Name, Role: store.Role(req.Role), ExpiresAt: exp, FleetID: req.FleetID})
	if err != nil {
		return 0, nil, serviceError(err)
	}
	return http.StatusCreated, issuedOf(ic), nil
}

func (h *handler) credentials(_ http.ResponseWriter, r *http.Request, _ payments.OperatorIdentity, _ *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	cs, err := h.ops.OperatorCredentials(r.Context())
	if err != nil {
		return 0, nil, serviceError(err)
	}
	return http.StatusOK, credentialsResponse{Credentials: credentialsOf(cs)}, nil
}

func (h *handler) revokeCredential(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	id, e := pathID(r, "id", "credential")
	if e != nil {
		return 0, nil, e
	}
	c, err := h.ops.RevokeCredential(r.Context(), op, id)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	return http.StatusOK, credentialResponse{Credential: credentialOf(c)}, nil
}

type issueAgentCredentialRequest struct {
	ExpiresAt string `json:"expires_at"`
}

func (h *handler) issueAgentCredential(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
	id, e := pathID(r, "id", "agent")
	if e != nil {
		return 0, nil, e
	}
	st.agentID = id
	if e := h.inScope(r, op, payments.ScopeAgent, id); e != nil {
		return 0, nil, e
	}
	var req issueAgentCredentialRequest
	if e := h.body(w, r, &req, true); e != nil {
		return 0, nil, e
	}
	exp, e := expiryParam("expires_at", req.ExpiresAt)
	if e != nil {
		return 0, nil, e
	}
	ic, err := h.ops.IssueAgentCredential(r.Context(), op, id, exp)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	return http.StatusCreated, issuedOf(ic), nil
}

// Fleets and groups.

type createFleetRequest struct {
	Name     string `json:"name"`
	Treasury string `json:"treasury"`
}

type fleetResponse struct {
	Fleet fleetView `json:"fleet"`
}

type fleetsResponse struct {
	Fleets []fleetView `json:"fleets"`
}

func (h *handler) fleets(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	fs, err := h.ops.Fleets(r.Context())
	if err != nil {
		return 0, nil, serviceError(err)
	}
	out := make([]fleetView, 0, len(fs))
	for _, f := range fs {
		if !op.Scoped() || f.ID == op.FleetID {
			out = append(out, fleetOf(f))
		}
	}
	return http.StatusOK, fleetsResponse{Fleets: out}, nil
}

func (h *handler) createFleet(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	var req createFleetRequest
	if e := h.body(w, r, &req, false); e != nil {
		return 0, nil, e
	}
	if e := checkName("name", req.Name, true); e != nil {
		return 0, nil, e
	}
	if req.Treasury != "" {
		if _, err := store.NormalizeAddress(req.Treasury); err != nil {
			return 0, nil, badRequest("treasury must be a 0x-prefixed 20-byte hex address", err)
		}
	}
	f, err := h.ops.CreateFleet(r.Context(), op, req.Name, req.Treasury)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	return http.StatusCreated, fleetResponse{Fleet: fleetOf(f)}, nil
}

type createGroupRequest struct {
	Name string `json:"name"`
}

type groupResponse struct {
	Group groupView `json:"group"`
}

type groupsResponse struct {
	Groups []groupView `json:"groups"`
}

func (h *handler) groups(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	id, e := pathID(r, "id", "fleet")
	if e != nil {
		return 0, nil, e
	}
	if e := h.inScope(r, op, payments.ScopeFleet, id); e != nil {
		return 0, nil, e
	}
	gs, err := h.ops.Groups(r.Context(), id)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	out := make([]groupView, len(gs))
	for i, g := range gs {
		out[i] = groupOf(g)
	}
	return http.StatusOK, groupsResponse{Groups: out}, nil
}

func (h *handler) createGroup(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	id, e := pathID(r, "id", "fleet")
	if e != nil {
		return 0, nil, e
	}
	if e := h.inScope(r, op, payments.ScopeFleet, id); e != nil {
		return 0, nil, e
	}
	var req createGroupRequest
	if e := h.body(w, r, &req, false); e != nil {
		return 0, nil, e
	}
	if e := checkName("name", req.Name, true); e != nil {
		return 0, nil, e
	}
	g, err := h.ops.CreateGroup(r.Context(), op, id, req.Name)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	return http.StatusCreated, groupResponse{Group: groupOf(g)}, nil
}

// Agents.

type newAgentRequest struct {
	ExternalID string            `json:"external_id"`
	Name       string            `json:"name"`
	Labels     map[string]string `json:"labels"`
}

type provisionRequest struct {
	FleetID string            `json:"fleet_id"`
	GroupID string            `json:"group_id"`
	Agents  []newAgentRequest `json:"agents"`
}

// provisionedView is one agent of a batch; the token is there only when the
// agent was created by this request, and is never shown again.
type provisionedView struct {
	Agent        agentView `json:"agent"`
	Address      string    `json:"address"`
	Created      bool      `json:"created"`
	CredentialID string    `json:"credential_id,omitempty"`
	Token        string    `json:"token,omitempty"`
}

type provisionResponse struct {
	Agents []provisionedView `json:"agents"`
}

// Bounds of an agent's labels.
const (
	maxLabels        = 64
	maxLabelKeyLen   = 64
	maxLabelValueLen = 256
)

func (h *handler) provisionAgents(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	var req provisionRequest
	if e := h.body(w, r, &req, false); e != nil {
		return 0, nil, e
	}
	if !validID(req.FleetID) {
		return 0, nil, badRequest("fleet_id is required: the id of the fleet the agents join", nil)
	}
	if req.GroupID != "" && !validID(req.GroupID) {
		return 0, nil, badID("group")
	}
	if e := h.inScope(r, op, payments.ScopeFleet, req.FleetID); e != nil {
		return 0, nil, e
	}
	if len(req.Agents) == 0 || len(req.Agents) > payments.MaxBatch {
		return 0, nil, badRequest(fmt.Sprintf("agents must list 1 to %d agents, not %d", payments.MaxBatch, len(req.Agents)), nil)
	}
	seen := make(map[string]bool, len(req.Agents))
	pr := payments.ProvisionRequest{FleetID: req.FleetID, GroupID: req.GroupID, Actor: audit.OperatorActor(op.CredentialID),
		Agents: make([]payments.NewAgent, len(req.Agents))}
	for i, a := range req.Agents {
		switch {
		case a.ExternalID == "":
			return 0, nil, badRequest(fmt.Sprintf("agents[%d].external_id is required", i), nil)
		case len(a.ExternalID) > maxNameLen:
			return 0, nil, badRequest(fmt.Sprintf("agents[%d].external_id is longer than %d bytes", i, maxNameLen), nil)
		case seen[a.ExternalID]:
			return 0, nil, badRequest(fmt.Sprintf("agents[%d].external_id %q appears twice in the batch", i, truncate(a.ExternalID)), nil)
		case len(a.Name) > maxNameLen:
			return 0, nil, badRequest(fmt.Sprintf("agents[%d].name is longer than %d bytes", i, maxNameLen), nil)
		case strings.TrimSpace(a.ExternalID) != a.ExternalID || !utf8.ValidString(a.ExternalID):
			return 0, nil, badRequest(fmt.Sprintf("agents[%d].external_id must be UTF-8 without surrounding spaces", i), nil)
		case len(a.Labels) > maxLabels:
			return 0, nil, badRequest(fmt.Sprintf("agents[%d].labels has more than %d entries", i, maxLabels), nil)
		}
		for k, v := range a.Labels {
			if k == "" || len(k) > maxLabelKeyLen || len(v) > maxLabelValueLen {
				return 0, nil, badRequest(fmt.Sprintf("agents[%d].labels: a key has 1 to %d bytes and a value at most %d", i, maxLabelKeyLen, maxLabelValueLen), nil)
			}
		}
		seen[a.ExternalID] = true
		name := a.Name
		if name == "" {
			name = a.ExternalID // the store requires a name; the operator's id is the natural one
		}
		pr.Agents[i] = payments.NewAgent{ExternalID: a.ExternalID, Name: name, Labels: a.Labels}
	}
	if req.GroupID != "" {
		// The store refuses a group of another fleet only with an untyped error;
		// asking first gives the operator a clear answer (groups never move).
		gs, err := h.ops.Groups(r.Context(), req.FleetID)
		if err != nil {
			return 0, nil, serviceError(err)
		}
		if !slices.ContainsFunc(gs, func(g store.Group) bool { return g.ID == req.GroupID }) {
			return 0, nil, badRequest(fmt.Sprintf("group %s is not a group of fleet %s", req.GroupID, req.FleetID), nil)
		}
	}
	ps, err := h.ops.ProvisionAgents(r.Context(), pr)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	out := make([]provisionedView, len(ps))
	for i, p := range ps {
		out[i] = provisionedView{Agent: agentOf(p.Agent, p.Key.Address), Address: p.Key.Address, Created: !p.Existing}
		if !p.Existing {
			out[i].CredentialID = p.CredentialID
			out[i].Token = p.Token.Reveal()
		}
		p.Token.Wipe()
	}
	return http.StatusOK, provisionResponse{Agents: out}, nil
}

type agentsResponse struct {
	Agents []agentView `json:"agents"`
	Next   string      `json:"next,omitempty"`
}

func validAgentStatus(s store.AgentStatus) bool {
	return s == store.AgentActive || s == store.AgentFrozen || s == store.AgentRevoked || s == store.AgentRetired
}

func (h *handler) agents(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	q, e := query(r, "fleet_id", "group_id", "status", "after", "limit")
	if e != nil {
		return 0, nil, e
	}
	var f store.AgentFilter
	for _, p := range []struct {
		name string
		dst  *string
	}{{"fleet_id", &f.FleetID}, {"group_id", &f.GroupID}, {"after", &f.After}} {
		if *p.dst, e = idParam(q, p.name); e != nil {
			return 0, nil, e
		}
	}
	if f.FleetID, e = h.scopedFleetParam(r, op, f.FleetID); e != nil {
		return 0, nil, e
	}
	if s := store.AgentStatus(q.Get("status")); s != "" {
		if !validAgentStatus(s) {
			return 0, nil, badRequest("status must be active, frozen, revoked or retired", nil)
		}
		f.Status = s
	}
	limit, e := limitParam(q)
	if e != nil {
		return 0, nil, e
	}
	// One more than asked tells whether there is a next page.
	f.Limit = limit + 1
	as, err := h.ops.Agents(r.Context(), f)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	var resp agentsResponse
	as, resp.Next = page(as, limit, func(a store.Agent) string { return a.ID })
	resp.Agents = make([]agentView, len(as))
	for i, a := range as {
		resp.Agents[i] = agentOf(a, "")
	}
	return http.StatusOK, resp, nil
}

type agentDetailResponse struct {
	Agent       agentView        `json:"agent"`
	Keys        []keyView        `json:"keys"`
	Credentials []credentialView `json:"credentials"`
}

type agentResponseOp struct {
	Agent agentView `json:"agent"`
}

func (h *handler) agentDetail(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
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
	d, err := h.ops.AgentDetail(r.Context(), id)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	resp := agentDetailResponse{Keys: make([]keyView, len(d.Keys)), Credentials: credentialsOf(d.Credentials)}
	address := ""
	for i, k := range d.Keys {
		resp.Keys[i] = keyOf(k)
		if k.Status == store.KeyActive {
			address = k.Address
		}
	}
	resp.Agent = agentOf(d.Agent, address)
	return http.StatusOK, resp, nil
}

// setAgentStatus freezes or unfreezes an agent.
func (h *handler) setAgentStatus(status store.AgentStatus) operatorFunc {
	return func(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
		id, e := pathID(r, "id", "agent")
		if e != nil {
			return 0, nil, e
		}
		st.agentID = id
		if e := h.inScope(r, op, payments.ScopeAgent, id); e != nil {
			return 0, nil, e
		}
		a, err := h.ops.SetAgentStatus(r.Context(), op, id, status)
		if err != nil {
			return 0, nil, serviceError(err)
		}
		return http.StatusOK, agentResponseOp{Agent: agentOf(a, "")}, nil
	}
}

// Policies.

type applyPolicyRequest struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

type applyPolicyResponse struct {
	Policy  policyView `json:"policy"`
	Changed bool       `json:"changed"`
}

type policiesResponse struct {
	Active   *policyView  `json:"active"`
	Versions []policyView `json:"versions"`
}

// policyScope reads the {level} and {scope_id} path values.
func policyScope(r *http.Request) (store.Level, string, *Error) {
	level := store.Level(r.PathValue("level"))
	if !level.Valid() {
		return "", "", badRequest(fmt.Sprintf("level %q is not fleet, group or agent", truncate(string(level))), nil)
	}
	scope, e := pathID(r, "scope_id", "scope")
	return level, scope, e
}

func (h *handler) applyPolicy(w http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	level, scope, e := policyScope(r)
	if e != nil {
		return 0, nil, e
	}
	if e := h.inScope(r, op, payments.ScopeOfLevel(level), scope); e != nil {
		return 0, nil, e
	}
	var req applyPolicyRequest
	if e := h.body(w, r, &req, false); e != nil {
		return 0, nil, e
	}
	if e := checkName("name", req.Name, false); e != nil {
		return 0, nil, e
	}
	if strings.TrimSpace(req.Source) == "" {
		return 0, nil, badRequest("source is required: the policy's YAML text", nil)
	}
	rec, changed, err := h.ops.ApplyPolicy(r.Context(), op, level, scope, req.Name, req.Source)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	return http.StatusOK, applyPolicyResponse{Policy: policyOf(rec), Changed: changed}, nil
}

func (h *handler) policies(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	level, scope, e := policyScope(r)
	if e != nil {
		return 0, nil, e
	}
	if e := h.inScope(r, op, payments.ScopeOfLevel(level), scope); e != nil {
		return 0, nil, e
	}
	active, versions, err := h.ops.Policies(r.Context(), level, scope)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	resp := policiesResponse{Versions: make([]policyView, len(versions))}
	if active != nil {
		v := policyOf(*active)
		resp.Active = &v
	}
	for i, p := range versions {
		resp.Versions[i] = policyOf(p)
	}
	return http.StatusOK, resp, nil
}

// Approvals.

type approvalResponseOp struct {
	Approval approvalView `json:"approval"`
}

type approvalsResponse struct {
	Approvals []approvalView `json:"approvals"`
}

func validApprovalStatus(s store.ApprovalStatus) bool {
	return s == store.ApprovalPending || s == store.ApprovalApproved || s == store.ApprovalDenied || s == store.ApprovalExpired
}

func (h *handler) approvals(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	q, e := query(r, "status", "approver", "limit")
	if e != nil {
		return 0, nil, e
	}
	// The queue to work on is the default; "all" lists every status.
	status := store.ApprovalPending
	switch s := q.Get("status"); {
	case s == "all":
		status = ""
	case s != "":
		status = store.ApprovalStatus(s)
		if !validApprovalStatus(status) {
			return 0, nil, badRequest("status must be pending, approved, denied, expired or all", nil)
		}
	}
	approver := q.Get("approver")
	if e := checkName("approver", approver, false); e != nil {
		return 0, nil, e
	}
	limit, e := limitParam(q)
	if e != nil {
		return 0, nil, e
	}
	ask := limit
	if op.Scoped() {
		ask = 0 // every one, then only the scope's, up to limit
	}
	vs, err := h.ops.Approvals(r.Context(), status, approver, ask)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	out := make([]approvalView, 0, min(len(vs), limit))
	for _, v := range vs {
		if len(out) == limit {
			break
		}
		if !op.Scoped() || v.Authorization.FleetID == op.FleetID {
			out = append(out, approvalOf(v))
		}
	}
	return http.StatusOK, approvalsResponse{Approvals: out}, nil
}

func (h *handler) approval(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	id, e := pathID(r, "id", "approval")
	if e != nil {
		return 0, nil, e
	}
	if e := h.inScope(r, op, payments.ScopeApproval, id); e != nil {
		return 0, nil, e
	}
	v, err := h.ops.Approval(r.Context(), id)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	st.authorizationID = v.Approval.AuthorizationID
	return http.StatusOK, approvalResponseOp{Approval: approvalOf(v)}, nil
}

// vote approves or denies; the service refuses an operator its Approvers do
// not name.
func (h *handler) vote(d store.VoteDecision) operatorFunc {
	return func(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, st *reqState) (int, any, error) {
		id, e := pathID(r, "id", "approval")
		if e != nil {
			return 0, nil, e
		}
		if e := h.inScope(r, op, payments.ScopeApproval, id); e != nil {
			return 0, nil, e
		}
		v, err := h.ops.Vote(r.Context(), op, id, d)
		if err != nil {
			return 0, nil, serviceError(err)
		}
		st.authorizationID = v.Approval.AuthorizationID
		st.outcome = string(v.Approval.Status)
		return http.StatusOK, approvalResponseOp{Approval: approvalOf(v)}, nil
	}
}

// Authorizations.

type authorizationsResponse struct {
	Authorizations []authorizationView `json:"authorizations"`
	Next           string              `json:"next,omitempty"`
}

func validAuthStatus(s store.AuthStatus) bool {
	switch s {
	case store.AuthReserved, store.AuthSigned, store.AuthSettled, store.AuthExpired, store.AuthCancelled, store.AuthFailed:
		return true
	}
	return false
}

func (h *handler) authorizations(_ http.ResponseWriter, r *http.Request, op payments.OperatorIdentity, _ *reqState) (int, any, error) {
	q, e := query(r, "agent_id", "fleet_id", "status", "after", "limit")
	if e != nil {
		return 0, nil, e
	}
	var f store.AuthorizationFilter
	for _, p := range []struct {
		name string
		dst  *string
	}{{"agent_id", &f.AgentID}, {"fleet_id", &f.FleetID}, {"after", &f.After}} {
		if *p.dst, e = idParam(q, p.name); e != nil {
			return 0, nil, e
		}
	}
	if f.FleetID, e = h.scopedFleetParam(r, op, f.FleetID); e != nil {
		return 0, nil, e
	}
	if s := q.Get("status"); s != "" {
		for _, part := range strings.Split(s, ",") {
			as := store.AuthStatus(part)
			if !validAuthStatus(as) {
				return 0, nil, badRequest("status must be a comma-separated list of reserved, signed, settled, expired, cancelled and failed", nil)
			}
			f.Statuses = append(f.Statuses, as)
		}
	}
	limit, e := limitParam(q)
	if e != nil {
		return 0, nil, e
	}
	f.Limit = limit + 1
	as, err := h.ops.Authorizations(r.Context(), f)
	if err != nil {
		return 0, nil, serviceError(err)
	}
	var resp authorizationsResponse
	as, resp.Next = page(as, limit, func(a store.Authorization) string { return a.ID })
	resp.Authorizations = make([]authorizationView, len(as))
	for i, a := range as {
		resp.Authorizations[i] = authorizationOf(a)
	}
	return http.StatusOK, resp, nil
}

// Audit.

type auditRecordsResponse struct {
	Records []audit.ExportedRecord `json:"records"`
}

type auditCheckpointsResponse struct {
	Checkpoints []audit.ExportedCheckpoint `json:"checkpoints"`
}

type auditKeyResponse struct {
	Address string `json:"address"`
}

func (h *handler) auditRecords(_ http.ResponseWriter, r *http.Request, _ payments.OperatorIdentity, _ *reqState) (int, any, error) {
	q, e := query(r, "after", "limit")
	if e != nil {
		return 0, nil, e
	}
	var after uint64
	if s := q.Get("after"); s != "" {
		var err error
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			return 0, nil, badRequest("after must be a record's sequence number (0 or more)", err)
		}
	}
	limit, e := limitParam(q)
	if e != nil {
		return 0, nil, e
	}
	var recs []store.AuditRecord
	err := h.audit.ReadTx(r.Context(), func(tx store.ReadTx) error {
		var err error
		recs, err = tx.AuditRecords(r.Context(), after, limit)
		return err
	})
	if err != nil {
		return 0, nil, serviceError(err)
	}
	out := make([]audit.ExportedRecord, len(recs))
	for i, rec := range recs {
		out[i] = audit.RecordLine(rec)
	}
	return http.StatusOK, auditRecordsResponse{Records: out}, nil
}

func (h *handler) auditCheckpoints(_ http.ResponseWriter, r *http.Request, _ payments.OperatorIdentity, _ *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	var cps []store.AuditCheckpoint
	err := h.audit.ReadTx(r.Context(), func(tx store.ReadTx) error {
		var err error
		cps, err = tx.AuditCheckpoints(r.Context())
		return err
	})
	if err != nil {
		return 0, nil, serviceError(err)
	}
	out := make([]audit.ExportedCheckpoint, len(cps))
	for i, c := range cps {
		out[i] = audit.CheckpointLine(c)
	}
	return http.StatusOK, auditCheckpointsResponse{Checkpoints: out}, nil
}

func (h *handler) auditKeyAddress(_ http.ResponseWriter, r *http.Request, _ payments.OperatorIdentity, _ *reqState) (int, any, error) {
	if _, e := query(r); e != nil {
		return 0, nil, e
	}
	if h.auditKey == (common.Address{}) {
		return 0, nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "this server has no audit checkpoint key"}
	}
	return http.StatusOK, auditKeyResponse{Address: strings.ToLower(h.auditKey.Hex())}, nil
}
