package sdk

import (
	"context"
	"net/http"
	"time"
)

// CodeLifecycleUnavailable is the error code of the lifecycle routes on a daemon configured
// without them (no rpc_url, relayer or gas-sponsor key): 503.
const CodeLifecycleUnavailable = "lifecycle_unavailable"

// DepMap is an agent's dependency map (GET /v1/agents/{id}/deps): what its keys are tied to.
type DepMap struct {
	Agent struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Status   string `json:"status"`
		FleetID  string `json:"fleet_id"`
		GroupID  string `json:"group_id,omitempty"`
		Treasury string `json:"treasury,omitempty"`
	} `json:"agent"`
	Keys        []KeyDeps `json:"keys"`
	Credentials []struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		Usable    bool      `json:"usable"`
		ExpiresAt time.Time `json:"expires_at,omitzero"`
		RevokedAt time.Time `json:"revoked_at,omitzero"`
	} `json:"credentials"`
	Policies []struct {
		Level   string `json:"level"`
		ScopeID string `json:"scope_id"`
		Name    string `json:"name"`
		Hash    string `json:"hash"`
		Version int64  `json:"version"`
	} `json:"policies"`
	Payees  []Counterparty `json:"payees"`
	Origins []Counterparty `json:"origins"`
	// Chain is false when the daemon did not read the chain.
	Chain bool      `json:"chain"`
	At    time.Time `json:"at"`
}

// KeyDeps is one key generation of a DepMap. Amounts are atomic units as decimal strings.
type KeyDeps struct {
	ID          string `json:"id"`
	Generation  uint32 `json:"generation"`
	Address     string `json:"address"`
	Status      string `json:"status"`
	SignCount   int64  `json:"sign_count"`
	Outstanding []struct {
		ID          string    `json:"id"`
		Status      string    `json:"status"`
		Asset       string    `json:"asset"`
		PayTo       string    `json:"pay_to"`
		Amount      string    `json:"amount"`
		Nonce       string    `json:"nonce"`
		ValidBefore time.Time `json:"valid_before"`
	} `json:"outstanding"`
	Allowances []struct {
		Asset   string `json:"asset"`
		Symbol  string `json:"symbol"`
		Spender string `json:"spender"`
		Amount  string `json:"amount"`
	} `json:"allowances"`
	PermitNonces []struct {
		Asset  string `json:"asset"`
		Symbol string `json:"symbol"`
		Nonce  string `json:"nonce"`
	} `json:"permit_nonces"`
	Balances []struct {
		Asset  string `json:"asset"`
		Symbol string `json:"symbol"`
		Amount string `json:"amount"`
	} `json:"balances"`
	// Native is the native-coin balance in wei.
	Native string `json:"native,omitempty"`
}

// Counterparty is a payee or origin an agent paid, with totals per asset address.
type Counterparty struct {
	Name     string            `json:"name"`
	Payments int               `json:"payments"`
	Totals   map[string]string `json:"totals"`
}

// LifecycleReport is a revocation or rotation job as recorded, step by step. Status
// "running" with Error set means a step failed: call the same method again to resume.
type LifecycleReport struct {
	JobID      string          `json:"job_id"`
	Kind       string          `json:"kind"`
	AgentID    string          `json:"agent_id"`
	Status     string          `json:"status"`
	Resumed    bool            `json:"resumed,omitempty"`
	Steps      []LifecycleStep `json:"steps"`
	Error      string          `json:"error,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
}

// LifecycleStep is one step of a LifecycleReport.
type LifecycleStep struct {
	Name    string            `json:"name"`
	Status  string            `json:"status"`
	Actions []LifecycleAction `json:"actions,omitempty"`
	Pending []string          `json:"pending,omitempty"`
	Note    string            `json:"note,omitempty"`
	Error   string            `json:"error,omitempty"`
	At      time.Time         `json:"at"`
}

// LifecycleAction is one thing a step did (a cancellation, an allowance reset, a sweep…),
// with its transaction hash when it went on chain.
type LifecycleAction struct {
	What    string `json:"what"`
	Subject string `json:"subject,omitempty"`
	Asset   string `json:"asset,omitempty"`
	Amount  string `json:"amount,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	TxHash  string `json:"tx_hash,omitempty"`
	Note    string `json:"note,omitempty"`
}

// AgentDeps calls GET /v1/agents/{id}/deps.
func (c *Client) AgentDeps(ctx context.Context, agentID string) (*DepMap, error) {
	p, err := seg("agent id", agentID)
	if err != nil {
		return nil, err
	}
	var out struct {
		Deps DepMap `json:"deps"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/agents/"+p+"/deps", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Deps, nil
}

// AgentJobs calls GET /v1/agents/{id}/jobs: the agent's revocations and rotations, oldest first.
func (c *Client) AgentJobs(ctx context.Context, agentID string) ([]LifecycleReport, error) {
	p, err := seg("agent id", agentID)
	if err != nil {
		return nil, err
	}
	var out struct {
		Jobs []LifecycleReport `json:"jobs"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/agents/"+p+"/jobs", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Jobs, nil
}

// RevokeAgent calls POST /v1/agents/{id}/revoke: it waits for the revocation job (credentials,
// key, on-chain cancellations, allowance resets, sweep to the treasury) and returns its report.
// An agent already revoked is an ErrConflict (code state_conflict).
func (c *Client) RevokeAgent(ctx context.Context, agentID string) (*LifecycleReport, error) {
	return c.lifecycleJob(ctx, agentID, "revoke", struct{}{})
}

// RotateAgent calls POST /v1/agents/{id}/rotate: the agent's next key generation; outstanding
// is "cancel" (default when empty) or "expire" for the old key's open authorizations.
func (c *Client) RotateAgent(ctx context.Context, agentID, outstanding string) (*LifecycleReport, error) {
	return c.lifecycleJob(ctx, agentID, "rotate", struct {
		Outstanding string `json:"outstanding,omitempty"`
	}{outstanding})
}

func (c *Client) lifecycleJob(ctx context.Context, agentID, action string, in any) (*LifecycleReport, error) {
	p, err := seg("agent id", agentID)
	if err != nil {
		return nil, err
	}
	var out struct {
		Report LifecycleReport `json:"report"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/agents/"+p+"/"+action, nil, in, &out); err != nil {
		return nil, err
	}
	return &out.Report, nil
}
