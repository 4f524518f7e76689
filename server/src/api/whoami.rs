//! `GET /v1/whoami`: who the presented key or OAuth access token is. The MCP `whoami` tool
//! answers the same body.

use axum::{Json, response::IntoResponse};
use gatehouse_core::keys::{Principal, Via};
use http::header;
use serde_json::{Value, json};

use super::auth::ApiKey;

/// The caller's workspace, environment, scopes, resources, and key or connector.
pub fn describe(p: &Principal) -> Value {
    json!({
        "workspace": { "id": p.workspace_id, "slug": p.workspace_slug, "name": p.workspace_name },
        "environment": p.environment,
        "scopes": p.scopes.names(),
        "resources": p.resources,
        "key": (!p.is_oauth()).then(|| json!({ "id": p.caller_id, "name": p.caller_name, "expires_at": p.expires_at })),
        "connector": match &p.via {
            Via::Connector { client_id, .. } => Some(json!({
                "id": p.caller_id, "client_id": client_id, "client_name": p.caller_name, "token_expires_at": p.expires_at,
            })),
            Via::Key => None,
        },
    })
}

/// Who the presented API key or OAuth access token is.
#[utoipa::path(get, operation_id = "whoami", path = "/v1/whoami", tag = "runner", security(("api_key" = [])),
    responses((status = 200, description = "The caller's workspace, environment, scopes, and key or connector", body = Object),
              (status = "4XX", description = "An error: {code, message, next_action}", body = crate::manage::ErrorBody)))]
pub async fn whoami(ApiKey(p): ApiKey) -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], Json(describe(&p)))
}
