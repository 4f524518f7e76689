//! Server function of the Audit log page: a workspace's entries, newest first, narrowed by kind
//! and person (admins and owners).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::context::{fail, require_user_id, server_context};
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: String,
    pub at: i64,
    /// The person, or `None` for Gatehouse itself (an automatic revocation, say).
    pub actor: Option<String>,
    pub action: String,
    /// What happened, in words.
    pub summary: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditView>,
    /// (value, label) of the kinds to filter by.
    pub kinds: Vec<(String, String)>,
    pub actors: Vec<String>,
}

/// An entry's action and details in words.
pub fn describe(action: &str, details: &serde_json::Value) -> String {
    let text = |key: &str| details.get(key).and_then(|v| v.as_str()).unwrap_or("?").to_owned();
    match action {
        "key.created" => format!("Created API key \u{201c}{}\u{201d} ({})", text("name"), text("environment")),
        "key.edited" => format!("Edited API key \u{201c}{}\u{201d}", text("name")),
        "key.rolled" => format!("Rolled API key \u{201c}{}\u{201d} (grace: {})", text("name"), text("grace")),
        "key.expiring" => {
            let days = details.get("days").and_then(|v| v.as_i64()).unwrap_or(7);
            format!(
                "API key \u{201c}{}\u{201d} stops working in {days} day{}",
                text("name"),
                if days == 1 { "" } else { "s" }
            )
        }
        "usage.threshold" => format!(
            "Live calls today reached the alert of {}",
            details.get("threshold").and_then(|v| v.as_i64()).unwrap_or_default()
        ),
        "webhook.threshold_set" => match details.get("threshold").and_then(|v| v.as_i64()) {
            Some(t) => format!("Set the daily usage alert to {t} calls"),
            None => "Turned the daily usage alert off".to_owned(),
        },
        "usage.error_spike_set" => match details.get("percent").and_then(|v| v.as_i64()) {
            Some(p) => format!(
                "Set the error-spike alert: above {p}% of a key's calls in {} minutes, from {} calls",
                details.get("window_minutes").and_then(|v| v.as_i64()).unwrap_or_default(),
                details.get("min_calls").and_then(|v| v.as_i64()).unwrap_or_default()
            ),
            None => "Turned the error-spike alert off".to_owned(),
        },
        "key.revoked" => format!("Revoked API key \u{201c}{}\u{201d}", text("name")),
        "connector.approved" => format!("Connected {} (returns to {})", text("client_name"), text("redirect_host")),
        "connector.removed" => {
            let who = details.get("client_name").and_then(|v| v.as_str()).unwrap_or("a connector");
            format!("Removed {who}: {}", text("reason"))
        }
        "connector.rebound" => {
            let name =
                |side: &str| details.get(side).and_then(|v| v.get("name")).and_then(|v| v.as_str()).unwrap_or("?");
            format!("Moved {} from {} to {}", text("client_name"), name("from"), name("to"))
        }
        "device.approved" => format!("Approved device {}", text("client_name")),
        "member.added" => format!("Added {} as {}", text("email"), text("role")),
        "member.removed" => format!("Removed {}", text("email")),
        "member.left" => "Left the workspace".to_owned(),
        "member.role_changed" => format!("Made {} {}", text("email"), text("role")),
        "webhook.created" => format!("Added webhook endpoint {}", text("url")),
        "webhook.deleted" => format!("Deleted webhook endpoint {}", text("url")),
        "webhook.secret_rolled" => "Rolled a webhook signing secret".to_owned(),
        "signin.failed" => "Failed sign-in (wrong password)".to_owned(),
        "management_key.created" => format!("Created management key \u{201c}{}\u{201d}", text("name")),
        "management_key.revoked" => format!("Revoked management key \u{201c}{}\u{201d}", text("name")),
        "key.new_network" => {
            format!("\u{201c}{}\u{201d} was used from a new network, {}", text("name"), text("network"))
        }
        "key.error_spike" => format!(
            "{} of \u{201c}{}\u{201d}\u{2019}s {} calls failed in {} minutes",
            details.get("errors").and_then(|v| v.as_i64()).unwrap_or_default(),
            text("name"),
            details.get("calls").and_then(|v| v.as_i64()).unwrap_or_default(),
            details.get("window_minutes").and_then(|v| v.as_i64()).unwrap_or_default()
        ),
        "key.leaked" => format!("\u{201c}{}\u{201d} was reported as found in public and revoked", text("name")),
        other => other.to_owned(),
    }
}

#[server(endpoint = "audit/list")]
pub async fn load_audit(slug: String, kind: String, actor: String) -> Result<AuditPage, AppError> {
    use gatehouse_core::audit;
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let filter = audit::AuditFilter { kind, actor };
    let log = audit::list(&ctx.db, &user_id, &slug, &filter, 200).await.map_err(fail)?;
    Ok(AuditPage {
        events: log
            .events
            .into_iter()
            .map(|e| AuditView {
                summary: describe(&e.action, &e.details),
                id: e.id,
                at: e.created_at,
                actor: e.actor_email,
                action: e.action,
                ip: e.ip,
                user_agent: e.user_agent,
            })
            .collect(),
        kinds: audit::KINDS.iter().map(|(k, l)| ((*k).to_owned(), (*l).to_owned())).collect(),
        actors: log.actors,
    })
}
