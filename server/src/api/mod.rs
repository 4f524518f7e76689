//! The JSON API for scripts and tools, authenticated with API keys: `/v1/…`.

pub mod auth;
pub mod error;
pub mod whoami;

use axum::{Router, routing::get};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/whoami", get(whoami::whoami))
}
