//! Webhooks: endpoints a workspace registers, each with its own signing secret (`whsec_…`), the
//! events they receive, and signed JSON deliveries stored in the database and sent by a
//! background worker with retries (`deliveries`). The events come from the audit log, so an
//! action and its event are recorded together.
//!
//! Admins and owners manage endpoints and see their secrets and delivery logs.

mod address;
mod deliveries;
mod notices;
pub mod signing;

pub use address::{WebhookUrl, rules as address_rules};
pub use deliveries::{
    Delivery, Due, claim_due, deliveries_of, fan_out, record_attempt, redeliver, redeliver_in, send_test,
};
pub use notices::{notify_expiring_keys, notify_usage_thresholds, set_usage_threshold, usage_threshold};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{
    Db,
    audit::{self, Actor},
    clock::{DAY, Millis, now_ms},
    error::{CoreError, CoreResult},
    ids::{new_id, random_base62},
    workspaces,
};

/// The events an endpoint can subscribe to, with what they mean.
pub const EVENTS: [(&str, &str); 12] = [
    ("key.created", "An API key was created"),
    ("key.revoked", "An API key was revoked"),
    ("key.expiring", "An API key stops working in 7 days (and again 1 day before)"),
    ("key.new_network", "A key or connector was used from a network it had not used before"),
    ("key.error_spike", "More of a key's or connector's calls failed than the workspace's alert allows"),
    ("key.leaked", "A key was reported as found in public, and revoked"),
    ("connector.approved", "An app or device was connected"),
    ("connector.removed", "A connector was removed"),
    ("connector.rebound", "A connector was moved to another workspace"),
    ("usage.threshold", "Live calls today reached the workspace's daily alert"),
    ("server.down", "An upstream MCP server stopped answering its health check"),
    ("server.up", "An upstream MCP server answers its health check again"),
];

/// Whether an audit action is also a webhook event.
pub fn is_event(action: &str) -> bool {
    EVENTS.iter().any(|(name, _)| *name == action)
}

/// How long the previous secret keeps signing after a roll.
pub const SECRET_OVERLAP: Millis = DAY;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub secret: String,
    /// While set and in the future, the previous secret signs too.
    pub previous_secret_expires_at: Option<Millis>,
    pub created_at: Millis,
}

fn new_secret() -> String {
    format!("whsec_{}", random_base62(32))
}

fn parse_events(events: &[String]) -> CoreResult<Vec<String>> {
    let mut chosen: Vec<String> = Vec::new();
    for e in events.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        if !is_event(e) {
            return Err(CoreError::invalid(
                "events",
                format!("'{}' is not an event.", e.chars().take(40).collect::<String>()),
            ));
        }
        if !chosen.iter().any(|c| c == e) {
            chosen.push(e.to_owned());
        }
    }
    if chosen.is_empty() {
        return Err(CoreError::invalid("events", "Choose at least one event."));
    }
    Ok(chosen)
}

fn endpoint_from_row(row: &sqlx::any::AnyRow) -> CoreResult<Endpoint> {
    Ok(Endpoint {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        events: row.try_get::<String, _>("events")?.split(' ').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
        secret: row.try_get("secret")?,
        previous_secret_expires_at: row.try_get("previous_secret_expires_at")?,
        created_at: row.try_get("created_at")?,
    })
}

const COLUMNS: &str = "id, url, description, events, secret, previous_secret_expires_at, created_at";

async fn admin_of(db: &Db, user_id: &str, slug: &str) -> CoreResult<workspaces::Membership> {
    let m = workspaces::membership(db, user_id, slug).await?;
    m.role.require_admin("manage webhooks")?;
    Ok(m)
}

/// Adds an endpoint (admins). The URL must be http(s) and, unless `allow_private`, resolve to a
/// public address.
pub async fn create(
    db: &Db,
    actor: &Actor,
    slug: &str,
    url: &str,
    description: &str,
    events: &[String],
    allow_private: bool,
) -> CoreResult<Endpoint> {
    let m = admin_of(db, &actor.user_id, slug).await?;
    create_in(db, &m.workspace.id, actor, url, description, events, allow_private).await
}

/// Adds an endpoint without a role check (the management API).
pub async fn create_in(
    db: &Db,
    workspace_id: &str,
    actor: &Actor,
    url: &str,
    description: &str,
    events: &[String],
    allow_private: bool,
) -> CoreResult<Endpoint> {
    let url = WebhookUrl::parse(url)?;
    let events = parse_events(events)?;
    let description = description.trim();
    if description.chars().count() > 200 {
        return Err(CoreError::invalid("description", "Keep the description under 200 characters."));
    }
    url.check_reachable(allow_private).await?;
    let endpoint = Endpoint {
        id: new_id("whe"),
        url: url.as_str().to_owned(),
        description: description.to_owned(),
        events,
        secret: new_secret(),
        previous_secret_expires_at: None,
        created_at: now_ms(),
    };
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, workspace_id, url, description, events, secret, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&endpoint.id)
    .bind(workspace_id)
    .bind(&endpoint.url)
    .bind(&endpoint.description)
    .bind(endpoint.events.join(" "))
    .bind(&endpoint.secret)
    .bind(actor.person())
    .bind(endpoint.created_at)
    .execute(db.pool())
    .await?;
    audit::record(
        db.pool(),
        workspace_id,
        Some(actor),
        "webhook.created",
        ("webhook", &endpoint.id),
        serde_json::json!({ "url": endpoint.url, "events": endpoint.events }),
    )
    .await?;
    Ok(endpoint)
}

/// The workspace's endpoints (admins: they include the secrets), each with its newest
/// `deliveries` deliveries.
pub async fn list(db: &Db, user_id: &str, slug: &str, deliveries: i64) -> CoreResult<Vec<(Endpoint, Vec<Delivery>)>> {
    let m = admin_of(db, user_id, slug).await?;
    let mut listed = Vec::new();
    for endpoint in list_in(db, &m.workspace.id).await? {
        let log = deliveries::deliveries_of(db, &endpoint.id, deliveries).await?;
        listed.push((endpoint, log));
    }
    Ok(listed)
}

/// The workspace's endpoints, without their deliveries and without a role check (the management API).
pub async fn list_in(db: &Db, workspace_id: &str) -> CoreResult<Vec<Endpoint>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 ORDER BY created_at, id"
    ))
    .bind(workspace_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(endpoint_from_row).collect()
}

/// One endpoint of the workspace (no role check).
pub async fn get_in(db: &Db, workspace_id: &str, id: &str) -> CoreResult<Endpoint> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2"))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(CoreError::NotFound)?;
    endpoint_from_row(&row)
}

/// Deletes an endpoint and its pending deliveries.
pub async fn delete(db: &Db, actor: &Actor, slug: &str, id: &str) -> CoreResult<()> {
    let m = admin_of(db, &actor.user_id, slug).await?;
    delete_in(db, &m.workspace.id, actor, id).await
}

/// Deletes an endpoint without a role check (the management API).
pub async fn delete_in(db: &Db, workspace_id: &str, actor: &Actor, id: &str) -> CoreResult<()> {
    let endpoint = get_in(db, workspace_id, id).await?;
    sqlx::query("DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(id)
        .execute(db.pool())
        .await?;
    audit::record(
        db.pool(),
        workspace_id,
        Some(actor),
        "webhook.deleted",
        ("webhook", id),
        serde_json::json!({ "url": endpoint.url }),
    )
    .await
}

/// A new secret; the old one keeps signing (as a second `v1`) for [`SECRET_OVERLAP`].
pub async fn roll_secret(db: &Db, actor: &Actor, slug: &str, id: &str) -> CoreResult<Endpoint> {
    let m = admin_of(db, &actor.user_id, slug).await?;
    roll_secret_in(db, &m.workspace.id, actor, id).await
}

/// Rolls an endpoint's secret without a role check (the management API).
pub async fn roll_secret_in(db: &Db, workspace_id: &str, actor: &Actor, id: &str) -> CoreResult<Endpoint> {
    get_in(db, workspace_id, id).await?;
    let now = now_ms();
    sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $1, secret = $2
         WHERE workspace_id = $3 AND id = $4",
    )
    .bind(now + SECRET_OVERLAP)
    .bind(new_secret())
    .bind(workspace_id)
    .bind(id)
    .execute(db.pool())
    .await?;
    audit::record(
        db.pool(),
        workspace_id,
        Some(actor),
        "webhook.secret_rolled",
        ("webhook", id),
        serde_json::json!({}),
    )
    .await?;
    get_in(db, workspace_id, id).await
}
