//! `GET /oauth/authorize`: checks the request and sends the person to the consent page for it —
//! or, when the client or redirect URI cannot be trusted, shows an error page and goes nowhere.

use axum::{
    extract::{RawQuery, State},
    response::{IntoResponse, Redirect, Response},
};
use gatehouse_core::oauth::{self, AuthorizeError, AuthorizeParams};

use super::{page::error_page, params::Params};
use crate::state::AppState;

pub async fn authorize(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return error_page(&format!("The request is malformed: {}.", e.description)),
    };
    let request = AuthorizeParams {
        client_id: params.owned("client_id"),
        redirect_uri: params.owned("redirect_uri"),
        response_type: params.owned("response_type"),
        scope: params.owned("scope"),
        state: params.owned("state"),
        code_challenge: params.owned("code_challenge"),
        code_challenge_method: params.owned("code_challenge_method"),
        resource: params.owned("resource"),
        nonce: params.owned("nonce"),
    };
    match oauth::start(&state.db, &state.clients, request, &state.config.public_url).await {
        Ok(id) => Redirect::to(&format!("/oauth/consent/{id}")).into_response(),
        Err(AuthorizeError::Page(message)) => error_page(&message),
        Err(AuthorizeError::Redirect(url)) => Redirect::to(&url).into_response(),
    }
}
