//! Authentication for `/mcp`: every request, before any MCP code runs, goes through the domain's
//! one verification of keys and OAuth access tokens; the principal rides in the request's
//! extensions to the tools.
//!
//! For an OAuth bearer, a `tools/call` (or `resources/read`) its scopes do not cover is answered
//! with the MCP authorization spec's step-up: HTTP 403 with
//! `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`, so the host can ask the
//! person for more ([`step_up`], called by [`super::wire`], which reads the body once). An API key
//! gets the typed tool error from the tool layer instead.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use gatehouse_core::{keys::Principal, policy::required_scope, scopes::Scope};
use http::{HeaderValue, StatusCode, header};
use serde_json::Value;

use crate::{
    api::error::{ApiError, auth_error_for},
    state::AppState,
};

pub async fn require_bearer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // `/mcp` or an upstream server's `/mcp/{slug}`: an OAuth token must be for exactly this one.
    let path = request.uri().path().trim_end_matches('/').to_owned();
    let resource = format!("{}{path}", state.config.public_url);
    let header = request.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let client = gatehouse_core::net::ClientAddr::of(request.extensions());
    match state.keys.verify_header_for(header, Some(&resource), client).await {
        Ok(principal) => {
            state.note_use(&principal, client);
            // An `Arc<Principal>`: what the tools and the gateway read (`.get::<Arc<Principal>>()`).
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(failure) => auth_error_for(failure, &state.config.public_url, &path).into_response(),
    }
}

/// For an OAuth bearer: 403 `insufficient_scope` when the JSON-RPC message calls what the token's
/// scopes do not cover; `None` lets it through.
pub fn step_up(public_url: &str, p: &Principal, body: &[u8]) -> Option<Response> {
    let (what, required) = needed_scope(body)?;
    (!p.scopes.contains(required)).then(|| insufficient_scope(public_url, p, &what, required))
}
/// The scope a JSON-RPC message needs: a tool's, or `runs:read` for reading a run resource.
fn needed_scope(body: &[u8]) -> Option<(String, Scope)> {
    let message: Value = serde_json::from_slice(body).ok()?;
    let params = message.get("params")?;
    match message.get("method")?.as_str()? {
        "tools/call" => {
            let tool = params.get("name")?.as_str()?;
            required_scope(tool).map(|s| (tool.to_owned(), s))
        }
        "resources/read" if params.get("uri")?.as_str()?.starts_with("gatehouse://runs/") => {
            Some(("reading runs".to_owned(), Scope::RunsRead))
        }
        _ => None,
    }
}

fn insufficient_scope(public_url: &str, p: &Principal, what: &str, required: Scope) -> Response {
    let carries = p.scopes.names().join(", ");
    let mut wanted: Vec<String> = p.scopes.names();
    wanted.push(required.as_str().to_owned());
    let challenge = format!(
        "Bearer realm=\"gatehouse\", error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{public_url}/.well-known/oauth-protected-resource/mcp\", error_description=\"{what} requires {required}\"",
        wanted.join(" ")
    );
    let mut headers = Vec::new();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        headers.push((header::WWW_AUTHENTICATE, value));
    }
    ApiError {
        status: StatusCode::FORBIDDEN,
        code: "SCOPE_MISSING",
        message: format!("{what} requires '{required}' but the bearer carries: {carries}"),
        next_action: format!(
            "Approve the connection again with '{required}' added: the MCP host can start a new authorization asking for it."
        ),
        headers,
    }
    .into_response()
}
