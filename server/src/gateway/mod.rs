//! The gateway: Gatehouse in front of a workspace's own MCP servers. `/mcp/{slug}` serves one
//! upstream under its own names (`proxy`); `/mcp` lists and routes every reachable upstream's
//! tools, prompts and resources beside the built-in catalog (`aggregate`, used by the `/mcp`
//! handler), named by one rule (`naming`). The upstream client (`upstream`) speaks each server's
//! era, keeps the sessions of the older revisions, relays event streams (`sse`), and sends the
//! server's own credential and, when asked, who is calling (`identity`) — never the caller's
//! token. Periodic health checks (`health`) record each server's state. The domain — registry,
//! permissions, the policy — is `gatehouse_core::servers`.

pub mod aggregate;
mod error;
pub mod health;
pub mod identity;
pub mod naming;
mod proxy;
mod sse;
pub mod upstream;

use axum::{
    Json, Router,
    extract::{Path, State},
    response::IntoResponse,
    routing::{get, post},
};
pub use error::GatewayError;
use gatehouse_core::scopes::Scope;
use http::StatusCode;
use serde_json::json;

use crate::state::AppState;

/// The routes of `/mcp/{slug}`, which the caller's layers (credential, JSON-RPC edge) wrap.
pub fn routes() -> Router<AppState> {
    Router::new().route("/mcp/{slug}", post(proxy::post).get(method_not_allowed).delete(method_not_allowed))
}

/// Protected resource metadata of each upstream's path (RFC 9728).
pub fn metadata_routes() -> Router<AppState> {
    Router::new().route("/.well-known/oauth-protected-resource/mcp/{slug}", get(protected_resource))
}

async fn method_not_allowed() -> impl IntoResponse {
    (StatusCode::METHOD_NOT_ALLOWED, [(http::header::ALLOW, "POST")], "Method Not Allowed")
}

async fn protected_resource(State(state): State<AppState>, Path(slug): Path<String>) -> impl IntoResponse {
    let base = &state.config.public_url;
    if gatehouse_core::servers::ServerSlug::parse(&slug).is_err() {
        return StatusCode::NOT_FOUND.into_response();
    }
    Json(json!({
        "resource": format!("{base}/mcp/{slug}"),
        "authorization_servers": [base],
        "scopes_supported": Scope::for_keys().map(Scope::as_str).collect::<Vec<_>>(),
        "bearer_methods_supported": ["header"],
        "resource_name": format!("Gatehouse: upstream server {slug}"),
        "resource_documentation": format!("{base}/"),
    }))
    .into_response()
}
