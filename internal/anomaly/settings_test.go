package anomaly

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fleetkey/fleetkey/internal/store"
)

func TestSettingsValidateReportsEverything(t *testing.T) {
	var s Settings
	src := `
approvers: [secops, alice]
quorum: 3
per_payment_limit: "lots"
responses:
  new_payee: {medium: shrug}
webhooks:
  - url: ftp://hooks.example.com
`
	if err := yaml.Unmarshal([]byte(src), &s); err != nil {
		t.Fatal(err)
	}
	err := s.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"per_payment_limit", "no secret_file", "http(s) URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not in %v", want, err)
		}
	}
	if err := (Settings{Disabled: true, Quorum: 9}).Validate(); err != nil {
		t.Errorf("disabled settings refused: %v", err)
	}
}

func TestSettingsOpenDeliversToWebhook(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(secretFile, append([]byte(testSecret), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	var s Settings
	src := "approvers: [secops]\napproval_expires_after: 30m\nper_payment_limit: \"0.50\"\nflush_every: -1s\nresponses:\n  new_payee: {medium: alert}\nwebhooks:\n  - url: " + srv.URL + "\n    secret_file: " + secretFile + "\n"
	if err := yaml.Unmarshal([]byte(src), &s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	e := newTEnv(t, 1, nil)
	d, closeFn, err := s.Open(e.ctx, e.Store, e.log, e.clk.now)
	if err != nil {
		t.Fatal(err)
	}
	if d.cfg.Quorum != 1 || d.cfg.ApprovalExpiresAfter != 30*time.Minute || d.cfg.PerPaymentLimit != 500_000 {
		t.Fatalf("config %+v", d.cfg)
	}
	e.d.Close(e.ctx)
	d.th = testThresholds.withDefaults() // warm within the test's two hours
	e.start2(d)
	e.warm()
	e.mustSign(0, payee(7), resURL("new.example", 1), 20_000) // new to the fleet: alert only here
	if err := closeFn(context.Background()); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 || len(rc.got) != 1 || rc.got[0].Alert.Signal != string(SignalNewPayee) || rc.got[0].Alert.Action != string(Alert) {
		t.Fatalf("delivered %+v, refused %v", rc.got, rc.bad)
	}
	if got := e.alerts(store.AlertFilter{}); len(got) != 1 {
		t.Errorf("alerts %+v", got)
	}
}
