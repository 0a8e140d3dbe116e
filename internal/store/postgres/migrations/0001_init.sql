-- fleetkey schema version 1, PostgreSQL: the SQLite migration of the same number
-- with INTEGER as BIGINT, plus the two rows this backend locks and counts (at the end).
-- TEXT and BIGINT only; times are UTC Unix nanoseconds, NULL when unset; addresses
-- and hashes are lower-case hex text.
-- Constraint names are the ones store.Constraint* reports.

CREATE TABLE fleets (
    id               TEXT    NOT NULL PRIMARY KEY,
    name             TEXT    NOT NULL,
    idx              BIGINT  NOT NULL CHECK (idx >= 0 AND idx < 2147483646),
    treasury         TEXT    NOT NULL DEFAULT '',
    next_agent_index BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL,
    CONSTRAINT fleet_name UNIQUE (name),
    CONSTRAINT fleet_index UNIQUE (idx)
);

CREATE TABLE agent_groups (
    id         TEXT    NOT NULL PRIMARY KEY,
    fleet_id   TEXT    NOT NULL REFERENCES fleets (id),
    name       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    CONSTRAINT group_name UNIQUE (fleet_id, name)
);

CREATE TABLE agents (
    id          TEXT    NOT NULL PRIMARY KEY,
    fleet_id    TEXT    NOT NULL REFERENCES fleets (id),
    group_id    TEXT    REFERENCES agent_groups (id),
    external_id TEXT,
    name        TEXT    NOT NULL,
    idx         BIGINT  NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('active', 'frozen', 'revoked', 'retired')),
    labels      TEXT    NOT NULL DEFAULT '{}',
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    CONSTRAINT agent_index UNIQUE (fleet_id, idx),
    CONSTRAINT agent_external_id UNIQUE (fleet_id, external_id)
);
CREATE INDEX agents_group ON agents (group_id);

CREATE TABLE keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    agent_id   TEXT    NOT NULL REFERENCES agents (id),
    generation BIGINT  NOT NULL,
    path       TEXT    NOT NULL,
    address    TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('active', 'draining', 'revoked', 'retired')),
    created_at BIGINT  NOT NULL,
    sign_count BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT key_address UNIQUE (address),
    CONSTRAINT key_path UNIQUE (path),
    CONSTRAINT key_generation UNIQUE (agent_id, generation)
);
-- At most one active key per agent.
CREATE UNIQUE INDEX key_active ON keys (agent_id) WHERE status = 'active';

CREATE TABLE credentials (
    id           TEXT    NOT NULL PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('agent', 'operator')),
    agent_id     TEXT    REFERENCES agents (id),
    role         TEXT    CHECK (role IN ('admin', 'operator', 'approver', 'auditor')),
    name         TEXT    NOT NULL,
    hash         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT ,
    revoked_at   BIGINT ,
    last_used_at BIGINT ,
    CONSTRAINT credential_hash UNIQUE (hash),
    CHECK ((kind = 'agent' AND agent_id IS NOT NULL AND role IS NULL)
        OR (kind = 'operator' AND agent_id IS NULL AND role IS NOT NULL))
);
CREATE INDEX credentials_agent ON credentials (agent_id);

CREATE TABLE policies (
    id         TEXT    NOT NULL PRIMARY KEY,
    level      TEXT    NOT NULL CHECK (level IN ('fleet', 'group', 'agent')),
    scope_id   TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    version    BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    active     BIGINT  NOT NULL CHECK (active IN (0, 1)),
    CONSTRAINT policy_version UNIQUE (level, scope_id, version)
);
CREATE UNIQUE INDEX policy_active ON policies (level, scope_id) WHERE active = 1;

CREATE TABLE authorizations (
    id              TEXT    NOT NULL PRIMARY KEY,
    agent_id        TEXT    NOT NULL REFERENCES agents (id),
    key_id          TEXT    NOT NULL REFERENCES keys (id),
    fleet_id        TEXT    NOT NULL REFERENCES fleets (id),
    group_id        TEXT    REFERENCES agent_groups (id),
    idempotency_key TEXT    NOT NULL,
    network         TEXT    NOT NULL,
    asset           TEXT    NOT NULL,
    pay_to          TEXT    NOT NULL,
    origin          TEXT    NOT NULL,
    resource_url    TEXT    NOT NULL,
    amount_atomic   TEXT    NOT NULL,
    amount_micro    BIGINT  NOT NULL CHECK (amount_micro >= 0),
    nonce           TEXT    NOT NULL,
    from_address    TEXT    NOT NULL,
    valid_after     BIGINT  NOT NULL,
    valid_before    BIGINT  NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('reserved', 'signed', 'settled', 'expired', 'cancelled', 'failed')),
    policy_hash     TEXT    NOT NULL,
    response_name   TEXT    NOT NULL DEFAULT '',
    response_value  TEXT    NOT NULL DEFAULT '',
    tx_hash         TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    signed_at       BIGINT ,
    settled_at      BIGINT ,
    updated_at      BIGINT  NOT NULL,
    counted         BIGINT  NOT NULL,
    CHECK ((counted = 1 AND status IN ('reserved', 'signed', 'settled'))
        OR (counted = 0 AND status IN ('expired', 'cancelled', 'failed'))),
    CONSTRAINT authorization_idempotency_key UNIQUE (agent_id, idempotency_key),
    CONSTRAINT authorization_nonce UNIQUE (asset, from_address, nonce)
);
-- Window sums. counted is 1 exactly when the status consumes budget (the CHECK below
-- makes it impossible for the two to disagree). The spend indexes lead with
-- (scope, counted, created_at) and carry amount_micro, so that
--   SELECT SUM(amount_micro), COUNT(*) FROM authorizations
--   WHERE <scope>_id = ? AND counted = 1 AND created_at > ?
-- is a range scan of exactly the counted rows of the window in a covering index, and
-- the common transitions reserved -> signed -> settled leave the indexes untouched;
-- only a release (expired, cancelled, failed) moves a row out of the range.
CREATE INDEX authorizations_spend_agent ON authorizations (agent_id, counted, created_at, amount_micro);
CREATE INDEX authorizations_spend_group ON authorizations (group_id, counted, created_at, amount_micro);
CREATE INDEX authorizations_spend_fleet ON authorizations (fleet_id, counted, created_at, amount_micro);
CREATE INDEX authorizations_open ON authorizations (valid_before)
    WHERE status IN ('reserved', 'signed');
CREATE INDEX authorizations_key ON authorizations (key_id);

CREATE TABLE approvals (
    id               TEXT    NOT NULL PRIMARY KEY,
    authorization_id TEXT    NOT NULL REFERENCES authorizations (id),
    rule             TEXT    NOT NULL,
    quorum           BIGINT  NOT NULL CHECK (quorum >= 1),
    approvers        TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
    created_at       BIGINT  NOT NULL,
    expires_at       BIGINT  NOT NULL,
    decided_at       BIGINT 
);
CREATE INDEX approvals_authorization ON approvals (authorization_id);
CREATE INDEX approvals_pending ON approvals (created_at) WHERE status = 'pending';

CREATE TABLE approval_votes (
    approval_id TEXT    NOT NULL REFERENCES approvals (id),
    approver    TEXT    NOT NULL,
    decision    TEXT    NOT NULL CHECK (decision IN ('approve', 'deny')),
    voted_at    BIGINT  NOT NULL,
    CONSTRAINT approval_vote PRIMARY KEY (approval_id, approver)
);

CREATE TABLE audit_records (
    seq       BIGINT  NOT NULL CHECK (seq >= 1),
    time      BIGINT  NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    CONSTRAINT audit_seq PRIMARY KEY (seq)
);

CREATE TABLE audit_checkpoints (
    seq       BIGINT  NOT NULL,
    hash      TEXT    NOT NULL,
    time      BIGINT  NOT NULL,
    signer    TEXT    NOT NULL,
    signature TEXT    NOT NULL,
    CONSTRAINT audit_checkpoint_seq PRIMARY KEY (seq)
);

-- Window-total cache, exact and derived: for every scope (fleet, group, agent) and
-- resolution (res 0..3 = 10 ms, 1 s, 1 min, 1 h) the sum and count of the counted
-- authorizations created in [bucket, bucket + resolution). It is updated in the same
-- transaction as every change of an authorization's counted flag, so that a window
-- total = the records in (Now-Window, first 10 ms boundary) from the spend index
--        + whole buckets from there on, coarsest possible first
-- touches at most ~250 rows whatever the window holds. The conformance suite checks
-- every total it produces against the records.
CREATE TABLE spend_buckets (
    level    TEXT    NOT NULL,
    scope_id TEXT    NOT NULL,
    res      BIGINT  NOT NULL,
    bucket   BIGINT  NOT NULL,
    amount   BIGINT  NOT NULL,
    cnt      BIGINT  NOT NULL,
    PRIMARY KEY (level, scope_id, res, bucket)
);

-- The audit chain's single appender lock: a transaction locks this row (SELECT ...
-- FOR UPDATE) before it reads the head and appends, so appenders on every replica
-- queue here and the chain stays one chain. The lock lives in the schema, unlike an
-- advisory lock, so two schemas of one database never wait for each other.
CREATE TABLE audit_head_lock (
    id BIGINT NOT NULL PRIMARY KEY CHECK (id = 1)
);
INSERT INTO audit_head_lock (id) VALUES (1);

-- Store.StateVersion across replicas: every transaction that changes a fleet, group,
-- agent, key, credential or policy adds one here and sends NOTIFY fleetkey_state at
-- commit; replicas listen, and also poll this row so a lost notification only delays
-- the change by the poll interval.
CREATE TABLE state_version (
    id      BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO state_version (id, version) VALUES (1, 0);
