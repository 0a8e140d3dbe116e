// Package server is the fleetkey daemon behind `fleetkey serve`: its configuration (one YAML
// file decoded strictly into Config, flags over it, Validate naming every invalid setting), and
// a Server that unseals custody, opens the store (SQLite, or PostgreSQL for a postgres:// db URL shared by several replicas), builds the payments service and serves
// the HTTP API of package api on one listener together with the unauthenticated /readyz
// (custody, database and RPC checks) and /metrics (Prometheus text format, package metrics).
//
// Beside the listener it signs audit checkpoints on a timer, runs chain reconciliation (package
// reconcile) when an RPC URL is configured and otherwise sweeps expired approval requests. On
// shutdown it stops accepting connections, lets in-flight requests finish within a grace period,
// signs a last checkpoint, closes the store and wipes the vault.
//
// The daemon logs log/slog records (JSON or text); secrets never reach them: the configuration
// holds only the paths of secret files, and an RPC URL is logged as scheme and host.
package server
