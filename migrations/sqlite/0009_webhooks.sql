-- Webhooks (SQLite): endpoints with one signing secret each (and the previous one during a roll's
-- overlap), and deliveries stored until they succeed or give up, so a restart loses none. Audit
-- events are the source of webhook events: `webhooks_fanned_out` marks those already turned into
-- deliveries.
CREATE TABLE webhook_endpoints (
    id                         TEXT PRIMARY KEY NOT NULL,
    workspace_id               TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL,
    events                     TEXT NOT NULL,        -- space-separated event types
    secret                     TEXT NOT NULL,        -- whsec_…; shown in the dashboard, used to sign
    previous_secret            TEXT,
    previous_secret_expires_at INTEGER,
    created_by                 TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at                 INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_by_workspace ON webhook_endpoints (workspace_id);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY NOT NULL,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    workspace_id     TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,                  -- pending, succeeded, failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    locked_until     INTEGER,
    last_attempt_at  INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at);

ALTER TABLE audit_events ADD COLUMN webhooks_fanned_out INTEGER NOT NULL DEFAULT 0;
CREATE INDEX audit_events_to_fan_out ON audit_events (webhooks_fanned_out, created_at);
