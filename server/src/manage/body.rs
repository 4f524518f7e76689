//! Reading a management request: a JSON body or a query string into a typed value, with typed
//! errors (`INVALID_REQUEST`, `BODY_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`) instead of axum's plain
//! text rejections. Request types refuse unknown fields (`deny_unknown_fields`).

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use bytes::Bytes;
use http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::{api::error::ApiError, state::AppState};

/// The largest management request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body.
pub struct Body<T>(pub T);

/// A JSON body that may be left out (no body at all reads as `T::default()`).
pub struct OptionalBody<T>(pub T);

/// Parses a JSON body, naming the line and column of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid_request(
            format!("The JSON body does not fit: {e}."),
            "Fix the body to match the operation's schema (GET /v1/openapi.json) and send it again.",
        )
    })
}

/// The body's bytes, within [`MAX_BODY_BYTES`], and whether it says it is JSON.
async fn read(request: Request, state: &AppState) -> Result<(Bytes, bool), ApiError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    let bytes = Bytes::from_request(request, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(MAX_BODY_BYTES)
        } else {
            ApiError::invalid_request("The request body could not be read.", "Send the request again.")
        }
    })?;
    Ok((bytes, is_json))
}

/// A body that must be JSON, parsed.
fn json_body<T: DeserializeOwned>(bytes: &[u8], is_json: bool) -> Result<T, ApiError> {
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "The body must be JSON.",
            "Send Content-Type: application/json with a JSON body.",
        ));
    }
    parse_json(bytes)
}

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (bytes, is_json) = read(request, state).await?;
        json_body(&bytes, is_json).map(Body)
    }
}

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (bytes, is_json) = read(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        json_body(&bytes, is_json).map(OptionalBody)
    }
}

/// A query string.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri).map(|q| Params(q.0)).map_err(|e| {
            ApiError::invalid_request(
                format!("The query string does not fit: {}.", e.body_text()),
                "Fix the query parameters (GET /v1/openapi.json lists them) and send the request again.",
            )
        })
    }
}
