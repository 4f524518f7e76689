//! The JSON API for scripts and tools, authenticated with API keys: `/v1/…`.

pub mod auth;
pub mod error;
pub mod runs;
pub mod whoami;

use axum::{
    Router,
    routing::{get, post},
};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/whoami", get(whoami::whoami))
        .route("/v1/runs/claim", post(runs::claim))
        .route("/v1/runs/{id}/events", post(runs::event))
        .route("/v1/runs/{id}/complete", post(runs::complete))
}
