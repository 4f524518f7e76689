-- The change feed (PostgreSQL): every change that can end or narrow what a credential reaches, and
-- every change of a workspace's upstream servers or agents, is announced with
-- NOTIFY gatehouse_changes, '<topic>:<id>', delivered at commit to every Gatehouse process that
-- listens (core/src/changes/feed.rs). The id is what changed: a key's or a grant's, or a
-- workspace's where all of its credentials are concerned (its key policy and name, its members).
-- Columns written on every call (last_used_at) and by health checks are left out, so routine
-- writes announce nothing.

CREATE FUNCTION gatehouse_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    note TEXT;
BEGIN
    IF TG_TABLE_NAME IN ('api_keys', 'oauth_grants', 'workspaces') THEN
        note := 'access:' || OLD.id;
    ELSIF TG_TABLE_NAME = 'oauth_tokens' THEN
        note := 'access:' || OLD.grant_id;
    ELSIF TG_TABLE_NAME = 'memberships' THEN
        note := 'access:' || OLD.workspace_id;
    ELSIF TG_TABLE_NAME = 'upstream_servers' AND TG_OP = 'INSERT' THEN
        note := 'servers:' || NEW.workspace_id;
    ELSIF TG_TABLE_NAME = 'upstream_servers' THEN
        note := 'servers:' || OLD.workspace_id;
    ELSIF TG_OP = 'INSERT' THEN
        note := 'agents:' || NEW.workspace_id;
    ELSE
        note := 'agents:' || OLD.workspace_id;
    END IF;
    PERFORM pg_notify('gatehouse_changes', note);
    RETURN NULL;
END;
$$;

-- One key.
CREATE TRIGGER api_keys_changed
AFTER UPDATE OF workspace_id, name, environment, scopes, resources, digest, expires_at, revoked_at,
                rate_limit_per_minute, servers OR DELETE ON api_keys
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

-- One connector (its grant), and its tokens.
CREATE TRIGGER oauth_grants_changed
AFTER UPDATE OF workspace_id, user_id, scopes, resource, expires_at, revoked_at, servers OR DELETE ON oauth_grants
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

CREATE TRIGGER oauth_tokens_changed AFTER UPDATE OF scopes, expires_at, revoked_at ON oauth_tokens
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

-- Every credential of a workspace.
CREATE TRIGGER workspaces_changed
AFTER UPDATE OF slug, name, max_key_lifetime_days, key_rate_limit_per_minute OR DELETE ON workspaces
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

CREATE TRIGGER memberships_changed AFTER UPDATE OR DELETE ON memberships
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

-- A workspace's upstream servers.
CREATE TRIGGER upstream_servers_changed
AFTER INSERT OR UPDATE OF workspace_id, slug, name, url, environment, enabled, timeout_ms, credentials,
                          send_identity, allow_private, disabled_tools OR DELETE ON upstream_servers
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

-- A workspace's agents, for the cached pages of list_agents.
CREATE TRIGGER agents_changed AFTER INSERT OR UPDATE OR DELETE ON agents
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();
