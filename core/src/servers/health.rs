//! Health: what the last check of a server found (up or down, the error, what the server says it
//! is, its revision and number of tools), which process checks which server when (a claim that
//! expires, so several processes check each server once), and the `server.down` / `server.up`
//! entries — audit log and webhook events — when the answer changes.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{UpstreamServer, server_from_row};
use crate::{
    Db, audit,
    clock::{Millis, now_ms},
    error::CoreResult,
};

/// What the dashboard shows of a server's health.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Health {
    /// `unknown` (never checked), `up` or `down`.
    pub status: String,
    pub checked_at: Option<Millis>,
    pub error: Option<String>,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub protocol_version: Option<String>,
    pub tool_count: Option<i64>,
}

/// The result of one check.
#[derive(Debug, Clone)]
pub enum HealthReport {
    Up { server_name: String, server_version: String, protocol_version: String, tool_count: i64 },
    Down { error: String },
}

/// Claims the enabled servers not checked within `every` ms (nor claimed by another process now),
/// for `hold` ms.
pub async fn claim_due(db: &Db, every: Millis, hold: Millis) -> CoreResult<Vec<UpstreamServer>> {
    let now = now_ms();
    let due = sqlx::query(
        "SELECT id FROM upstream_servers
         WHERE enabled = 1 AND health_claimed_until < $1 AND (health_checked_at IS NULL OR health_checked_at < $2)
         ORDER BY health_checked_at LIMIT 50",
    )
    .bind(now)
    .bind(now - every)
    .fetch_all(db.pool())
    .await?;
    let mut claimed = Vec::new();
    for row in due {
        let id: String = row.try_get("id")?;
        let won = sqlx::query(
            "UPDATE upstream_servers SET health_claimed_until = $1 WHERE id = $2 AND health_claimed_until < $3",
        )
        .bind(now + hold)
        .bind(&id)
        .bind(now)
        .execute(db.pool())
        .await?
        .rows_affected();
        if won == 1
            && let Some(row) = sqlx::query(&format!("{} WHERE id = $1", super::registry::SELECT))
                .bind(&id)
                .fetch_optional(db.pool())
                .await?
        {
            claimed.push(server_from_row(&row)?);
        }
    }
    Ok(claimed)
}

/// Records a check; a change from up to down (or back) becomes a `server.down` / `server.up`
/// audit entry, which the webhook worker sends on.
pub async fn record(db: &Db, server: &UpstreamServer, report: &HealthReport) -> CoreResult<()> {
    let now = now_ms();
    let mut tx = db.pool().begin().await?;
    let previous: Option<String> = sqlx::query("SELECT health FROM upstream_servers WHERE id = $1")
        .bind(&server.id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("health"))
        .transpose()?;
    let Some(previous) = previous else { return Ok(()) };
    let status = match report {
        HealthReport::Up { server_name, server_version, protocol_version, tool_count } => {
            sqlx::query(
                "UPDATE upstream_servers SET health = 'up', health_checked_at = $1, health_error = NULL, health_claimed_until = 0,
                     server_name = $2, server_version = $3, protocol_version = $4, tool_count = $5 WHERE id = $6",
            )
            .bind(now)
            .bind(server_name)
            .bind(server_version)
            .bind(protocol_version)
            .bind(tool_count)
            .bind(&server.id)
            .execute(&mut *tx)
            .await?;
            "up"
        }
        HealthReport::Down { error } => {
            sqlx::query(
                "UPDATE upstream_servers SET health = 'down', health_checked_at = $1, health_error = $2, health_claimed_until = 0
                 WHERE id = $3",
            )
            .bind(now)
            .bind(error.chars().take(500).collect::<String>())
            .bind(&server.id)
            .execute(&mut *tx)
            .await?;
            "down"
        }
    };
    let changed = match (previous.as_str(), status) {
        ("up", "down") | ("unknown", "down") => Some("server.down"),
        ("down", "up") => Some("server.up"),
        _ => None,
    };
    if let Some(action) = changed {
        let details = serde_json::json!({
            "slug": server.slug, "name": server.name,
            "error": match report { HealthReport::Down { error } => Some(error.as_str()), HealthReport::Up { .. } => None },
        });
        audit::record(&mut *tx, &server.workspace_id, None, action, ("server", &server.id), details).await?;
        tracing::info!(server = %server.id, action, "upstream server health changed");
    }
    tx.commit().await?;
    Ok(())
}
