//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/fleetkey/fleetkey/internal/mcpserver"
	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/internal/sidecar"
)

// TestSidecarCommand runs `fleetkey sidecar` in-process against the real API: a plain HTTP
// client gets paid content through the gateway with a receipt that names fleetkey's
// authorization, a payment above the policy limit is a 403 with the reason and rule, the token
// never reaches the resource server or the log, and SIGINT stops the command cleanly.
func TestSidecarCommand(t *testing.T) {
	a := newAdaptersAPI(t)
	outR, outW := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(&cliEnv{stdin: strings.NewReader(""), stdout: outW, stderr: stderr},
			[]string{"sidecar", "--api", a.url, "--token-file", a.tokenFile, "--listen", "127.0.0.1:0"})
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no listen line: %v; log:\n%s", err, stderr)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "sidecar listening on ")
	if !ok {
		t.Fatalf("stdout %q", line)
	}
	go io.Copy(io.Discard, outR)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	get := func(u string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	paid := newAdaptersResource(t, "10000")
	resp, body := get(base + "/" + paid.url + "/data?q=1")
	as := a.env.Authorizations(a.agentID)
	if resp.StatusCode != 200 || body != "the paid content" || len(as) != 1 {
		t.Fatalf("status %d body %q, %d authorizations; log:\n%s", resp.StatusCode, body, len(as), stderr)
	}
	rc := resp.Header.Get(sidecar.HeaderPayment)
	for _, want := range []string{"amount=10000", "pay_to=" + paymentstest.PayTo, "network=eip155:84532", "authorization_id=" + as[0].ID} {
		if !strings.Contains(rc, want) {
			t.Errorf("receipt %q lacks %q", rc, want)
		}
	}
	paid.checkNoToken(t, a.token)

	dear := newAdaptersResource(t, "50001")
	resp, body = get(base + "/" + dear.url + "/data")
	var e struct {
		Error struct{ Code, Reason, Rule, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != http.StatusForbidden ||
		e.Error.Code != sidecar.CodePaymentDenied || e.Error.Reason != "amount_above_per_payment_limit" || e.Error.Rule != "agent:limits.per_payment" {
		t.Errorf("denial: status %d body %s", resp.StatusCode, body)
	}
	if dear.paid != 0 || len(a.env.Authorizations(a.agentID)) != 1 {
		t.Errorf("the denied payment was made or recorded")
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d; log:\n%s", code, stderr)
		}
	case <-ctx.Done():
		t.Fatal("fleetkey sidecar did not stop on SIGINT")
	}
	log := stderr.String()
	if strings.Contains(log, a.token) || strings.Contains(log, "q=1") || !strings.Contains(log, `"payment":"amount=10000`) {
		t.Errorf("log holds the token or the query, or lacks the payment:\n%s", log)
	}
}

// TestMCPCommandHTTP runs `fleetkey mcp --http` in-process (through its request logging) and
// drives it with the SDK's streamable HTTP client; SIGINT stops it.
func TestMCPCommandHTTP(t *testing.T) {
	a := newAdaptersAPI(t)
	outR, outW := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(&cliEnv{stdin: strings.NewReader(""), stdout: outW, stderr: stderr},
			[]string{"mcp", "--api", a.url, "--token-file", a.tokenFile, "--http", "127.0.0.1:0"})
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no listen line: %v; log:\n%s", err, stderr)
	}
	endpoint, ok := strings.CutPrefix(strings.TrimSpace(line), "mcp server listening on ")
	if !ok {
		t.Fatalf("stdout %q", line)
	}
	go io.Copy(io.Discard, outR)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-llm", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint}, nil)
	if err != nil {
		t.Fatalf("connect: %v; log:\n%s", err, stderr)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: mcpserver.ToolBudget})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if res.IsError || !strings.Contains(string(b), a.agentID) {
		t.Errorf("budget_status over HTTP: %s", b)
	}
	cs.Close()

	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d; log:\n%s", code, stderr)
		}
	case <-ctx.Done():
		t.Fatal("fleetkey mcp --http did not stop on SIGINT")
	}
	if strings.Contains(stderr.String(), a.token) {
		t.Error("the log holds the token")
	}
}
