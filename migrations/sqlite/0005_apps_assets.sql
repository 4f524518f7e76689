-- Apps (published agent versions) and uploaded assets (SQLite).
CREATE TABLE apps (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    environment   TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    name          TEXT NOT NULL,
    agent_id      TEXT NOT NULL,
    agent_version INTEGER NOT NULL,
    published_at  INTEGER NOT NULL
);
CREATE INDEX apps_by_workspace ON apps (workspace_id, environment, published_at);

CREATE TABLE assets (
    id           TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    environment  TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
