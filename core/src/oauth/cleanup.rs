//! Housekeeping: clients (registered, or read from a metadata document) that never completed a
//! grant, and expired requests, codes, device codes, tokens and assertion ids, are deleted after a
//! while so the tables stay small.

use crate::{
    Db,
    clock::{DAY, Millis, now_ms},
    error::CoreResult,
};

#[derive(Debug, Clone, Copy)]
pub struct CleanupPolicy {
    /// A client that has not completed a grant this long after registering is removed.
    pub unused_client_after: Millis,
}

impl Default for CleanupPolicy {
    fn default() -> Self {
        CleanupPolicy { unused_client_after: DAY }
    }
}

/// Deletes what is stale; returns how many clients were removed.
pub async fn remove_stale(db: &Db, policy: CleanupPolicy) -> CoreResult<u64> {
    let now = now_ms();
    let day_ago = now - DAY;
    let pool = db.pool();
    let clients = sqlx::query("DELETE FROM oauth_clients WHERE first_grant_at IS NULL AND created_at < $1")
        .bind(now - policy.unused_client_after)
        .execute(pool)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM oauth_requests WHERE expires_at < $1").bind(day_ago).execute(pool).await?;
    sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1").bind(day_ago).execute(pool).await?;
    sqlx::query("DELETE FROM oauth_device_codes WHERE expires_at < $1").bind(day_ago).execute(pool).await?;
    // Expired access tokens are kept a day (so a client is told "expired", not "unknown");
    // replaced refresh tokens a week (so reuse is still detected).
    sqlx::query("DELETE FROM oauth_tokens WHERE kind = 'access' AND expires_at < $1")
        .bind(day_ago)
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM oauth_tokens WHERE kind = 'refresh' AND replaced_at < $1")
        .bind(now - 7 * DAY)
        .execute(pool)
        .await?;
    // A spent assertion id is needed only while the assertion could still be presented.
    sqlx::query("DELETE FROM oauth_assertion_ids WHERE expires_at < $1").bind(now).execute(pool).await?;
    if clients > 0 {
        tracing::info!(clients, "removed OAuth clients that never completed a grant");
    }
    Ok(clients)
}
