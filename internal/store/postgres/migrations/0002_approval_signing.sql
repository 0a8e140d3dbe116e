-- PostgreSQL twin of the SQLite migration of the same number (INTEGER as BIGINT, BLOB as BYTEA).
-- A payment that waits for approval is signed later, by whoever casts the last vote:
-- the authorization keeps the 402 demand as the agent received it, its x402 version and
-- the index of the chosen requirement, so that the requirement can be checked against
-- the registry again and the payment header rebuilt exactly. NULL/0 for payments signed
-- at once.
ALTER TABLE authorizations ADD COLUMN demand_version BIGINT  NOT NULL DEFAULT 0
    CHECK (demand_version IN (0, 1, 2));
ALTER TABLE authorizations ADD COLUMN demand BYTEA;
ALTER TABLE authorizations ADD COLUMN requirement_index BIGINT  NOT NULL DEFAULT 0
    CHECK (requirement_index >= 0);

-- Approval listings by status for operators, newest first.
CREATE INDEX approvals_status ON approvals (status, created_at);
