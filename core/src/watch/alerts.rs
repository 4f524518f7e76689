//! Alerts on how a credential is used, as audit entries that are also webhook events (and so on
//! the Overview): `key.new_network`, its first use from a network it had not used before, and
//! `key.error_spike`, more of its calls failing than the workspace allows in its window. Each is
//! sent at most once per credential per [`NEW_NETWORK_GAP`] or per the spike's window, in every
//! process together (`credential_alerts`), so a noisy key does not flood the receiver.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::addresses::NewNetwork;
use crate::{
    Db,
    audit::{self, Actor, AuditEvent},
    clock::{HOUR, MINUTE, Millis},
    error::{CoreError, CoreResult},
    workspaces,
};

/// At most one `key.new_network` per credential in this long.
pub const NEW_NETWORK_GAP: Millis = HOUR;

/// A workspace's `key.error_spike` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorSpike {
    /// Alert when more than this percent of a credential's calls fail; `None`: off.
    pub percent: Option<i64>,
    /// Over this many minutes (5 to 1440).
    pub window_minutes: i64,
    /// Once it made at least this many calls in the window (1 to 100000).
    pub min_calls: i64,
}

impl ErrorSpike {
    pub fn validate(self) -> CoreResult<Self> {
        if let Some(p) = self.percent
            && !(1..=100).contains(&p)
        {
            return Err(CoreError::invalid(
                "error_spike_percent",
                "Give a percentage from 1 to 100, or leave it empty.",
            ));
        }
        if !(5..=1440).contains(&self.window_minutes) {
            return Err(CoreError::invalid("error_spike_window_minutes", "Give a window from 5 to 1440 minutes."));
        }
        if !(1..=100_000).contains(&self.min_calls) {
            return Err(CoreError::invalid("error_spike_min_calls", "Give a number of calls from 1 to 100000."));
        }
        Ok(self)
    }
}

/// The workspace's error-spike setting.
pub async fn error_spike(db: &Db, workspace_id: &str) -> CoreResult<ErrorSpike> {
    let row = sqlx::query(
        "SELECT error_spike_percent, error_spike_window_minutes, error_spike_min_calls FROM workspaces WHERE id = $1",
    )
    .bind(workspace_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(CoreError::NotFound)?;
    Ok(ErrorSpike {
        percent: row.try_get("error_spike_percent")?,
        window_minutes: row.try_get("error_spike_window_minutes")?,
        min_calls: row.try_get("error_spike_min_calls")?,
    })
}

/// Sets the workspace's error-spike alert (the caller has checked the actor's role).
pub async fn set_error_spike(db: &Db, workspace_id: &str, actor: &Actor, spike: ErrorSpike) -> CoreResult<()> {
    let spike = spike.validate()?;
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "UPDATE workspaces SET error_spike_percent = $1, error_spike_window_minutes = $2, error_spike_min_calls = $3
         WHERE id = $4",
    )
    .bind(spike.percent)
    .bind(spike.window_minutes)
    .bind(spike.min_calls)
    .bind(workspace_id)
    .execute(&mut *tx)
    .await?;
    let details = serde_json::json!({
        "percent": spike.percent, "window_minutes": spike.window_minutes, "min_calls": spike.min_calls,
    });
    audit::record(&mut *tx, workspace_id, Some(actor), "usage.error_spike_set", ("workspace", workspace_id), details)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the error-spike alert of a workspace the person administers.
pub async fn set_error_spike_as(db: &Db, actor: &Actor, slug: &str, spike: ErrorSpike) -> CoreResult<()> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("set the error-spike alert")?;
    set_error_spike(db, &m.workspace.id, actor, spike).await
}

/// The actions the Overview shows as notices: each asks someone to look at a key.
pub const NOTICE_ACTIONS: [&str; 3] = ["key.new_network", "key.error_spike", "key.leaked"];

/// The workspace's alerts since `since`, newest first, at most `limit`.
pub async fn notices(db: &Db, workspace_id: &str, since: Millis, limit: i64) -> CoreResult<Vec<AuditEvent>> {
    let rows = sqlx::query(
        "SELECT id, action, target_type, target_id, details, created_at FROM audit_events
         WHERE workspace_id = $1 AND created_at >= $2 AND action IN ($3, $4, $5)
         ORDER BY created_at DESC, id DESC LIMIT $6",
    )
    .bind(workspace_id)
    .bind(since)
    .bind(NOTICE_ACTIONS[0])
    .bind(NOTICE_ACTIONS[1])
    .bind(NOTICE_ACTIONS[2])
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditEvent {
                id: row.try_get("id")?,
                actor_email: None,
                action: row.try_get("action")?,
                target_type: row.try_get("target_type")?,
                target_id: row.try_get("target_id")?,
                details: serde_json::from_str(&row.try_get::<String, _>("details")?).unwrap_or_default(),
                ip: None,
                user_agent: None,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

/// What a credential id names: `("key", name)` or `("connector", client name)`.
async fn credential(db: &Db, caller: &str) -> CoreResult<Option<(&'static str, String)>> {
    if let Some(row) =
        sqlx::query("SELECT name FROM api_keys WHERE id = $1").bind(caller).fetch_optional(db.pool()).await?
    {
        return Ok(Some(("key", row.try_get("name")?)));
    }
    let row =
        sqlx::query("SELECT c.name FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id WHERE g.id = $1")
            .bind(caller)
            .fetch_optional(db.pool())
            .await?;
    row.map(|r| Ok(("connector", r.try_get("name")?))).transpose()
}

/// Takes the right to send `kind` for `caller` now, unless it was sent within `gap`; true when taken.
async fn take_turn(db: &Db, caller: &str, kind: &str, now: Millis, gap: Millis) -> CoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO credential_alerts (caller_id, kind, last_sent) VALUES ($1, $2, $3)
         ON CONFLICT (caller_id, kind) DO UPDATE SET last_sent = excluded.last_sent
         WHERE credential_alerts.last_sent <= $4",
    )
    .bind(caller)
    .bind(kind)
    .bind(now)
    .bind(now - gap)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `key.new_network` for each first use from a new network (at most one per credential
/// per [`NEW_NETWORK_GAP`]).
pub(crate) async fn new_networks(db: &Db, found: &[NewNetwork], now: Millis) -> CoreResult<usize> {
    let mut sent = 0;
    for n in found {
        let Some((kind, name)) = credential(db, &n.caller).await? else { continue };
        if !take_turn(db, &n.caller, "key.new_network", now, NEW_NETWORK_GAP).await? {
            continue;
        }
        let details = serde_json::json!({
            "credential": kind, "name": name, "address": n.address, "network": n.network,
        });
        audit::record(db.pool(), &n.workspace_id, None, "key.new_network", (kind, &n.caller), details).await?;
        sent += 1;
    }
    Ok(sent)
}

/// Records `key.error_spike` for each credential among `callers` (those that had failing calls
/// in the batch just written) whose failures in the workspace's window pass its threshold.
pub(crate) async fn error_spikes(db: &Db, callers: &[(String, String)], now: Millis) -> CoreResult<usize> {
    let mut sent = 0;
    // `callers` is sorted: each workspace's setting is read once.
    let mut setting: Option<(&str, ErrorSpike)> = None;
    for (workspace_id, caller) in callers {
        let spike = match setting {
            Some((ws, spike)) if ws == workspace_id => spike,
            _ => {
                let spike = error_spike(db, workspace_id).await?;
                setting = Some((workspace_id, spike));
                spike
            }
        };
        let Some(percent) = spike.percent else { continue };
        let window = spike.window_minutes * MINUTE;
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) AS calls,
                    CAST(COALESCE(SUM(CASE WHEN outcome <> 'ok' THEN calls ELSE 0 END), 0) AS BIGINT) AS errors
             FROM usage_minutes WHERE workspace_id = $1 AND caller = $2 AND minute >= $3",
        )
        .bind(workspace_id)
        .bind(caller)
        .bind(now - window)
        .fetch_one(db.pool())
        .await?;
        let (calls, errors): (i64, i64) = (row.try_get("calls")?, row.try_get("errors")?);
        if calls < spike.min_calls || errors * 100 <= percent * calls {
            continue;
        }
        let Some((kind, name)) = credential(db, caller).await? else { continue };
        if !take_turn(db, caller, "key.error_spike", now, window).await? {
            continue;
        }
        let details = serde_json::json!({
            "credential": kind, "name": name, "calls": calls, "errors": errors,
            "error_percent": errors * 100 / calls.max(1), "threshold_percent": percent,
            "window_minutes": spike.window_minutes,
        });
        audit::record(db.pool(), workspace_id, None, "key.error_spike", (kind, caller), details).await?;
        sent += 1;
    }
    Ok(sent)
}
