//! The runner protocol: the workspace's own runner, holding a key with `runs:execute`, claims
//! queued runs, reports events and completes them. See docs/runner.md.

use std::time::Duration;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use gatehouse_core::{CoreError, agents::Tenant, keys::Principal, runs, scopes::Scope};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{auth::ApiKey, error::ApiError};
use crate::state::AppState;

fn tenant(p: &Principal) -> Tenant<'_> {
    Tenant { workspace_id: &p.workspace_id, environment: p.environment }
}

/// 403 `SCOPE_MISSING` unless the key carries `runs:execute`.
fn require_execute(p: &Principal, action: &str) -> Result<(), ApiError> {
    if p.scopes.contains(Scope::RunsExecute) {
        return Ok(());
    }
    Err(ApiError {
        status: StatusCode::FORBIDDEN,
        code: "SCOPE_MISSING",
        message: format!("{action} requires 'runs:execute' but the bearer carries: {}", p.scopes.names().join(", ")),
        next_action: "Give the runner a key whose scopes include runs:execute.".into(),
        headers: Vec::new(),
    })
}

/// A domain error as an API error: the shared mapping (`api::error`), with a "not found" that
/// says which run is meant and how to get one.
fn from_core(err: CoreError) -> ApiError {
    match err {
        CoreError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "No such run for this key's workspace and environment.",
            "Claim runs with POST /v1/runs/claim.",
        ),
        other => other.into(),
    }
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct ClaimBody {
    /// Seconds to wait for a queued run, 0 to 20 (default 10).
    pub wait_seconds: Option<u64>,
}

/// `POST /v1/runs/claim`: the oldest queued run, now running; 204 when none arrives in time.
#[utoipa::path(post, operation_id = "run_claim", path = "/v1/runs/claim", tag = "runner", request_body(content = Option<ClaimBody>),
    security(("api_key" = ["runs:execute"])),
    responses((status = 200, description = "The run, now running", body = Object), (status = 204, description = "No run arrived in time"),
              (status = "4XX", description = "An error: {code, message, next_action}", body = crate::manage::ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    ApiKey(p): ApiKey,
    body: Option<Json<ClaimBody>>,
) -> Result<Response, ApiError> {
    require_execute(&p, "claiming runs")?;
    let wait = Duration::from_secs(body.and_then(|b| b.0.wait_seconds).unwrap_or(10).min(20));
    match runs::claim(&state.db, tenant(&p), &p.caller_id, wait).await.map_err(from_core)? {
        Some(run) => Ok((StatusCode::OK, Json(json!(run))).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EventBody {
    /// `progress`, `log`, or another short word.
    pub kind: String,
    pub message: String,
}

/// `POST /v1/runs/{id}/events`: a progress or log line for a running run.
#[utoipa::path(post, operation_id = "run_event", path = "/v1/runs/{id}/events", tag = "runner", request_body = EventBody,
    params(("id" = String, Path, description = "The run's id")),
    security(("api_key" = ["runs:execute"])),
    responses((status = 201, description = "The event", body = Object), (status = "4XX", description = "An error: {code, message, next_action}", body = crate::manage::ErrorBody)))]
pub async fn event(
    State(state): State<AppState>,
    ApiKey(p): ApiKey,
    Path(id): Path<String>,
    Json(body): Json<EventBody>,
) -> Result<impl IntoResponse, ApiError> {
    require_execute(&p, "reporting run events")?;
    let event = runs::add_event(&state.db, tenant(&p), &id, &body.kind, &body.message).await.map_err(from_core)?;
    Ok((StatusCode::CREATED, Json(json!(event))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CompleteBody {
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    pub error: Option<String>,
}

/// `POST /v1/runs/{id}/complete`: `{"output": …}` (succeeded) or `{"error": "…"}` (failed).
#[utoipa::path(post, operation_id = "run_complete", path = "/v1/runs/{id}/complete", tag = "runner", request_body = CompleteBody,
    params(("id" = String, Path, description = "The run's id")),
    security(("api_key" = ["runs:execute"])),
    responses((status = 200, description = "The run", body = Object), (status = "4XX", description = "An error: {code, message, next_action}", body = crate::manage::ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    ApiKey(p): ApiKey,
    Path(id): Path<String>,
    Json(body): Json<CompleteBody>,
) -> Result<impl IntoResponse, ApiError> {
    require_execute(&p, "completing runs")?;
    let result = match (&body.output, &body.error) {
        (Some(output), None) => Ok(output),
        (None, Some(error)) => Err(error.as_str()),
        _ => return Err(from_core(CoreError::invalid("body", "Send exactly one of \"output\" or \"error\"."))),
    };
    let run = runs::complete(&state.db, tenant(&p), &id, result).await.map_err(from_core)?;
    Ok(Json(json!(run)))
}
