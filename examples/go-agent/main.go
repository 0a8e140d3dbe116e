// Command go-agent is an example agent in Go: it fetches a URL with an http.Client that pays
// x402 402 answers through fleetkey (x402.NewClient over sdk.NewPayer), so the agent holds only
// its fleetkey token, never a key. It prints the answer's status and body, then the payment
// receipt: what was paid, to whom, and the settlement transaction.
//
// Against `fleetkey dev` (which writes the agent token files):
//
//	go run ./examples/go-agent --token-file ./fleetkey-dev/agents/scout.token http://127.0.0.1:8404/weather
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

func main() {
	api := flag.String("api", envOr("FLEETKEY_API", "http://127.0.0.1:8402"), "fleetkey API URL (env FLEETKEY_API)")
	tokenFile := flag.String("token-file", os.Getenv("FLEETKEY_TOKEN_FILE"), "file holding the agent token (env FLEETKEY_TOKEN_FILE)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go-agent --token-file F [--api URL] URL\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *tokenFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*api, *tokenFile, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "go-agent:", err)
		os.Exit(1)
	}
}

func run(api, tokenFile, url string) error {
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	// The payer keeps the token out of every log line and error; the SDK trims the newline.
	payer, err := sdk.NewPayer(api, string(token), sdk.WithMaxApprovalWait(2*time.Minute))
	clear(token)
	if err != nil {
		return err
	}
	client := x402.NewClient(payer)
	client.Timeout = 3 * time.Minute
	resp, err := client.Get(url)
	if err != nil {
		// A payment fleetkey refused: the error carries the reason, e.g. pay_to_not_allowed.
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	fmt.Printf("status: %s\n", resp.Status)
	fmt.Printf("body: %s\n", bytes.TrimSpace(body))
	res := x402.ResultFromResponse(resp)
	if res == nil || res.Payment == nil {
		fmt.Println("receipt: none (no payment was needed)")
		return nil
	}
	var req struct {
		Amount            string `json:"amount"`
		MaxAmountRequired string `json:"maxAmountRequired"` // x402 v1
		Asset             string `json:"asset"`
		PayTo             string `json:"payTo"`
		Network           string `json:"network"`
	}
	_ = json.Unmarshal(chosen(res), &req)
	if req.Amount == "" {
		req.Amount = req.MaxAmountRequired
	}
	fmt.Printf("receipt: amount=%s asset=%s pay_to=%s network=%s authorization=%s", req.Amount, req.Asset, req.PayTo, req.Network, res.Payment.AuthorizationID)
	if s := res.Settlement; s != nil {
		fmt.Printf(" settled=%t tx=%s payer=%s", s.Success, s.Transaction, s.Payer)
	}
	fmt.Println()
	if res.Err != nil {
		return fmt.Errorf("the server did not accept the payment: %w", res.Err)
	}
	return nil
}

// chosen is the requirement that was paid: the one the payer recorded, or the demand's only one.
func chosen(res *x402.Result) json.RawMessage {
	if len(res.Payment.Requirement) > 0 {
		return res.Payment.Requirement
	}
	var one any
	switch d := res.Request; {
	case d == nil:
	case d.V2 != nil && len(d.V2.Accepts) == 1:
		one = d.V2.Accepts[0]
	case d.V1 != nil && len(d.V1.Accepts) == 1:
		one = d.V1.Accepts[0]
	}
	b, _ := json.Marshal(one)
	return b
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
