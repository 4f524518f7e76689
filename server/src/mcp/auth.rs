//! Authentication for `/mcp`: every request, before any MCP code runs, goes through the domain's
//! one key verification; the principal rides in the request's extensions to the tools.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::header;

use crate::{api::error::auth_error, state::AppState};

pub async fn require_bearer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let header = request.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
    match state.keys.verify_header(header).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(failure) => auth_error(failure, &state.config.public_url).into_response(),
    }
}
