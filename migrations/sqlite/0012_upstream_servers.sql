-- Upstream MCP servers (SQLite): a workspace's own servers behind Gatehouse, the sessions opened to
-- those of the older protocol revisions, which servers a key or connector may reach, and usage by
-- server.

CREATE TABLE upstream_servers (
    id                 TEXT PRIMARY KEY NOT NULL,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug               TEXT NOT NULL,                 -- [a-z0-9-], unique in the workspace
    name               TEXT NOT NULL,
    url                TEXT NOT NULL,
    environment        TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    enabled            INTEGER NOT NULL DEFAULT 1,
    timeout_ms         INTEGER NOT NULL,
    credentials        TEXT,                          -- the headers to send, sealed under the server key
    credential_names   TEXT NOT NULL DEFAULT '',      -- their names, space-separated (shown; never the values)
    send_identity      INTEGER NOT NULL DEFAULT 0,        -- send who is calling as a signed JWT
    allow_private      INTEGER NOT NULL DEFAULT 0,        -- added from the command line: loopback and private addresses allowed
    disabled_tools     TEXT NOT NULL DEFAULT '',      -- tools an admin switched off, newline-separated
    created_by         TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    health             TEXT NOT NULL DEFAULT 'unknown', -- unknown, up, down
    health_checked_at  INTEGER,
    health_error       TEXT,
    health_claimed_until INTEGER NOT NULL DEFAULT 0,   -- the process checking it now holds it until then
    server_name        TEXT,                          -- what the server says it is
    server_version     TEXT,
    protocol_version   TEXT,                          -- the revision it speaks
    tool_count         INTEGER,
    UNIQUE (workspace_id, slug)
);

CREATE TABLE upstream_sessions (
    server_id        TEXT NOT NULL REFERENCES upstream_servers(id) ON DELETE CASCADE,
    caller_id        TEXT NOT NULL,                   -- the key or connector
    session_id       TEXT NOT NULL,                   -- the upstream's Mcp-Session-Id
    protocol_version TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (server_id, caller_id)
);

-- NULL: no upstream server; '*': all, now and later; else space-separated 'slug', 'slug/*' or 'slug/tool'.
ALTER TABLE api_keys ADD COLUMN servers TEXT;
ALTER TABLE oauth_grants ADD COLUMN servers TEXT;
ALTER TABLE oauth_codes ADD COLUMN servers TEXT;
ALTER TABLE oauth_device_codes ADD COLUMN servers TEXT;

-- The upstream server a call went to ('' for the built-in catalog); tool names of upstream calls
-- are 'slug__tool', so the primary keys stay as they are.
ALTER TABLE usage_minutes ADD COLUMN server TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_hours ADD COLUMN server TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_days ADD COLUMN server TEXT NOT NULL DEFAULT '';
