//! OAuth errors as HTTP: the RFC 6749 §5.2 body, `Cache-Control: no-store`, and the status each
//! error calls for (401 for a client that failed to authenticate, 429 with `Retry-After` for
//! `slow_down`).

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use gatehouse_core::oauth::{ErrorCode, OAuthError};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

pub struct OAuthResponse(pub OAuthError);

impl From<OAuthError> for OAuthResponse {
    fn from(e: OAuthError) -> Self {
        OAuthResponse(e)
    }
}

impl IntoResponse for OAuthResponse {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = match e.code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::SlowDown => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = Json(json!({ "error": e.code.as_str(), "error_description": e.description }));
        let mut response = (status, no_store(), body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"gatehouse\""));
        }
        if let Some(secs) = e.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, for every answer that may carry a secret.
pub fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")]
}
