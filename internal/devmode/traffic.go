package devmode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetkey/fleetkey/internal/demo"
	"github.com/fleetkey/fleetkey/sdk"
)

// approverPoll is how often the auto-approver looks for pending approvals.
const approverPoll = 2 * time.Second

// payerApprovalWait is how long a simulated agent's payer waits for the auto-approver.
const payerApprovalWait = 90 * time.Second

// startTraffic starts the simulated agents (each paying through the API with its own token, as
// any agent would) and the auto-approver, until ctx ends.
func (e *Env) startTraffic(ctx context.Context, wg *sync.WaitGroup) error {
	tok := e.net.Token()
	e.sum = demo.NewSummary(tok.Decimals, tok.Symbol)
	var agents []demo.TrafficAgent
	for i, a := range e.fleet.Agents {
		text, err := readToken(e.fleet.TokenFiles[i])
		if err != nil {
			return fmt.Errorf("devmode: agent %s: %w", a.Name, err)
		}
		payer, err := sdk.NewPayer(e.srv.URL(), text, sdk.WithMaxApprovalWait(payerApprovalWait), sdk.WithUserAgent("fleetkey-dev-traffic/1"))
		if err != nil {
			return fmt.Errorf("devmode: agent %s: %w", a.Name, err)
		}
		agents = append(agents, demo.TrafficAgent{Name: a.Name, Group: a.Group, Payer: payer, Pace: a.Pace})
	}
	tr, err := demo.NewTraffic(demo.TrafficConfig{
		APIURL: "http://" + e.demoLn.Addr().String(), Endpoints: e.demoAPI.Endpoints(), Agents: agents, Emit: e.sum.Add,
	})
	if err != nil {
		return err
	}
	text, err := readToken(e.manifest.ApproverTokenFile)
	if err != nil {
		return fmt.Errorf("devmode: approver token: %w", err)
	}
	c, err := sdk.NewClient(e.srv.URL(), text, sdk.WithUserAgent("fleetkey-dev-auto-approver/1"))
	if err != nil {
		return err
	}
	e.approved = &approver{c: c, name: demo.Approver, log: e.logger()}
	wg.Go(func() { tr.Run(ctx) })
	wg.Go(func() { e.approved.run(ctx) })
	return nil
}

// approver is the auto-approver of the demo: a loop that approves, as the demo approver, every
// pending approval that names it, through the operator API with the approver's own token. It
// stands in for the human who would decide with `fleetkey approvals approve`; it exists only
// in `fleetkey dev` with traffic on, and the terminal says so.
type approver struct {
	c        *sdk.Client
	name     string
	log      *slog.Logger
	approved atomic.Int64
}

func (a *approver) run(ctx context.Context) {
	t := time.NewTicker(approverPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		aps, err := a.c.Approvals(ctx, sdk.ApprovalFilter{Status: "pending", Limit: 100})
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("auto-approver: list approvals", "error", err.Error())
			}
			continue
		}
		for _, ap := range aps {
			if !slices.Contains(ap.Approvers, a.name) {
				continue
			}
			_, err := a.c.Approve(ctx, ap.ID)
			switch {
			case err == nil:
				a.approved.Add(1)
				a.log.Info("auto-approver approved", "approval_id", ap.ID, "authorization_id", ap.AuthorizationID,
					"agent_id", ap.Payment.AgentID, "amount", ap.Payment.Amount)
			case errors.Is(err, sdk.ErrConflict), errors.Is(err, sdk.ErrNotFound):
				// Decided or expired meanwhile.
			case ctx.Err() == nil:
				a.log.Warn("auto-approver: approve", "approval_id", ap.ID, "error", err.Error())
			}
		}
	}
}
