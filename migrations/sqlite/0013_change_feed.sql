-- The change feed (SQLite): every change that can end or narrow what a credential reaches is noted
-- in change_log, in the change's own transaction, for every Gatehouse process on this file to read
-- (core/src/changes/feed.rs). Columns written on every call (last_used_at) and by health checks are
-- left out, so routine writes note nothing.

CREATE TABLE change_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic        TEXT NOT NULL,
    workspace_id TEXT NOT NULL
);

CREATE TRIGGER api_keys_changed
AFTER UPDATE OF workspace_id, name, environment, scopes, resources, digest, expires_at, revoked_at,
                rate_limit_per_minute, servers ON api_keys
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.workspace_id);
END;

CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.workspace_id);
END;

CREATE TRIGGER workspaces_changed
AFTER UPDATE OF slug, name, max_key_lifetime_days, key_rate_limit_per_minute ON workspaces
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.id);
END;

CREATE TRIGGER workspaces_deleted AFTER DELETE ON workspaces
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.id);
END;

CREATE TRIGGER memberships_changed AFTER UPDATE ON memberships
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.workspace_id);
END;

CREATE TRIGGER memberships_deleted AFTER DELETE ON memberships
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.workspace_id);
END;

CREATE TRIGGER oauth_grants_changed
AFTER UPDATE OF workspace_id, user_id, scopes, resource, expires_at, revoked_at, servers ON oauth_grants
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.workspace_id);
END;

CREATE TRIGGER oauth_grants_deleted AFTER DELETE ON oauth_grants
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.workspace_id);
END;

CREATE TRIGGER oauth_tokens_changed AFTER UPDATE OF scopes, expires_at, revoked_at ON oauth_tokens
BEGIN
    INSERT INTO change_log (topic, workspace_id)
    SELECT 'access', workspace_id FROM oauth_grants WHERE id = OLD.grant_id;
END;

CREATE TRIGGER upstream_servers_added AFTER INSERT ON upstream_servers
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', NEW.workspace_id);
END;

CREATE TRIGGER upstream_servers_changed
AFTER UPDATE OF workspace_id, slug, name, url, environment, enabled, timeout_ms, credentials, send_identity,
                allow_private, disabled_tools ON upstream_servers
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.workspace_id);
END;

CREATE TRIGGER upstream_servers_deleted AFTER DELETE ON upstream_servers
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.workspace_id);
END;
