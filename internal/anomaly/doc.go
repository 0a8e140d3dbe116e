// Package anomaly is fleetkey's streaming anomaly detection: detectors kept per
// agent and per fleet over the payment decisions, run on the signing path
// (payments.Detector) at constant cost per payment, with state saved in the
// store so that a restart loses nothing, and a configured response to every
// signal.
//
// # Detectors
//
// Per agent: request rate and spend against the agent's own baselines
// (exponentially weighted mean and variance of its active ten-minute and hourly
// buckets), a runaway count within one minute, amount outliers (log-amount EWMA
// z-score and a multiple of the decayed maximum), a payee or origin the agent
// never paid, bursts of denials and of replayed requests, activity outside the
// agent's usual hours (a decayed hour-of-day histogram), repeated payments just
// under the per-payment limit, the same payment repeated within a short window,
// and the agent's credential used from a second runtime while the first is
// active (the runtime is named by the caller with WithRuntime).
//
// Fleet-wide: a payee new to the fleet tried by several agents within a window,
// spikes of the fleet's ten-minute spend, and many agents paying the same
// resource within one minute.
//
// Baselines learn only from payments signed at the agent's request: a payment
// held or refused teaches nothing, so an attacker cannot make its payee or amount
// look normal by trying. Each detector judges an agent only once it has a
// history (Thresholds.MinHistory payments and Warmup), the fleet-wide ones once
// the fleet has one (FleetMinHistory, FleetWarmup).
//
// # Responses
//
// Each signal has a severity (low, medium, high); Config.Responses maps a signal
// and severity to an action (record, alert, require_approval, freeze_agent,
// block_payee; DefaultResponses for the rest). Every signal is an anomaly.signal
// audit record; an alert is stored (store.AnomalyTx), listed by `fleetkey alerts
// list`, sent to the webhooks (JSON POST signed with HMAC-SHA256, retried with
// backoff; VerifyWebhook is the receiver's check); require_approval holds every
// payment of the agent for the configured approvers until the alert is
// acknowledged; freeze_agent freezes the agent; block_payee refuses the payee to
// the whole fleet until the alert is acknowledged. Responses are recorded in the
// same transaction as the signal (anomaly.response, agent.status).
//
// # State
//
// The state is in memory and saved as one JSON document together with the audit
// sequence number it covers (Flush, in the background and at Close). New loads it
// and replays every audit record after that number, so state saved before a
// crash is brought up to date from the log. Only the runtimes are not in the
// audit log: a crash forgets the runtimes seen since the last save (the agent's
// previous runtime is then remembered, last seen at its older time).
package anomaly
