//! OAuth 2.0 Protected Resource Metadata (RFC 9728) for `/mcp`, served at both
//! `/.well-known/oauth-protected-resource/mcp` and `/.well-known/oauth-protected-resource`.

use axum::{Json, extract::State, response::IntoResponse};
use gatehouse_core::scopes::Scope;
use serde_json::json;

use crate::state::AppState;

pub async fn protected_resource(State(state): State<AppState>) -> impl IntoResponse {
    let base = &state.config.public_url;
    Json(json!({
        "resource": format!("{base}/mcp"),
        "authorization_servers": [base],
        "scopes_supported": Scope::ALL.map(Scope::as_str),
        "bearer_methods_supported": ["header"],
        "resource_name": "Gatehouse MCP endpoint",
        "resource_documentation": format!("{base}/"),
    }))
}
