//! What the management API answers: its own types, made from the domain's, so that the JSON
//! contract (and the OpenAPI document made from these types) changes only on purpose. Times are
//! RFC 3339 strings in UTC.

use gatehouse_core::{
    audit::AuditEvent,
    clock::{Millis, now_ms},
    keys::ApiKey,
    oauth::Connector,
    servers::UpstreamServer,
    usage::{Report, Summary, TopItem},
    watch::CredentialAddress,
    webhooks::{Delivery, Endpoint},
    workspaces::Member,
};
use serde::Serialize;
use utoipa::ToSchema;

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso(ms: Millis) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

fn iso_opt(ms: Option<Millis>) -> Option<String> {
    ms.map(iso)
}

/// A page of a list: the items, and the cursor of the next page (`null` on the last).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` when this is the last.
    pub next_cursor: Option<String>,
}

/// A list that fits in one answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
}

/// An API key, never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    /// `live` or `test`.
    pub environment: String,
    /// `active`, `expiring` (within 7 days), `expired` or `revoked`.
    pub status: String,
    pub scopes: Vec<String>,
    /// The first and last characters, for recognising the key: `pk_live_ab12…9f3c`.
    pub hint: String,
    /// Agent and app ids it is limited to; `null` for all of the workspace's.
    pub resources: Option<Vec<String>>,
    /// Upstream servers it may reach: `[]` none, `["*"]` all, or slugs (`crm`) and tools (`crm/search`).
    pub servers: Vec<String>,
    /// CIDR ranges it may be used from; `null` for anywhere.
    pub allowed_ips: Option<Vec<String>>,
    /// Requests per minute; `null` for the workspace's default.
    pub rate_limit_per_minute: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// After a roll: the id of the key that replaced it.
    pub rolled_to: Option<String>,
    pub last_used_at: Option<String>,
    /// When it was reported as found in public (and revoked), and where.
    pub leaked_at: Option<String>,
    pub leaked_url: Option<String>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        KeyView {
            status: k.status(now_ms()).as_str().to_owned(),
            environment: k.environment.as_str().to_owned(),
            scopes: k.scopes.names(),
            servers: k.servers.to_stored().map(|s| s.split(' ').map(str::to_owned).collect()).unwrap_or_default(),
            allowed_ips: k.allowed_ips.as_ref().map(|n| n.names()),
            created_at: iso(k.created_at),
            expires_at: iso_opt(k.expires_at),
            revoked_at: iso_opt(k.revoked_at),
            last_used_at: iso_opt(k.last_used_at),
            leaked_at: iso_opt(k.leaked_at),
            id: k.id,
            name: k.name,
            hint: k.hint,
            resources: k.resources,
            rate_limit_per_minute: k.rate_limit_per_minute,
            created_by: k.created_by,
            rolled_to: k.rolled_to,
            leaked_url: k.leaked_url,
        }
    }
}

/// A key just made (created or rolled): its fields and, in this answer only, the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKeyView {
    #[serde(flatten)]
    pub key: KeyView,
    /// The key itself. Shown once: store it now; Gatehouse keeps only a digest.
    #[serde(rename = "key")]
    pub secret: String,
}

/// One address a key or connector was used from.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressView {
    pub address: String,
    /// The network it belongs to for `key.new_network` alerts (a /24 or a /48).
    pub network: String,
    pub first_seen: String,
    pub last_seen: String,
    pub calls: i64,
}

impl From<CredentialAddress> for AddressView {
    fn from(a: CredentialAddress) -> Self {
        AddressView {
            first_seen: iso(a.first_seen),
            last_seen: iso(a.last_seen),
            address: a.address,
            network: a.network,
            calls: a.calls,
        }
    }
}

/// A connector: one chat client's or CLI's connection to the workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorView {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    /// Where the client sends people back to; `null` for a device (CLI).
    pub redirect_host: Option<String>,
    /// `authorization_code` or `device_code`.
    pub kind: String,
    pub scopes: Vec<String>,
    pub approved_by: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl From<Connector> for ConnectorView {
    fn from(c: Connector) -> Self {
        ConnectorView {
            scopes: c.scopes.names(),
            created_at: iso(c.created_at),
            expires_at: iso_opt(c.expires_at),
            last_used_at: iso_opt(c.last_used_at),
            id: c.id,
            client_id: c.client_id,
            client_name: c.client_name,
            redirect_host: c.redirect_host,
            kind: c.kind,
            approved_by: c.approved_by,
        }
    }
}

/// An upstream MCP server, never its credential values.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerView {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub url: String,
    pub environment: String,
    pub enabled: bool,
    pub timeout_ms: i64,
    /// The names of the credential headers sent upstream (their values are never shown).
    pub credential_headers: Vec<String>,
    pub send_identity: bool,
    pub disabled_tools: Vec<String>,
    /// `unknown`, `up` or `down`.
    pub health: String,
    pub checked_at: Option<String>,
    pub last_error: Option<String>,
    pub tool_count: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<UpstreamServer> for ServerView {
    fn from(s: UpstreamServer) -> Self {
        ServerView {
            environment: s.environment.as_str().to_owned(),
            health: s.health.status.clone(),
            checked_at: iso_opt(s.health.checked_at),
            last_error: s.health.error.clone(),
            tool_count: s.health.tool_count,
            created_at: iso(s.created_at),
            updated_at: iso(s.updated_at),
            id: s.id,
            slug: s.slug,
            name: s.name,
            url: s.url,
            enabled: s.enabled,
            timeout_ms: s.timeout_ms,
            credential_headers: s.credential_names,
            send_identity: s.send_identity,
            disabled_tools: s.disabled_tools,
        }
    }
}

/// Calls, errors and latency over a span.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryView {
    pub calls: i64,
    pub errors: i64,
    /// At most this many milliseconds for half the calls (bucketed).
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
}

impl From<&Summary> for SummaryView {
    fn from(s: &Summary) -> Self {
        SummaryView { calls: s.calls, errors: s.errors, p50_ms: s.p50_ms, p95_ms: s.p95_ms }
    }
}

/// One step of the chart.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointView {
    pub at: String,
    #[serde(flatten)]
    pub summary: SummaryView,
}

/// One of the busiest callers, tools or servers.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopItemView {
    pub id: String,
    pub name: String,
    /// `key`, `connector`, `tool` or `server`.
    pub kind: String,
    pub calls: i64,
    pub errors: i64,
}

impl From<&TopItem> for TopItemView {
    fn from(t: &TopItem) -> Self {
        TopItemView { id: t.id.clone(), name: t.name.clone(), kind: t.kind.clone(), calls: t.calls, errors: t.errors }
    }
}

/// The usage report the Usage page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageView {
    pub environment: String,
    pub from: String,
    pub to: String,
    /// The chart's step in seconds.
    pub step_seconds: i64,
    pub total: SummaryView,
    pub points: Vec<PointView>,
    pub callers: Vec<TopItemView>,
    pub tools: Vec<TopItemView>,
    pub servers: Vec<TopItemView>,
}

impl UsageView {
    pub fn of(report: &Report, environment: &str) -> Self {
        UsageView {
            environment: environment.to_owned(),
            from: iso(report.from),
            to: iso(report.to),
            step_seconds: report.step / 1000,
            total: (&report.total).into(),
            points: report.points.iter().map(|p| PointView { at: iso(p.at), summary: (&p.summary).into() }).collect(),
            callers: report.breakdown.callers.iter().map(Into::into).collect(),
            tools: report.breakdown.tools.iter().map(Into::into).collect(),
            servers: report.breakdown.servers.iter().map(Into::into).collect(),
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: String,
    /// `key.created`, `connector.removed`, `member.added`, …
    pub action: String,
    /// Who did it: a person's email, or `management key 'name'`.
    pub actor: Option<String>,
    pub target_type: String,
    pub target_id: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: String,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        AuditEventView {
            created_at: iso(e.created_at),
            id: e.id,
            action: e.action,
            actor: e.actor_email,
            target_type: e.target_type,
            target_id: e.target_id,
            details: e.details,
            ip: e.ip,
            user_agent: e.user_agent,
        }
    }
}

/// A webhook endpoint, with its signing secret (management keys with `webhooks:read` see it,
/// as admins do in the dashboard).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    /// `whsec_…`: verify the `Gatehouse-Signature` header with it.
    pub secret: String,
    /// Until then, the previous secret signs too (after a roll).
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
}

impl From<Endpoint> for WebhookView {
    fn from(e: Endpoint) -> Self {
        WebhookView {
            previous_secret_expires_at: iso_opt(e.previous_secret_expires_at),
            created_at: iso(e.created_at),
            id: e.id,
            url: e.url,
            description: e.description,
            events: e.events,
            secret: e.secret,
        }
    }
}

/// One delivery of an event to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub next_attempt_at: String,
    pub delivered_at: Option<String>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            created_at: iso(d.created_at),
            next_attempt_at: iso(d.next_attempt_at),
            delivered_at: iso_opt(d.delivered_at),
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
        }
    }
}

/// A member of the workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    /// `owner`, `admin` or `member`.
    pub role: String,
    pub joined_at: String,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView { role: m.role.as_str().to_owned(), joined_at: iso(m.joined_at), user_id: m.user_id, email: m.email }
    }
}

/// A queued delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedView {
    /// The new delivery's id.
    pub delivery_id: String,
}

/// The answer to a leaked-key report: the same whatever the keys were.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeakReportView {
    /// Always `received`.
    pub status: String,
    /// How many keys the report listed.
    pub keys_received: usize,
}
