//! Server functions of the Usage page and the Overview's numbers. Any member may read usage.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::context::{fail, require_user_id, server_context};
use crate::error::AppError;

/// Calls, errors and latency of one stretch of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Numbers {
    pub calls: i64,
    pub errors: i64,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
}

impl Numbers {
    /// Errors as a percentage of calls.
    pub fn error_rate(&self) -> f64 {
        if self.calls == 0 { 0.0 } else { self.errors as f64 * 100.0 / self.calls as f64 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointView {
    pub at: i64,
    pub numbers: Numbers,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopView {
    pub name: String,
    /// key, connector, tool or server.
    pub kind: String,
    pub calls: i64,
    pub errors: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    /// 24h, 7d, 30d, or empty for a custom range of days.
    pub range: String,
    /// The custom range's days (`YYYY-MM-DD`), when one was chosen.
    pub from_day: String,
    pub to_day: String,
    pub range_label: String,
    pub environment: String,
    pub step: i64,
    pub points: Vec<PointView>,
    pub total: Numbers,
    pub callers: Vec<TopView>,
    pub tools: Vec<TopView>,
    /// Calls by upstream server; empty while only the built-in catalog is called.
    pub servers: Vec<TopView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewStats {
    /// (label, numbers) for 24 hours, 7 and 30 days of live traffic.
    pub periods: Vec<(String, Numbers)>,
    pub callers: Vec<TopView>,
    pub tools: Vec<TopView>,
    /// Calls by upstream server; empty while only the built-in catalog is called.
    pub servers: Vec<TopView>,
    /// Keys that stop working within 7 days: (name, when).
    pub expiring: Vec<(String, i64)>,
    /// The week's alerts on keys (admins and owners only), newest first.
    pub notices: Vec<NoticeView>,
}

/// An alert on a key or connector: a new network, an error spike, a leak report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeView {
    /// key.new_network, key.error_spike or key.leaked.
    pub action: String,
    /// What happened, in a sentence.
    pub text: String,
    /// What to do about it.
    pub advice: String,
    pub at: i64,
    /// Where to look: the keys, connectors or Settings page of the workspace.
    pub href: String,
}

/// The sentence and advice for an alert of the audit log.
#[cfg(feature = "ssr")]
fn notice_of(e: gatehouse_core::audit::AuditEvent, slug: &str) -> NoticeView {
    let text_of = |field: &str| e.details.get(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let number = |field: &str| e.details.get(field).and_then(|v| v.as_i64()).unwrap_or_default();
    let (what, page) = match e.target_type.as_str() {
        "connector" => ("Connector", "connectors"),
        "management_key" => ("Management key", "settings"),
        _ => ("Key", "keys"),
    };
    let name = text_of("name");
    let (text, advice) = match e.action.as_str() {
        "key.new_network" => (
            format!(
                "{what} \u{201c}{name}\u{201d} was used from a new network, {} (address {}).",
                text_of("network"),
                text_of("address")
            ),
            "If you do not know this network, revoke or roll it; to keep it to known networks, set its allowed networks.",
        ),
        "key.error_spike" => (
            format!(
                "{what} \u{201c}{name}\u{201d}: {}% of its {} calls failed in {} minutes (the alert is above {}%).",
                number("error_percent"),
                number("calls"),
                number("window_minutes"),
                number("threshold_percent")
            ),
            "Look at its recent calls on the Usage page: a wrong scope, an expired grant or a broken client.",
        ),
        _ => (
            match text_of("url").as_str() {
                "" => format!("{what} \u{201c}{name}\u{201d} was reported as found in public and is revoked."),
                url => format!("{what} \u{201c}{name}\u{201d} was reported as found in public ({url}) and is revoked."),
            },
            "Give whoever used it a new key, and remove the old one from where it was found.",
        ),
    };
    NoticeView {
        action: e.action,
        text,
        advice: advice.to_owned(),
        at: e.created_at,
        href: format!("/w/{slug}/{page}"),
    }
}

#[cfg(feature = "ssr")]
fn numbers(s: gatehouse_core::usage::Summary) -> Numbers {
    Numbers { calls: s.calls, errors: s.errors, p50_ms: s.p50_ms, p95_ms: s.p95_ms }
}

#[cfg(feature = "ssr")]
fn tops(items: Vec<gatehouse_core::usage::TopItem>) -> Vec<TopView> {
    items.into_iter().map(|t| TopView { name: t.name, kind: t.kind, calls: t.calls, errors: t.errors }).collect()
}

/// The by-server list, or nothing while every call went to the built-in catalog.
#[cfg(feature = "ssr")]
fn by_server(items: Vec<gatehouse_core::usage::TopItem>) -> Vec<TopView> {
    if items.iter().all(|t| t.name == gatehouse_core::usage::BUILT_IN_SERVER) { Vec::new() } else { tops(items) }
}

/// The Usage page: a range (24h, 7d, 30d, or whole days `from`–`to`) of live or test traffic.
#[server(endpoint = "usage/report")]
pub async fn load_usage(
    slug: String,
    range: String,
    environment: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<UsageView, AppError> {
    use gatehouse_core::{CoreError, clock::now_ms, keys::Environment, usage, workspaces};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let custom = !from.trim().is_empty() || !to.trim().is_empty();
    let (window, range_code, label) = if custom {
        let w = usage::Window::days(&from, &to).map_err(fail)?;
        (w, String::new(), format!("{} to {}", from.trim(), to.trim()))
    } else {
        let r = usage::Range::parse(&range).map_err(fail)?;
        (usage::Window::preset(r, now_ms()), r.as_str().to_owned(), r.label().to_owned())
    };
    let env = match environment.as_str() {
        "" => Environment::Live,
        other => {
            Environment::parse(other).ok_or_else(|| fail(CoreError::invalid("environment", "Choose live or test.")))?
        }
    };
    let m = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    let report = usage::report(&ctx.db, &m.workspace.id, env, window).await.map_err(fail)?;
    Ok(UsageView {
        range: range_code,
        from_day: if custom { from.trim().to_owned() } else { String::new() },
        to_day: if custom { to.trim().to_owned() } else { String::new() },
        range_label: label,
        environment: env.as_str().to_owned(),
        step: report.step,
        points: report.points.into_iter().map(|p| PointView { at: p.at, numbers: numbers(p.summary) }).collect(),
        total: numbers(report.total),
        callers: tops(report.breakdown.callers),
        tools: tops(report.breakdown.tools),
        servers: by_server(report.breakdown.servers),
    })
}

/// The Overview's numbers.
#[server(endpoint = "usage/overview")]
pub async fn load_overview(slug: String) -> Result<OverviewStats, AppError> {
    use gatehouse_core::{
        clock::now_ms,
        keys::{self, KeyStatus},
        usage, workspaces,
    };
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let m = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    let now = now_ms();
    let (periods, week) = usage::overview(&ctx.db, &m.workspace.id, now).await.map_err(fail)?;
    // Only the expiring keys (those that stop within the week) leave the database, however many
    // keys the workspace has.
    let mut expiring: Vec<(String, i64)> =
        keys::page_in(&ctx.db, &m.workspace.id, Some(KeyStatus::Expiring), 1, usize::MAX, now)
            .await
            .map_err(fail)?
            .keys
            .into_iter()
            .filter_map(|k| k.stops_at().map(|at| (k.name, at)))
            .collect();
    expiring.sort_by_key(|(_, at)| *at);
    let notices = if m.role.can_manage_access() {
        gatehouse_core::watch::notices(&ctx.db, &m.workspace.id, now - 7 * gatehouse_core::clock::DAY, 10)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|e| notice_of(e, &slug))
            .collect()
    } else {
        Vec::new()
    };
    Ok(OverviewStats {
        notices,
        periods: periods.into_iter().map(|(r, s)| (r.label().to_owned(), numbers(s))).collect(),
        callers: tops(week.callers),
        tools: tops(week.tools),
        servers: by_server(week.servers),
        expiring,
    })
}
