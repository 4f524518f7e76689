//! The part of the `/v1` API authenticated with API keys (the runner protocol and whoami), and the
//! one mapping of errors to HTTP for all of `/v1` (`error`). The management API is `crate::manage`.

pub mod auth;
pub mod error;
pub mod runs;
pub mod whoami;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Its routes, described (merged into the `/v1` document by `crate::manage`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(whoami::whoami))
        .routes(routes!(runs::claim))
        .routes(routes!(runs::event))
        .routes(routes!(runs::complete))
}
