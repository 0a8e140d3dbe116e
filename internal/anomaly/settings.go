package anomaly

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/policy"
	"github.com/fleetkey/fleetkey/internal/store"
)

// Settings is the anomaly section of a configuration file, decoded by the
// daemon (YAML keys below) and turned into a running Detector by Open. Secrets
// come only by file reference.
//
//	anomaly:
//	  approvers: [secops]
//	  quorum: 1
//	  approval_expires_after: 1h
//	  per_payment_limit: "0.50"
//	  responses:
//	    new_payee: {medium: alert}
//	  webhooks:
//	    - url: https://hooks.example.com/fleetkey
//	      secret_file: /etc/fleetkey/webhook.secret
type Settings struct {
	// Disabled turns the detector off.
	Disabled             bool          `yaml:"disabled" json:"disabled"`
	Approvers            []string      `yaml:"approvers" json:"approvers,omitempty"`
	Quorum               int           `yaml:"quorum" json:"quorum,omitempty"`
	ApprovalExpiresAfter time.Duration `yaml:"approval_expires_after" json:"approval_expires_after,omitempty"`
	// PerPaymentLimit is an amount in whole units ("0.50"), for near_limit.
	PerPaymentLimit string                       `yaml:"per_payment_limit" json:"per_payment_limit,omitempty"`
	Responses       map[string]map[string]string `yaml:"responses" json:"responses,omitempty"`
	Webhooks        []WebhookSettings            `yaml:"webhooks" json:"webhooks,omitempty"`
	FlushEvery      time.Duration                `yaml:"flush_every" json:"flush_every,omitempty"`
}

// WebhookSettings is one webhook: its URL and the file holding its secret.
type WebhookSettings struct {
	URL        string `yaml:"url" json:"url"`
	SecretFile string `yaml:"secret_file" json:"secret_file"`
}

// config turns the settings into a Config (without store, audit log and
// notifiers).
func (s Settings) config() (Config, error) {
	c := Config{Approvers: s.Approvers, Quorum: s.Quorum, ApprovalExpiresAfter: s.ApprovalExpiresAfter, FlushEvery: s.FlushEvery}
	if len(c.Approvers) > 0 && c.Quorum == 0 {
		c.Quorum = 1
	}
	if len(c.Approvers) > 0 && c.ApprovalExpiresAfter == 0 {
		c.ApprovalExpiresAfter = time.Hour
	}
	if s.PerPaymentLimit != "" {
		lim, err := policy.ParseAmount(s.PerPaymentLimit)
		if err != nil {
			return Config{}, fmt.Errorf("anomaly: per_payment_limit: %w", err)
		}
		c.PerPaymentLimit = lim
	}
	if len(s.Responses) > 0 {
		c.Responses = Responses{}
		for sig, m := range s.Responses {
			c.Responses[Signal(sig)] = map[Severity]Action{}
			for sev, act := range m {
				c.Responses[Signal(sig)][Severity(sev)] = Action(act)
			}
		}
	}
	return c, nil
}

// Validate reports every problem of the settings at once.
func (s Settings) Validate() error {
	if s.Disabled {
		return nil
	}
	var errs []error
	c, err := s.config()
	if err != nil {
		errs = append(errs, err)
	}
	// The store and the audit log are Open's arguments.
	if err := c.validateSettings(); err != nil {
		errs = append(errs, err)
	}
	for i, w := range s.Webhooks {
		if w.SecretFile == "" {
			errs = append(errs, fmt.Errorf("anomaly: webhooks[%d]: no secret_file", i))
		}
		if err := checkWebhookURL(w.URL); err != nil {
			errs = append(errs, fmt.Errorf("anomaly: webhooks[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// Open builds the detector (and its webhooks) on a store and audit log. The
// returned close function stops the detector (saving its state) and then the
// webhooks (delivering what is queued until ctx is done). With Disabled it
// returns a nil detector and a close function that does nothing.
func (s Settings) Open(ctx context.Context, st store.Store, log *audit.Log, now func() time.Time) (*Detector, func(context.Context) error, error) {
	if s.Disabled {
		return nil, func(context.Context) error { return nil }, nil
	}
	c, err := s.config()
	if err != nil {
		return nil, nil, err
	}
	c.Store, c.Audit, c.Now = st, log, now
	var hooks []*Webhook
	stopHooks := func(ctx context.Context) error {
		var errs []error
		for _, h := range hooks {
			errs = append(errs, h.Close(ctx))
		}
		return errors.Join(errs...)
	}
	for i, w := range s.Webhooks {
		secret, err := os.ReadFile(w.SecretFile)
		if err != nil {
			_ = stopHooks(ctx)
			return nil, nil, fmt.Errorf("anomaly: webhooks[%d]: %w", i, err)
		}
		h, err := NewWebhook(WebhookConfig{URL: w.URL, Secret: WebhookSecret(strings.TrimRight(string(secret), "\r\n"))})
		clear(secret)
		if err != nil {
			_ = stopHooks(ctx)
			return nil, nil, fmt.Errorf("anomaly: webhooks[%d]: %w", i, err)
		}
		hooks = append(hooks, h)
		c.Notifiers = append(c.Notifiers, h)
	}
	d, err := New(ctx, c)
	if err != nil {
		_ = stopHooks(ctx)
		return nil, nil, err
	}
	return d, func(ctx context.Context) error { return errors.Join(d.Close(ctx), stopHooks(ctx)) }, nil
}
