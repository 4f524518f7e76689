//! `GET /w/{slug}/usage.csv`: the Usage page's numbers as CSV, for anyone who would rather read
//! than look. Authenticated by the dashboard session like the page itself.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use gatehouse_app::api::context::USER_ID_KEY;
use gatehouse_core::{CoreError, clock::now_ms, keys::Environment, usage, workspaces};
use http::{StatusCode, header};
use tower_sessions::Session;

use crate::state::AppState;

fn plain(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.to_owned()).into_response()
}

pub async fn usage_csv(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    session: Session,
) -> Response {
    let Ok(Some(user_id)) = session.get::<String>(USER_ID_KEY).await else {
        return plain(StatusCode::UNAUTHORIZED, "Sign in to download usage.");
    };
    let arg = |name: &str| query.get(name).map(String::as_str).unwrap_or("").to_owned();
    let (window, label) = if !arg("from").is_empty() || !arg("to").is_empty() {
        match usage::Window::days(&arg("from"), &arg("to")) {
            Ok(w) => (w, format!("{}-to-{}", arg("from"), arg("to"))),
            Err(CoreError::Invalid { message, .. }) => return plain(StatusCode::BAD_REQUEST, &message),
            Err(_) => return plain(StatusCode::BAD_REQUEST, "from and to must be dates like 2026-11-01."),
        }
    } else {
        match usage::Range::parse(&arg("range")) {
            Ok(r) => (usage::Window::preset(r, now_ms()), r.as_str().to_owned()),
            Err(_) => return plain(StatusCode::BAD_REQUEST, "range must be 24h, 7d or 30d."),
        }
    };
    let Some(env) = Environment::parse(query.get("environment").map(String::as_str).unwrap_or("live")) else {
        return plain(StatusCode::BAD_REQUEST, "environment must be live or test.");
    };
    let m = match workspaces::membership(&state.db, &user_id, &slug).await {
        Ok(m) => m,
        Err(CoreError::NotFound) => return plain(StatusCode::NOT_FOUND, "No such workspace."),
        Err(e) => {
            tracing::error!(error = %e, "usage CSV: membership lookup failed");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong; try again.");
        }
    };
    let report = match usage::report(&state.db, &m.workspace.id, env, window).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "usage CSV: report failed");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong; try again.");
        }
    };
    let csv = csv_of(&report);
    let filename = format!("attachment; filename=\"usage-{}-{}-{label}.csv\"", m.workspace.slug, env.as_str());
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, filename),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        csv,
    )
        .into_response()
}

/// The report's chart as CSV: one line per step.
pub fn csv_of(report: &usage::Report) -> String {
    let mut csv = String::from("period_start_utc,calls,errors,p50_ms_at_most,p95_ms_at_most\n");
    for p in &report.points {
        let s = &p.summary;
        let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        csv.push_str(&format!("{},{},{},{},{}\n", iso(p.at), s.calls, s.errors, opt(s.p50_ms), opt(s.p95_ms)));
    }
    csv
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn iso(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}
