//! Reading a key's row for verification, fresh from the database on every request.
//!
//! On PostgreSQL this is one query on the shared pool; on SQLite a direct read on the calling
//! thread (`crate::direct`), with the pool as the fallback.

use crate::{
    Db,
    direct::{self, Columns, FromColumns},
    error::CoreResult,
};

const KEY_ROW_SQL: &str =
    "SELECT k.id, k.name, k.environment, k.scopes, k.resources, k.digest, k.expires_at, k.revoked_at,
        k.rate_limit_per_minute, k.servers, k.allowed_ips, w.id AS workspace_id, w.slug, w.name AS workspace_name, w.key_rate_limit_per_minute
     FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.id = $1";

/// What verification needs of a key and its workspace.
#[derive(Debug, Clone)]
pub(crate) struct KeyRow {
    pub id: String,
    pub name: String,
    pub environment: String,
    pub scopes: String,
    pub resources: Option<String>,
    pub digest: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub rate_limit_per_minute: Option<i64>,
    pub servers: Option<String>,
    pub allowed_ips: Option<String>,
    pub workspace_id: String,
    pub workspace_slug: String,
    pub workspace_name: String,
    pub workspace_rate_limit: i64,
}

/// The key's row, or `None` when no key has this id.
pub(crate) async fn find(db: &Db, id: &str) -> CoreResult<Option<KeyRow>> {
    direct::fetch_optional(db, KEY_ROW_SQL, &[id.into()]).await
}

impl FromColumns for KeyRow {
    fn from_columns(r: &impl Columns) -> CoreResult<Self> {
        Ok(KeyRow {
            id: r.col("id")?,
            name: r.col("name")?,
            environment: r.col("environment")?,
            scopes: r.col("scopes")?,
            resources: r.col("resources")?,
            digest: r.col("digest")?,
            expires_at: r.col("expires_at")?,
            revoked_at: r.col("revoked_at")?,
            rate_limit_per_minute: r.col("rate_limit_per_minute")?,
            servers: r.col("servers")?,
            allowed_ips: r.col("allowed_ips")?,
            workspace_id: r.col("workspace_id")?,
            workspace_slug: r.col("slug")?,
            workspace_name: r.col("workspace_name")?,
            workspace_rate_limit: r.col("key_rate_limit_per_minute")?,
        })
    }
}
