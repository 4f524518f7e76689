//! `POST /oauth/register`: Dynamic Client Registration (RFC 7591), rate-limited per address.

use std::net::SocketAddr;

use axum::{
    Json,
    body::{Body, to_bytes},
    extract::{ConnectInfo, State},
    response::{IntoResponse, Response},
};
use gatehouse_core::oauth::{self, ClientMetadata, ErrorCode, OAuthError};
use http::{HeaderMap, StatusCode, header};

use super::{
    MAX_OAUTH_BODY,
    error::{OAuthResponse, no_store},
};
use crate::state::AppState;

pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Per address; the bucket refills continuously. Failed registrations count too.
    if let Err(wait) =
        state.oauth_limits.check(&format!("register:{}", addr.ip()), state.config.registrations_per_minute).await
    {
        let mut e =
            OAuthError::new(ErrorCode::TemporarilyUnavailable, "too many registrations from this address; retry later");
        e.retry_after = Some(gatehouse_core::keys::retry_after_secs(wait) as i64);
        let mut response = OAuthResponse(e).into_response();
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return response;
    }
    match read(&headers, body).await {
        Ok(metadata) => match oauth::register(&state.db, metadata).await {
            Ok(registered) => (StatusCode::CREATED, no_store(), Json(registered)).into_response(),
            Err(e) => OAuthResponse(e).into_response(),
        },
        Err(e) => OAuthResponse(e).into_response(),
    }
}

fn metadata_error(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, description)
}

async fn read(headers: &HeaderMap, body: Body) -> Result<ClientMetadata, OAuthError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        return Err(metadata_error("send the client metadata as application/json"));
    }
    let bytes = to_bytes(body, MAX_OAUTH_BODY)
        .await
        .map_err(|_| metadata_error(format!("the registration is larger than {} KiB", MAX_OAUTH_BODY / 1024)))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let mut message = format!("the client metadata is not valid JSON of the expected shape: {e}");
        message.truncate(300);
        metadata_error(message)
    })
}
