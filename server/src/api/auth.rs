//! The `ApiKey` extractor: runs the domain's one key verification on the request's
//! `Authorization` header, before any handler code.

use axum::{extract::FromRequestParts, http::request::Parts};
use gatehouse_core::keys::Principal;
use http::header;

use super::error::ApiError;
use crate::state::AppState;

/// The verified caller of an API request.
pub struct ApiKey(pub std::sync::Arc<Principal>);

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
        let client = gatehouse_core::net::ClientAddr::of(&parts.extensions);
        let principal = state
            .keys
            .verify_header(header, client)
            .await
            .map_err(|f| super::error::auth_error(f, &state.config.public_url))?;
        state.note_use(&principal, client);
        Ok(ApiKey(principal))
    }
}
