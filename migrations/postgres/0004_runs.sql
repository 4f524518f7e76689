-- Runs of agents and their events (PostgreSQL).
CREATE TABLE runs (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    environment   TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    agent_id      TEXT NOT NULL,
    agent_version BIGINT NOT NULL,
    input         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    output        TEXT,
    error         TEXT,
    claimed_by    TEXT,
    created_at    BIGINT NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT
);
CREATE INDEX runs_by_workspace ON runs (workspace_id, environment, created_at);
CREATE INDEX runs_queued ON runs (workspace_id, environment, status, created_at);

CREATE TABLE run_events (
    run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
