//! Authorization server metadata (RFC 8414), at `/.well-known/oauth-authorization-server`.

use axum::{Json, extract::State, response::IntoResponse};
use gatehouse_core::{oauth::DEVICE_GRANT, scopes::Scope};
use serde_json::json;

use crate::state::AppState;

pub async fn authorization_server(State(state): State<AppState>) -> impl IntoResponse {
    let base = &state.config.public_url;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "registration_endpoint": format!("{base}/oauth/register"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "device_authorization_endpoint": format!("{base}/oauth/device_authorization"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "scopes_supported": Scope::ALL.map(Scope::as_str),
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{base}/"),
    }))
}
