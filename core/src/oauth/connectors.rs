//! Connectors: the live grants of a workspace, one per client connection. Members see them;
//! admins and owners remove them (every token stops at once) or rebind them to another of their
//! workspaces (the client's next call acts there).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{redirect::host_of, tokens::revoke_grant};
use crate::{
    Db,
    audit::{self, Actor},
    clock::{Millis, now_ms},
    error::{CoreError, CoreResult},
    scopes::ScopeSet,
    workspaces,
};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Connector {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    /// Where the client sends people back to; `None` for a device (CLI).
    pub redirect_host: Option<String>,
    /// authorization_code or device_code.
    pub kind: String,
    pub scopes: ScopeSet,
    pub approved_by: Option<String>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
}

const SELECT: &str =
    "SELECT g.id, g.client_id, c.name AS client_name, g.redirect_uri, g.kind, g.scopes, g.user_id, u.email,
        g.created_at, g.expires_at, g.last_used_at
     FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id LEFT JOIN users u ON u.id = g.user_id";

fn from_row(row: &sqlx::any::AnyRow) -> CoreResult<Connector> {
    Ok(Connector {
        id: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        client_name: row.try_get("client_name")?,
        redirect_host: row.try_get::<Option<String>, _>("redirect_uri")?.map(|u| host_of(&u)),
        kind: row.try_get("kind")?,
        scopes: ScopeSet::from_stored(&row.try_get::<String, _>("scopes")?),
        approved_by: row.try_get("email")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

/// The workspace's connectors that still work, newest first.
pub async fn list(db: &Db, user_id: &str, slug: &str) -> CoreResult<Vec<Connector>> {
    let m = workspaces::membership(db, user_id, slug).await?;
    list_in(db, &m.workspace.id).await
}

/// The connectors of a workspace, for callers that have already checked membership.
pub async fn list_in(db: &Db, workspace_id: &str) -> CoreResult<Vec<Connector>> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE g.workspace_id = $1 AND g.revoked_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > $2)
         ORDER BY g.created_at DESC, g.id"
    ))
    .bind(workspace_id)
    .bind(now_ms())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// A live connector of the workspace, and the id of the person who approved it.
async fn find(db: &Db, workspace_id: &str, id: &str) -> CoreResult<(Connector, Option<String>)> {
    let row = sqlx::query(&format!("{SELECT} WHERE g.workspace_id = $1 AND g.id = $2 AND g.revoked_at IS NULL"))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(CoreError::NotFound)?;
    Ok((from_row(&row)?, row.try_get("user_id")?))
}

/// Removes a connector: its tokens stop working on their next use.
pub async fn remove(db: &Db, actor: &Actor, slug: &str, id: &str) -> CoreResult<Connector> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("remove connectors")?;
    let (connector, _) = find(db, &m.workspace.id, id).await?;
    revoke_grant(db, id, "removed in the dashboard", Some(actor)).await?;
    Ok(connector)
}

/// A live connector of the workspace (no role check).
pub async fn get_in(db: &Db, workspace_id: &str, id: &str) -> CoreResult<Connector> {
    find(db, workspace_id, id).await.map(|(connector, _)| connector)
}

/// Removes a connector without a role check (the management API).
pub async fn remove_in(db: &Db, workspace_id: &str, actor: &Actor, id: &str) -> CoreResult<Connector> {
    let (connector, _) = find(db, workspace_id, id).await?;
    revoke_grant(db, id, "removed through the management API", Some(actor)).await?;
    Ok(connector)
}

/// Moves a connector of `workspace_id` to the workspace `to_slug` for the management API. A
/// management key belongs to one workspace, so it moves a connector only where the person who
/// made the key is an admin or owner (a key made from the command line, by no one, cannot).
pub async fn move_in(
    db: &Db,
    workspace_id: &str,
    actor: &Actor,
    key_creator: Option<&str>,
    id: &str,
    to_slug: &str,
) -> CoreResult<Connector> {
    let refused = || {
        CoreError::invalid(
            "to",
            "A management key moves connectors only into workspaces where the person who made the key is an admin.",
        )
    };
    let creator = key_creator.ok_or_else(refused)?;
    let to = workspaces::membership(db, creator, to_slug).await.map_err(|e| match e {
        CoreError::NotFound => refused(),
        other => other,
    })?;
    to.role.require_admin("move connectors into that workspace").map_err(|_| refused())?;
    let from = workspaces::find_by_id(db, workspace_id).await?;
    move_between(db, actor, &from, &to.workspace, id).await
}

/// Moves a connector to another workspace. The actor must be an admin of both, and the person
/// who approved the connection a member of the new one (a connection never reaches a workspace
/// its owner cannot see).
pub async fn rebind(db: &Db, actor: &Actor, slug: &str, id: &str, to_slug: &str) -> CoreResult<Connector> {
    let from = workspaces::membership(db, &actor.user_id, slug).await?;
    from.role.require_admin("rebind connectors")?;
    let to = workspaces::membership(db, &actor.user_id, to_slug).await.map_err(|e| match e {
        CoreError::NotFound => CoreError::invalid("to", "Choose one of your workspaces."),
        other => other,
    })?;
    if to.workspace.id == from.workspace.id {
        return Err(CoreError::invalid("to", "The connector is already in this workspace; choose another."));
    }
    to.role.require_admin("move connectors into that workspace")?;
    move_between(db, actor, &from.workspace, &to.workspace, id).await
}

/// Moves a connector once the actor's right to move it between the two workspaces is checked.
async fn move_between(
    db: &Db,
    actor: &Actor,
    from: &workspaces::Workspace,
    to: &workspaces::Workspace,
    id: &str,
) -> CoreResult<Connector> {
    if to.id == from.id {
        return Err(CoreError::invalid("to", "The connector is already in this workspace; choose another."));
    }
    let (connector, approver) = find(db, &from.id, id).await?;
    let approver_is_member = match &approver {
        Some(user) => sqlx::query("SELECT 1 AS one FROM memberships WHERE workspace_id = $1 AND user_id = $2")
            .bind(&to.id)
            .bind(user)
            .fetch_optional(db.pool())
            .await?
            .is_some(),
        None => false,
    };
    if !approver_is_member {
        return Err(CoreError::invalid(
            "to",
            format!(
                "{} approved this connection and is not a member of {}; add them there first, or connect again from there.",
                connector.approved_by.as_deref().unwrap_or("The person who"),
                to.name
            ),
        ));
    }
    let mut tx = db.pool().begin().await?;
    let moved = sqlx::query(
        "UPDATE oauth_grants SET workspace_id = $1 WHERE id = $2 AND workspace_id = $3 AND revoked_at IS NULL",
    )
    .bind(&to.id)
    .bind(id)
    .bind(&from.id)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(CoreError::NotFound);
    }
    let details = serde_json::json!({
        "client_name": connector.client_name,
        "from": { "slug": from.slug, "name": from.name },
        "to": { "slug": to.slug, "name": to.name },
    });
    for workspace_id in [&from.id, &to.id] {
        audit::record(&mut *tx, workspace_id, Some(actor), "connector.rebound", ("connector", id), details.clone())
            .await?;
    }
    tx.commit().await?;
    db.access_changed(id);
    Ok(connector)
}
