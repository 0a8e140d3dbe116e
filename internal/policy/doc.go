// Package policy is fleetkey's pure payment-policy decision engine.
//
// A policy is a declarative YAML document (fleetkey policy format, version 1; see
// docs/policy.md) attached at the fleet, group or agent level. Evaluate combines the
// policies of the three levels — every level must allow — and turns an x402 payment
// request (x402 v1/v2 "exact" scheme over EIP-3009 transferWithAuthorization, networks
// named by CAIP-2), a spend snapshot and a clock into a decision: allow, deny with a
// machine-readable reason, or needs approval. Rules written in the Common Expression
// Language (CEL, cel.dev) cover anything the declarative rules do not.
//
// The package does no I/O and holds no global mutable state: everything is compiled
// at Parse, and Evaluate is safe for concurrent use. Amounts are exact integers in
// micro-units (1e-6 of the asset's reference currency), never floating point. The
// spend snapshot is advisory: the ledger re-checks Decision.Windows inside the
// transaction that reserves the budget.
package policy

// The time zone database is embedded so that time_of_day rules load the same zones
// on every host, including minimal containers without /usr/share/zoneinfo.
import _ "time/tzdata"
