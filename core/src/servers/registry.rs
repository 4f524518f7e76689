//! The registry: a workspace's upstream servers — added, changed, switched off tool by tool, and
//! removed — each change written to the audit log in the same transaction. Admins and owners
//! manage servers; members may list them.

use std::time::Duration;

use sqlx::Row;

use super::{CredentialHeaders, ServerName, ServerSlug, UpstreamServer, UpstreamUrl, server_from_row};
use crate::{
    Db,
    audit::{self, Actor},
    clock::now_ms,
    error::{CoreError, CoreResult},
    ids::new_id,
    keys::Environment,
    net::{AddressRules, check_resolves},
    secrets::Keyring,
    workspaces,
};

/// At most this many servers in a workspace.
pub const MAX_SERVERS: i64 = 100;

/// A server about to be added.
#[derive(Debug, Clone)]
pub struct NewServer {
    pub name: ServerName,
    /// Made from the name when absent.
    pub slug: Option<ServerSlug>,
    pub url: UpstreamUrl,
    pub environment: Environment,
    pub timeout: Duration,
    pub headers: CredentialHeaders,
    pub send_identity: bool,
    /// Loopback and private addresses allowed: servers the operator adds from the command line, or
    /// any with `GATEHOUSE_UPSTREAMS_ALLOW_PRIVATE=true`.
    pub allow_private: bool,
}

/// What a change may set; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ServerChanges {
    pub name: Option<ServerName>,
    pub url: Option<UpstreamUrl>,
    pub environment: Option<Environment>,
    pub timeout: Option<Duration>,
    pub enabled: Option<bool>,
    /// Replaces every credential header (an empty set removes them).
    pub headers: Option<CredentialHeaders>,
    pub send_identity: Option<bool>,
    /// The tools switched off (replaces the list).
    pub disabled_tools: Option<Vec<String>>,
}

/// The rules for where a server may point.
pub fn address_rules(allow_private: bool) -> AddressRules {
    let setting = "GATEHOUSE_UPSTREAMS_ALLOW_PRIVATE=true, or by adding the server with `gatehouse server add`";
    if allow_private {
        AddressRules::private_allowed(setting)
    } else {
        AddressRules { setting, ..AddressRules::PUBLIC }
    }
}

async fn check_address(url: &UpstreamUrl, allow_private: bool) -> CoreResult<()> {
    check_resolves(url.url(), address_rules(allow_private))
        .await
        .map_err(|e| CoreError::invalid("url", format!("Gatehouse cannot reach this URL: {e}.")))
}

pub(crate) const SELECT: &str =
    "SELECT id, workspace_id, slug, name, url, environment, enabled, timeout_ms, credentials, credential_names,
        send_identity, allow_private, disabled_tools, created_at, updated_at, health, health_checked_at, health_error,
        server_name, server_version, protocol_version, tool_count
     FROM upstream_servers";

async fn admin_of(db: &Db, actor: &Actor, slug: &str) -> CoreResult<String> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("manage upstream servers")?;
    Ok(m.workspace.id)
}

/// Adds a server to a workspace the person administers.
pub async fn add(
    db: &Db,
    keys: &Keyring,
    actor: &Actor,
    workspace_slug: &str,
    new: NewServer,
) -> CoreResult<UpstreamServer> {
    let workspace_id = admin_of(db, actor, workspace_slug).await?;
    add_in(db, keys, &workspace_id, Some(actor), new).await
}

/// Adds a server without a role check (the command line).
pub async fn add_in(
    db: &Db,
    keys: &Keyring,
    workspace_id: &str,
    actor: Option<&Actor>,
    new: NewServer,
) -> CoreResult<UpstreamServer> {
    let slug = match new.slug {
        Some(slug) => slug,
        None => ServerSlug::from_name(new.name.as_str())?,
    };
    let taken = sqlx::query("SELECT 1 FROM upstream_servers WHERE workspace_id = $1 AND slug = $2")
        .bind(workspace_id)
        .bind(slug.as_str())
        .fetch_optional(db.pool())
        .await?;
    if taken.is_some() {
        return Err(CoreError::invalid("slug", "Another server of this workspace has this slug; choose another."));
    }
    check_address(&new.url, new.allow_private).await?;
    let count = sqlx::query("SELECT COUNT(*) FROM upstream_servers WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(db.pool())
        .await?
        .try_get::<i64, _>(0)?;
    if count >= MAX_SERVERS {
        return Err(CoreError::invalid("url", format!("A workspace has at most {MAX_SERVERS} servers.")));
    }
    let id = new_id("srv");
    let now = now_ms();
    let sealed = (!new.headers.is_empty()).then(|| new.headers.seal(keys, &id));
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO upstream_servers (id, workspace_id, slug, name, url, environment, enabled, timeout_ms, credentials,
             credential_names, send_identity, allow_private, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(&id)
    .bind(workspace_id)
    .bind(slug.as_str())
    .bind(new.name.as_str())
    .bind(new.url.as_str())
    .bind(new.environment.as_str())
    .bind(i64::try_from(new.timeout.as_millis()).unwrap_or(60_000))
    .bind(sealed)
    .bind(new.headers.names().join(" "))
    .bind(i64::from(new.send_identity))
    .bind(i64::from(new.allow_private))
    .bind(actor.and_then(Actor::person))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        CoreError::unique_violation(e, "slug", "Another server of this workspace has this slug; choose another.")
    })?;
    let details = serde_json::json!({
        "slug": slug.as_str(), "name": new.name.as_str(), "url": new.url.as_str(),
        "environment": new.environment, "credential_headers": new.headers.names(),
    });
    audit::record(&mut *tx, workspace_id, actor, "server.added", ("server", &id), details).await?;
    tx.commit().await?;
    db.servers_changed(workspace_id);
    tracing::info!(server = %id, slug = %slug.as_str(), "upstream server added");
    get_in(db, workspace_id, slug.as_str()).await
}

/// A workspace's servers, by slug.
pub async fn list_in(db: &Db, workspace_id: &str) -> CoreResult<Vec<UpstreamServer>> {
    let rows = sqlx::query(&format!("{SELECT} WHERE workspace_id = $1 ORDER BY slug"))
        .bind(workspace_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(server_from_row).collect()
}

/// The servers of a workspace the person is in.
pub async fn list(db: &Db, user_id: &str, workspace_slug: &str) -> CoreResult<Vec<UpstreamServer>> {
    let m = workspaces::membership(db, user_id, workspace_slug).await?;
    list_in(db, &m.workspace.id).await
}

/// One server by its slug (or id). (The gateway reads servers through [`super::RegistryCache`].)
pub async fn get_in(db: &Db, workspace_id: &str, slug: &str) -> CoreResult<UpstreamServer> {
    let sql = format!("{SELECT} WHERE workspace_id = $1 AND (slug = $2 OR id = $2)");
    crate::direct::fetch_optional::<UpstreamServer>(db, &sql, &[workspace_id.into(), slug.into()])
        .await?
        .ok_or(CoreError::NotFound)
}

/// Changes a server of a workspace the person administers.
pub async fn update(
    db: &Db,
    keys: &Keyring,
    actor: &Actor,
    workspace_slug: &str,
    server_slug: &str,
    changes: ServerChanges,
) -> CoreResult<UpstreamServer> {
    let workspace_id = admin_of(db, actor, workspace_slug).await?;
    update_in(db, keys, &workspace_id, Some(actor), server_slug, changes).await
}

/// Changes a server without a role check.
pub async fn update_in(
    db: &Db,
    keys: &Keyring,
    workspace_id: &str,
    actor: Option<&Actor>,
    server_slug: &str,
    c: ServerChanges,
) -> CoreResult<UpstreamServer> {
    let current = get_in(db, workspace_id, server_slug).await?;
    if let Some(url) = &c.url {
        check_address(url, current.allow_private).await?;
    }
    if let Some(tools) = &c.disabled_tools
        && (tools.len() > 1000 || tools.iter().any(|t| t.is_empty() || t.len() > 128 || t.contains('\n')))
    {
        return Err(CoreError::invalid(
            "disabled_tools",
            "Name at most 1000 tools, each one line of at most 128 characters.",
        ));
    }
    let mut changed: Vec<&str> = Vec::new();
    let mut tx = db.pool().begin().await?;
    let now = now_ms();
    let set =
        |column: &'static str| format!("UPDATE upstream_servers SET {column} = $1, updated_at = $2 WHERE id = $3");
    if let Some(name) = &c.name {
        sqlx::query(&set("name")).bind(name.as_str()).bind(now).bind(&current.id).execute(&mut *tx).await?;
        changed.push("name");
    }
    if let Some(url) = &c.url {
        sqlx::query(&set("url")).bind(url.as_str()).bind(now).bind(&current.id).execute(&mut *tx).await?;
        changed.push("url");
    }
    if let Some(env) = c.environment {
        sqlx::query(&set("environment")).bind(env.as_str()).bind(now).bind(&current.id).execute(&mut *tx).await?;
        changed.push("environment");
    }
    if let Some(timeout) = c.timeout {
        let ms = i64::try_from(timeout.as_millis()).unwrap_or(60_000);
        sqlx::query(&set("timeout_ms")).bind(ms).bind(now).bind(&current.id).execute(&mut *tx).await?;
        changed.push("timeout");
    }
    if let Some(enabled) = c.enabled {
        sqlx::query(&set("enabled")).bind(i64::from(enabled)).bind(now).bind(&current.id).execute(&mut *tx).await?;
        changed.push("enabled");
    }
    if let Some(identity) = c.send_identity {
        sqlx::query(&set("send_identity"))
            .bind(i64::from(identity))
            .bind(now)
            .bind(&current.id)
            .execute(&mut *tx)
            .await?;
        changed.push("send_identity");
    }
    if let Some(headers) = &c.headers {
        let sealed = (!headers.is_empty()).then(|| headers.seal(keys, &current.id));
        sqlx::query(
            "UPDATE upstream_servers SET credentials = $1, credential_names = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(sealed)
        .bind(headers.names().join(" "))
        .bind(now)
        .bind(&current.id)
        .execute(&mut *tx)
        .await?;
        // A new credential means new upstream sessions.
        sqlx::query("DELETE FROM upstream_sessions WHERE server_id = $1").bind(&current.id).execute(&mut *tx).await?;
        changed.push("credentials");
    }
    if let Some(tools) = &c.disabled_tools {
        let mut tools = tools.clone();
        tools.sort();
        tools.dedup();
        sqlx::query(&set("disabled_tools"))
            .bind(tools.join("\n"))
            .bind(now)
            .bind(&current.id)
            .execute(&mut *tx)
            .await?;
        changed.push("disabled_tools");
    }
    if !changed.is_empty() {
        let details =
            serde_json::json!({ "slug": current.slug, "changed": changed, "disabled_tools": c.disabled_tools });
        audit::record(&mut *tx, workspace_id, actor, "server.updated", ("server", &current.id), details).await?;
    }
    tx.commit().await?;
    db.servers_changed(workspace_id);
    get_in(db, workspace_id, &current.id).await
}

/// Removes a server of a workspace the person administers.
pub async fn remove(db: &Db, actor: &Actor, workspace_slug: &str, server_slug: &str) -> CoreResult<UpstreamServer> {
    let workspace_id = admin_of(db, actor, workspace_slug).await?;
    remove_in(db, &workspace_id, Some(actor), server_slug).await
}

/// Removes a server without a role check; its sessions go with it.
pub async fn remove_in(
    db: &Db,
    workspace_id: &str,
    actor: Option<&Actor>,
    server_slug: &str,
) -> CoreResult<UpstreamServer> {
    let current = get_in(db, workspace_id, server_slug).await?;
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM upstream_sessions WHERE server_id = $1").bind(&current.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM upstream_servers WHERE id = $1").bind(&current.id).execute(&mut *tx).await?;
    let details = serde_json::json!({ "slug": current.slug, "name": current.name, "url": current.url });
    audit::record(&mut *tx, workspace_id, actor, "server.removed", ("server", &current.id), details).await?;
    tx.commit().await?;
    db.servers_changed(workspace_id);
    tracing::info!(server = %current.id, "upstream server removed");
    Ok(current)
}
