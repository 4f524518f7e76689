//! Management keys (`sk_live_…`): the credentials of the `/v1` management API, for scripts that
//! do what an admin does in the dashboard. The same format rules as API keys (lookup id, 256-bit
//! secret, checksum; a SHA-256 digest at rest; shown once), each with management scopes
//! ([`ManagementScope`]), an optional expiry, and revocation. Owners and admins make them in
//! Settings, or the operator with `gatehouse admin-key create`.
//!
//! A management key is not an API key: `/mcp` refuses it, and the management API refuses API keys
//! and access tokens, each with an error that names the right kind.

pub mod idempotency;
mod scopes;
mod verify;

pub use scopes::{ManagementScope, ManagementScopes};
use serde::{Deserialize, Serialize};
use sqlx::Row;
pub use verify::{ManagementPrincipal, ManagementVerifier};

use crate::{
    Db,
    audit::{self, Actor},
    clock::{Millis, now_ms},
    error::{CoreError, CoreResult},
    keys::{ExpiryChoice, KeyKind, KeyName, KeyToken, hint_with},
    workspaces,
};

/// At most this many management keys (revoked ones included) per workspace.
pub const MAX_KEYS: i64 = 100;

/// A management key as Settings lists it: never its secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManagementKey {
    pub id: String,
    pub name: String,
    pub scopes: ManagementScopes,
    pub hint: String,
    /// The email of whoever made it; `None` for the command line.
    pub created_by: Option<String>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
}

/// What a new management key is made of.
#[derive(Debug, Clone)]
pub struct NewManagementKey {
    pub name: KeyName,
    pub scopes: ManagementScopes,
    pub expiry: ExpiryChoice,
}

const COLUMNS: &str = "k.id, k.name, k.scopes, k.last4, u.email AS created_by, k.created_at, k.expires_at, \
     k.revoked_at, k.last_used_at";

fn from_row(row: &sqlx::any::AnyRow) -> CoreResult<ManagementKey> {
    let id: String = row.try_get("id")?;
    let last4: String = row.try_get("last4")?;
    Ok(ManagementKey {
        hint: hint_with(KeyKind::Management, &id, &last4),
        name: row.try_get("name")?,
        scopes: ManagementScopes::from_stored(&row.try_get::<String, _>("scopes")?),
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
        id,
    })
}

/// Makes a management key in a workspace the person administers; the key is returned once. No
/// key can do more than its maker: only an owner gives a scope that is [owner-only].
///
/// [owner-only]: ManagementScope::owner_only
pub async fn create(
    db: &Db,
    actor: &Actor,
    slug: &str,
    new: NewManagementKey,
) -> CoreResult<(ManagementKey, KeyToken)> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("create management keys")?;
    if let Some(scope) = new.scopes.iter().find(|s| s.owner_only())
        && !m.role.can_manage_workspace()
    {
        return Err(CoreError::invalid(
            "scopes",
            format!("Only an owner can give a management key {scope}: it does what only owners do."),
        ));
    }
    create_in(db, &m.workspace.id, Some(actor), new).await
}

/// Makes a management key without a role check (the command line).
pub async fn create_in(
    db: &Db,
    workspace_id: &str,
    actor: Option<&Actor>,
    new: NewManagementKey,
) -> CoreResult<(ManagementKey, KeyToken)> {
    let now = now_ms();
    let policy = crate::keys::policy_of(db, workspace_id).await?;
    let expires_at = new.expiry.resolve(now, policy.max_lifetime_days)?;
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM management_keys WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(db.pool())
        .await?
        .try_get("n")?;
    if count >= MAX_KEYS {
        return Err(CoreError::invalid("name", format!("A workspace has at most {MAX_KEYS} management keys.")));
    }
    let token = KeyToken::generate_kind(KeyKind::Management);
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO management_keys (id, workspace_id, name, scopes, digest, last4, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token.lookup_id())
    .bind(workspace_id)
    .bind(new.name.as_str())
    .bind(new.scopes.to_stored())
    .bind(token.digest())
    .bind(token.last4())
    .bind(actor.and_then(Actor::person))
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    let details = serde_json::json!({
        "name": new.name.as_str(), "scopes": new.scopes.names(), "expires_at": expires_at,
    });
    audit::record(
        &mut *tx,
        workspace_id,
        actor,
        "management_key.created",
        ("management_key", token.lookup_id()),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok((get_in(db, workspace_id, token.lookup_id()).await?, token))
}

/// The workspace's management keys, newest first (the caller has checked the role: Settings shows
/// them to admins and owners).
pub async fn list_in(db: &Db, workspace_id: &str) -> CoreResult<Vec<ManagementKey>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM management_keys k LEFT JOIN users u ON u.id = k.created_by
         WHERE k.workspace_id = $1 ORDER BY k.created_at DESC, k.id"
    ))
    .bind(workspace_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The person who made a management key; `None` for one made from the command line.
pub async fn creator_of(db: &Db, key_id: &str) -> CoreResult<Option<String>> {
    let row = sqlx::query("SELECT created_by FROM management_keys WHERE id = $1")
        .bind(key_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(CoreError::NotFound)?;
    Ok(row.try_get("created_by")?)
}

async fn get_in(db: &Db, workspace_id: &str, id: &str) -> CoreResult<ManagementKey> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM management_keys k LEFT JOIN users u ON u.id = k.created_by
         WHERE k.workspace_id = $1 AND k.id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    from_row(&row.ok_or(CoreError::NotFound)?)
}

/// Revokes a management key at once (admins and owners); a revoked key stays revoked.
pub async fn revoke(db: &Db, actor: &Actor, slug: &str, id: &str) -> CoreResult<ManagementKey> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("revoke management keys")?;
    let key = get_in(db, &m.workspace.id, id).await?;
    let mut tx = db.pool().begin().await?;
    let done = sqlx::query(
        "UPDATE management_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(&m.workspace.id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        let details = serde_json::json!({ "name": key.name });
        audit::record(
            &mut *tx,
            &m.workspace.id,
            Some(actor),
            "management_key.revoked",
            ("management_key", id),
            details,
        )
        .await?;
    }
    tx.commit().await?;
    get_in(db, &m.workspace.id, id).await
}
