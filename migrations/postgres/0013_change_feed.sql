-- The change feed (PostgreSQL): every change that can end or narrow what a credential reaches is
-- announced with NOTIFY gatehouse_changes, 'access:<workspace id>', delivered at commit to every
-- Gatehouse process that listens (core/src/changes/feed.rs). Columns written on every call
-- (last_used_at) and by health checks are left out, so routine writes announce nothing.

CREATE FUNCTION gatehouse_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ws TEXT;
BEGIN
    IF TG_TABLE_NAME = 'workspaces' THEN
        ws := OLD.id;
    ELSIF TG_TABLE_NAME = 'oauth_tokens' THEN
        SELECT workspace_id INTO ws FROM oauth_grants WHERE id = OLD.grant_id;
    ELSIF TG_OP = 'INSERT' THEN
        ws := NEW.workspace_id;
    ELSE
        ws := OLD.workspace_id;
    END IF;
    IF ws IS NOT NULL THEN
        PERFORM pg_notify('gatehouse_changes', 'access:' || ws);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_keys_changed
AFTER UPDATE OF workspace_id, name, environment, scopes, resources, digest, expires_at, revoked_at,
                rate_limit_per_minute, servers OR DELETE ON api_keys
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

CREATE TRIGGER workspaces_changed
AFTER UPDATE OF slug, name, max_key_lifetime_days, key_rate_limit_per_minute OR DELETE ON workspaces
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

CREATE TRIGGER memberships_changed AFTER UPDATE OR DELETE ON memberships
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

CREATE TRIGGER oauth_grants_changed
AFTER UPDATE OF workspace_id, user_id, scopes, resource, expires_at, revoked_at, servers OR DELETE ON oauth_grants
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

CREATE TRIGGER oauth_tokens_changed AFTER UPDATE OF scopes, expires_at, revoked_at ON oauth_tokens
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();

CREATE TRIGGER upstream_servers_changed
AFTER INSERT OR UPDATE OF workspace_id, slug, name, url, environment, enabled, timeout_ms, credentials,
                          send_identity, allow_private, disabled_tools OR DELETE ON upstream_servers
FOR EACH ROW EXECUTE FUNCTION gatehouse_note_change();
