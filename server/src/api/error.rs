//! The one place API errors become HTTP: a status, the JSON body `{"code","message","next_action"}`
//! and, for authentication failures, `WWW-Authenticate` (and `Retry-After` when rate limited).

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use gatehouse_core::{CoreError, keys::AuthFailure};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

/// An error answered by the `/v1` API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub next_action: String,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    /// 503 `UNAVAILABLE`: something Gatehouse depends on did not answer; not the client's fault.
    pub fn unavailable(message: &str) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "UNAVAILABLE",
            message: message.to_owned(),
            next_action: "Retry in a few seconds; if it persists, the Gatehouse operator should check /readyz.".into(),
            headers: Vec::new(),
        }
    }
}

impl ApiError {
    /// An error of the caller's request, with its status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>, next_action: &str) -> Self {
        ApiError { status, code, message: message.into(), next_action: next_action.to_owned(), headers: Vec::new() }
    }

    /// 400 `INVALID_REQUEST`: the request could not be read (its JSON, its query).
    pub fn invalid_request(message: impl Into<String>, next_action: &str) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message, next_action)
    }

    /// 413 `BODY_TOO_LARGE`.
    pub fn too_large(limit_bytes: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BODY_TOO_LARGE",
            format!("The request body is larger than this endpoint accepts ({} KiB).", limit_bytes / 1024),
            "Send a smaller body.",
        )
    }
}

/// A domain error as an API error: the one mapping of [`CoreError`] to HTTP for the `/v1` API.
/// Details of database and internal errors go to the log, never to the client.
impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Invalid { field, message } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_ARGUMENT",
                format!("{field}: {message}"),
                "Fix the named field and send the request again.",
            ),
            CoreError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "No such thing in this workspace.",
                "Check the id; list the collection to find it.",
            ),
            CoreError::Forbidden(m) => {
                ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", m, "Ask an owner of the workspace.")
            }
            CoreError::Conflict(m) => {
                ApiError::new(StatusCode::CONFLICT, "CONFLICT", m, "Read the current state and act on that.")
            }
            CoreError::Throttled { retry_after_secs } => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMITED",
                    "Too many requests.",
                    "Wait for the Retry-After seconds, then retry.",
                );
                e.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1))));
                e
            }
            other => {
                tracing::error!(error = %other, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    "Something went wrong on our side.",
                    "Retry in a moment; if it persists, the Gatehouse operator should read the server log.",
                )
            }
        }
    }
}

impl From<AuthFailure> for ApiError {
    fn from(failure: AuthFailure) -> Self {
        auth_error(failure, "")
    }
}

/// An authentication failure as an API error. With a public URL, 401 challenges point at the
/// protected resource metadata and name the scopes to ask for, as the MCP authorization spec asks.
pub fn auth_error(failure: AuthFailure, public_url: &str) -> ApiError {
    auth_error_for(failure, public_url, "/mcp")
}

/// The same for the MCP resource at `path` (`/mcp`, or an upstream server's `/mcp/{slug}`), whose
/// protected resource metadata the challenge names.
pub fn auth_error_for(failure: AuthFailure, public_url: &str, path: &str) -> ApiError {
    let status = match &failure {
        AuthFailure::Revoked { .. } => StatusCode::GONE,
        AuthFailure::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AuthFailure::AddressNotAllowed { .. } => StatusCode::FORBIDDEN,
        AuthFailure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNAUTHORIZED,
    };
    let mut headers = Vec::new();
    if status == StatusCode::UNAUTHORIZED {
        let description = failure.message().replace('"', "'");
        let metadata = if public_url.is_empty() {
            String::new()
        } else {
            format!(
                ", resource_metadata=\"{public_url}/.well-known/oauth-protected-resource{path}\", scope=\"{}\"",
                crate::mcp::metadata::challenge_scopes()
            )
        };
        let value = format!(
            "Bearer realm=\"gatehouse\"{metadata}, error=\"invalid_token\", error_description=\"{description}\""
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.push((header::WWW_AUTHENTICATE, v));
        }
    }
    if let AuthFailure::RateLimited { retry_after } = &failure {
        let secs = gatehouse_core::keys::retry_after_secs(*retry_after);
        headers.push((header::RETRY_AFTER, HeaderValue::from(secs)));
    }
    ApiError {
        status,
        code: failure.code(),
        message: failure.message(),
        next_action: failure.next_action().to_owned(),
        headers,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "code": self.code, "message": self.message, "next_action": self.next_action }));
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}
