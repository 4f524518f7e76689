-- The management API and watching how keys are used (postgres): management keys (sk_live_…),
-- the answers kept for Idempotency-Key, the networks a key may be used from, the addresses each key
-- and connector is used from, the alerts a workspace sets, and leaked-key reports.

-- Management keys: the same format rules as API keys; stored as a SHA-256 digest, never the key.
CREATE TABLE management_keys (
    id           TEXT PRIMARY KEY NOT NULL,            -- the key's lookup id (not secret)
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,                        -- space-separated management scopes
    digest       TEXT NOT NULL,
    last4        TEXT NOT NULL,
    created_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX management_keys_by_workspace ON management_keys (workspace_id, created_at);

-- The first answer to a POST with an Idempotency-Key, for 24 hours. The answer is sealed under the
-- server key: it may hold a new key's secret.
CREATE TABLE idempotency_keys (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,                        -- SHA-256 of the method, path and body
    status       BIGINT,                                 -- NULL while the first request runs
    response     TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

-- The networks an API key may be used from (space-separated CIDR ranges); NULL: anywhere.
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
-- A key reported as found in public: when, and where.
ALTER TABLE api_keys ADD COLUMN leaked_at BIGINT;
ALTER TABLE api_keys ADD COLUMN leaked_url TEXT;

-- The addresses each key and connector is used from; written in batches by the usage recorder.
CREATE TABLE credential_addresses (
    caller_id    TEXT NOT NULL,                        -- the key's or the connector's id
    address      TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    network      TEXT NOT NULL,                        -- the address's /24 (IPv4) or /48 (IPv6)
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    calls        BIGINT NOT NULL,
    PRIMARY KEY (caller_id, address)
);
CREATE INDEX credential_addresses_by_network ON credential_addresses (caller_id, network);

-- A workspace's alert on a key's errors: more than this percent of its calls failing in the window,
-- once it made at least this many calls there. NULL percent: off.
ALTER TABLE workspaces ADD COLUMN error_spike_percent BIGINT;
ALTER TABLE workspaces ADD COLUMN error_spike_window_minutes BIGINT NOT NULL DEFAULT 15;
ALTER TABLE workspaces ADD COLUMN error_spike_min_calls BIGINT NOT NULL DEFAULT 20;

-- When each alert last fired for a credential, so a noisy key does not flood the receiver.
CREATE TABLE credential_alerts (
    caller_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,                          -- key.new_network, key.error_spike
    last_sent  BIGINT NOT NULL,
    PRIMARY KEY (caller_id, kind)
);

-- A key's allowed networks end or narrow it like its scopes: the change feed announces their edits.
DROP TRIGGER api_keys_changed ON api_keys;
CREATE TRIGGER api_keys_changed
AFTER UPDATE OF workspace_id, name, environment, scopes, resources, digest, expires_at, revoked_at,
                rate_limit_per_minute, servers, allowed_ips OR DELETE ON api_keys
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();
