//! `POST /oauth/revoke`: token revocation (RFC 7009). The answer is 200 whether or not the token
//! was known, so it tells nobody which tokens exist.

use axum::{
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use gatehouse_core::oauth::{self, OAuthError};
use http::{HeaderMap, StatusCode};

use super::{
    error::{OAuthResponse, no_store},
    params::{client_credentials, form},
};
use crate::state::AppState;

pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result: Result<(), OAuthError> = async {
        let params = form(&headers, body).await?;
        let client =
            state.clients.authenticate(&state.db, &client_credentials(&headers, &params)?, "/oauth/revoke").await?;
        let token = params.get("token").ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        oauth::revoke_token(&state.db, &client, token).await
    }
    .await;
    match result {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(e) => OAuthResponse(e).into_response(),
    }
}
