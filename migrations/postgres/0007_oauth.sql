-- OAuth for chat clients and CLIs (PostgreSQL): registered clients, authorization requests waiting
-- for consent, codes, grants (= connectors), tokens, device codes; and the audit log.
-- Codes, tokens and device codes are stored as SHA-256 digests, never as themselves.

CREATE TABLE oauth_clients (
    id               TEXT PRIMARY KEY NOT NULL,     -- client_id
    name             TEXT NOT NULL,
    redirect_uris    TEXT NOT NULL,                 -- newline-separated, matched exactly
    grant_types      TEXT NOT NULL,                 -- space-separated
    scope            TEXT,                          -- the scopes it registered for; NULL = any
    auth_method      TEXT NOT NULL,                 -- none, client_secret_basic, client_secret_post
    secret_digest    TEXT,                          -- confidential clients only
    client_uri       TEXT,
    software_id      TEXT,
    software_version TEXT,
    created_at       BIGINT NOT NULL,
    first_grant_at   BIGINT                        -- NULL until a grant completes
);

CREATE TABLE oauth_requests (
    id             TEXT PRIMARY KEY NOT NULL,
    client_id      TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    state          TEXT,
    code_challenge TEXT NOT NULL,
    resource       TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    decided_at     BIGINT,
    decided_by     TEXT,
    decision       TEXT
);

CREATE TABLE oauth_grants (
    id             TEXT PRIMARY KEY NOT NULL,
    client_id      TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id        TEXT REFERENCES users(id) ON DELETE SET NULL,
    scopes         TEXT NOT NULL,
    resource       TEXT NOT NULL,
    redirect_uri   TEXT,                            -- NULL for device grants
    kind           TEXT NOT NULL,                   -- authorization_code or device_code
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,                         -- the end the user chose; NULL = until removed
    revoked_at     BIGINT,
    revoked_reason TEXT,
    last_used_at   BIGINT
);
CREATE INDEX oauth_grants_by_workspace ON oauth_grants (workspace_id, created_at);

CREATE TABLE oauth_codes (
    digest           TEXT PRIMARY KEY NOT NULL,
    client_id        TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    redirect_uri     TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    code_challenge   TEXT NOT NULL,
    resource         TEXT NOT NULL,
    grant_expires_at BIGINT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT,
    grant_id         TEXT                           -- what the first use issued
);

CREATE TABLE oauth_tokens (
    digest       TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_id     TEXT NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    replaced_at  BIGINT,                           -- refresh tokens: when rotated
    reissue_salt TEXT                               -- refresh tokens: re-derives the pair that replaced it
);
CREATE INDEX oauth_tokens_by_grant ON oauth_tokens (grant_id);

CREATE TABLE oauth_device_codes (
    digest           TEXT PRIMARY KEY NOT NULL,
    user_code        TEXT NOT NULL UNIQUE,          -- 8 letters, without the dash
    client_id        TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    scopes           TEXT NOT NULL,
    resource         TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    interval_secs    BIGINT NOT NULL,
    last_polled_at   BIGINT,
    status           TEXT NOT NULL,                 -- pending, approved, denied, consumed
    user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,
    workspace_id     TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
    grant_expires_at BIGINT,
    grant_id         TEXT
);

CREATE TABLE audit_events (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    actor_id      TEXT,                             -- the user, when there is one
    actor_email   TEXT,
    action        TEXT NOT NULL,                    -- connector.approved, key.created, …
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    details       TEXT NOT NULL,                    -- JSON, never a secret
    ip            TEXT,
    user_agent    TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX audit_events_by_workspace ON audit_events (workspace_id, created_at);
