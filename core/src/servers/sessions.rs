//! Sessions opened to upstream servers of the revisions with `initialize` (2025-03-26 to
//! 2025-11-25): one per caller (key or connector) and server, opened when first needed and kept in
//! the database, so every `gatehouse` process behind a load balancer uses the same one.

use sqlx::Row;

use crate::{Db, clock::now_ms, error::CoreResult};

/// An open upstream session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSession {
    pub session_id: String,
    pub protocol_version: String,
}

pub async fn find_session(db: &Db, server_id: &str, caller_id: &str) -> CoreResult<Option<UpstreamSession>> {
    let row = sqlx::query(
        "SELECT session_id, protocol_version FROM upstream_sessions WHERE server_id = $1 AND caller_id = $2",
    )
    .bind(server_id)
    .bind(caller_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        Some(r) => Some(UpstreamSession {
            session_id: r.try_get("session_id")?,
            protocol_version: r.try_get("protocol_version")?,
        }),
        None => None,
    })
}

/// Stores (or replaces) the session of a caller at a server.
pub async fn store_session(db: &Db, server_id: &str, caller_id: &str, session: &UpstreamSession) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO upstream_sessions (server_id, caller_id, session_id, protocol_version, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (server_id, caller_id) DO UPDATE SET session_id = $3, protocol_version = $4, created_at = $5",
    )
    .bind(server_id)
    .bind(caller_id)
    .bind(&session.session_id)
    .bind(&session.protocol_version)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Forgets a session the upstream no longer knows (it answered 404), if it is still the stored one.
pub async fn drop_session(db: &Db, server_id: &str, caller_id: &str, session_id: &str) -> CoreResult<()> {
    sqlx::query("DELETE FROM upstream_sessions WHERE server_id = $1 AND caller_id = $2 AND session_id = $3")
        .bind(server_id)
        .bind(caller_id)
        .bind(session_id)
        .execute(db.pool())
        .await?;
    Ok(())
}
