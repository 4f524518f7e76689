//! Reports of keys found in public (`POST /v1/keys/leaked`): holding a key is the proof, so no
//! credential is asked for. Each valid key reported is revoked at once, where it was found is
//! recorded, and its workspace is told (`key.leaked`: audit, webhook, Overview). The answer is the
//! same whatever the keys were, so the endpoint tells a guesser nothing.

use sqlx::Row;

use crate::{
    Db, audit,
    clock::now_ms,
    error::{CoreError, CoreResult},
    keys::{self, KeyKind, KeyToken, digest_matches},
};

/// At most this many keys in one report.
pub const MAX_KEYS_PER_REPORT: usize = 100;

/// A report as received.
#[derive(Debug, Clone)]
pub struct LeakReport {
    pub keys: Vec<String>,
    /// Where they were found: an http(s) URL of at most 2,000 characters.
    pub url: Option<String>,
}

impl LeakReport {
    /// Checks the report's shape (not its keys: every key, valid or not, gets the same answer).
    pub fn new(keys: Vec<String>, url: Option<String>) -> CoreResult<Self> {
        if keys.is_empty() || keys.len() > MAX_KEYS_PER_REPORT {
            return Err(CoreError::invalid("keys", format!("List 1 to {MAX_KEYS_PER_REPORT} keys.")));
        }
        let url = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        if let Some(u) = &url {
            let ok = u.chars().count() <= 2000
                && url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"))
                && !u.chars().any(char::is_control);
            if !ok {
                return Err(CoreError::invalid("url", "Give the http(s) address where the keys were found."));
            }
        }
        Ok(LeakReport { keys, url })
    }
}

/// Revokes each valid key of the report and tells its workspace; returns how many were revoked
/// (for the log, never for the reporter).
pub async fn report_leaked(db: &Db, report: &LeakReport) -> CoreResult<usize> {
    let mut revoked = 0;
    for text in &report.keys {
        let Ok(token) = KeyToken::parse(text.trim()) else { continue };
        let (table, kind) = match token.kind() {
            KeyKind::Api(_) => ("api_keys", "key"),
            KeyKind::Management => ("management_keys", "management_key"),
        };
        let Some(row) =
            sqlx::query(&format!("SELECT workspace_id, name, digest, revoked_at FROM {table} WHERE id = $1"))
                .bind(token.lookup_id())
                .fetch_optional(db.pool())
                .await?
        else {
            continue;
        };
        if !digest_matches(&token, &row.try_get::<String, _>("digest")?) {
            continue;
        }
        let workspace_id: String = row.try_get("workspace_id")?;
        let name: String = row.try_get("name")?;
        let was_revoked = row.try_get::<Option<i64>, _>("revoked_at")?.is_some_and(|at| at <= now_ms());
        let id = token.lookup_id().to_owned();
        // Whether this is the first report of the key: a key reported again (by the same
        // scanner, or by someone replaying a report) tells the workspace nothing new.
        let first = match token.kind() {
            KeyKind::Api(_) => {
                keys::revoke_in(db, &workspace_id, None, &id).await?;
                sqlx::query("UPDATE api_keys SET leaked_at = $1, leaked_url = $2 WHERE id = $3 AND leaked_at IS NULL")
                    .bind(now_ms())
                    .bind(&report.url)
                    .bind(&id)
                    .execute(db.pool())
                    .await?
            }
            KeyKind::Management => {
                sqlx::query("UPDATE management_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(now_ms())
                    .bind(&id)
                    .execute(db.pool())
                    .await?
            }
        }
        .rows_affected()
            == 1;
        if !first {
            continue;
        }
        let details = serde_json::json!({
            "name": name, "credential": kind, "url": report.url, "already_revoked": was_revoked,
        });
        audit::record(db.pool(), &workspace_id, None, "key.leaked", (kind, &id), details).await?;
        if !was_revoked {
            revoked += 1;
        }
    }
    Ok(revoked)
}
