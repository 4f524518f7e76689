//! `/healthz` (the process is up) and `/readyz` (the database answers; it also says whether the
//! change feed is connected, which decides whether verified credentials are cached).

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use crate::state::AppState;

/// Always 200 while the process serves requests.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// 200 when the database answers a query, 503 otherwise. `change_feed` is `connected` or `down`:
/// down, every request reads its credential from the database (slower, never wrong), so it does
/// not make the process unready.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let feed = if state.db.changes().feed_is_up() { "connected" } else { "down" };
    if state.db.is_reachable().await {
        (StatusCode::OK, Json(json!({ "status": "ready", "database": "ok", "change_feed": feed })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": "unreachable", "change_feed": feed })),
        )
    }
}
