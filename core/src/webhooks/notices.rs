//! Notices that no person triggers: a key that stops working in 7 days (and again 1 day before),
//! and a workspace whose live calls today reached its daily threshold. Each is written to the
//! audit log once (a marker on the key or workspace makes it once even with several processes),
//! and from there reaches the webhooks subscribed to it.

use sqlx::Row;

use crate::{
    Db,
    audit::{self, Actor},
    clock::{DAY, Millis},
    error::{CoreError, CoreResult},
    workspaces,
};

/// Announces keys about to expire; returns how many notices were written.
pub async fn notify_expiring_keys(db: &Db, now: Millis) -> CoreResult<usize> {
    let mut written = 0;
    // The 1-day notice replaces a 7-day one; a key first seen within a day gets only the 1-day one.
    for (within, label, before) in
        [(DAY, "1d", "expiry_notice IS NULL OR expiry_notice = '7d'"), (7 * DAY, "7d", "expiry_notice IS NULL")]
    {
        let rows = sqlx::query(&format!(
            "SELECT id, workspace_id, name, environment, expires_at FROM api_keys
             WHERE revoked_at IS NULL AND expires_at > $1 AND expires_at <= $2 AND ({before})"
        ))
        .bind(now)
        .bind(now + within)
        .fetch_all(db.pool())
        .await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            let mut tx = db.pool().begin().await?;
            let marked = sqlx::query(&format!("UPDATE api_keys SET expiry_notice = $1 WHERE id = $2 AND ({before})"))
                .bind(label)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            if marked.rows_affected() == 1 {
                audit::record(
                    &mut *tx,
                    &row.try_get::<String, _>("workspace_id")?,
                    None,
                    "key.expiring",
                    ("key", &id),
                    serde_json::json!({
                        "name": row.try_get::<String, _>("name")?,
                        "environment": row.try_get::<String, _>("environment")?,
                        "expires_at": row.try_get::<Millis, _>("expires_at")?,
                        "days": if label == "1d" { 1 } else { 7 },
                    }),
                )
                .await?;
                written += 1;
            }
            tx.commit().await?;
        }
    }
    Ok(written)
}

/// Announces workspaces whose live calls today (UTC) reached their threshold, once a day.
pub async fn notify_usage_thresholds(db: &Db, now: Millis) -> CoreResult<usize> {
    let day = now - now.rem_euclid(DAY);
    let rows = sqlx::query(
        "SELECT id, usage_threshold_daily FROM workspaces
         WHERE usage_threshold_daily IS NOT NULL AND (usage_threshold_notified_day IS NULL OR usage_threshold_notified_day < $1)",
    )
    .bind(day)
    .fetch_all(db.pool())
    .await?;
    let mut written = 0;
    for row in rows {
        let id: String = row.try_get("id")?;
        let threshold: i64 = row.try_get("usage_threshold_daily")?;
        // Today's minutes are all still minutes (they roll up after two days).
        let calls: i64 = sqlx::query(
            "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) AS calls FROM usage_minutes
             WHERE workspace_id = $1 AND environment = 'live' AND minute >= $2",
        )
        .bind(&id)
        .bind(day)
        .fetch_one(db.pool())
        .await?
        .try_get("calls")?;
        if calls < threshold {
            continue;
        }
        let mut tx = db.pool().begin().await?;
        let marked = sqlx::query(
            "UPDATE workspaces SET usage_threshold_notified_day = $1
             WHERE id = $2 AND (usage_threshold_notified_day IS NULL OR usage_threshold_notified_day < $1)",
        )
        .bind(day)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 1 {
            audit::record(
                &mut *tx,
                &id,
                None,
                "usage.threshold",
                ("workspace", &id),
                serde_json::json!({ "threshold": threshold, "calls": calls, "day": day }),
            )
            .await?;
            written += 1;
        }
        tx.commit().await?;
    }
    Ok(written)
}

/// The workspace's daily threshold of live calls, if set.
pub async fn usage_threshold(db: &Db, user_id: &str, slug: &str) -> CoreResult<Option<i64>> {
    let m = workspaces::membership(db, user_id, slug).await?;
    Ok(sqlx::query("SELECT usage_threshold_daily FROM workspaces WHERE id = $1")
        .bind(&m.workspace.id)
        .fetch_one(db.pool())
        .await?
        .try_get("usage_threshold_daily")?)
}

/// Sets (or, with `None`, turns off) the daily threshold (admins). Zero or negative is refused.
pub async fn set_usage_threshold(db: &Db, actor: &Actor, slug: &str, threshold: Option<i64>) -> CoreResult<()> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("set the usage alert")?;
    if threshold.is_some_and(|t| !(1..=1_000_000_000).contains(&t)) {
        return Err(CoreError::invalid(
            "threshold",
            "Enter a whole number of calls above zero, or leave it empty to turn the alert off.",
        ));
    }
    sqlx::query("UPDATE workspaces SET usage_threshold_daily = $1, usage_threshold_notified_day = NULL WHERE id = $2")
        .bind(threshold)
        .bind(&m.workspace.id)
        .execute(db.pool())
        .await?;
    audit::record(
        db.pool(),
        &m.workspace.id,
        Some(actor),
        "webhook.threshold_set",
        ("workspace", &m.workspace.id),
        serde_json::json!({ "threshold": threshold }),
    )
    .await
}
