//! Runs: an agent version executed with an input, by the workspace's own runner. A run moves
//! queued → running → succeeded | failed | cancelled; the runner claims queued runs, reports
//! events, and completes them. Every query names the workspace and the environment.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Row, any::AnyRow};

use crate::{
    Db,
    agents::{self, Tenant},
    clock::{Millis, now_ms},
    error::{CoreError, CoreResult},
    ids::new_id,
};

/// Largest input, output or error a run keeps, in bytes of JSON.
const MAX_PAYLOAD: usize = 256 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Run {
    pub id: String,
    pub agent_id: String,
    pub agent_version: i64,
    pub status: String,
    pub input: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub created_at: Millis,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<RunEvent>>,
}

impl Run {
    pub fn is_terminal(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed" | "cancelled")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunEvent {
    pub seq: i64,
    pub at: Millis,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunPage {
    pub runs: Vec<Run>,
    pub next_cursor: Option<String>,
}

const COLUMNS: &str = "id, agent_id, agent_version, status, input, output, error, created_at, started_at, finished_at";

fn parse_json(text: &str) -> CoreResult<Value> {
    serde_json::from_str(text).map_err(|e| CoreError::Internal(format!("stored JSON unreadable: {e}")))
}

fn run_from_row(row: &AnyRow) -> CoreResult<Run> {
    let output: Option<String> = row.try_get("output")?;
    Ok(Run {
        id: row.try_get("id")?,
        agent_id: row.try_get("agent_id")?,
        agent_version: row.try_get("agent_version")?,
        status: row.try_get("status")?,
        input: parse_json(&row.try_get::<String, _>("input")?)?,
        output: output.as_deref().map(parse_json).transpose()?,
        error: row.try_get("error")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        events: None,
    })
}

fn encode(value: &Value, field: &'static str) -> CoreResult<String> {
    let text = serde_json::to_string(value).map_err(|e| CoreError::Internal(e.to_string()))?;
    if text.len() > MAX_PAYLOAD {
        return Err(CoreError::invalid(field, format!("At most {} KiB of JSON.", MAX_PAYLOAD / 1024)));
    }
    Ok(text)
}

/// Queues a run of the agent's current version.
pub async fn trigger(db: &Db, at: Tenant<'_>, agent_id: &str, input: &Value) -> CoreResult<Run> {
    let agent = agents::get(db, at, agent_id).await?;
    trigger_version(db, at, &agent.id, agent.version, input).await
}

/// Queues a run of one version of an agent (an app's published version).
pub async fn trigger_version(db: &Db, at: Tenant<'_>, agent_id: &str, version: i64, input: &Value) -> CoreResult<Run> {
    let input = encode(input, "input")?;
    let id = new_id("run");
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, environment, agent_id, agent_version, input, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)",
    )
    .bind(&id)
    .bind(at.workspace_id)
    .bind(at.environment.as_str())
    .bind(agent_id)
    .bind(version)
    .bind(&input)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    get(db, at, &id).await
}

/// Runs newest first, optionally of one agent and one status.
pub async fn list(
    db: &Db,
    at: Tenant<'_>,
    agent_id: Option<&str>,
    status: Option<&str>,
    cursor: Option<&str>,
    limit: i64,
) -> CoreResult<RunPage> {
    if let Some(s) = status
        && !["queued", "running", "succeeded", "failed", "cancelled"].contains(&s)
    {
        return Err(CoreError::invalid("status", "Use queued, running, succeeded, failed or cancelled."));
    }
    let (offset, limit) = crate::paging::window(cursor, limit)?;
    let sql = format!(
        "SELECT {COLUMNS} FROM runs WHERE workspace_id = $1 AND environment = $2
           AND ($3 = '' OR agent_id = $3) AND ($4 = '' OR status = $4)
         ORDER BY created_at DESC, id LIMIT $5 OFFSET $6"
    );
    let rows = sqlx::query(&sql)
        .bind(at.workspace_id)
        .bind(at.environment.as_str())
        .bind(agent_id.unwrap_or(""))
        .bind(status.unwrap_or(""))
        .bind(limit + 1)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    let next_cursor = crate::paging::next_cursor(rows.len(), offset, limit);
    let runs = rows.iter().take(limit as usize).map(run_from_row).collect::<CoreResult<Vec<_>>>()?;
    Ok(RunPage { runs, next_cursor })
}

/// One run with its events. Another workspace's or environment's run is `NotFound`.
pub async fn get(db: &Db, at: Tenant<'_>, id: &str) -> CoreResult<Run> {
    let sql = format!("SELECT {COLUMNS} FROM runs WHERE workspace_id = $1 AND environment = $2 AND id = $3");
    let row = sqlx::query(&sql)
        .bind(at.workspace_id)
        .bind(at.environment.as_str())
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(CoreError::NotFound)?;
    let mut run = run_from_row(&row)?;
    let events = sqlx::query("SELECT seq, at, kind, message FROM run_events WHERE run_id = $1 ORDER BY seq")
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    run.events = Some(
        events
            .iter()
            .map(|e| {
                Ok(RunEvent {
                    seq: e.try_get("seq")?,
                    at: e.try_get("at")?,
                    kind: e.try_get("kind")?,
                    message: e.try_get("message")?,
                })
            })
            .collect::<CoreResult<Vec<_>>>()?,
    );
    Ok(run)
}

/// Cancels a queued or running run.
pub async fn cancel(db: &Db, at: Tenant<'_>, id: &str) -> CoreResult<Run> {
    get(db, at, id).await?;
    let done = sqlx::query(
        "UPDATE runs SET status = 'cancelled', finished_at = $1
         WHERE workspace_id = $2 AND environment = $3 AND id = $4 AND status IN ('queued', 'running')",
    )
    .bind(now_ms())
    .bind(at.workspace_id)
    .bind(at.environment.as_str())
    .bind(id)
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(CoreError::Conflict("The run has already finished.".into()));
    }
    get(db, at, id).await
}

/// Waits up to `timeout` for the run to reach a terminal state; returns it as it is then.
pub async fn wait(db: &Db, at: Tenant<'_>, id: &str, timeout: Duration) -> CoreResult<Run> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let run = get(db, at, id).await?;
        if run.is_terminal() || tokio::time::Instant::now() >= deadline {
            return Ok(run);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Claims the oldest queued run for a runner, waiting up to `wait` for one to appear.
pub async fn claim(db: &Db, at: Tenant<'_>, runner_key: &str, wait: Duration) -> CoreResult<Option<Run>> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        for _ in 0..3 {
            let candidate = sqlx::query(
                "SELECT id FROM runs WHERE workspace_id = $1 AND environment = $2 AND status = 'queued'
                 ORDER BY created_at, id LIMIT 1",
            )
            .bind(at.workspace_id)
            .bind(at.environment.as_str())
            .fetch_optional(db.pool())
            .await?;
            let Some(candidate) = candidate else { break };
            let id: String = candidate.try_get("id")?;
            // Only one runner wins a run: the update checks it is still queued.
            let won = sqlx::query(
                "UPDATE runs SET status = 'running', started_at = $1, claimed_by = $2 WHERE id = $3 AND status = 'queued'",
            )
            .bind(now_ms())
            .bind(runner_key)
            .bind(&id)
            .execute(db.pool())
            .await?;
            if won.rows_affected() == 1 {
                return get(db, at, &id).await.map(Some);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Appends a progress or log event to a running run.
pub async fn add_event(db: &Db, at: Tenant<'_>, id: &str, kind: &str, message: &str) -> CoreResult<RunEvent> {
    if kind.is_empty() || kind.len() > 40 || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        return Err(CoreError::invalid(
            "kind",
            "A kind is 1 to 40 letters, digits, '_' or '.', such as progress or log.",
        ));
    }
    if message.len() > 16 * 1024 {
        return Err(CoreError::invalid("message", "At most 16 KiB."));
    }
    let run = get(db, at, id).await?;
    if run.status != "running" {
        return Err(CoreError::Conflict(format!("The run is {}, not running.", run.status)));
    }
    let mut tx = db.pool().begin().await?;
    let seq: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM run_events WHERE run_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("next")?;
    let event = RunEvent { seq, at: now_ms(), kind: kind.to_owned(), message: message.to_owned() };
    sqlx::query("INSERT INTO run_events (run_id, seq, at, kind, message) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(event.seq)
        .bind(event.at)
        .bind(&event.kind)
        .bind(&event.message)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                CoreError::Conflict("Another event arrived at the same moment; retry.".into())
            }
            _ => CoreError::Database(e),
        })?;
    tx.commit().await?;
    Ok(event)
}

/// Finishes a running run with its output (succeeded) or an error (failed).
pub async fn complete(db: &Db, at: Tenant<'_>, id: &str, result: Result<&Value, &str>) -> CoreResult<Run> {
    let run = get(db, at, id).await?;
    if run.status != "running" {
        return Err(CoreError::Conflict(format!("The run is {}, not running.", run.status)));
    }
    let (status, output, error) = match result {
        Ok(output) => ("succeeded", Some(encode(output, "output")?), None),
        Err(error) => {
            if error.trim().is_empty() || error.len() > 16 * 1024 {
                return Err(CoreError::invalid("error", "Describe the error in 1 byte to 16 KiB."));
            }
            ("failed", None, Some(error.to_owned()))
        }
    };
    let done = sqlx::query(
        "UPDATE runs SET status = $1, output = $2, error = $3, finished_at = $4 WHERE id = $5 AND workspace_id = $6 AND status = 'running'",
    )
    .bind(status)
    .bind(output)
    .bind(error)
    .bind(now_ms())
    .bind(id)
    .bind(at.workspace_id)
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(CoreError::Conflict("The run changed meanwhile (cancelled?).".into()));
    }
    get(db, at, id).await
}
