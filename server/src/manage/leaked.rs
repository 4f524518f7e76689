//! `POST /v1/keys/leaked`: report keys found in public. No credential (holding a key is the
//! proof); the answer is the same for valid, unknown and malformed keys; rate-limited per address.

use axum::{Json, extract::State, http::StatusCode};
use gatehouse_core::{
    keys::retry_after_secs,
    net::ClientAddr,
    watch::{LeakReport, report_leaked},
};
use http::{Extensions, HeaderValue, header};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{body::Body, views::LeakReportView};
use crate::{api::error::ApiError, state::AppState};

/// Reports per address per minute.
const REPORTS_PER_MINUTE: i64 = 10;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportLeak {
    /// The keys found (`pk_live_…`, `pk_test_…`, `sk_live_…`), 1 to 100.
    keys: Vec<String>,
    /// Where they were found, such as the URL of a public commit.
    url: Option<String>,
}

/// Reports keys found in public. Each valid key is revoked at once and its workspace told
/// (`key.leaked`). The answer does not say whether any key was valid.
#[utoipa::path(post, operation_id = "leaked_report", path = "/v1/keys/leaked", tag = "keys", request_body = ReportLeak, security(()),
    responses((status = 202, description = "Accepted", body = LeakReportView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    extensions: Extensions,
    Body(body): Body<ReportLeak>,
) -> Result<(StatusCode, Json<LeakReportView>), ApiError> {
    let address = ClientAddr::of(&extensions).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    if let Err(retry_after) = state.oauth_limits.check(&format!("leak:{address}"), REPORTS_PER_MINUTE).await {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "Too many reports from this address.",
            "Wait for the Retry-After seconds, then send the report again.",
        );
        e.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after_secs(retry_after))));
        return Err(e);
    }
    let leak = LeakReport::new(body.keys, body.url)?;
    let revoked = report_leaked(&state.db, &leak).await?;
    tracing::info!(revoked, reported = leak.keys.len(), "leaked-key report received");
    Ok((StatusCode::ACCEPTED, Json(LeakReportView { status: "received".into(), keys_received: leak.keys.len() })))
}
