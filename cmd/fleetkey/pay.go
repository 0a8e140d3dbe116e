package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

func init() {
	extraCommands = append(extraCommands,
		command{"pay", "fetch an x402 paid URL, paying through fleetkey with an agent token", runPay},
	)
}

const payHelp = `
Fetch URL like an agent would: on 402 Payment Required the demand goes to fleetkey (--api) with
the agent token of --token-file, fleetkey decides and signs, and the request is sent again with
the payment. The response body goes to stdout; what was paid goes to stderr.

A payment that needs human approval is waited for up to --max-wait (see "fleetkey approvals").
A payment policy refuses exits 1 with the reason and the rule; so does an answer of 400 or
more from URL (its body is still printed).`

// maxPayBody bounds the --data body.
const maxPayBody = 16 << 20

// recordingPayer keeps fleetkey's answer for the summary line.
type recordingPayer struct {
	p   *sdk.Payer
	res *sdk.PaymentResult
}

func (r *recordingPayer) Pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	res, err := r.p.PayDemand(ctx, req)
	if err != nil {
		return nil, err
	}
	r.res = res
	return &x402.Payment{Header: res.Header.Name, Value: res.Header.Value, AuthorizationID: res.AuthorizationID}, nil
}

func runPay(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "pay", "--token-file F URL [--method M] [--data BODY] [--header 'K: V'] [--max-wait D]", payHelp)
	cf := addClientFlags(fs)
	method := fs.String("method", http.MethodGet, "HTTP method")
	data := fs.String("data", "", "request body")
	var headers stringsFlag
	fs.Var(&headers, "header", "request header 'Name: value' (repeatable)")
	maxWait := fs.Duration("max-wait", sdk.DefaultMaxApprovalWait, "how long to wait for human approval (0: do not wait)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long in all")
	pos, err := parseArgs(env, fs, args)
	if err != nil {
		return err
	}
	if err := needArgs(fs, pos, 1); err != nil {
		return err
	}
	if *maxWait < 0 || *timeout <= 0 {
		return errors.New("--max-wait must not be negative and --timeout must be positive")
	}
	if len(*data) > maxPayBody {
		return fmt.Errorf("--data is larger than %d bytes", maxPayBody)
	}
	m := strings.ToUpper(*method)
	var body io.Reader
	if *data != "" {
		body = strings.NewReader(*data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, m, pos[0], body)
	if err != nil {
		return err
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("URL %q must be http:// or https://", pos[0])
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("--header %q: want 'Name: value'", h)
		}
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	c, err := cf.client(sdk.WithMaxApprovalWait(*maxWait))
	if err != nil {
		return err
	}
	rp := &recordingPayer{p: sdk.PayerFromClient(c)}
	resp, err := x402.NewClient(rp).Do(req)
	if err != nil {
		var ae *sdk.APIError
		switch {
		case errors.Is(err, sdk.ErrDenied) && errors.As(err, &ae):
			return errors.New(denialText(ae))
		case errors.Is(err, sdk.ErrApprovalPending):
			return fmt.Errorf("%w\nhint: approvers see it with \"fleetkey approvals list\"; a longer --max-wait waits longer", errors.Unwrap(err))
		}
		return apiError(err, *cf.api)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(env.stdout, resp.Body); err != nil {
		return fmt.Errorf("read the answer of %s: %w", pos[0], err)
	}
	if r := rp.res; r != nil {
		fmt.Fprintf(env.stderr, "paid %s (atomic units) of %s to %s on %s: authorization %s, policy %s\n",
			r.Amount, r.Asset, r.PayTo, r.Network, r.AuthorizationID, r.PolicyHash)
	}
	res := x402.ResultFromResponse(resp)
	if res != nil && res.Settlement != nil {
		if res.Settlement.Success {
			fmt.Fprintf(env.stderr, "settled: transaction %s\n", res.Settlement.Transaction)
		} else {
			fmt.Fprintf(env.stderr, "settlement failed: %s\n", res.Settlement.ErrorReason)
		}
	}
	if res != nil && res.Err != nil {
		return res.Err
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("%s answered %s", pos[0], resp.Status)
	}
	return nil
}

// denialText is the line a denial exits with: the reason, then the rule and the policy
// hash when the denial names them (a registry refusal, such as domain_mismatch, names
// neither: no policy was consulted).
func denialText(ae *sdk.APIError) string {
	var parts []string
	if ae.Rule != "" {
		parts = append(parts, "rule "+ae.Rule)
	}
	if ae.PolicyHash != "" {
		parts = append(parts, "policy "+ae.PolicyHash)
	}
	if len(parts) == 0 {
		return "payment denied: " + ae.Reason
	}
	return fmt.Sprintf("payment denied: %s (%s)", ae.Reason, strings.Join(parts, ", "))
}
