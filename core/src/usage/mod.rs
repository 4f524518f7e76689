//! Usage recording: every MCP call is noted in memory (one map update, no I/O) and the counts are
//! written to `usage_minutes` in one batch every few seconds and at shutdown.

use std::{collections::HashMap, sync::Mutex};

use crate::{
    Db,
    clock::{MINUTE, Millis},
    error::CoreResult,
    keys::Environment,
};

/// One call, as the endpoint saw it.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub workspace_id: &'a str,
    pub environment: Environment,
    /// The key (or, with OAuth, the connector) that called.
    pub caller: &'a str,
    pub tool: &'a str,
    /// `ok`, or the error code (`SCOPE_MISSING`, `NOT_FOUND`, …).
    pub outcome: &'a str,
    pub latency_ms: i64,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Bucket {
    workspace_id: String,
    environment: Environment,
    minute: Millis,
    caller: String,
    tool: String,
    outcome: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    calls: i64,
    latency_sum: i64,
    latency_max: i64,
}

#[derive(Debug, Default)]
pub struct UsageRecorder {
    pending: Mutex<HashMap<Bucket, Counts>>,
}

impl UsageRecorder {
    /// Notes a call. Never touches the database.
    pub fn record(&self, call: Call<'_>) {
        let bucket = Bucket {
            workspace_id: call.workspace_id.to_owned(),
            environment: call.environment,
            minute: call.at - call.at.rem_euclid(MINUTE),
            caller: call.caller.to_owned(),
            tool: call.tool.chars().take(64).collect(),
            outcome: call.outcome.to_owned(),
        };
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let counts = pending.entry(bucket).or_default();
        counts.calls += 1;
        counts.latency_sum += call.latency_ms.max(0);
        counts.latency_max = counts.latency_max.max(call.latency_ms);
    }

    /// Adds what was noted to the database; on failure the counts are kept for the next try.
    pub async fn flush(&self, db: &Db) -> CoreResult<usize> {
        let batch: Vec<(Bucket, Counts)> = self.pending.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        if batch.is_empty() {
            return Ok(0);
        }
        let written = async {
            let mut tx = db.pool().begin().await?;
            for (b, c) in &batch {
                sqlx::query(
                    "INSERT INTO usage_minutes (workspace_id, environment, minute, caller, tool, outcome, calls, latency_ms_sum, latency_ms_max)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (workspace_id, environment, minute, caller, tool, outcome) DO UPDATE SET
                       calls = usage_minutes.calls + excluded.calls,
                       latency_ms_sum = usage_minutes.latency_ms_sum + excluded.latency_ms_sum,
                       latency_ms_max = CASE WHEN excluded.latency_ms_max > usage_minutes.latency_ms_max
                                             THEN excluded.latency_ms_max ELSE usage_minutes.latency_ms_max END",
                )
                .bind(&b.workspace_id)
                .bind(b.environment.as_str())
                .bind(b.minute)
                .bind(&b.caller)
                .bind(&b.tool)
                .bind(&b.outcome)
                .bind(c.calls)
                .bind(c.latency_sum)
                .bind(c.latency_max)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = written {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (b, c) in batch {
                let counts = pending.entry(b).or_default();
                counts.calls += c.calls;
                counts.latency_sum += c.latency_sum;
                counts.latency_max = counts.latency_max.max(c.latency_max);
            }
            return Err(e.into());
        }
        Ok(batch.len())
    }
}
