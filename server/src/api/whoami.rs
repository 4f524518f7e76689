//! `GET /v1/whoami`: who the presented key is.

use axum::{Json, response::IntoResponse};
use http::header;
use serde_json::json;

use super::auth::ApiKey;

/// The key's workspace, environment, scopes, name, id and expiry.
pub async fn whoami(ApiKey(p): ApiKey) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "workspace": { "id": p.workspace_id, "slug": p.workspace_slug, "name": p.workspace_name },
            "environment": p.environment,
            "scopes": p.scopes.names(),
            "resources": p.resources,
            "key": { "id": p.key_id, "name": p.key_name, "expires_at": p.expires_at },
        })),
    )
}
