-- PostgreSQL twin of the SQLite migration of the same number (INTEGER as BIGINT, BLOB as BYTEA).
-- Anomaly detection (internal/anomaly): the detectors' state, saved whole under a key
-- (one row per fleet), with the audit sequence number it covers so that a restart
-- replays only the records after it; and the alerts the detectors raised, whose
-- response (require approval for an agent, block a payee fleet-wide) holds while the
-- alert is open.
CREATE TABLE anomaly_state (
    key        TEXT PRIMARY KEY,
    data       BYTEA NOT NULL,
    audit_seq  BIGINT NOT NULL CHECK (audit_seq >= 0),
    updated_at BIGINT NOT NULL
);

CREATE TABLE anomaly_alerts (
    id         TEXT PRIMARY KEY,
    fleet_id   TEXT NOT NULL,
    agent_id   TEXT NOT NULL DEFAULT '',
    pay_to     TEXT NOT NULL DEFAULT '',
    signal     TEXT NOT NULL,
    severity   TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('open', 'acked')),
    created_at BIGINT NOT NULL,
    acked_by   TEXT NOT NULL DEFAULT '',
    acked_at   BIGINT
);

CREATE INDEX anomaly_alerts_status ON anomaly_alerts (status, created_at);
