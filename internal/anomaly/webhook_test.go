package anomaly

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

var testSecret = WebhookSecret("0123456789abcdef0123456789abcdef")

// receiver is a webhook endpoint that refuses the first fail deliveries and
// verifies every one as a real receiver would.
type receiver struct {
	mu       sync.Mutex
	fail     int
	attempts int
	got      []WebhookPayload
	bad      []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.attempts++
	if err := VerifyWebhook(testSecret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		rc.bad = append(rc.bad, err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if rc.fail > 0 {
		rc.fail--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		rc.bad = append(rc.bad, err)
		return
	}
	rc.got = append(rc.got, p)
}

func TestWebhookRetriesAndVerifies(t *testing.T) {
	rc := &receiver{fail: 2}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w, err := NewWebhook(WebhookConfig{URL: srv.URL, Secret: testSecret, Backoff: time.Millisecond, MaxAttempts: 4})
	if err != nil {
		t.Fatal(err)
	}
	al := store.Alert{ID: "alr_1", FleetID: "flt_1", AgentID: "agt_1", PayTo: "0xabc", Signal: "new_payee", Severity: "medium",
		Action: "require_approval", Detail: `{"new_to_fleet":true}`, Status: store.AlertOpen, CreatedAt: time.Unix(1700000000, 0).UTC()}
	w.Notify(al)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 {
		t.Fatalf("receiver refused: %v", rc.bad)
	}
	if rc.attempts != 3 || len(rc.got) != 1 {
		t.Fatalf("%d attempts, %d delivered; want 3 and 1", rc.attempts, len(rc.got))
	}
	p := rc.got[0]
	if p.Event != EventAlert || p.Alert.ID != "alr_1" || p.Alert.Signal != "new_payee" || string(p.Alert.Detail) != `{"new_to_fleet":true}` {
		t.Errorf("payload %+v", p)
	}
	if st := w.Stats(); st.Delivered != 1 || st.Attempts != 3 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	rc := &receiver{fail: 100}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w, err := NewWebhook(WebhookConfig{URL: srv.URL, Secret: testSecret, Backoff: time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	w.Notify(store.Alert{ID: "alr_2", FleetID: "f", Signal: "s", Severity: "low", Action: "alert", Detail: "{}"})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Failed != 1 || st.Attempts != 3 {
		t.Errorf("stats %+v, want one failed delivery after 3 attempts", st)
	}
	// After Close an alert is dropped, not sent on a closed queue; Close again is a no-op.
	w.Notify(store.Alert{ID: "alr_3"})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Dropped != 1 {
		t.Errorf("stats %+v, want one dropped", st)
	}
}

func TestVerifyWebhookRefuses(t *testing.T) {
	body := []byte(`{"event":"anomaly.alert"}`)
	now := time.Unix(1700000000, 0)
	h := http.Header{}
	h.Set(HeaderTimestamp, "1700000000")
	h.Set(HeaderSignature, SignWebhook(testSecret, 1700000000, body))
	if err := VerifyWebhook(testSecret, h, body, now, time.Minute); err != nil {
		t.Fatalf("valid delivery refused: %v", err)
	}
	cases := map[string]func() (http.Header, []byte, WebhookSecret, time.Time){
		"tampered body": func() (http.Header, []byte, WebhookSecret, time.Time) {
			return h, bytes.Replace(body, []byte("alert"), []byte("alerT"), 1), testSecret, now
		},
		"other secret": func() (http.Header, []byte, WebhookSecret, time.Time) {
			return h, body, WebhookSecret("another-secret-of-32-bytes-long!"), now
		},
		"stale": func() (http.Header, []byte, WebhookSecret, time.Time) { return h, body, testSecret, now.Add(time.Hour) },
		"timestamp moved": func() (http.Header, []byte, WebhookSecret, time.Time) {
			h2 := h.Clone()
			h2.Set(HeaderTimestamp, "1700000001")
			return h2, body, testSecret, now
		},
		"no timestamp": func() (http.Header, []byte, WebhookSecret, time.Time) {
			h2 := h.Clone()
			h2.Del(HeaderTimestamp)
			return h2, body, testSecret, now
		},
		"padded timestamp": func() (http.Header, []byte, WebhookSecret, time.Time) {
			h2 := h.Clone()
			h2.Set(HeaderTimestamp, "01700000000")
			return h2, body, testSecret, now
		},
	}
	for name, c := range cases {
		hh, b, s, n := c()
		if err := VerifyWebhook(s, hh, b, n, time.Minute); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}

func TestWebhookConfigAndSecret(t *testing.T) {
	for _, c := range []WebhookConfig{
		{URL: "ftp://x", Secret: testSecret},
		{URL: "https://user:pw@x", Secret: testSecret},
		{URL: "https://x", Secret: WebhookSecret("short")},
	} {
		if _, err := NewWebhook(c); err == nil {
			t.Errorf("config %q accepted", c.URL)
		}
	}
	if s := testSecret.String(); s != "[redacted]" {
		t.Errorf("secret prints as %q", s)
	}
}
