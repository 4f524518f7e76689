//! Deliveries: one row per event and endpoint, written before anything is sent, so they survive
//! restarts. The worker claims due rows (a lock that expires, so a crashed worker's rows come
//! back), sends them, and records the answer; failures are retried with exponential backoff for a
//! day.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{admin_of, get_in, is_event};
use crate::{
    Db,
    audit::Actor,
    clock::{DAY, HOUR, Millis, SECOND, now_ms},
    error::{CoreError, CoreResult},
    ids::new_id,
};

/// How long a claimed delivery is reserved for the worker that claimed it.
const LOCK: Millis = 60 * SECOND;
/// Deliveries are retried for this long after they were created.
const GIVE_UP_AFTER: Millis = DAY;

/// The wait before retry number `attempts` (1 after the first failure): 30 s, doubling, at most 6 h.
pub fn backoff(attempts: i64) -> Millis {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    (30 * SECOND).saturating_mul(1_i64 << exp).min(6 * HOUR)
}

/// A delivery as the dashboard's log shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub next_attempt_at: Millis,
    pub delivered_at: Option<Millis>,
}

/// A delivery the worker should send now.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: String,
    pub url: String,
    pub event_type: String,
    pub payload: String,
    /// The secrets to sign with: the current one, and the previous one during an overlap.
    pub secrets: Vec<String>,
}

async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    endpoint_id: &str,
    workspace_id: &str,
    event_id: &str,
    event_type: &str,
    payload: &str,
    now: Millis,
) -> CoreResult<String> {
    let id = new_id("dlv");
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, workspace_id, event_id, event_type, payload, status, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)",
    )
    .bind(&id)
    .bind(endpoint_id)
    .bind(workspace_id)
    .bind(event_id)
    .bind(event_type)
    .bind(payload)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// The JSON body of an event.
fn payload(
    event_id: &str,
    event_type: &str,
    workspace_id: &str,
    created_at: Millis,
    data: serde_json::Value,
) -> String {
    serde_json::json!({
        "id": event_id,
        "type": event_type,
        "created_at": created_at / 1000,
        "workspace_id": workspace_id,
        "data": data,
    })
    .to_string()
}

/// Turns new audit events that are webhook events into deliveries for the endpoints subscribed
/// to them. Each event is claimed once, even with several processes.
pub async fn fan_out(db: &Db) -> CoreResult<usize> {
    let rows = sqlx::query(
        "SELECT id, workspace_id, action, target_type, target_id, details, created_at FROM audit_events
         WHERE webhooks_fanned_out = 0 ORDER BY created_at, id LIMIT 200",
    )
    .fetch_all(db.pool())
    .await?;
    let mut created = 0;
    for row in rows {
        let event_id: String = row.try_get("id")?;
        let workspace_id: String = row.try_get("workspace_id")?;
        let action: String = row.try_get("action")?;
        let mut tx = db.pool().begin().await?;
        let claimed =
            sqlx::query("UPDATE audit_events SET webhooks_fanned_out = 1 WHERE id = $1 AND webhooks_fanned_out = 0")
                .bind(&event_id)
                .execute(&mut *tx)
                .await?;
        if claimed.rows_affected() == 1 && is_event(&action) {
            let mut data: serde_json::Value =
                serde_json::from_str(&row.try_get::<String, _>("details")?).unwrap_or_else(|_| serde_json::json!({}));
            if let Some(obj) = data.as_object_mut() {
                obj.insert(
                    row.try_get::<String, _>("target_type")?.to_owned() + "_id",
                    row.try_get::<String, _>("target_id")?.into(),
                );
            }
            let body = payload(&event_id, &action, &workspace_id, row.try_get("created_at")?, data);
            let endpoints = sqlx::query("SELECT id, events FROM webhook_endpoints WHERE workspace_id = $1")
                .bind(&workspace_id)
                .fetch_all(&mut *tx)
                .await?;
            let now = now_ms();
            for e in endpoints {
                let events: String = e.try_get("events")?;
                if events.split(' ').any(|x| x == action) {
                    insert(&mut tx, &e.try_get::<String, _>("id")?, &workspace_id, &event_id, &action, &body, now)
                        .await?;
                    created += 1;
                }
            }
        }
        tx.commit().await?;
    }
    Ok(created)
}

/// Claims up to `limit` due deliveries for this worker.
pub async fn claim_due(db: &Db, now: Millis, limit: i64) -> CoreResult<Vec<Due>> {
    let candidates = sqlx::query(
        "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
           AND (locked_until IS NULL OR locked_until < $1)
         ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut due = Vec::new();
    for c in candidates {
        let id: String = c.try_get("id")?;
        let locked = sqlx::query(
            "UPDATE webhook_deliveries SET locked_until = $1
             WHERE id = $2 AND status = 'pending' AND (locked_until IS NULL OR locked_until < $3)",
        )
        .bind(now + LOCK)
        .bind(&id)
        .bind(now)
        .execute(db.pool())
        .await?;
        if locked.rows_affected() != 1 {
            continue;
        }
        let row = sqlx::query(
            "SELECT d.id, d.event_type, d.payload, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $1",
        )
        .bind(&id)
        .fetch_optional(db.pool())
        .await?;
        let Some(row) = row else { continue };
        let mut secrets = vec![row.try_get::<String, _>("secret")?];
        if let (Some(previous), Some(until)) = (
            row.try_get::<Option<String>, _>("previous_secret")?,
            row.try_get::<Option<Millis>, _>("previous_secret_expires_at")?,
        ) && until > now
        {
            secrets.push(previous);
        }
        due.push(Due {
            id,
            url: row.try_get("url")?,
            event_type: row.try_get("event_type")?,
            payload: row.try_get("payload")?,
            secrets,
        });
    }
    Ok(due)
}

/// Records one attempt: the receiver's status code (2xx is success), or why it could not be
/// reached. A failure is retried after [`backoff`] until a day has passed.
pub async fn record_attempt(db: &Db, id: &str, result: Result<u16, String>, now: Millis) -> CoreResult<()> {
    let row = sqlx::query("SELECT attempts, created_at FROM webhook_deliveries WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(()) };
    let attempts: i64 = row.try_get::<i64, _>("attempts")? + 1;
    let created_at: Millis = row.try_get("created_at")?;
    let (code, error) = match &result {
        Ok(code) => (Some(i64::from(*code)), None),
        Err(e) => (None, Some(e.chars().take(300).collect::<String>())),
    };
    let succeeded = matches!(result, Ok(code) if (200..300).contains(&code));
    let (status, next, delivered) = if succeeded {
        ("succeeded", now, Some(now))
    } else if now + backoff(attempts) - created_at > GIVE_UP_AFTER {
        ("failed", now, None)
    } else {
        ("pending", now + backoff(attempts), None)
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET attempts = $1, status = $2, next_attempt_at = $3, delivered_at = $4,
             last_attempt_at = $5, last_status_code = $6, last_error = $7, locked_until = NULL
         WHERE id = $8",
    )
    .bind(attempts)
    .bind(status)
    .bind(next)
    .bind(delivered)
    .bind(now)
    .bind(code)
    .bind(error)
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Queues a `webhook.test` event for one endpoint.
pub async fn send_test(db: &Db, actor: &Actor, slug: &str, endpoint_id: &str) -> CoreResult<String> {
    let m = admin_of(db, &actor.user_id, slug).await?;
    get_in(db, &m.workspace.id, endpoint_id).await?;
    let now = now_ms();
    let event_id = new_id("evt");
    let body = payload(
        &event_id,
        "webhook.test",
        &m.workspace.id,
        now,
        serde_json::json!({ "message": "A test event from Gatehouse." }),
    );
    let mut tx = db.pool().begin().await?;
    let id = insert(&mut tx, endpoint_id, &m.workspace.id, &event_id, "webhook.test", &body, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Sends a delivery again: a new delivery of the same event and body.
pub async fn redeliver(db: &Db, actor: &Actor, slug: &str, delivery_id: &str) -> CoreResult<String> {
    let m = admin_of(db, &actor.user_id, slug).await?;
    redeliver_in(db, &m.workspace.id, delivery_id).await
}

/// Sends a delivery of the workspace again, without a role check (the management API).
pub async fn redeliver_in(db: &Db, workspace_id: &str, delivery_id: &str) -> CoreResult<String> {
    let row = sqlx::query(
        "SELECT endpoint_id, event_id, event_type, payload FROM webhook_deliveries WHERE id = $1 AND workspace_id = $2",
    )
    .bind(delivery_id)
    .bind(workspace_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(CoreError::NotFound)?;
    let mut tx = db.pool().begin().await?;
    let id = insert(
        &mut tx,
        &row.try_get::<String, _>("endpoint_id")?,
        workspace_id,
        &row.try_get::<String, _>("event_id")?,
        &row.try_get::<String, _>("event_type")?,
        &row.try_get::<String, _>("payload")?,
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The newest deliveries of an endpoint, for callers that have already checked the workspace.
pub async fn deliveries_of(db: &Db, endpoint_id: &str, limit: i64) -> CoreResult<Vec<Delivery>> {
    let rows = sqlx::query(
        "SELECT id, event_id, event_type, status, attempts, last_status_code, last_error, created_at, next_attempt_at, delivered_at
         FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(endpoint_id)
    .bind(limit.clamp(1, 200))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Delivery {
                id: r.try_get("id")?,
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                last_status_code: r.try_get("last_status_code")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                next_attempt_at: r.try_get("next_attempt_at")?,
                delivered_at: r.try_get("delivered_at")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(super::backoff(1), 30_000);
        assert_eq!(super::backoff(2), 60_000);
        assert_eq!(super::backoff(5), 480_000);
        assert_eq!(super::backoff(30), 6 * 3_600_000);
    }
}
