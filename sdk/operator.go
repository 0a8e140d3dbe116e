package sdk

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// OperatorIdentity calls GET /v1/operator: the credential an operator token is, with its role.
func (c *Client) OperatorIdentity(ctx context.Context) (*OperatorIdentity, error) {
	var out OperatorIdentity
	if _, err := c.do(ctx, http.MethodGet, "/v1/operator", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// seg escapes one path segment and refuses an empty one, which would name another route.
func seg(what, id string) (string, error) {
	if id == "" {
		return "", errors.New("sdk: empty " + what)
	}
	return url.PathEscape(id), nil
}

// CreateCredential calls POST /v1/credentials [admin]: a new operator credential. The token
// is in the answer only.
func (c *Client) CreateCredential(ctx context.Context, r NewCredential) (*IssuedCredential, error) {
	var out IssuedCredential
	if _, err := c.do(ctx, http.MethodPost, "/v1/credentials", nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Credentials calls GET /v1/credentials [admin]: every operator credential.
func (c *Client) Credentials(ctx context.Context) ([]Credential, error) {
	var out struct {
		Credentials []Credential `json:"credentials"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/credentials", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Credentials, nil
}

// RevokeCredential calls POST /v1/credentials/{id}/revoke [admin].
func (c *Client) RevokeCredential(ctx context.Context, id string) (*Credential, error) {
	p, err := seg("credential id", id)
	if err != nil {
		return nil, err
	}
	var out struct {
		Credential Credential `json:"credential"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/credentials/"+p+"/revoke", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Credential, nil
}

// Fleets calls GET /v1/fleets.
func (c *Client) Fleets(ctx context.Context) ([]Fleet, error) {
	var out struct {
		Fleets []Fleet `json:"fleets"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/fleets", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Fleets, nil
}

// CreateFleet calls POST /v1/fleets; treasury (an address) is optional.
func (c *Client) CreateFleet(ctx context.Context, name, treasury string) (*Fleet, error) {
	in := struct {
		Name     string `json:"name"`
		Treasury string `json:"treasury,omitempty"`
	}{name, treasury}
	var out struct {
		Fleet Fleet `json:"fleet"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/fleets", nil, in, &out); err != nil {
		return nil, err
	}
	return &out.Fleet, nil
}

// Groups calls GET /v1/fleets/{id}/groups.
func (c *Client) Groups(ctx context.Context, fleetID string) ([]Group, error) {
	p, err := seg("fleet id", fleetID)
	if err != nil {
		return nil, err
	}
	var out struct {
		Groups []Group `json:"groups"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/fleets/"+p+"/groups", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Groups, nil
}

// CreateGroup calls POST /v1/fleets/{id}/groups.
func (c *Client) CreateGroup(ctx context.Context, fleetID, name string) (*Group, error) {
	p, err := seg("fleet id", fleetID)
	if err != nil {
		return nil, err
	}
	in := struct {
		Name string `json:"name"`
	}{name}
	var out struct {
		Group Group `json:"group"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/fleets/"+p+"/groups", nil, in, &out); err != nil {
		return nil, err
	}
	return &out.Group, nil
}

// CreateAgents calls POST /v1/agents: provisions agents idempotently by external id. A new
// agent comes with its token, which the API shows this once.
func (c *Client) CreateAgents(ctx context.Context, r CreateAgentsRequest) ([]ProvisionedAgent, error) {
	var out struct {
		Agents []ProvisionedAgent `json:"agents"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/agents", nil, r, &out); err != nil {
		return nil, err
	}
	return out.Agents, nil
}

func pageQuery(q url.Values, after string, limit int) url.Values {
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// Agents calls GET /v1/agents: one page of agents matching f.
func (c *Client) Agents(ctx context.Context, f AgentFilter) (*AgentPage, error) {
	q := url.Values{}
	setIf(q, "fleet_id", f.FleetID)
	setIf(q, "group_id", f.GroupID)
	setIf(q, "status", f.Status)
	var out AgentPage
	if _, err := c.do(ctx, http.MethodGet, "/v1/agents", pageQuery(q, f.After, f.Limit), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Agent calls GET /v1/agents/{id}: the agent, its keys and its credentials.
func (c *Client) Agent(ctx context.Context, id string) (*AgentDetail, error) {
	p, err := seg("agent id", id)
	if err != nil {
		return nil, err
	}
	var out AgentDetail
	if _, err := c.do(ctx, http.MethodGet, "/v1/agents/"+p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) agentAction(ctx context.Context, id, action string) (*Agent, error) {
	p, err := seg("agent id", id)
	if err != nil {
		return nil, err
	}
	var out struct {
		Agent Agent `json:"agent"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/agents/"+p+"/"+action, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Agent, nil
}

// FreezeAgent calls POST /v1/agents/{id}/freeze: the agent's payments are refused until
// UnfreezeAgent.
func (c *Client) FreezeAgent(ctx context.Context, id string) (*Agent, error) {
	return c.agentAction(ctx, id, "freeze")
}

// UnfreezeAgent calls POST /v1/agents/{id}/unfreeze.
func (c *Client) UnfreezeAgent(ctx context.Context, id string) (*Agent, error) {
	return c.agentAction(ctx, id, "unfreeze")
}

// IssueAgentCredential calls POST /v1/agents/{id}/credentials: another token for the agent;
// expiresAt nil means it never expires.
func (c *Client) IssueAgentCredential(ctx context.Context, agentID string, expiresAt *time.Time) (*IssuedCredential, error) {
	p, err := seg("agent id", agentID)
	if err != nil {
		return nil, err
	}
	in := struct {
		ExpiresAt *time.Time `json:"expires_at,omitempty"`
	}{expiresAt}
	var out IssuedCredential
	if _, err := c.do(ctx, http.MethodPost, "/v1/agents/"+p+"/credentials", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ApplyPolicy calls PUT /v1/policies/{level}/{scope_id}: source (the policy YAML) becomes the
// active version at the scope, unless it equals the active one (Changed false). A policy that
// does not parse is an ErrBadRequest whose message names the line.
func (c *Client) ApplyPolicy(ctx context.Context, level, scopeID, name, source string) (*AppliedPolicy, error) {
	l, err := seg("policy level", level)
	if err != nil {
		return nil, err
	}
	s, err := seg("policy scope id", scopeID)
	if err != nil {
		return nil, err
	}
	in := struct {
		Name   string `json:"name"`
		Source string `json:"source"`
	}{name, source}
	var out AppliedPolicy
	if _, err := c.do(ctx, http.MethodPut, "/v1/policies/"+l+"/"+s, nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Policies calls GET /v1/policies/{level}/{scope_id}.
func (c *Client) Policies(ctx context.Context, level, scopeID string) (*PolicyVersions, error) {
	l, err := seg("policy level", level)
	if err != nil {
		return nil, err
	}
	s, err := seg("policy scope id", scopeID)
	if err != nil {
		return nil, err
	}
	var out PolicyVersions
	if _, err := c.do(ctx, http.MethodGet, "/v1/policies/"+l+"/"+s, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Approvals calls GET /v1/approvals.
func (c *Client) Approvals(ctx context.Context, f ApprovalFilter) ([]Approval, error) {
	q := url.Values{}
	setIf(q, "status", f.Status)
	setIf(q, "approver", f.Approver)
	var out struct {
		Approvals []Approval `json:"approvals"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/approvals", pageQuery(q, "", f.Limit), nil, &out); err != nil {
		return nil, err
	}
	return out.Approvals, nil
}

func (c *Client) approval(ctx context.Context, method, id, action string) (*Approval, error) {
	p, err := seg("approval id", id)
	if err != nil {
		return nil, err
	}
	path := "/v1/approvals/" + p
	if action != "" {
		path += "/" + action
	}
	var out struct {
		Approval Approval `json:"approval"`
	}
	if _, err := c.do(ctx, method, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Approval, nil
}

// Approval calls GET /v1/approvals/{id}.
func (c *Client) Approval(ctx context.Context, id string) (*Approval, error) {
	return c.approval(ctx, http.MethodGet, id, "")
}

// Approve calls POST /v1/approvals/{id}/approve: the token's operator votes for the payment
// (it must be one of the approval's approvers). When the last needed vote arrives, the
// payment is signed in this call.
func (c *Client) Approve(ctx context.Context, id string) (*Approval, error) {
	return c.approval(ctx, http.MethodPost, id, "approve")
}

// Deny calls POST /v1/approvals/{id}/deny.
func (c *Client) Deny(ctx context.Context, id string) (*Approval, error) {
	return c.approval(ctx, http.MethodPost, id, "deny")
}

// Authorizations calls GET /v1/authorizations: one page of payments matching f.
func (c *Client) Authorizations(ctx context.Context, f AuthorizationFilter) (*AuthorizationPage, error) {
	q := url.Values{}
	setIf(q, "agent_id", f.AgentID)
	setIf(q, "fleet_id", f.FleetID)
	setIf(q, "status", f.Status)
	var out AuthorizationPage
	if _, err := c.do(ctx, http.MethodGet, "/v1/authorizations", pageQuery(q, f.After, f.Limit), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AuditRecords calls GET /v1/audit/records: records with Seq > after, in order, at most
// limit (0: the server's page size). The server may return fewer than limit before the end;
// only an empty page means the end.
func (c *Client) AuditRecords(ctx context.Context, after uint64, limit int) ([]AuditRecord, error) {
	q := url.Values{"after": {strconv.FormatUint(after, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Records []AuditRecord `json:"records"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/audit/records", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Records, nil
}

// AuditCheckpoints calls GET /v1/audit/checkpoints: every signed checkpoint, in order.
func (c *Client) AuditCheckpoints(ctx context.Context) ([]AuditCheckpoint, error) {
	var out struct {
		Checkpoints []AuditCheckpoint `json:"checkpoints"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/audit/checkpoints", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Checkpoints, nil
}

// AuditKey calls GET /v1/audit/key: the address of the key that signs checkpoints, as the
// server states it. A verifier should get the address from a source it trusts; this one is
// only as trustworthy as the server.
func (c *Client) AuditKey(ctx context.Context) (string, error) {
	var out struct {
		Address string `json:"address"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/audit/key", nil, nil, &out); err != nil {
		return "", err
	}
	return out.Address, nil
}
