//! OAuth 2.0 Protected Resource Metadata (RFC 9728) for `/mcp`, served at both
//! `/.well-known/oauth-protected-resource/mcp` and `/.well-known/oauth-protected-resource`, and
//! the scopes a 401 challenge tells clients to ask for.
//!
//! `scopes_supported` lists the resource's own scopes: not `openid` and `offline_access`, which are
//! the authorization server's (MCP 2026-07-28 asks resources to leave `offline_access` out). The
//! 401 challenge names the same scopes plus `offline_access`: clients built on the TypeScript SDK
//! 1.x ask for exactly the challenge's scopes and would otherwise never get a refresh token
//! (docs/decisions.md, "Scopes in the 401 challenge").

use axum::{Json, extract::State, response::IntoResponse};
use gatehouse_core::scopes::Scope;
use serde_json::json;

use crate::state::AppState;

pub async fn protected_resource(State(state): State<AppState>) -> impl IntoResponse {
    let base = &state.config.public_url;
    Json(json!({
        "resource": format!("{base}/mcp"),
        "authorization_servers": [base],
        "scopes_supported": Scope::for_keys().map(Scope::as_str).collect::<Vec<_>>(),
        "bearer_methods_supported": ["header"],
        "resource_name": "Gatehouse MCP endpoint",
        "resource_documentation": format!("{base}/"),
    }))
}

/// The `scope` of a 401 challenge: every resource scope, and `offline_access` for a refresh token.
pub fn challenge_scopes() -> String {
    let mut scopes: Vec<&str> = Scope::for_keys().map(Scope::as_str).collect();
    scopes.push(Scope::OfflineAccess.as_str());
    scopes.join(" ")
}
