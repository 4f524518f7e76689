//! The authorization server's metadata, one document served at both discovery addresses:
//! `/.well-known/oauth-authorization-server` (RFC 8414) and `/.well-known/openid-configuration`
//! (OpenID Connect Discovery 1.0), which MCP clients may try in either order.

use axum::{Json, extract::State, response::IntoResponse};
use gatehouse_core::{
    oauth::{ASSERTION_ALGORITHMS, AUTH_METHODS, DEVICE_GRANT},
    scopes::Scope,
};
use serde_json::{Value, json};

use crate::state::AppState;

/// The metadata document.
pub fn document(base: &str) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "registration_endpoint": format!("{base}/oauth/register"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "device_authorization_endpoint": format!("{base}/oauth/device_authorization"),
        "userinfo_endpoint": format!("{base}/oauth/userinfo"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "client_id_metadata_document_supported": true,
        "scopes_supported": Scope::ALL.map(Scope::as_str),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified"],
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{base}/"),
    })
}

pub async fn authorization_server(State(state): State<AppState>) -> impl IntoResponse {
    Json(document(&state.config.public_url))
}
