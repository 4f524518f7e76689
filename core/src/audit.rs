//! The audit log: an append-only record, per workspace, of who did what to which thing, when,
//! from which address and user agent. Details are plain facts (names, scopes, hosts), never a
//! secret.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor, Row};

use crate::{Db, clock::now_ms, error::CoreResult, ids::new_id, workspaces};

/// Who acts, as the request showed them.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    pub fn user(user_id: &str) -> Self {
        Actor { user_id: user_id.to_owned(), ..Actor::default() }
    }
}

/// One entry of the log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: String,
    pub actor_email: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub details: serde_json::Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
}

/// Appends an entry, inside the caller's transaction (or on the pool).
pub async fn record<'c, E: Executor<'c, Database = Any>>(
    executor: E,
    workspace_id: &str,
    actor: Option<&Actor>,
    action: &str,
    (target_type, target_id): (&str, &str),
    details: serde_json::Value,
) -> CoreResult<()> {
    let user_agent = actor.and_then(|a| a.user_agent.as_deref()).map(|ua| ua.chars().take(300).collect::<String>());
    sqlx::query(
        "INSERT INTO audit_events (id, workspace_id, actor_id, actor_email, action, target_type, target_id, details,
             ip, user_agent, created_at)
         VALUES ($1, $2, $3, (SELECT email FROM users WHERE id = $3), $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new_id("evt"))
    .bind(workspace_id)
    .bind(actor.map(|a| a.user_id.as_str()))
    .bind(action)
    .bind(target_type)
    .bind(target_id)
    .bind(details.to_string())
    .bind(actor.and_then(|a| a.ip.as_deref()))
    .bind(user_agent)
    .bind(now_ms())
    .execute(executor)
    .await?;
    Ok(())
}

/// The newest entries of a workspace the user belongs to, optionally of one action.
pub async fn list(db: &Db, user_id: &str, slug: &str, action: Option<&str>, limit: i64) -> CoreResult<Vec<AuditEvent>> {
    let m = workspaces::membership(db, user_id, slug).await?;
    let rows = sqlx::query(
        "SELECT id, actor_email, action, target_type, target_id, details, ip, user_agent, created_at
         FROM audit_events WHERE workspace_id = $1 AND ($2 = '' OR action = $2)
         ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(&m.workspace.id)
    .bind(action.unwrap_or(""))
    .bind(limit.clamp(1, 500))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditEvent {
                id: row.try_get("id")?,
                actor_email: row.try_get("actor_email")?,
                action: row.try_get("action")?,
                target_type: row.try_get("target_type")?,
                target_id: row.try_get("target_id")?,
                details: serde_json::from_str(&row.try_get::<String, _>("details")?).unwrap_or_default(),
                ip: row.try_get("ip")?,
                user_agent: row.try_get("user_agent")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}
