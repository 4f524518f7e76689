//! `GET /.well-known/jwks.json`: the public keys that verify ID tokens and the identity assertions
//! Gatehouse sends upstream. A new key appears here an hour before it signs, so caching the set
//! for the five minutes this answer allows never misses a key.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use http::header;

use crate::{api::error::ApiError, state::AppState};

pub async fn jwks(State(state): State<AppState>) -> Response {
    match state.signer.jwks().await {
        Ok(set) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the signing keys");
            ApiError::unavailable("The key set cannot be read right now.").into_response()
        }
    }
}
