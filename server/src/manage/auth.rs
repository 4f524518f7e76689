//! The `Manager` extractor: the management key of a request, verified once (by the idempotency
//! layer when it ran first, else here), and the one check of its scopes.

use std::sync::Arc;

use axum::{extract::FromRequestParts, http::request::Parts};
use gatehouse_core::{
    audit::Actor,
    management::{ManagementPrincipal, ManagementScope},
    net::ClientAddr,
};
use http::{StatusCode, header};

use crate::{
    api::error::{ApiError, auth_error},
    state::AppState,
};

/// The verified management key of a request, and the actor its changes are recorded under.
pub struct Manager {
    pub key: Arc<ManagementPrincipal>,
    pub actor: Actor,
}

impl Manager {
    /// 403 `SCOPE_MISSING` unless the key carries `scope`.
    pub fn require(&self, scope: ManagementScope) -> Result<(), ApiError> {
        if self.key.may(scope) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "SCOPE_MISSING",
            format!(
                "This needs the management scope '{scope}'; the key carries: {}.",
                self.key.scopes.names().join(", ")
            ),
            "Use a management key with that scope, or make one (`gatehouse admin-key create`).",
        ))
    }

    pub fn workspace_id(&self) -> &str {
        &self.key.workspace_id
    }
}

/// Verifies the request's management key (the whole check: format, digest, expiry, revocation,
/// rate limit).
pub async fn verify(parts: &Parts, state: &AppState) -> Result<Arc<ManagementPrincipal>, ApiError> {
    if let Some(key) = parts.extensions.get::<Arc<ManagementPrincipal>>() {
        return Ok(key.clone());
    }
    let header = parts.headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let key = state.management.verify_header(header).await.map_err(|f| auth_error(f, ""))?;
    Ok(Arc::new(key))
}

impl FromRequestParts<AppState> for Manager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = verify(parts, state).await?;
        let ip = ClientAddr::of(&parts.extensions).map(|ip| ip.to_string());
        let user_agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let actor = key.actor(ip, user_agent);
        Ok(Manager { key, actor })
    }
}
