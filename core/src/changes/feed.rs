//! The change feed: how changes made by other processes (another `gatehouse serve`, the CLI)
//! reach this process's [`Changes`].
//!
//! Triggers in the database note every change that can end or narrow a credential (topic
//! `access`: the key's or grant's id, or the workspace's), and every change of a workspace's
//! servers (`servers`) or agents (`agents`), in the change's own transaction (migration 0013), so
//! no code path can commit one without it:
//!
//! - **PostgreSQL**: the triggers `NOTIFY gatehouse_changes, '<topic>:<id>'`, which
//!   PostgreSQL delivers at commit to every session that `LISTEN`s. This process listens on a
//!   connection of its own, and sends itself a numbered heartbeat every [`HEARTBEAT`] on another
//!   connection of its own (never the shared pool, which a busy process may have exhausted). The
//!   listening connection is lost when it errs or closes, or when a heartbeat this process has
//!   committed has not come back within [`HEARD_WITHIN`]: PostgreSQL delivers every committed
//!   notification, so that is proof the connection no longer hears (a connection dead without a
//!   word, say). Silence alone is not: a commit that PostgreSQL is slow to flush holds back every
//!   notification behind it, and those arrive once it is done.
//! - **SQLite**: the triggers append to `change_log`, which this process reads every
//!   [`POLL_EVERY`]; a read that fails, or a gap in the log (rows pruned before they were read),
//!   counts as lost.
//!
//! While the feed is lost, [`Changes`] caches nothing and every request reads through the
//! database; when it is back, everything cached before is dropped.

use std::time::Duration;

use super::{Changes, Topic};
use crate::{
    Db, DbEngine,
    direct::{self, Columns, FromColumns},
    error::CoreResult,
};

/// PostgreSQL's channel of the change feed.
pub const CHANNEL: &str = "gatehouse_changes";

/// The `application_name` of the listening connection (operators and the tests find it by it).
pub const LISTENER_NAME: &str = "gatehouse-change-feed";

/// The `application_name` of the connection that sends the heartbeat.
pub const HEARTBEAT_NAME: &str = "gatehouse-change-feed-heartbeat";

/// How often each process sends itself a heartbeat through the channel.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// A committed heartbeat that has not come back within this long means the listening connection
/// is lost.
pub const HEARD_WITHIN: Duration = Duration::from_secs(5);

/// How often SQLite's change log is read.
pub const POLL_EVERY: Duration = Duration::from_millis(25);

/// After the feed is lost, how long before connecting again.
const RECONNECT_AFTER: Duration = Duration::from_millis(500);

/// Rows kept in SQLite's change log; older ones are pruned.
const LOG_ROWS_KEPT: i64 = 10_000;

/// Follows the change feed of `db` until the task is dropped.
pub async fn run(db: Db) {
    match db.engine() {
        DbEngine::Postgres => listen(db).await,
        DbEngine::Sqlite => poll(db).await,
    }
}

/// Applies one message of the feed (heartbeats change nothing).
fn apply(changes: &Changes, payload: &str) {
    if payload.starts_with("ping:") {
        return;
    }
    match payload.split_once(':') {
        Some((topic, workspace_id)) if !workspace_id.is_empty() => match Topic::parse(topic) {
            Some(topic) => changes.changed(topic, workspace_id),
            None => changes.drop_everything(),
        },
        // Not understood (a newer version's message, say): the safe reading is "everything".
        _ => changes.drop_everything(),
    }
}

/// This process's heartbeats: which it has committed, and which came back.
#[derive(Debug)]
struct Heartbeats {
    /// Names this process's heartbeats apart from other processes'.
    nonce: String,
    /// The last heartbeat committed, and when its commit returned.
    sent: std::sync::Mutex<Option<(u64, std::time::Instant)>>,
    /// The highest heartbeat heard back.
    heard: std::sync::atomic::AtomicU64,
}

impl Heartbeats {
    fn new() -> Self {
        Heartbeats {
            nonce: crate::ids::random_base62(12),
            sent: std::sync::Mutex::new(None),
            heard: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn payload(&self, number: u64) -> String {
        format!("ping:{}:{number}", self.nonce)
    }

    /// Notes a heartbeat heard on the channel, if it is this process's.
    fn note(&self, payload: &str) {
        let Some(rest) = payload.strip_prefix("ping:") else { return };
        if let Some((nonce, number)) = rest.split_once(':')
            && nonce == self.nonce
            && let Ok(number) = number.parse::<u64>()
        {
            self.heard.fetch_max(number, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// How long ago a heartbeat committed but not heard back was committed, if one is overdue.
    fn overdue(&self) -> Option<Duration> {
        let (number, at) = (*self.sent.lock().unwrap_or_else(|p| p.into_inner()))?;
        let waited = at.elapsed();
        (self.heard.load(std::sync::atomic::Ordering::SeqCst) < number && waited > HEARD_WITHIN).then_some(waited)
    }
}

async fn listen(db: Db) {
    let Some(url) = db.listen_url() else { return };
    let (listener, heartbeat) = (with_application_name(url, LISTENER_NAME), with_application_name(url, HEARTBEAT_NAME));
    let beats = Heartbeats::new();
    // Both run until the task is dropped; neither ends on its own.
    tokio::join!(follow_notifications(&db, &listener, &beats), send_heartbeats(&heartbeat, &beats));
}

async fn follow_notifications(db: &Db, url: &str, beats: &Heartbeats) {
    let mut warned = false;
    loop {
        match subscribe(url).await {
            Ok(mut listener) => {
                // Heartbeats committed before this connection listened cannot come back on it.
                *beats.sent.lock().unwrap_or_else(|p| p.into_inner()) = None;
                db.changes().feed_connected();
                tracing::info!("change feed connected: cached credentials are in use");
                warned = false;
                let why = follow(db, &mut listener, beats).await;
                db.changes().feed_lost();
                tracing::warn!(reason = %why, "change feed lost: every request reads through the database until it is back");
            }
            Err(e) => {
                if !warned {
                    tracing::warn!(error = %e, "cannot listen for changes; every request reads through the database");
                    warned = true;
                }
            }
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

async fn subscribe(url: &str) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    // A lost connection is reported at once rather than silently re-established.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Applies notifications until the connection is lost; says why it ended.
async fn follow(db: &Db, listener: &mut sqlx::postgres::PgListener, beats: &Heartbeats) -> String {
    loop {
        // Waking once a second to look at the heartbeats (the wait is safe to cut short: what was
        // half read stays in the connection's buffer).
        match tokio::time::timeout(Duration::from_secs(1), listener.try_recv()).await {
            Ok(Ok(Some(notification))) => {
                beats.note(notification.payload());
                apply(db.changes(), notification.payload());
            }
            Ok(Ok(None)) => return "the connection closed".into(),
            Ok(Err(e)) => return e.to_string(),
            Err(_) => {}
        }
        if let Some(waited) = beats.overdue() {
            return format!("a heartbeat committed {:.1} s ago did not come back", waited.as_secs_f64());
        }
    }
}

/// A numbered heartbeat through the channel every [`HEARTBEAT`], on a connection of its own
/// (opened again after a failure); each is noted as sent once its commit has returned.
async fn send_heartbeats(url: &str, beats: &Heartbeats) {
    use sqlx::Connection;
    let mut every = tokio::time::interval(HEARTBEAT);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut connection: Option<sqlx::PgConnection> = None;
    let mut number: u64 = 0;
    loop {
        every.tick().await;
        if connection.is_none() {
            connection = sqlx::PgConnection::connect(url).await.ok();
        }
        let Some(conn) = connection.as_mut() else { continue };
        number += 1;
        let sent =
            sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(beats.payload(number)).execute(&mut *conn).await;
        match sent {
            Ok(_) => *beats.sent.lock().unwrap_or_else(|p| p.into_inner()) = Some((number, std::time::Instant::now())),
            Err(e) => {
                tracing::debug!(error = %e, "change feed heartbeat not sent");
                connection = None;
            }
        }
    }
}

/// The URL with `application_name` set to `name`, unless it sets one already.
fn with_application_name(url: &str, name: &str) -> String {
    if url.contains("application_name=") {
        return url.to_owned();
    }
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}application_name={name}")
}

/// One row of SQLite's change log.
struct LogRow {
    seq: i64,
    topic: String,
    workspace_id: String,
}

impl FromColumns for LogRow {
    fn from_columns(r: &impl Columns) -> CoreResult<Self> {
        Ok(LogRow { seq: r.col("seq")?, topic: r.col("topic")?, workspace_id: r.col("workspace_id")? })
    }
}

struct Last(i64);

impl FromColumns for Last {
    fn from_columns(r: &impl Columns) -> CoreResult<Self> {
        Ok(Last(r.col("last")?))
    }
}

async fn poll(db: Db) {
    let changes = db.changes();
    let mut last: Option<i64> = None;
    let mut polls: u64 = 0;
    let mut every = tokio::time::interval(POLL_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        polls += 1;
        let read = match last {
            None => newest(&db).await.map(|seq| (seq, Vec::new())),
            Some(seq) => since(&db, seq).await.map(|rows| (rows.last().map_or(seq, |r| r.seq), rows)),
        };
        match read {
            Ok((newest, rows)) => {
                let gap = match (last, rows.first()) {
                    (Some(seq), Some(first)) => first.seq > seq + 1,
                    _ => false,
                };
                let was_up = changes.feed_is_up();
                if gap {
                    changes.drop_everything();
                } else {
                    for row in &rows {
                        match Topic::parse(&row.topic) {
                            Some(topic) => changes.changed(topic, &row.workspace_id),
                            None => changes.drop_everything(),
                        }
                    }
                }
                last = Some(newest);
                if !was_up {
                    changes.feed_connected();
                }
            }
            Err(e) => {
                if changes.feed_is_up() {
                    tracing::warn!(error = %e, "cannot read the change log; every request reads through the database until it can");
                }
                changes.feed_lost();
                last = None;
            }
        }
        // About once a minute, keep the log short.
        if polls.is_multiple_of(2400)
            && let Err(e) = prune(&db).await
        {
            tracing::debug!(error = %e, "change log not pruned");
        }
    }
}

async fn newest(db: &Db) -> CoreResult<i64> {
    let row = direct::fetch_optional::<Last>(db, "SELECT COALESCE(MAX(seq), 0) AS last FROM change_log", &[]).await?;
    Ok(row.map_or(0, |l| l.0))
}

async fn since(db: &Db, seq: i64) -> CoreResult<Vec<LogRow>> {
    direct::fetch_all(
        db,
        "SELECT seq, topic, workspace_id FROM change_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
        &[seq.into()],
    )
    .await
}

async fn prune(db: &Db) -> CoreResult<()> {
    sqlx::query("DELETE FROM change_log WHERE seq <= (SELECT MAX(seq) FROM change_log) - $1")
        .bind(LOG_ROWS_KEPT)
        .execute(db.pool())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let changes = Changes::connected();
        let stamp = changes.stamp().expect("up");
        apply(&changes, "ping:abc:1");
        assert!(changes.is_fresh(Topic::Access, &["ws_a"], stamp));
        apply(&changes, "access:ws_b");
        assert!(changes.is_fresh(Topic::Access, &["ws_a"], stamp));
        assert!(!changes.is_fresh(Topic::Access, &["ws_b"], stamp));
        apply(&changes, "something-new:ws_a");
        assert!(!changes.is_fresh(Topic::Access, &["ws_a"], stamp), "not understood: everything");
    }

    #[test]
    fn a_committed_heartbeat_that_does_not_come_back_is_overdue() {
        let beats = Heartbeats::new();
        assert_eq!(beats.overdue(), None, "nothing sent yet");
        let long_ago = std::time::Instant::now() - HEARD_WITHIN - Duration::from_secs(1);
        *beats.sent.lock().expect("lock") = Some((3, long_ago));
        beats.note("ping:someone-else:9");
        assert!(beats.overdue().is_some(), "another process's heartbeat proves nothing");
        beats.note(&beats.payload(3));
        assert_eq!(beats.overdue(), None, "heard back");
        *beats.sent.lock().expect("lock") = Some((4, std::time::Instant::now()));
        assert_eq!(beats.overdue(), None, "not overdue yet");
    }

    #[test]
    fn the_listener_names_itself() {
        assert_eq!(
            with_application_name("postgres://u@h/db", LISTENER_NAME),
            "postgres://u@h/db?application_name=gatehouse-change-feed"
        );
        assert_eq!(
            with_application_name("postgres://u@h/db?sslmode=disable", HEARTBEAT_NAME),
            "postgres://u@h/db?sslmode=disable&application_name=gatehouse-change-feed-heartbeat"
        );
    }

    /// A change committed through the pool (as another process would) reaches the record through
    /// the log and its trigger; an unrelated write does not.
    #[tokio::test]
    async fn sqlite_changes_arrive_through_the_log() {
        let (_dir, db) = crate::testing::sqlite_with_workspace().await;
        let ws = "ws_1";
        let feed = tokio::spawn(run(db.clone()));
        let changes = db.changes();
        for _ in 0..200 {
            if changes.feed_is_up() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let stamp = changes.stamp().expect("feed up");
        sqlx::query("UPDATE workspaces SET key_rate_limit_per_minute = 5 WHERE id = $1")
            .bind(ws)
            .execute(db.pool())
            .await
            .expect("update");
        let mut seen = false;
        for _ in 0..200 {
            if !changes.is_fresh(Topic::Access, &[ws], stamp) {
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(seen, "the policy change reached the record");
        feed.abort();
        db.close().await;
    }
}
