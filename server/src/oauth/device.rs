//! `POST /oauth/device_authorization` (RFC 8628 §3.1): a device code and a user code for a CLI.

use axum::{
    Json,
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use gatehouse_core::oauth::{self, DeviceAuthorization, ErrorCode, OAuthError};
use http::HeaderMap;

use super::{
    error::{OAuthResponse, no_store},
    params::{client_credentials, form},
};
use crate::state::AppState;

/// Device authorizations one client may start per minute.
const STARTS_PER_MINUTE: i64 = 20;

pub async fn device_authorization(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    match start(&state, &headers, body).await {
        Ok(started) => (no_store(), Json(started)).into_response(),
        Err(e) => OAuthResponse(e).into_response(),
    }
}

async fn start(state: &AppState, headers: &HeaderMap, body: Body) -> Result<DeviceAuthorization, OAuthError> {
    let params = form(headers, body).await?;
    let client = state
        .clients
        .authenticate(&state.db, &client_credentials(headers, &params)?, "/oauth/device_authorization")
        .await?;
    if let Err(wait) = state.oauth_limits.check(&format!("device:{}", client.id), STARTS_PER_MINUTE).await {
        let mut e = OAuthError::new(ErrorCode::SlowDown, "too many device authorizations for this client; retry later");
        e.retry_after = Some(gatehouse_core::keys::retry_after_secs(wait) as i64);
        return Err(e);
    }
    oauth::start_device(&state.db, &client, params.get("scope"), params.get("resource"), &state.config.public_url).await
}
