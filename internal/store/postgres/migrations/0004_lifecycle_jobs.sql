-- PostgreSQL twin of the SQLite migration of the same number (INTEGER as BIGINT, BLOB as BYTEA).
-- Lifecycle jobs (rotation, revocation) run step by step and resume after a crash from
-- the last completed step: every step's state is written as it changes (steps, JSON).
CREATE TABLE jobs (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('revoke', 'rotate')),
    agent_id    TEXT    NOT NULL REFERENCES agents (id),
    status      TEXT    NOT NULL CHECK (status IN ('running', 'done')),
    params      BYTEA,
    steps       TEXT    NOT NULL,
    error       TEXT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    finished_at BIGINT 
);

-- At most one running job per agent.
CREATE UNIQUE INDEX jobs_running ON jobs (agent_id) WHERE status = 'running';
CREATE INDEX jobs_agent ON jobs (agent_id, created_at);
