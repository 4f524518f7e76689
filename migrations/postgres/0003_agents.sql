-- Agents: named, versioned JSON graphs, apart for live and test data (PostgreSQL).
CREATE TABLE agents (
    id              TEXT PRIMARY KEY NOT NULL,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    environment     TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    name            TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX agents_by_workspace ON agents (workspace_id, environment, created_at);

CREATE TABLE agent_versions (
    agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    graph      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agent_id, version)
);
