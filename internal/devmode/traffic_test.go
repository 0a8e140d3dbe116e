package devmode

import (
	"context"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fleetkey/fleetkey/internal/chain/bindings"
	"github.com/fleetkey/fleetkey/sdk"
	"github.com/fleetkey/fleetkey/x402"
)

// TestTrafficAndAutoApprover runs the environment as `fleetkey dev` without --no-traffic: the
// simulated agents pay through the signer and the summary shows it, and the auto-approver
// approves a research report that an agent waits for, which is then paid and settled.
func TestTrafficAndAutoApprover(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	out := &syncBuffer{}
	ctx := testCtx(t)
	e, err := Start(ctx, Options{DataDir: dir, AnyPort: true, Out: out, Refresh: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()
	stopped := false
	stop := func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("Run did not return after cancel")
		}
	}
	defer stop()
	m := e.Manifest()
	if !m.Traffic {
		t.Error("manifest says no traffic")
	}
	// The terminal says where everything is (issue #5: API, dashboard, RPC, facilitator and
	// demo API URLs), once Run has written the manifest.
	for deadline := time.Now().Add(time.Minute); !strings.Contains(out.String(), "simulated traffic"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no addresses on the terminal:\n%s", out)
		}
	}
	for _, want := range []string{"DEVELOPMENT ONLY", "api          " + m.APIURL, "dashboard    none yet", "rpc          " + m.RPCURL,
		"facilitator  " + m.FacilitatorURL, "demo api     " + m.DemoAPIURL, "manifest     "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("terminal lacks %q:\n%s", want, out)
		}
	}

	// The research report (0.25) is above the research group's approval threshold: scout's
	// payer waits, and only the auto-approver can let it through.
	scout, _ := m.Agent("scout")
	tok, err := os.ReadFile(scout.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	payer, err := sdk.NewPayer(m.APIURL, string(tok), sdk.WithMaxApprovalWait(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ethclient.DialContext(ctx, m.RPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	usd, err := bindings.NewTestUSD(common.HexToAddress(m.Token.Address), ec)
	if err != nil {
		t.Fatal(err)
	}
	merchant := common.HexToAddress(m.Merchant)
	before, err := usd.BalanceOf(&bind.CallOpts{Context: ctx}, merchant)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := x402.NewClient(payer).Get(m.DemoAPIURL + "/research")
	if err != nil {
		t.Fatalf("research report: %v\n%s", err, out)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("research report: %d %s", resp.StatusCode, body)
	}
	after, err := usd.BalanceOf(&bind.CallOpts{Context: ctx}, merchant)
	if err != nil {
		t.Fatal(err)
	}
	// The simulated agents pay the merchant too: at least the report's price arrived.
	if got := new(big.Int).Sub(after, before); got.Cmp(big.NewInt(250_000)) < 0 {
		t.Errorf("merchant received %s, want at least the report's 250000", got)
	}

	// The summary, printed as plain lines, shows the daemon's fleet block above the traffic
	// block, the simulated agents' payments and the auto-approver's decision.
	signed := regexp.MustCompile(`\nfleet     (\d+) signed, `)
	paid := regexp.MustCompile(`payments  \d+ requests · (\d+) paid`)
	approved := regexp.MustCompile(`auto-approver, dev only\): (\d+) approved`)
	last := func(re *regexp.Regexp) int {
		all := re.FindAllStringSubmatch(out.String(), -1)
		if len(all) == 0 {
			return 0
		}
		n, _ := strconv.Atoi(all[len(all)-1][1])
		return n
	}
	for last(signed) == 0 || last(paid) == 0 || last(approved) == 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("no signed payment, no simulated payment or no approval in the summary:\n%s", out)
		case <-time.After(100 * time.Millisecond):
		}
	}

	stop()
	if b, err := os.ReadFile(filepath.Join(dir, LogFile)); err != nil || !regexp.MustCompile(`"msg":"auto-approver approved"`).Match(b) {
		t.Errorf("the daemon log has no auto-approver decision: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dev.json left after shutdown: %v", err)
	}
}
