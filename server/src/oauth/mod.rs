//! The OAuth authorization server's HTTP face: metadata (RFC 8414 and OpenID Connect Discovery),
//! the signing keys (`/.well-known/jwks.json`), registration (RFC 7591), the authorization
//! endpoint, the token endpoint (codes, refresh, device codes), userinfo, revocation (RFC 7009)
//! and device authorization (RFC 8628). The consent and device verification pages are
//! dashboard pages; these endpoints sit beside `/v1`, outside the cookie-authenticated router.
//!
//! The endpoints a browser-based MCP client calls across origins answer CORS requests: none of
//! them reads a cookie, so allowing any origin gives nothing away.

mod authorize;
mod device;
mod error;
mod jwks;
pub mod metadata;
mod page;
pub mod params;
mod register;
mod revoke;
mod token;
mod userinfo;

use axum::{
    Router,
    routing::{get, post},
};
use http::{Method, header};
use tower_http::cors::{Any, CorsLayer};

use crate::state::AppState;

/// Largest form or JSON body the OAuth endpoints read.
pub(crate) const MAX_OAUTH_BODY: usize = 16 * 1024;

pub fn router() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            "mcp-protocol-version".parse().expect("static header name"),
        ])
        .max_age(std::time::Duration::from_secs(3600));
    let machine = Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata::authorization_server))
        .route("/.well-known/oauth-authorization-server/mcp", get(metadata::authorization_server))
        .route("/.well-known/openid-configuration", get(metadata::authorization_server))
        .route("/.well-known/openid-configuration/mcp", get(metadata::authorization_server))
        .route("/.well-known/jwks.json", get(jwks::jwks))
        .route("/oauth/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .route("/oauth/register", post(register::register))
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(revoke::revoke))
        .route("/oauth/device_authorization", post(device::device_authorization))
        .layer(cors);
    Router::new().route("/oauth/authorize", get(authorize::authorize)).merge(machine)
}
