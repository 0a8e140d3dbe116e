package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// An agent fetches a paid resource: fleetkey decides and signs, the agent holds only its
// token. A denial carries the policy's reason and rule.
func ExampleNewPayer() {
	token, err := os.ReadFile("/run/secrets/fleetkey-agent.token") // fka_…, mode 0600
	if err != nil {
		log.Fatal(err)
	}
	payer, err := sdk.NewPayer("http://127.0.0.1:8402", string(token))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := x402.NewClient(payer).Get("https://api.example.com/report")
	var denied *sdk.APIError
	switch {
	case errors.Is(err, sdk.ErrDenied) && errors.As(err, &denied):
		log.Fatalf("fleetkey refused: %s (rule %s)", denied.Reason, denied.Rule)
	case errors.Is(err, sdk.ErrApprovalPending):
		log.Fatal("still waiting for a human approver")
	case err != nil:
		log.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(os.Stdout, resp.Body)
}

// An operator provisions agents; each new agent's token is shown once and written to a file
// only its owner can read.
func ExampleClient_CreateAgents() {
	ctx := context.Background()
	c, err := sdk.NewClient("http://127.0.0.1:8402", os.Getenv("FLEETKEY_OPERATOR_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	agents, err := c.CreateAgents(ctx, sdk.CreateAgentsRequest{FleetID: "flt_…", Agents: []sdk.NewAgent{
		{ExternalID: "crawler-1"}, {ExternalID: "crawler-2", Labels: map[string]string{"tier": "gold"}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range agents {
		fmt.Println(a.Agent.ID, a.Address, a.Token) // the token prints as fka_[REDACTED]
		if a.Created {
			if err := os.WriteFile(a.Agent.ExternalID+".token", []byte(a.Token.Reveal()), 0o600); err != nil {
				log.Fatal(err)
			}
		}
	}
}
