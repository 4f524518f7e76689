-- The change feed (SQLite): every change that can end or narrow what a credential reaches, and every
-- change of a workspace's upstream servers or agents, is noted in change_log, in the change's own
-- transaction, for every Gatehouse process on this file to read (core/src/changes/feed.rs). A note
-- names its topic and what changed: a key's or a grant's id, or a workspace's id where all of its
-- credentials are concerned (its key policy and name, its members). Columns written on every call
-- (last_used_at) and by health checks are left out, so routine writes note nothing.

CREATE TABLE change_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic        TEXT NOT NULL,
    workspace_id TEXT NOT NULL      -- the id that changed: a workspace's, a key's or a grant's
);

-- One key.
CREATE TRIGGER api_keys_changed
AFTER UPDATE OF workspace_id, name, environment, scopes, resources, digest, expires_at, revoked_at,
                rate_limit_per_minute, servers ON api_keys
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.id);
END;

CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.id);
END;

-- One connector (its grant), and its tokens.
CREATE TRIGGER oauth_grants_changed
AFTER UPDATE OF workspace_id, user_id, scopes, resource, expires_at, revoked_at, servers ON oauth_grants
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.id);
END;

CREATE TRIGGER oauth_grants_deleted AFTER DELETE ON oauth_grants
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.id);
END;

CREATE TRIGGER oauth_tokens_changed AFTER UPDATE OF scopes, expires_at, revoked_at ON oauth_tokens
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('access', OLD.grant_id);
END;

-- Every credential of a workspace.
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

-- A workspace's upstream servers.
CREATE TRIGGER upstream_servers_added AFTER INSERT ON upstream_servers
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('servers', NEW.workspace_id);
END;

CREATE TRIGGER upstream_servers_changed
AFTER UPDATE OF workspace_id, slug, name, url, environment, enabled, timeout_ms, credentials, send_identity,
                allow_private, disabled_tools ON upstream_servers
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('servers', OLD.workspace_id);
END;

CREATE TRIGGER upstream_servers_deleted AFTER DELETE ON upstream_servers
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('servers', OLD.workspace_id);
END;

-- A workspace's agents, for the cached pages of list_agents.
CREATE TRIGGER agents_added AFTER INSERT ON agents
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('agents', NEW.workspace_id);
END;

CREATE TRIGGER agents_changed AFTER UPDATE ON agents
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('agents', OLD.workspace_id);
END;

CREATE TRIGGER agents_deleted AFTER DELETE ON agents
BEGIN
    INSERT INTO change_log (topic, workspace_id) VALUES ('agents', OLD.workspace_id);
END;
