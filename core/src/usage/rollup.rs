//! Roll-ups: minute rows older than two days become hour rows, and hour rows older than 90 days
//! become day rows, so the tables stay small while totals and latency histograms stay exact.

use super::{BUCKETS, add_on_conflict, insert_head};
use crate::{
    Db,
    clock::{DAY, HOUR, Millis},
    error::CoreResult,
};

/// Minutes are kept this long before they are rolled into hours.
pub const KEEP_MINUTES: Millis = 2 * DAY;
/// Hours are kept this long before they are rolled into days.
pub const KEEP_HOURS: Millis = 90 * DAY;

/// Rolls old rows up; returns how many source rows were folded.
pub async fn roll_up(db: &Db, now: Millis) -> CoreResult<u64> {
    let a = fold(db, ("usage_minutes", "minute"), ("usage_hours", "hour"), HOUR, now - KEEP_MINUTES).await?;
    let b = fold(db, ("usage_hours", "hour"), ("usage_days", "day"), DAY, now - KEEP_HOURS).await?;
    Ok(a + b)
}

async fn fold(
    db: &Db,
    (src, src_time): (&str, &str),
    (dst, dst_time): (&str, &str),
    unit: Millis,
    before: Millis,
) -> CoreResult<u64> {
    // Whole units only, so a unit is never split between two roll-ups.
    let cutoff = before - before.rem_euclid(unit);
    let sums: Vec<String> = (0..BUCKETS).map(|i| format!("SUM(lat_b{i})")).collect();
    // The ON CONFLICT clause follows the SELECT (SQLite needs the SELECT's WHERE, which it has).
    let head = insert_head(dst, dst_time);
    let conflict = add_on_conflict(dst, dst_time);
    let sql = format!(
        "{head} SELECT workspace_id, environment, {src_time} - ({src_time} % $1), caller, tool, outcome,
                SUM(calls), SUM(latency_ms_sum), MAX(latency_ms_max), {}, server
         FROM {src} WHERE {src_time} < $2
         GROUP BY workspace_id, environment, {src_time} - ({src_time} % $1), caller, tool, outcome, server
         {conflict}",
        sums.join(", ")
    );
    let mut tx = db.pool().begin().await?;
    sqlx::query(&sql).bind(unit).bind(cutoff).execute(&mut *tx).await?;
    let moved = sqlx::query(&format!("DELETE FROM {src} WHERE {src_time} < $1")).bind(cutoff).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(moved.rows_affected())
}
