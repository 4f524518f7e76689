//! `POST /oauth/token`: the authorization-code, refresh-token and device-code grants. Every
//! answer is `Cache-Control: no-store`; errors have the RFC 6749 §5.2 shape.

use axum::{
    Json,
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use gatehouse_core::oauth::{self, DEVICE_GRANT, ErrorCode, OAuthError, TokenResponse};
use http::HeaderMap;

use super::{
    error::{OAuthResponse, no_store},
    params::{client_credentials, form},
};
use crate::state::AppState;

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    match grant(&state, &headers, body).await {
        Ok(tokens) => (no_store(), Json(tokens)).into_response(),
        Err(e) => OAuthResponse(e).into_response(),
    }
}

async fn grant(state: &AppState, headers: &HeaderMap, body: Body) -> Result<TokenResponse, OAuthError> {
    let params = form(headers, body).await?;
    let grant_type = params.get("grant_type").ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    let client = state.clients.authenticate(&state.db, &client_credentials(headers, &params)?, "/oauth/token").await?;
    let db = &state.db;
    let oidc = &state.id_tokens();
    let response = match grant_type {
        "authorization_code" => {
            oauth::exchange_code(
                db,
                oidc,
                &client,
                params.get("code"),
                params.get("redirect_uri"),
                params.get("code_verifier"),
                params.get("resource"),
            )
            .await
        }
        "refresh_token" => {
            oauth::refresh(db, oidc, &client, params.get("refresh_token"), params.get("scope"), params.get("resource"))
                .await
        }
        DEVICE_GRANT => {
            if !client.allows_grant(DEVICE_GRANT) {
                return Err(OAuthError::new(
                    ErrorCode::UnauthorizedClient,
                    "this client did not register the device_code grant",
                ));
            }
            oauth::poll_device(db, oidc, &client, params.get("device_code")).await
        }
        other => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!(
                "grant_type {:?} is not supported; use authorization_code, refresh_token or {DEVICE_GRANT}",
                other.chars().take(80).collect::<String>()
            ),
        )),
    };
    if let Err(e) = &response {
        tracing::info!(client_id = %client.id, grant_type, error = e.code.as_str(), "token request refused");
    }
    response
}
