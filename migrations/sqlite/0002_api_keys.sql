-- API keys, and the workspace settings that govern them (SQLite).
ALTER TABLE workspaces ADD COLUMN max_key_lifetime_days INTEGER;
ALTER TABLE workspaces ADD COLUMN key_rate_limit_per_minute INTEGER NOT NULL DEFAULT 600;

CREATE TABLE api_keys (
    id                    TEXT PRIMARY KEY NOT NULL,          -- the key's lookup id (not secret)
    workspace_id          TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    environment           TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    scopes                TEXT NOT NULL,                      -- space-separated scope names
    resources             TEXT,                               -- space-separated resource ids; NULL = all
    digest                TEXT NOT NULL,                      -- SHA-256 of the whole key, hex
    last4                 TEXT NOT NULL,
    rate_limit_per_minute INTEGER,                            -- NULL = the workspace default
    created_by            TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER,
    revoked_at            INTEGER,                            -- may be in the future: a roll's grace period
    rolled_to             TEXT,
    last_used_at          INTEGER
);
CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, created_at);
