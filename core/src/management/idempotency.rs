//! `Idempotency-Key` for the management API's POSTs: the first answer to a key is kept for 24
//! hours and given again for the same request; the same key with another request is refused.
//! Kept in the database, so a retry that reaches another `gatehouse` process gets the same answer
//! (a key is created once, not twice). The answer is sealed under the server key: the answer to
//! `POST /v1/keys` holds the new key's secret.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{
    Db,
    clock::{HOUR, MINUTE, Millis, now_ms},
    error::{CoreError, CoreResult},
    secrets::Keyring,
};

/// How long a first answer is kept and given again.
pub const KEPT_FOR: Millis = 24 * HOUR;

/// A first request that has not finished in this long is taken for lost (its process stopped
/// mid-way): a retry runs it again instead of being told it is still running for 24 hours.
pub const ABANDONED_AFTER: Millis = 2 * MINUTE;

/// The longest `Idempotency-Key` accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A client's idempotency key: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &str) -> CoreResult<Self> {
        let ok = !value.is_empty() && value.len() <= MAX_KEY_LEN && value.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(CoreError::invalid(
                "Idempotency-Key",
                format!("Use 1 to {MAX_KEY_LEN} visible ASCII characters, such as a UUID."),
            ));
        }
        Ok(IdempotencyKey(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a request with an idempotency key finds.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The first use: run the request, then [`finish`] (or [`release`] when it failed on our side).
    First,
    /// The key's first answer, to be given again.
    Replay { status: u16, body: Vec<u8> },
    /// The key was used for a different request.
    OtherRequest,
    /// The first request with this key has not finished yet.
    Running,
}

/// The fingerprint of a request: its method, path and body.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
        hash.update(part);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn context(workspace_id: &str, key: &IdempotencyKey) -> String {
    format!("idempotency:{workspace_id}:{}", key.as_str())
}

/// Claims `key` for a request of the workspace, or finds what an earlier request with it left.
pub async fn claim(
    db: &Db,
    keyring: &Keyring,
    workspace_id: &str,
    key: &IdempotencyKey,
    hash: &str,
) -> CoreResult<Claim> {
    let now = now_ms();
    sqlx::query("DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2 AND created_at <= $3")
        .bind(workspace_id)
        .bind(key.as_str())
        .bind(now - KEPT_FOR)
        .execute(db.pool())
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (workspace_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, key) DO NOTHING",
    )
    .bind(workspace_id)
    .bind(key.as_str())
    .bind(hash)
    .bind(now)
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::First);
    }
    let Some(row) =
        sqlx::query("SELECT request_hash, status, response FROM idempotency_keys WHERE workspace_id = $1 AND key = $2")
            .bind(workspace_id)
            .bind(key.as_str())
            .fetch_optional(db.pool())
            .await?
    else {
        // Released between the insert and the read: the client retries.
        return Ok(Claim::Running);
    };
    if row.try_get::<String, _>("request_hash")? != hash {
        return Ok(Claim::OtherRequest);
    }
    let (Some(status), Some(sealed)) =
        (row.try_get::<Option<i64>, _>("status")?, row.try_get::<Option<String>, _>("response")?)
    else {
        let taken_over = sqlx::query(
            "UPDATE idempotency_keys SET created_at = $1
             WHERE workspace_id = $2 AND key = $3 AND status IS NULL AND created_at <= $4",
        )
        .bind(now)
        .bind(workspace_id)
        .bind(key.as_str())
        .bind(now - ABANDONED_AFTER)
        .execute(db.pool())
        .await?;
        return Ok(if taken_over.rows_affected() == 1 { Claim::First } else { Claim::Running });
    };
    let body = keyring.open(&context(workspace_id, key), &sealed)?.to_vec();
    Ok(Claim::Replay { status: u16::try_from(status).unwrap_or(500), body })
}

/// Keeps the first answer to `key`.
pub async fn finish(
    db: &Db,
    keyring: &Keyring,
    workspace_id: &str,
    key: &IdempotencyKey,
    status: u16,
    body: &[u8],
) -> CoreResult<()> {
    sqlx::query("UPDATE idempotency_keys SET status = $1, response = $2 WHERE workspace_id = $3 AND key = $4")
        .bind(i64::from(status))
        .bind(keyring.seal(&context(workspace_id, key), body))
        .bind(workspace_id)
        .bind(key.as_str())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Forgets a claim whose request failed on our side, so that a retry runs it again.
pub async fn release(db: &Db, workspace_id: &str, key: &IdempotencyKey) -> CoreResult<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2 AND status IS NULL")
        .bind(workspace_id)
        .bind(key.as_str())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Deletes answers older than [`KEPT_FOR`]; returns how many.
pub async fn sweep(db: &Db, now: Millis) -> CoreResult<u64> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
        .bind(now - KEPT_FOR)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_and_bounded() {
        assert!(IdempotencyKey::parse("3f2c-uuid").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse("new\nline").is_err());
        assert!(IdempotencyKey::parse(&"a".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"a".repeat(255)).is_ok());
    }

    #[test]
    fn the_hash_covers_method_path_and_body() {
        let h = request_hash("POST", "/v1/keys", b"{}");
        assert_eq!(h, request_hash("POST", "/v1/keys", b"{}"));
        assert_ne!(h, request_hash("POST", "/v1/keys", b"{ }"));
        assert_ne!(h, request_hash("POST", "/v1/keys/x/revoke", b"{}"));
    }
}
