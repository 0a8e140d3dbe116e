package anomaly

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/fleetkey/fleetkey/internal/store"
)

// Webhook headers. The signature is "sha256=" and the hex HMAC-SHA256, under the
// shared secret, of the timestamp header's value, a ".", and the body; binding the
// timestamp lets the receiver refuse old deliveries replayed to it.
const (
	HeaderSignature = "X-Fleetkey-Signature"
	HeaderTimestamp = "X-Fleetkey-Timestamp"
	HeaderDelivery  = "X-Fleetkey-Delivery"
	HeaderEvent     = "X-Fleetkey-Event"
)

// EventAlert is the event name of an alert delivery.
const EventAlert = "anomaly.alert"

// MinSecretLen is the shortest webhook secret accepted, in bytes.
const MinSecretLen = 16

// WebhookSecret is the shared HMAC key of a webhook. It never prints itself.
type WebhookSecret []byte

// String redacts the secret.
func (WebhookSecret) String() string { return "[redacted]" }

// GoString redacts the secret.
func (WebhookSecret) GoString() string { return "[redacted]" }

// ErrBadSignature is returned by VerifyWebhook for a delivery that does not carry
// a valid, fresh signature.
var ErrBadSignature = errors.New("anomaly: webhook signature invalid")

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	// URL receives a JSON POST per alert (absolute http or https).
	URL    string
	Secret WebhookSecret
	// Client sends the requests (default: a client with a 10s timeout).
	Client *http.Client
	// MaxAttempts per delivery (default 6); Backoff is the wait before the first
	// retry, doubled for each next one up to MaxBackoff (defaults 1s and 1m).
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	// QueueSize bounds the deliveries waiting (default 1024); an alert that finds
	// the queue full is dropped and counted (Dropped): the alert itself is stored
	// and listed whatever happens to its delivery.
	QueueSize int
	// Now is the clock of the timestamp header (default time.Now).
	Now func() time.Time
}

// WebhookPayload is the JSON body of a delivery.
type WebhookPayload struct {
	Event string       `json:"event"`
	Alert AlertPayload `json:"alert"`
}

// AlertPayload is an alert as a webhook and `fleetkey alerts list --json` show it.
type AlertPayload struct {
	ID        string          `json:"id"`
	FleetID   string          `json:"fleet_id"`
	AgentID   string          `json:"agent_id,omitempty"`
	PayTo     string          `json:"pay_to,omitempty"`
	Signal    string          `json:"signal"`
	Severity  string          `json:"severity"`
	Action    string          `json:"action"`
	Detail    json.RawMessage `json:"detail"`
	Status    string          `json:"status"`
	CreatedAt time.Time       `json:"created_at"`
	AckedBy   string          `json:"acked_by,omitempty"`
	AckedAt   *time.Time      `json:"acked_at,omitempty"`
}

// PayloadOf is the JSON form of an alert.
func PayloadOf(a store.Alert) AlertPayload {
	p := AlertPayload{ID: a.ID, FleetID: a.FleetID, AgentID: a.AgentID, PayTo: a.PayTo, Signal: a.Signal, Severity: a.Severity,
		Action: a.Action, Detail: json.RawMessage(a.Detail), Status: string(a.Status), CreatedAt: a.CreatedAt, AckedBy: a.AckedBy}
	if !json.Valid(p.Detail) {
		p.Detail = json.RawMessage("{}")
	}
	if !a.AckedAt.IsZero() {
		t := a.AckedAt
		p.AckedAt = &t
	}
	return p
}

// Webhook delivers alerts to one URL in the background, retrying with
// exponential backoff. It implements Notifier.
type Webhook struct {
	cfg    WebhookConfig
	q      chan store.Alert
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	stats  WebhookStats
	closed bool
}

// WebhookStats counts deliveries.
type WebhookStats struct {
	Delivered, Failed, Dropped, Attempts int
}

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return errors.New("anomaly: the webhook URL must be an absolute http(s) URL without user information")
	}
	return nil
}

// NewWebhook checks the configuration and starts the sender.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if err := checkWebhookURL(cfg.URL); err != nil {
		return nil, err
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("anomaly: the webhook secret must have at least %d bytes", MinSecretLen)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Webhook{cfg: cfg, q: make(chan store.Alert, cfg.QueueSize), stop: make(chan struct{})}
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// Notify queues an alert for delivery without blocking.
// After Close it drops the alert (counted in Dropped).
func (w *Webhook) Notify(a store.Alert) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.stats.Dropped++
		return
	}
	select {
	case w.q <- a:
	default:
		w.stats.Dropped++
	}
}

// Stats returns the delivery counts so far.
func (w *Webhook) Stats() WebhookStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Close delivers what is queued (giving up on retries once ctx is done) and
// stops the sender.
func (w *Webhook) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.q)
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		close(w.stop)
		<-done
		return ctx.Err()
	}
}

func (w *Webhook) run() {
	defer w.wg.Done()
	for a := range w.q {
		ok := w.deliver(a)
		w.mu.Lock()
		if ok {
			w.stats.Delivered++
		} else {
			w.stats.Failed++
		}
		w.mu.Unlock()
	}
}

// deliver posts one alert until it is accepted (any 2xx) or the attempts run out.
func (w *Webhook) deliver(a store.Alert) bool {
	body, err := json.Marshal(WebhookPayload{Event: EventAlert, Alert: PayloadOf(a)})
	if err != nil {
		return false
	}
	wait := w.cfg.Backoff
	for attempt := 1; attempt <= w.cfg.MaxAttempts; attempt++ {
		w.mu.Lock()
		w.stats.Attempts++
		w.mu.Unlock()
		if w.post(a.ID, body) {
			return true
		}
		if attempt == w.cfg.MaxAttempts {
			break
		}
		select {
		case <-time.After(wait):
		case <-w.stop:
			return false
		}
		wait = min(2*wait, w.cfg.MaxBackoff)
	}
	return false
}

func (w *Webhook) post(id string, body []byte) bool {
	ts := w.cfg.Now().Unix()
	req, err := http.NewRequest(http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderEvent, EventAlert)
	req.Header.Set(HeaderDelivery, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, SignWebhook(w.cfg.Secret, ts, body))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// SignWebhook returns the signature header value of a delivery body sent at
// Unix time ts.
func SignWebhook(secret WebhookSecret, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook is the receiver's check of a delivery: the signature header must
// be the HMAC of the timestamp header and the body under secret, and the
// timestamp within tolerance of now. It returns ErrBadSignature (wrapped with the
// reason) otherwise.
func VerifyWebhook(secret WebhookSecret, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	tsText := h.Get(HeaderTimestamp)
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != tsText {
		return fmt.Errorf("%w: no valid %s header", ErrBadSignature, HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp outside the tolerance", ErrBadSignature)
	}
	got := h.Get(HeaderSignature)
	want := SignWebhook(secret, ts, body)
	if !hmac.Equal([]byte(got), []byte(want)) {
		return fmt.Errorf("%w: signature mismatch", ErrBadSignature)
	}
	return nil
}
