package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/payments"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// payEnv is the real API (service on SQLite, random-mnemonic vault) with one agent whose
// token is in a 0600 file, and a resource that charges amount in x402 v2.
type payEnv struct {
	api, resource, tokenFile string
	paid                     *int
}

func newPayEnv(t *testing.T, policySrc, amount string) payEnv {
	t.Helper()
	env := paymentstest.New(t, paymentstest.Options{FleetIndex: 9})
	svc, err := payments.New(payments.Config{Store: env.Store, Keys: env.Vault, Registry: env.Registry, Audit: env.Audit})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.ProvisionAgents(env.Ctx, payments.ProvisionRequest{FleetID: env.Fleet.ID, GroupID: env.Group.ID,
		Agents: []payments.NewAgent{{ExternalID: "cli", Name: "cli"}}})
	if err != nil {
		t.Fatal(err)
	}
	env.PutPolicy(store.LevelAgent, ps[0].Agent.ID, policySrc)
	apiSrv := httptest.NewServer(api.NewHandler(api.Config{Payments: svc, Operators: svc, Audit: env.Store}))
	t.Cleanup(apiSrv.Close)

	demand := paymentstest.DemandV2(t, paymentstest.Requirement(amount))
	paid := 0
	res := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.Error(w, "not here", http.StatusNotFound)
			return
		}
		if v := r.Header.Get(x402.HeaderPaymentSignature); v != "" {
			paymentstest.CheckPaymentV2(t, demand, v)
			paid++
			body, _ := io.ReadAll(r.Body)
			io.WriteString(w, "report for "+r.Method+" "+string(body)+" "+r.Header.Get("X-Run"))
			return
		}
		w.Header().Set(x402.HeaderPaymentRequired, demand)
		w.WriteHeader(http.StatusPaymentRequired)
	}))
	t.Cleanup(res.Close)

	tf := filepath.Join(t.TempDir(), "agent.token")
	if err := os.WriteFile(tf, []byte(ps[0].Token.Reveal()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return payEnv{api: apiSrv.URL, resource: res.URL, tokenFile: tf, paid: &paid}
}

func (p payEnv) pay(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	code = run(env, append([]string{"pay", "--api", p.api, "--token-file", p.tokenFile}, args...))
	return code, out.String(), errOut.String()
}

const cliPolicy = `version: 1
name: cli
allow_http: true
limits:
  per_payment: "0.05"
approval:
  above: "0.02"
  quorum: 1
  approvers: [alice]
  expires_after: 10m
`

// TestPayCommand: pay prints the body to stdout and what was paid to stderr; a denial exits 1
// with the reason and the rule; a payment awaiting approval exits 1 with a hint when it may
// not wait.
func TestPayCommand(t *testing.T) {
	t.Run("paid", func(t *testing.T) {
		p := newPayEnv(t, cliPolicy, "10000")
		code, out, errOut := p.pay(t, "--method", "post", "--data", "q=1", "--header", "X-Run: 7", p.resource+"/report")
		if code != 0 || out != "report for POST q=1 7" || *p.paid != 1 {
			t.Fatalf("exit %d, stdout %q, stderr %q, paid %d", code, out, errOut, *p.paid)
		}
		if !strings.Contains(errOut, "paid 10000 (atomic units) of 0x036cbd53842c5426634e7929541ec2318f3dcf7e") ||
			!strings.Contains(errOut, "authorization ") || !strings.Contains(errOut, "policy sha256:") {
			t.Errorf("stderr %q", errOut)
		}
	})
	t.Run("denied", func(t *testing.T) {
		p := newPayEnv(t, cliPolicy, "50001")
		code, out, errOut := p.pay(t, p.resource)
		if code != 1 || out != "" || *p.paid != 0 ||
			errOut != "fleetkey pay: payment denied: amount_above_per_payment_limit (rule agent:limits.per_payment, policy "+policyHashOf(t, cliPolicy)+")\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("approval", func(t *testing.T) {
		p := newPayEnv(t, cliPolicy, "30000")
		code, _, errOut := p.pay(t, "--max-wait", "0", p.resource)
		if code != 1 || !strings.Contains(errOut, "still awaits approval") || !strings.Contains(errOut, "fleetkey approvals list") || *p.paid != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("resource error", func(t *testing.T) {
		p := newPayEnv(t, cliPolicy, "10000")
		code, out, errOut := p.pay(t, p.resource+"/missing")
		if code != 1 || out != "not here\n" || !strings.Contains(errOut, "answered 404 Not Found") || *p.paid != 0 {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}

func policyHashOf(t *testing.T, src string) string {
	t.Helper()
	p, err := policy.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p.Hash()
}

// TestDenialText: a denial names its rule and policy hash when it has them; a registry
// refusal, which consults no policy, prints no empty "rule , policy" parts.
func TestDenialText(t *testing.T) {
	for _, tc := range []struct {
		ae   sdk.APIError
		want string
	}{
		{sdk.APIError{Reason: "amount_above_per_payment_limit", Rule: "agent:limits.per_payment", PolicyHash: "sha256:ab"},
			"payment denied: amount_above_per_payment_limit (rule agent:limits.per_payment, policy sha256:ab)"},
		{sdk.APIError{Reason: "domain_mismatch"}, "payment denied: domain_mismatch"},
		{sdk.APIError{Reason: "no_policy", PolicyHash: "sha256:cd"}, "payment denied: no_policy (policy sha256:cd)"},
	} {
		if got := denialText(&tc.ae); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
