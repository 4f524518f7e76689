//! The MCP endpoint: `/mcp` speaks the Streamable HTTP transport through rmcp, behind the same
//! key verification as the `/v1` API; the protected resource metadata (RFC 9728) tells clients
//! how to get a token.
//!
//! The transport runs stateless with JSON responses: every request stands alone (no session to
//! pin to one process), which is what several `gatehouse` processes behind a load balancer need.

pub mod auth;
pub mod catalog;
mod direct;
pub mod metadata;
pub mod server;
pub mod wire;

use std::sync::Arc;

use axum::{Router, middleware, routing::get};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};

use crate::{config::Config, state::AppState};

/// Largest JSON-RPC message accepted on `/mcp`.
pub(crate) const MAX_MCP_BODY_BYTES: usize = 512 * 1024;

pub fn router(state: &AppState) -> Router<AppState> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_allowed_hosts(allowed_hosts(&state.config))
        .with_allowed_origins([public_origin(&state.config.public_url)])
        .enforce_origin_validation()
        .with_max_request_body_bytes(MAX_MCP_BODY_BYTES);
    // Stateless: rmcp asks for a handler on every request; cloning one is two reference counts.
    let handler = server::GatehouseMcp::new(state.db.clone(), state.usage.clone(), state.upstreams.clone());
    let direct = Arc::new(direct::DirectCalls::new(handler.clone(), allowed_hosts(&state.config)));
    let service =
        StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(LocalSessionManager::default()), config);
    let edge = wire::Edge { state: state.clone(), direct };
    Router::new()
        .route_service("/mcp", service)
        .merge(crate::gateway::routes())
        // Outermost first: the credential, then the JSON-RPC edge rmcp leaves open (which answers
        // the built-in tools' calls itself, `direct`), then rmcp.
        .layer(middleware::from_fn_with_state(edge, wire::json_rpc_edge))
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_bearer))
        .route("/.well-known/oauth-protected-resource", get(metadata::protected_resource))
        .route("/.well-known/oauth-protected-resource/mcp", get(metadata::protected_resource))
        .merge(crate::gateway::metadata_routes())
}

/// Whether a browser `Origin` may call the MCP endpoints: only the public URL's own
/// (DNS-rebinding protection; rmcp checks `/mcp` itself, the gateway's paths check here).
pub fn origin_allowed(public_url: &str, origin: &[u8]) -> bool {
    let Ok(origin) = std::str::from_utf8(origin) else { return false };
    let given = public_origin(origin.trim_end_matches('/'));
    given == public_origin(public_url)
}

/// `scheme://host[:port]` of the public URL: the one browser origin `/mcp` accepts.
fn public_origin(public_url: &str) -> String {
    let (scheme, rest) = public_url.split_once("://").unwrap_or(("http", public_url));
    let authority = rest.split('/').next().unwrap_or(rest);
    let has_port = authority.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()));
    if has_port {
        format!("{scheme}://{authority}")
    } else {
        let port = if scheme == "https" { 443 } else { 80 };
        format!("{scheme}://{authority}:{port}")
    }
}

/// Hosts `/mcp` answers to (DNS-rebinding protection): the public URL's host and loopback.
fn allowed_hosts(config: &Config) -> Vec<String> {
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let authority = config.public_url.split_once("://").map_or("", |(_, r)| r.split('/').next().unwrap_or(""));
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if !host.is_empty() {
        hosts.push(host.trim_start_matches('[').trim_end_matches(']').to_owned());
    }
    hosts.push(config.addr.ip().to_string());
    hosts.sort();
    hosts.dedup();
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(public_origin("http://127.0.0.1:3000"), "http://127.0.0.1:3000");
        assert_eq!(public_origin("https://gh.example.com"), "https://gh.example.com:443");
        assert_eq!(public_origin("http://gh.example.com/base"), "http://gh.example.com:80");
    }
}
