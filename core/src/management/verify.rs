//! The way in for the management API: an `Authorization` header carrying a management key becomes
//! a [`ManagementPrincipal`] — its workspace and scopes — or a typed [`AuthFailure`]. Read fresh
//! from the database on every request (the management API is not a hot path, and a revocation or
//! an edit of the key then applies on its very next request in every process).

use std::sync::Arc;

use sqlx::Row;

use super::{ManagementScope, ManagementScopes};
use crate::{
    Db,
    audit::Actor,
    clock::now_ms,
    keys::{AuthFailure, KeyKind, KeyToken, LastUsed, RateLimiter, bearer_value, digest_matches},
};

/// A verified management key: the workspace it acts on and what it may do there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementPrincipal {
    pub workspace_id: String,
    pub workspace_slug: String,
    pub key_id: String,
    pub key_name: String,
    pub scopes: ManagementScopes,
}

impl ManagementPrincipal {
    /// Whether the key carries `scope`.
    pub fn may(&self, scope: ManagementScope) -> bool {
        self.scopes.contains(scope)
    }

    /// The actor its changes are recorded under (audit log, webhook events): the key itself.
    pub fn actor(&self, ip: Option<String>, user_agent: Option<String>) -> Actor {
        Actor {
            user_id: self.key_id.clone(),
            ip,
            user_agent,
            label: Some(format!("management key '{}'", self.key_name)),
        }
    }
}

/// Checks management keys, with a rate limit (the workspace's per-key limit) and last-used times
/// noted in memory like API keys'.
#[derive(Debug, Clone)]
pub struct ManagementVerifier {
    db: Db,
    rate_limiter: Arc<RateLimiter>,
    pub last_used: Arc<LastUsed>,
}

impl ManagementVerifier {
    pub fn new(db: Db, rate_limiter: Arc<RateLimiter>) -> Self {
        ManagementVerifier { db, rate_limiter, last_used: Arc::new(LastUsed::for_management_keys()) }
    }

    /// The whole check, from the raw header to a principal.
    pub async fn verify_header(&self, header: Option<&[u8]>) -> Result<ManagementPrincipal, AuthFailure> {
        let value = bearer_value(header)?;
        if value.starts_with("gat_") {
            return Err(AuthFailure::ManagementKeyNeeded);
        }
        let token = KeyToken::parse(value).map_err(AuthFailure::from)?;
        if token.kind() != KeyKind::Management {
            return Err(AuthFailure::ManagementKeyNeeded);
        }
        let row = sqlx::query(
            "SELECT k.id, k.name, k.scopes, k.digest, k.expires_at, k.revoked_at, w.id AS workspace_id, w.slug,
                    w.key_rate_limit_per_minute
             FROM management_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.id = $1",
        )
        .bind(token.lookup_id())
        .fetch_optional(self.db.pool())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "management key lookup failed");
            AuthFailure::Unavailable
        })?
        .ok_or(AuthFailure::UnknownKey)?;
        let read = |column: &str| -> Result<String, AuthFailure> {
            row.try_get::<String, _>(column).map_err(|_| AuthFailure::Unavailable)
        };
        if !digest_matches(&token, &read("digest")?) {
            return Err(AuthFailure::UnknownKey);
        }
        let now = now_ms();
        let ends = |column: &str| row.try_get::<Option<i64>, _>(column).map_err(|_| AuthFailure::Unavailable);
        if let Some(at) = ends("revoked_at")?.filter(|at| *at <= now) {
            return Err(AuthFailure::Revoked { at });
        }
        if let Some(at) = ends("expires_at")?.filter(|at| *at <= now) {
            return Err(AuthFailure::Expired { at });
        }
        let key_id = read("id")?;
        let limit = row.try_get::<i64, _>("key_rate_limit_per_minute").map_err(|_| AuthFailure::Unavailable)?;
        self.rate_limiter
            .check(&format!("mk:{key_id}"), limit)
            .await
            .map_err(|retry_after| AuthFailure::RateLimited { retry_after })?;
        self.last_used.touch(&key_id, now);
        Ok(ManagementPrincipal {
            workspace_id: read("workspace_id")?,
            workspace_slug: read("slug")?,
            key_name: read("name")?,
            scopes: ManagementScopes::from_stored(&read("scopes")?),
            key_id,
        })
    }
}
