//! The `Idempotency-Key` layer of the management API's POSTs: the first answer to a key is kept
//! (sealed, in the database, for 24 hours) and given again to the same request from any process,
//! marked `Idempotent-Replayed: true`; the same key with another request is a 409. A request that
//! failed on our side (5xx) is forgotten, so its retry runs again.

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use gatehouse_core::management::idempotency::{self, Claim, IdempotencyKey};
use http::{HeaderValue, Method, StatusCode, header};

use super::{auth, body::MAX_BODY_BYTES};
use crate::{api::error::ApiError, state::AppState};

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// The largest answer kept (answers are small JSON documents).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match value.to_str().map_err(|_| ()).and_then(|v| IdempotencyKey::parse(v).map_err(|_| ())) {
        Ok(key) => key,
        Err(()) => {
            return ApiError::invalid_request(
                "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
                "Send a fresh UUID as the Idempotency-Key of each new request.",
            )
            .into_response();
        }
    };
    let (mut parts, body) = request.into_parts();
    // The key is checked before any answer is given again: a kept answer may hold a new secret.
    let principal = match auth::verify(&parts, &state).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::too_large(MAX_BODY_BYTES).into_response();
    };
    let hash = idempotency::request_hash("POST", parts.uri.path(), &bytes);
    let workspace_id = principal.workspace_id.clone();
    match idempotency::claim(&state.db, &state.keyring, &workspace_id, &key, &hash).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Claim::OtherRequest) => ApiError::new(
            StatusCode::CONFLICT,
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was used for a different request (another path or body) in the last 24 hours.",
            "Use a new Idempotency-Key for a new request; reuse one only to retry the very same request.",
        )
        .into_response(),
        Ok(Claim::Running) => ApiError::new(
            StatusCode::CONFLICT,
            "IDEMPOTENCY_KEY_IN_USE",
            "A request with this Idempotency-Key is still being processed.",
            "Retry in a moment with the same key and body to get its answer.",
        )
        .into_response(),
        Ok(Claim::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(Claim::First) => {
            parts.extensions.insert(principal);
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            let (answer, body) = response.into_parts();
            let Ok(body) = to_bytes(body, MAX_ANSWER_BYTES).await else {
                let _ = idempotency::release(&state.db, &workspace_id, &key).await;
                return ApiError::unavailable("The answer could not be read.").into_response();
            };
            let kept = if answer.status.is_server_error() {
                idempotency::release(&state.db, &workspace_id, &key).await
            } else {
                idempotency::finish(&state.db, &state.keyring, &workspace_id, &key, answer.status.as_u16(), &body).await
            };
            if let Err(e) = kept {
                tracing::warn!(error = %e, "could not keep the answer to an Idempotency-Key");
            }
            Response::from_parts(answer, Body::from(body))
        }
    }
}
