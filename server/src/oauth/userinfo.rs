//! `GET` / `POST /oauth/userinfo` (OpenID Connect Core §5.3): the person behind an access token
//! that carries `openid` — `sub`, `email`, `email_verified`. A bad token is 401 `invalid_token`, a
//! token without `openid` 403 `insufficient_scope`, both with `WWW-Authenticate` (RFC 6750 §3).

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use gatehouse_core::{
    keys::bearer_value,
    oauth::{self, UserInfoError},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;

use super::error::no_store;
use crate::state::AppState;

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = match bearer_value(headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes)) {
        Ok(token) => token,
        Err(failure) => return refusal(StatusCode::UNAUTHORIZED, "invalid_token", &failure.message()),
    };
    match oauth::userinfo(&state.db, token).await {
        Ok(info) => (no_store(), Json(info)).into_response(),
        Err(UserInfoError::InvalidToken(failure)) => {
            refusal(StatusCode::UNAUTHORIZED, "invalid_token", &failure.message())
        }
        Err(UserInfoError::NoOpenId) => refusal(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "This access token was not granted openid; connect again asking for it.",
        ),
    }
}

fn refusal(status: StatusCode, error: &str, description: &str) -> Response {
    let challenge = format!(
        "Bearer realm=\"gatehouse\", error=\"{error}\", error_description=\"{}\"{}",
        description.replace('"', "'"),
        if error == "insufficient_scope" { ", scope=\"openid\"" } else { "" }
    );
    let mut response =
        (status, no_store(), Json(json!({ "error": error, "error_description": description }))).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}
