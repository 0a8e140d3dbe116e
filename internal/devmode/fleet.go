package devmode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetkey/fleetkey/internal/datadir"
	"github.com/fleetkey/fleetkey/internal/demo"
	"github.com/fleetkey/fleetkey/sdk"
)

// provisioned is the demo fleet as the signing service knows it, with the agents' token files.
type provisioned struct {
	*demo.ProvisionedFleet
	// TokenFiles are the agents' token files, in the order of Agents.
	TokenFiles []string
}

// provision makes the running daemon at apiURL hold the demo fleet of spec, through the
// operator API with the admin token, as an operator would: the fleet is created with its
// treasury if it is missing, then demo.Provision finds or creates the groups, provisions the
// agents by external id and applies every policy (an unchanged policy adds no version). Each
// agent gets its token file (a new credential is issued to an agent whose file is missing), and
// the approver named by the research policy gets an operator credential of role approver.
func provision(ctx context.Context, apiURL, dir, treasury string, spec *demo.FleetSpec) (*provisioned, error) {
	adminText, err := readToken(datadir.Path(dir, datadir.AdminToken))
	if err != nil {
		return nil, fmt.Errorf("devmode: admin token: %w", err)
	}
	c, err := sdk.NewClient(apiURL, adminText, sdk.WithUserAgent("fleetkey-dev/1"))
	if err != nil {
		return nil, err
	}
	if _, err := c.OperatorIdentity(ctx); err != nil {
		return nil, fmt.Errorf("devmode: the admin token of %s: %w (start over with --fresh)", dir, err)
	}
	fleets, err := c.Fleets(ctx)
	if err != nil {
		return nil, fmt.Errorf("devmode: %w", err)
	}
	if !hasFleet(fleets, spec.Name) {
		if _, err := c.CreateFleet(ctx, spec.Name, treasury); err != nil {
			return nil, fmt.Errorf("devmode: create fleet %s: %w", spec.Name, err)
		}
	}
	pf, err := demo.Provision(ctx, c, spec)
	if err != nil {
		return nil, fmt.Errorf("devmode: %w", err)
	}
	out := &provisioned{ProvisionedFleet: pf}
	for _, a := range pf.Agents {
		path := agentTokenPath(dir, a.Name)
		if err := ensureAgentToken(ctx, c, a, path); err != nil {
			return nil, err
		}
		out.TokenFiles = append(out.TokenFiles, path)
	}
	if err := ensureApprover(ctx, c, filepath.Join(dir, ApproverTokenFile)); err != nil {
		return nil, err
	}
	return out, nil
}

func hasFleet(fleets []sdk.Fleet, name string) bool {
	for _, f := range fleets {
		if f.Name == name {
			return true
		}
	}
	return false
}

// ensureAgentToken writes the token of a new agent to path, or, for an existing agent whose
// token file is missing, issues it another credential.
func ensureAgentToken(ctx context.Context, c *sdk.Client, a demo.ProvisionedAgent, path string) error {
	if !a.Created {
		if _, err := os.Lstat(path); err == nil {
			return nil
		}
		ic, err := c.IssueAgentCredential(ctx, a.ID, nil)
		if err != nil {
			return fmt.Errorf("devmode: credential for agent %s: %w", a.Name, err)
		}
		return writeTokenFile(path, ic.Token.Reveal())
	}
	// A token file left from an earlier database would name a credential that does not exist.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return writeTokenFile(path, a.Token.Reveal())
}

// ensureApprover gives the demo approver an operator credential of role approver, written to
// path, unless path exists.
func ensureApprover(ctx context.Context, c *sdk.Client, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	ic, err := c.CreateCredential(ctx, sdk.NewCredential{Name: demo.Approver, Role: sdk.RoleApprover})
	if err != nil {
		return fmt.Errorf("devmode: approver credential: %w", err)
	}
	return writeTokenFile(path, ic.Token.Reveal())
}

func writeTokenFile(path, token string) error {
	b := []byte(strings.TrimSpace(token) + "\n")
	defer clear(b)
	if err := writeNewSecret(path, b); err != nil {
		return fmt.Errorf("devmode: token file: %w", err)
	}
	return nil
}
