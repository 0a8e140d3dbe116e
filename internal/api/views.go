package api

import (
	"time"

	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/store"
)

// The JSON forms of the store's records in operator answers. They are built
// field by field, never by encoding a store type, so that nothing is sent by
// accident: no credential hash and no signed payment header ever leaves
// through an operator route.

// optTime is the wire form of a time that may be unset (omitted when zero).
func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timeText(t)
}

// credentialView is a Credential; its hash is never sent.
type credentialView struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	AgentID    string `json:"agent_id,omitempty"`
	Role       string `json:"role,omitempty"`
	FleetID    string `json:"fleet_id,omitempty"`
	Name       string `json:"name"`
	CreatedAt  string `json:"created_at"`
	ExpiresAt  string `json:"expires_at,omitempty"`
	RevokedAt  string `json:"revoked_at,omitempty"`
	LastUsedAt string `json:"last_used_at,omitempty"`
}

func credentialOf(c store.Credential) credentialView {
	return credentialView{ID: c.ID, Kind: string(c.Kind), AgentID: c.AgentID, Role: string(c.Role), FleetID: c.FleetID, Name: c.Name,
		CreatedAt: timeText(c.CreatedAt), ExpiresAt: optTime(c.ExpiresAt), RevokedAt: optTime(c.RevokedAt),
		LastUsedAt: optTime(c.LastUsedAt)}
}

func credentialsOf(cs []store.Credential) []credentialView {
	out := make([]credentialView, len(cs))
	for i, c := range cs {
		out[i] = credentialOf(c)
	}
	return out
}

type fleetView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Index     uint32 `json:"index"`
	Treasury  string `json:"treasury,omitempty"`
	CreatedAt string `json:"created_at"`
}

func fleetOf(f store.Fleet) fleetView {
	return fleetView{ID: f.ID, Name: f.Name, Index: f.Index, Treasury: f.Treasury, CreatedAt: timeText(f.CreatedAt)}
}

type groupView struct {
	ID        string `json:"id"`
	FleetID   string `json:"fleet_id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

func groupOf(g store.Group) groupView {
	return groupView{ID: g.ID, FleetID: g.FleetID, Name: g.Name, CreatedAt: timeText(g.CreatedAt)}
}

// agentView is an Agent; Address is its active key's, when the answer knows it.
type agentView struct {
	ID         string            `json:"id"`
	FleetID    string            `json:"fleet_id"`
	GroupID    string            `json:"group_id,omitempty"`
	ExternalID string            `json:"external_id,omitempty"`
	Name       string            `json:"name"`
	Index      uint32            `json:"index"`
	Status     string            `json:"status"`
	Labels     map[string]string `json:"labels,omitempty"`
	Address    string            `json:"address,omitempty"`
	CreatedAt  string            `json:"created_at"`
	UpdatedAt  string            `json:"updated_at"`
}

func agentOf(a store.Agent, address string) agentView {
	return agentView{ID: a.ID, FleetID: a.FleetID, GroupID: a.GroupID, ExternalID: a.ExternalID, Name: a.Name,
		Index: a.Index, Status: string(a.Status), Labels: a.Labels, Address: address,
		CreatedAt: timeText(a.CreatedAt), UpdatedAt: timeText(a.UpdatedAt)}
}

type keyView struct {
	ID         string `json:"id"`
	Generation uint32 `json:"generation"`
	Path       string `json:"path"`
	Address    string `json:"address"`
	Status     string `json:"status"`
	CreatedAt  string `json:"created_at"`
	SignCount  int64  `json:"sign_count"`
}

func keyOf(k store.Key) keyView {
	return keyView{ID: k.ID, Generation: k.Generation, Path: k.Path, Address: k.Address, Status: string(k.Status),
		CreatedAt: timeText(k.CreatedAt), SignCount: k.SignCount}
}

type policyView struct {
	ID        string `json:"id"`
	Level     string `json:"level"`
	ScopeID   string `json:"scope_id"`
	Name      string `json:"name"`
	Hash      string `json:"hash"`
	Source    string `json:"source"`
	Version   int64  `json:"version"`
	Active    bool   `json:"active"`
	CreatedAt string `json:"created_at"`
}

func policyOf(p store.PolicyRecord) policyView {
	return policyView{ID: p.ID, Level: string(p.Level), ScopeID: p.ScopeID, Name: p.Name, Hash: p.Hash, Source: p.Source,
		Version: p.Version, Active: p.Active, CreatedAt: timeText(p.CreatedAt)}
}

// authorizationView is an Authorization without its signed header: an operator
// sees what was paid, never the means to pay it.
type authorizationView struct {
	ID          string `json:"id"`
	AgentID     string `json:"agent_id"`
	KeyID       string `json:"key_id"`
	FleetID     string `json:"fleet_id"`
	GroupID     string `json:"group_id,omitempty"`
	Network     string `json:"network"`
	Asset       string `json:"asset"`
	PayTo       string `json:"pay_to"`
	From        string `json:"from"`
	ResourceURL string `json:"resource_url"`
	Amount      string `json:"amount"`
	AmountMicro int64  `json:"amount_micro"`
	Nonce       string `json:"nonce"`
	ValidAfter  string `json:"valid_after"`
	ValidBefore string `json:"valid_before"`
	Status      string `json:"status"`
	PolicyHash  string `json:"policy_hash"`
	TxHash      string `json:"tx_hash,omitempty"`
	CreatedAt   string `json:"created_at"`
	SignedAt    string `json:"signed_at,omitempty"`
	SettledAt   string `json:"settled_at,omitempty"`
}

func authorizationOf(a store.Authorization) authorizationView {
	return authorizationView{ID: a.ID, AgentID: a.AgentID, KeyID: a.KeyID, FleetID: a.FleetID, GroupID: a.GroupID,
		Network: a.Network, Asset: a.Asset, PayTo: a.PayTo, From: a.From, ResourceURL: a.ResourceURL,
		Amount: a.AmountAtomic, AmountMicro: a.AmountMicro, Nonce: a.Nonce,
		ValidAfter: timeText(a.ValidAfter), ValidBefore: timeText(a.ValidBefore), Status: string(a.Status),
		PolicyHash: a.PolicyHash, TxHash: a.TxHash, CreatedAt: timeText(a.CreatedAt),
		SignedAt: optTime(a.SignedAt), SettledAt: optTime(a.SettledAt)}
}

type voteView struct {
	Approver string `json:"approver"`
	Decision string `json:"decision"`
	At       string `json:"at"`
}

type approvalView struct {
	ID              string            `json:"id"`
	AuthorizationID string            `json:"authorization_id"`
	Rule            string            `json:"rule"`
	Quorum          int               `json:"quorum"`
	Approvers       []string          `json:"approvers"`
	Votes           []voteView        `json:"votes"`
	Status          string            `json:"status"`
	CreatedAt       string            `json:"created_at"`
	ExpiresAt       string            `json:"expires_at"`
	DecidedAt       string            `json:"decided_at,omitempty"`
	Payment         authorizationView `json:"payment"`
}

func approvalOf(v payments.ApprovalView) approvalView {
	a := v.Approval
	votes := make([]voteView, len(a.Votes))
	for i, vt := range a.Votes {
		votes[i] = voteView{Approver: vt.Approver, Decision: string(vt.Decision), At: timeText(vt.At)}
	}
	approvers := a.Approvers
	if approvers == nil {
		approvers = []string{}
	}
	return approvalView{ID: a.ID, AuthorizationID: a.AuthorizationID, Rule: a.Rule, Quorum: a.Quorum,
		Approvers: approvers, Votes: votes, Status: string(a.Status), CreatedAt: timeText(a.CreatedAt),
		ExpiresAt: timeText(a.ExpiresAt), DecidedAt: optTime(a.DecidedAt), Payment: authorizationOf(v.Authorization)}
}

// Audit records and checkpoints are served in exactly the JSON Lines form
// audit.Export writes (audit.ExportedRecord, audit.ExportedCheckpoint), so that a
// client can write the records it pages through as an export and verify them.
