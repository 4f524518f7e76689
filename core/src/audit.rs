//! The audit log: an append-only record, per workspace, of who did what to which thing, when,
//! from which address and user agent. Details are plain facts (names, scopes, hosts), never a
//! secret.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor, Row};

use crate::{Db, clock::now_ms, error::CoreResult, ids::new_id, paging::Seek, workspaces};

/// Who acts, as the request showed them: a person (`user_id`), or a management key (`user_id` is
/// the key's id and `label` names it, "management key 'ci'").
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// How the log names an actor that is not a person.
    pub label: Option<String>,
}

impl Actor {
    /// The person acting, if a person is (not a management key): who "created by" names.
    pub fn person(&self) -> Option<&str> {
        self.label.is_none().then_some(self.user_id.as_str())
    }
}

/// One entry of the log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: String,
    pub actor_email: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub details: serde_json::Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
}

/// Appends an entry, inside the caller's transaction (or on the pool).
pub async fn record<'c, E: Executor<'c, Database = Any>>(
    executor: E,
    workspace_id: &str,
    actor: Option<&Actor>,
    action: &str,
    (target_type, target_id): (&str, &str),
    details: serde_json::Value,
) -> CoreResult<()> {
    let user_agent = actor.and_then(|a| a.user_agent.as_deref()).map(|ua| ua.chars().take(300).collect::<String>());
    sqlx::query(
        "INSERT INTO audit_events (id, workspace_id, actor_id, actor_email, action, target_type, target_id, details,
             ip, user_agent, created_at, webhooks_fanned_out)
         VALUES ($1, $2, $3, COALESCE($12, (SELECT email FROM users WHERE id = $3)), $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new_id("evt"))
    .bind(workspace_id)
    .bind(actor.map(|a| a.user_id.as_str()))
    .bind(action)
    .bind(target_type)
    .bind(target_id)
    .bind(details.to_string())
    .bind(actor.and_then(|a| a.ip.as_deref()))
    .bind(user_agent)
    .bind(now_ms())
    // Only webhook events wait for the webhook worker; every other entry is born done.
    .bind(i64::from(!crate::webhooks::is_event(action)))
    .bind(actor.and_then(|a| a.label.as_deref()))
    .execute(executor)
    .await?;
    Ok(())
}

/// Appends an entry to the workspace with this slug, after an action the caller has done there.
pub async fn record_for_slug(
    db: &Db,
    slug: &str,
    actor: &Actor,
    action: &str,
    target: (&str, &str),
    details: serde_json::Value,
) -> CoreResult<()> {
    let workspace = workspaces::find_by_slug(db, slug).await?;
    record(db.pool(), &workspace.id, Some(actor), action, target, details).await
}

/// A failed sign-in to a known account, recorded in each of its workspaces.
pub(crate) async fn record_failed_sign_in(db: &Db, user_id: &str, ip: Option<&str>) -> CoreResult<()> {
    let workspaces: Vec<String> = sqlx::query("SELECT workspace_id FROM memberships WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| r.try_get("workspace_id"))
        .collect::<Result<_, _>>()?;
    let actor = Actor { user_id: user_id.to_owned(), ip: ip.map(str::to_owned), ..Actor::default() };
    for workspace_id in workspaces {
        record(db.pool(), &workspace_id, Some(&actor), "signin.failed", ("user", user_id), serde_json::json!({}))
            .await?;
    }
    Ok(())
}

/// The kinds of entry the log can be filtered by: the part of an action before its dot.
pub const KINDS: [(&str, &str); 9] = [
    ("key", "API keys"),
    ("management_key", "Management keys"),
    ("server", "Upstream servers"),
    ("connector", "Connectors"),
    ("device", "Devices"),
    ("member", "Members"),
    ("webhook", "Webhooks"),
    ("usage", "Usage alerts"),
    ("signin", "Sign-ins"),
];

/// What the log is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// One of [`KINDS`], or empty for all.
    pub kind: String,
    /// An actor's email, or empty for everyone.
    pub actor: String,
}

/// A page of the log: the entries, and everyone who appears in the log (for the filter).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditLog {
    pub events: Vec<AuditEvent>,
    pub actors: Vec<String>,
}

/// The newest entries of a workspace (admins and owners), narrowed by `filter`.
pub async fn list(db: &Db, user_id: &str, slug: &str, filter: &AuditFilter, limit: i64) -> CoreResult<AuditLog> {
    let m = workspaces::membership(db, user_id, slug).await?;
    m.role.require_admin("read the audit log")?;
    let (events, _) = page_in(db, &m.workspace.id, filter, None, limit.clamp(1, 500)).await?;
    Ok(AuditLog { events, actors: actors(db, &m.workspace.id).await? })
}

/// Up to `limit` entries of a workspace, newest first, narrowed by `filter`, after `after`; and
/// the cursor of the next page when there is one (no role check: the management API).
pub async fn page_in(
    db: &Db,
    workspace_id: &str,
    filter: &AuditFilter,
    after: Option<&Seek>,
    limit: i64,
) -> CoreResult<(Vec<AuditEvent>, Option<Seek>)> {
    if !filter.kind.is_empty() && !KINDS.iter().any(|(k, _)| *k == filter.kind) {
        let kinds: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        return Err(crate::CoreError::invalid("kind", format!("Choose one of: {}.", kinds.join(", "))));
    }
    let (after_id, after_at) = after.map_or((String::new(), 0), |s| (s.id.clone(), s.at));
    let rows = sqlx::query(
        "SELECT id, actor_email, action, target_type, target_id, details, ip, user_agent, created_at
         FROM audit_events WHERE workspace_id = $1 AND ($2 = '' OR action LIKE $3) AND ($4 = '' OR actor_email = $4)
           AND ($6 = '' OR created_at < $7 OR (created_at = $7 AND id < $6))
         ORDER BY created_at DESC, id DESC LIMIT $5",
    )
    .bind(workspace_id)
    .bind(&filter.kind)
    .bind(format!("{}.%", filter.kind))
    .bind(&filter.actor)
    .bind(limit + 1)
    .bind(&after_id)
    .bind(after_at)
    .fetch_all(db.pool())
    .await?;
    let mut events = rows
        .iter()
        .map(|row| {
            Ok(AuditEvent {
                id: row.try_get("id")?,
                actor_email: row.try_get("actor_email")?,
                action: row.try_get("action")?,
                target_type: row.try_get("target_type")?,
                target_id: row.try_get("target_id")?,
                details: serde_json::from_str(&row.try_get::<String, _>("details")?).unwrap_or_default(),
                ip: row.try_get("ip")?,
                user_agent: row.try_get("user_agent")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<CoreResult<Vec<_>>>()?;
    let next = Seek::after(&mut events, limit, |e| Seek { at: e.created_at, id: e.id.clone() });
    Ok((events, next))
}

/// The people who appear in a workspace's log, for the filter.
async fn actors(db: &Db, workspace_id: &str) -> CoreResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT actor_email FROM audit_events WHERE workspace_id = $1 AND actor_email IS NOT NULL ORDER BY actor_email",
    )
    .bind(workspace_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| r.try_get("actor_email").map_err(Into::into)).collect()
}
