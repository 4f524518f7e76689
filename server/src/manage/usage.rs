//! `/v1/usage`: the report the Usage page shows, as JSON or CSV.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use gatehouse_core::{CoreError, clock::now_ms, keys::Environment, management::ManagementScope, usage};
use http::header;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{auth::Manager, body::Params, keys::EnvironmentName, views::UsageView};
use crate::{api::error::ApiError, state::AppState};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// The first day, `YYYY-MM-DD` (UTC); with `to`. Without both: the last `range`.
    from: Option<String>,
    /// The last day, `YYYY-MM-DD` (UTC), at most 90 days after `from`.
    to: Option<String>,
    /// `24h`, `7d` (default) or `30d`, when `from` and `to` are not given.
    range: Option<String>,
    /// `live` (default) or `test`.
    environment: Option<EnvironmentName>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// The usage report: calls, errors and latency over time, and the busiest keys, tools and servers.
#[utoipa::path(get, operation_id = "usage_report", path = "/v1/usage", tag = "usage", params(UsageQuery),
    security(("management_key" = ["usage:read"])),
    responses((status = 200, body = UsageView, description = "JSON, or `text/csv` with `format=csv`"),
              (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    m: Manager,
    Params(q): Params<UsageQuery>,
) -> Result<Response, ApiError> {
    m.require(ManagementScope::UsageRead)?;
    let window = match (q.from.as_deref(), q.to.as_deref()) {
        (None, None) => usage::Window::preset(usage::Range::parse(q.range.as_deref().unwrap_or("7d"))?, now_ms()),
        (Some(from), Some(to)) => usage::Window::days(from, to)?,
        _ => return Err(CoreError::invalid("from", "Give both from and to (YYYY-MM-DD), or neither.").into()),
    };
    let environment: Environment = q.environment.map_or(Environment::Live, Into::into);
    let report = usage::report(&state.db, m.workspace_id(), environment, window).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(UsageView::of(&report, environment.as_str())).into_response()),
        "csv" => Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
            crate::usage_csv::csv_of(&report),
        )
            .into_response()),
        _ => Err(CoreError::invalid("format", "Choose json or csv.").into()),
    }
}
