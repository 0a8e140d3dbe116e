package lifecycle

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/store"
)

// DepMap is everything an agent's keys are tied to: what must be undone, moved
// or revoked before the agent is gone.
type DepMap struct {
	Agent       AgentRef        `json:"agent"`
	Keys        []KeyDeps       `json:"keys"`
	Credentials []CredentialRef `json:"credentials"`
	Policies    []PolicyRef     `json:"policies"`
	Payees      []Counterparty  `json:"payees"`
	Origins     []Counterparty  `json:"origins"`
	// Chain is false when the on-chain half (allowances, nonces, balances) was not
	// read: no chain configured.
	Chain bool      `json:"chain"`
	At    time.Time `json:"at"`
}

// AgentRef names the agent.
type AgentRef struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Status   store.AgentStatus `json:"status"`
	FleetID  string            `json:"fleet_id"`
	GroupID  string            `json:"group_id,omitempty"`
	Treasury string            `json:"treasury,omitempty"`
}

// KeyDeps is one key generation and what it is tied to.
type KeyDeps struct {
	ID         string          `json:"id"`
	Generation uint32          `json:"generation"`
	Address    string          `json:"address"`
	Status     store.KeyStatus `json:"status"`
	SignCount  int64           `json:"sign_count"`
	// Outstanding are signed (or reserved) authorizations not yet settled,
	// cancelled or expired.
	Outstanding  []AuthRef      `json:"outstanding"`
	Allowances   []Allowance    `json:"allowances"`
	PermitNonces []PermitNonce  `json:"permit_nonces"`
	Balances     []TokenBalance `json:"balances"`
	// Native is the native-coin balance in wei (decimal).
	Native string `json:"native,omitempty"`
}

// AuthRef is an outstanding authorization.
type AuthRef struct {
	ID          string           `json:"id"`
	Status      store.AuthStatus `json:"status"`
	Asset       string           `json:"asset"`
	PayTo       string           `json:"pay_to"`
	Amount      string           `json:"amount"`
	Nonce       string           `json:"nonce"`
	ValidBefore time.Time        `json:"valid_before"`
}

// Allowance is a non-zero ERC-20 allowance the key granted (found in Approval
// logs, confirmed with allowance()).
type Allowance struct {
	Asset   string `json:"asset"`
	Symbol  string `json:"symbol"`
	Spender string `json:"spender"`
	Amount  string `json:"amount"`
}

// PermitNonce is the key's EIP-2612 nonce on a token: how many permits it has
// signed that were used. fleetkey signs none, so any non-zero value deserves a look.
type PermitNonce struct {
	Asset  string `json:"asset"`
	Symbol string `json:"symbol"`
	Nonce  string `json:"nonce"`
}

// TokenBalance is a non-zero token balance.
type TokenBalance struct {
	Asset  string `json:"asset"`
	Symbol string `json:"symbol"`
	Amount string `json:"amount"`
}

// CredentialRef is an agent credential (never its hash).
type CredentialRef struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Usable    bool      `json:"usable"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// PolicyRef is a policy in force at one of the agent's levels.
type PolicyRef struct {
	Level   store.Level `json:"level"`
	ScopeID string      `json:"scope_id"`
	Name    string      `json:"name"`
	Hash    string      `json:"hash"`
	Version int64       `json:"version"`
}

// Counterparty is a payee or an origin the agent paid (signed or settled), with
// the count and the total per asset.
type Counterparty struct {
	Name     string            `json:"name"`
	Payments int               `json:"payments"`
	Totals   map[string]string `json:"totals"`
}

// Deps builds the agent's dependency map. Without a chain the on-chain half is
// left out (Chain false).
func (m *Manager) Deps(ctx context.Context, agentID string) (*DepMap, error) {
	d := &DepMap{At: m.clock(), Chain: m.hasChain()}
	var (
		keys  []store.Key
		auths []store.Authorization
	)
	err := m.cfg.Store.ReadTx(ctx, func(rt store.ReadTx) error {
		a, err := rt.Agent(ctx, agentID)
		if err != nil {
			return err
		}
		f, err := rt.Fleet(ctx, a.FleetID)
		if err != nil {
			return err
		}
		d.Agent = AgentRef{ID: a.ID, Name: a.Name, Status: a.Status, FleetID: a.FleetID, GroupID: a.GroupID, Treasury: f.Treasury}
		if keys, err = rt.Keys(ctx, a.ID); err != nil {
			return err
		}
		creds, err := rt.Credentials(ctx, store.CredentialFilter{Kind: store.CredentialAgent, AgentID: a.ID})
		if err != nil {
			return err
		}
		for _, c := range creds {
			d.Credentials = append(d.Credentials, CredentialRef{ID: c.ID, Name: c.Name, Usable: c.Usable(d.At), ExpiresAt: c.ExpiresAt, RevokedAt: c.RevokedAt})
		}
		for _, sc := range []struct {
			l  store.Level
			id string
		}{{store.LevelFleet, a.FleetID}, {store.LevelGroup, a.GroupID}, {store.LevelAgent, a.ID}} {
			if sc.id == "" {
				continue
			}
			p, err := rt.ActivePolicy(ctx, sc.l, sc.id)
			if err == nil {
				d.Policies = append(d.Policies, PolicyRef{Level: p.Level, ScopeID: p.ScopeID, Name: p.Name, Hash: p.Hash, Version: p.Version})
			} else if !isNotFound(err) {
				return err
			}
		}
		auths, err = rt.Authorizations(ctx, store.AuthorizationFilter{AgentID: a.ID})
		return err
	})
	if err != nil {
		return nil, err
	}
	payees, origins := map[string]*Counterparty{}, map[string]*Counterparty{}
	count := func(m map[string]*Counterparty, name, asset, amount string) {
		c := m[name]
		if c == nil {
			c = &Counterparty{Name: name, Totals: map[string]string{}}
			m[name] = c
		}
		c.Payments++
		t, _ := new(big.Int).SetString(cmp.Or(c.Totals[asset], "0"), 10)
		v, ok := new(big.Int).SetString(amount, 10)
		if ok && t != nil {
			c.Totals[asset] = t.Add(t, v).String()
		}
	}
	outstanding := map[string][]AuthRef{}
	for _, a := range auths {
		switch a.Status {
		case store.AuthSigned, store.AuthReserved:
			outstanding[a.KeyID] = append(outstanding[a.KeyID], AuthRef{ID: a.ID, Status: a.Status, Asset: a.Asset, PayTo: a.PayTo,
				Amount: a.AmountAtomic, Nonce: a.Nonce, ValidBefore: a.ValidBefore})
		}
		if a.Status == store.AuthSigned || a.Status == store.AuthSettled {
			count(payees, a.PayTo, a.Asset, a.AmountAtomic)
			if a.Origin != "" {
				count(origins, a.Origin, a.Asset, a.AmountAtomic)
			}
		}
	}
	for _, c := range payees {
		d.Payees = append(d.Payees, *c)
	}
	for _, c := range origins {
		d.Origins = append(d.Origins, *c)
	}
	byName := func(a, b Counterparty) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(d.Payees, byName)
	slices.SortFunc(d.Origins, byName)
	for _, k := range keys {
		kd := KeyDeps{ID: k.ID, Generation: k.Generation, Address: k.Address, Status: k.Status, SignCount: k.SignCount, Outstanding: outstanding[k.ID]}
		if d.Chain {
			if err := m.chainDeps(ctx, &kd); err != nil {
				return nil, err
			}
		}
		d.Keys = append(d.Keys, kd)
	}
	return d, nil
}

func (m *Manager) chainDeps(ctx context.Context, kd *KeyDeps) error {
	owner := common.HexToAddress(kd.Address)
	for _, a := range m.assets {
		tok, err := m.caller(a)
		if err != nil {
			return err
		}
		al, err := m.allowances(ctx, a, owner)
		if err != nil {
			return err
		}
		for sp, v := range al {
			kd.Allowances = append(kd.Allowances, Allowance{Asset: a.Address.Hex(), Symbol: a.Symbol, Spender: sp.Hex(), Amount: v.String()})
		}
		n, err := tok.Nonces(m.call(ctx), owner)
		if err != nil {
			return fmt.Errorf("lifecycle: nonces(%s) on %s: %w", owner.Hex(), a.Symbol, err)
		}
		kd.PermitNonces = append(kd.PermitNonces, PermitNonce{Asset: a.Address.Hex(), Symbol: a.Symbol, Nonce: n.String()})
		b, err := tok.BalanceOf(m.call(ctx), owner)
		if err != nil {
			return fmt.Errorf("lifecycle: balanceOf(%s) on %s: %w", owner.Hex(), a.Symbol, err)
		}
		if b.Sign() > 0 {
			kd.Balances = append(kd.Balances, TokenBalance{Asset: a.Address.Hex(), Symbol: a.Symbol, Amount: b.String()})
		}
	}
	slices.SortFunc(kd.Allowances, func(a, b Allowance) int { return cmp.Compare(a.Asset+a.Spender, b.Asset+b.Spender) })
	nb, err := m.cfg.Backend.BalanceAt(ctx, owner, nil)
	if err != nil {
		return fmt.Errorf("lifecycle: balance of %s: %w", owner.Hex(), err)
	}
	kd.Native = nb.String()
	return nil
}

// WriteTable prints the map as aligned text sections.
func (d *DepMap) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("agent\t%s (%s)\tstatus %s\tfleet %s\tgroup %s\ttreasury %s\n", d.Agent.ID, d.Agent.Name, d.Agent.Status, d.Agent.FleetID, cmp.Or(d.Agent.GroupID, "-"), cmp.Or(d.Agent.Treasury, "unset"))
	p("\nKEY\tGEN\tADDRESS\tSTATUS\tSIGNED\tNATIVE\tBALANCES\n")
	for _, k := range d.Keys {
		var bs []string
		for _, b := range k.Balances {
			bs = append(bs, b.Amount+" "+b.Symbol)
		}
		p("%s\t%d\t%s\t%s\t%d\t%s\t%s\n", k.ID, k.Generation, k.Address, k.Status, k.SignCount, cmp.Or(k.Native, "?"), cmp.Or(strings.Join(bs, ", "), "-"))
	}
	p("\nOUTSTANDING\tKEY\tSTATUS\tPAY TO\tAMOUNT\tVALID BEFORE\n")
	for _, k := range d.Keys {
		for _, a := range k.Outstanding {
			p("%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, k.ID, a.Status, a.PayTo, a.Amount, a.ValidBefore.Format(time.RFC3339))
		}
	}
	p("\nALLOWANCE\tKEY\tTOKEN\tSPENDER\tAMOUNT\n")
	for _, k := range d.Keys {
		for _, a := range k.Allowances {
			p("-\t%s\t%s\t%s\t%s\n", k.ID, a.Symbol, a.Spender, a.Amount)
		}
	}
	p("\nPERMIT NONCE\tKEY\tTOKEN\tNONCE\n")
	for _, k := range d.Keys {
		for _, n := range k.PermitNonces {
			p("-\t%s\t%s\t%s\n", k.ID, n.Symbol, n.Nonce)
		}
	}
	p("\nCREDENTIAL\tNAME\tUSABLE\tREVOKED\n")
	for _, c := range d.Credentials {
		rv := "-"
		if !c.RevokedAt.IsZero() {
			rv = c.RevokedAt.Format(time.RFC3339)
		}
		p("%s\t%s\t%t\t%s\n", c.ID, c.Name, c.Usable, rv)
	}
	p("\nPOLICY\tLEVEL\tSCOPE\tVERSION\tHASH\n")
	for _, pl := range d.Policies {
		p("%s\t%s\t%s\t%d\t%s\n", pl.Name, pl.Level, pl.ScopeID, pl.Version, pl.Hash)
	}
	p("\nPAYEE\tPAYMENTS\tTOTALS\n")
	for _, c := range d.Payees {
		p("%s\t%d\t%s\n", c.Name, c.Payments, totals(c.Totals))
	}
	p("\nORIGIN\tPAYMENTS\tTOTALS\n")
	for _, c := range d.Origins {
		p("%s\t%d\t%s\n", c.Name, c.Payments, totals(c.Totals))
	}
	if !d.Chain {
		p("\n(no chain configured: allowances, permit nonces and balances were not read)\n")
	}
	return tw.Flush()
}

func totals(m map[string]string) string {
	var out []string
	for a, v := range m {
		out = append(out, v+" of "+a)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// WriteDOT prints the map as a Graphviz digraph: the agent, its keys, and what
// each key is tied to.
func (d *DepMap) WriteDOT(w io.Writer) error {
	var b strings.Builder
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
	fmt.Fprintf(&b, "digraph deps {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n")
	agent := q("agent:" + d.Agent.ID)
	fmt.Fprintf(&b, "  %s [label=%s, style=bold];\n", agent, q(fmt.Sprintf("agent %s\\n%s\\n%s", d.Agent.Name, d.Agent.ID, d.Agent.Status)))
	for _, c := range d.Credentials {
		n := q("cred:" + c.ID)
		fmt.Fprintf(&b, "  %s [label=%s, shape=note];\n  %s -> %s [label=\"credential\"];\n", n, q(fmt.Sprintf("credential %s\\nusable %t", c.ID, c.Usable)), agent, n)
	}
	for _, p := range d.Policies {
		n := q("policy:" + string(p.Level) + ":" + p.ScopeID)
		fmt.Fprintf(&b, "  %s [label=%s, shape=component];\n  %s -> %s [label=\"policy\"];\n", n, q(fmt.Sprintf("%s policy %s v%d", p.Level, p.Name, p.Version)), agent, n)
	}
	for _, k := range d.Keys {
		kn := q("key:" + k.ID)
		fmt.Fprintf(&b, "  %s [label=%s, shape=ellipse];\n  %s -> %s [label=\"gen %d\"];\n", kn, q(fmt.Sprintf("key %s\\n%s\\n%s", k.Address, k.ID, k.Status)), agent, kn, k.Generation)
		for _, a := range k.Outstanding {
			n := q("auth:" + a.ID)
			fmt.Fprintf(&b, "  %s [label=%s, color=red];\n  %s -> %s [label=\"outstanding\"];\n", n, q(fmt.Sprintf("authorization %s\\n%s to %s", a.ID, a.Amount, a.PayTo)), kn, n)
		}
		for _, al := range k.Allowances {
			n := q("spender:" + al.Spender)
			fmt.Fprintf(&b, "  %s [label=%s, color=red];\n  %s -> %s [label=%s];\n", n, q("spender "+al.Spender), kn, n, q("allows "+al.Amount+" "+al.Symbol))
		}
		for _, bal := range k.Balances {
			n := q("balance:" + k.ID + ":" + bal.Asset)
			fmt.Fprintf(&b, "  %s [label=%s, shape=cylinder];\n  %s -> %s [label=\"holds\"];\n", n, q(bal.Amount+" "+bal.Symbol), kn, n)
		}
	}
	for _, c := range d.Payees {
		n := q("payee:" + c.Name)
		fmt.Fprintf(&b, "  %s [label=%s, shape=house];\n  %s -> %s [label=%s];\n", n, q("payee "+c.Name), agent, n, q(fmt.Sprintf("paid %d", c.Payments)))
	}
	for _, c := range d.Origins {
		n := q("origin:" + c.Name)
		fmt.Fprintf(&b, "  %s [label=%s, shape=house];\n  %s -> %s [label=%s];\n", n, q("origin "+c.Name), agent, n, q(fmt.Sprintf("paid %d", c.Payments)))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
