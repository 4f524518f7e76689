//! The sign-in throttle: failures are counted per account and per client address in the database
//! (so several server processes share them); past a few failures each answer is delayed, and past
//! the limit the subject is refused for a while, whatever password it sends.

use std::time::Duration;

use sqlx::Row;

use crate::{
    Db,
    clock::{MINUTE, Millis, now_ms},
    error::{CoreError, CoreResult},
};

/// How sign-in failures are counted and answered.
#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures are counted within this window.
    pub window_ms: Millis,
    /// Failures for one email within the window before it is locked.
    pub account_limit: i64,
    /// Failures from one client address within the window before it is locked.
    pub address_limit: i64,
    /// How long a lock lasts.
    pub lock_ms: Millis,
    /// Failures answered at full speed before each further one is delayed.
    pub free_failures: i64,
    /// The delay added per failure past `free_failures`, capped at two seconds.
    pub delay_step: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            window_ms: 15 * MINUTE,
            account_limit: 10,
            address_limit: 50,
            lock_ms: 15 * MINUTE,
            free_failures: 3,
            delay_step: Duration::from_millis(250),
        }
    }
}

/// Refuses a subject that is locked.
pub(crate) async fn check(db: &Db, subject: &str) -> CoreResult<()> {
    let row = sqlx::query("SELECT locked_until FROM sign_in_throttle WHERE subject = $1")
        .bind(subject)
        .fetch_optional(db.pool())
        .await?;
    let locked_until: i64 = match row {
        Some(row) => row.try_get("locked_until")?,
        None => 0,
    };
    let now = now_ms();
    if locked_until > now {
        let retry_after_secs = (locked_until - now + 999) / 1000;
        return Err(CoreError::Throttled { retry_after_secs });
    }
    Ok(())
}

/// Counts a failure and returns how long to wait before answering it; locks at the limit.
pub(crate) async fn record_failure(
    db: &Db,
    policy: &ThrottlePolicy,
    subject: &str,
    limit: i64,
) -> CoreResult<Duration> {
    let now = now_ms();
    let window_start = now - policy.window_ms;
    let failures: i64 = sqlx::query(
        "INSERT INTO sign_in_throttle (subject, failures, window_started_at, locked_until) VALUES ($1, 1, $2, 0)
         ON CONFLICT (subject) DO UPDATE SET
           failures = CASE WHEN sign_in_throttle.window_started_at < $3 THEN 1 ELSE sign_in_throttle.failures + 1 END,
           window_started_at = CASE WHEN sign_in_throttle.window_started_at < $3 THEN $2 ELSE sign_in_throttle.window_started_at END
         RETURNING failures",
    )
    .bind(subject)
    .bind(now)
    .bind(window_start)
    .fetch_one(db.pool())
    .await?
    .try_get("failures")?;

    if failures >= limit {
        sqlx::query(
            "UPDATE sign_in_throttle SET failures = 0, window_started_at = $2, locked_until = $3 WHERE subject = $1",
        )
        .bind(subject)
        .bind(now)
        .bind(now + policy.lock_ms)
        .execute(db.pool())
        .await?;
        return Ok(Duration::ZERO);
    }
    let over = u32::try_from((failures - policy.free_failures).max(0)).unwrap_or(u32::MAX);
    Ok((policy.delay_step * over).min(Duration::from_secs(2)))
}

/// Forgets the failures of a subject after a successful sign-in.
pub(crate) async fn clear(db: &Db, subject: &str) -> CoreResult<()> {
    sqlx::query("DELETE FROM sign_in_throttle WHERE subject = $1").bind(subject).execute(db.pool()).await?;
    Ok(())
}
