-- Agents: named, versioned JSON graphs, apart for live and test data (SQLite).
CREATE TABLE agents (
    id              TEXT PRIMARY KEY NOT NULL,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    environment     TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    name            TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX agents_by_workspace ON agents (workspace_id, environment, created_at);

CREATE TABLE agent_versions (
    agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    graph      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, version)
);
