//! API keys: creating (the key is returned once, never stored), listing, editing, revoking and
//! rolling them, the workspace's key policy, and verifying a presented key.
//!
//! Admins and owners manage keys; members may list them. Every query names the workspace.

mod cache;
mod expiry;
mod last_used;
mod leases;
mod listing;
mod lookup;
mod name;
mod rate_limit;
mod token;
mod verify;

pub use expiry::ExpiryChoice;
pub use last_used::LastUsed;
pub use listing::{KeyPage, KeyQuery, StatusCounts, page_in, seek_in};
pub use name::KeyName;
pub use rate_limit::RateLimiter;
pub use token::{Environment, KeyKind, KeyToken, TokenFormatError, digest_matches, hint, hint_with};
pub use verify::{AuthFailure, KeyVerifier, Principal, Via, bearer_value, parse_header, retry_after_secs};

use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

use crate::{
    Db,
    audit::{self, Actor},
    clock::{DAY, HOUR, Millis, now_ms},
    direct::{self, Columns, FromColumns},
    error::{CoreError, CoreResult},
    net::Networks,
    scopes::ScopeSet,
    servers::ServerAccess,
    workspaces,
};

/// A key as the dashboard and the CLI list it: never its secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub environment: Environment,
    pub scopes: ScopeSet,
    /// Agent and app ids the key is limited to; `None` for all.
    pub resources: Option<Vec<String>>,
    pub hint: String,
    pub rate_limit_per_minute: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    pub rolled_to: Option<String>,
    pub last_used_at: Option<Millis>,
    /// The upstream servers (and tools) it may reach.
    pub servers: ServerAccess,
    /// The networks it may be used from; `None`: anywhere.
    pub allowed_ips: Option<Networks>,
    /// When it was reported as found in public (and so revoked), and where.
    pub leaked_at: Option<Millis>,
    pub leaked_url: Option<String>,
}

/// Where a key stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    /// Stops within [`EXPIRING_WITHIN`] (7 days): it expires, or it was rolled and its grace period runs out.
    Expiring,
    Expired,
    Revoked,
}

/// A key that stops within this long is [`KeyStatus::Expiring`].
pub const EXPIRING_WITHIN: Millis = 7 * DAY;

impl KeyStatus {
    pub const ALL: [KeyStatus; 4] = [KeyStatus::Active, KeyStatus::Expiring, KeyStatus::Expired, KeyStatus::Revoked];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expiring => "expiring",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        KeyStatus::ALL.into_iter().find(|status| status.as_str() == value)
    }
}

impl ApiKey {
    /// When the key stops working: its expiry, or the end of its grace period once rolled (a
    /// revocation is a moment too), whichever comes first; `None` for a key that never stops.
    pub fn stops_at(&self) -> Option<Millis> {
        match (self.revoked_at, self.expires_at) {
            (Some(revoked), Some(expires)) => Some(revoked.min(expires)),
            (revoked, expires) => revoked.or(expires),
        }
    }

    pub fn status(&self, now: Millis) -> KeyStatus {
        if self.revoked_at.is_some_and(|at| at <= now) {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyStatus::Expired
        } else if self.revoked_at.is_some() || self.expires_at.is_some_and(|at| at - now <= EXPIRING_WITHIN) {
            KeyStatus::Expiring
        } else {
            KeyStatus::Active
        }
    }
}

/// What a new key is made of.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: KeyName,
    pub environment: Environment,
    pub scopes: ScopeSet,
    pub expiry: ExpiryChoice,
    /// Agent and app ids the key is limited to; `None` for all of the workspace's.
    pub resources: Option<Vec<String>>,
    /// Requests per minute; `None` uses the workspace default.
    pub rate_limit_per_minute: Option<i64>,
    /// The upstream servers it may reach (none unless chosen).
    pub servers: ServerAccess,
    /// The networks it may be used from; `None` (or an empty list): anywhere.
    pub allowed_ips: Option<Networks>,
}

/// The key policy of a workspace.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyPolicy {
    /// The longest lifetime a new key may have, in days; `None` allows keys that never expire.
    pub max_lifetime_days: Option<i64>,
    /// Requests per minute a key may make unless the key sets its own limit.
    pub default_rate_limit_per_minute: i64,
}

/// How long a rolled key keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grace {
    None,
    OneHour,
    OneDay,
    SevenDays,
}

impl Grace {
    pub fn parse(value: &str) -> CoreResult<Self> {
        match value {
            "none" | "0" => Ok(Grace::None),
            "1h" => Ok(Grace::OneHour),
            "24h" | "1d" => Ok(Grace::OneDay),
            "7d" => Ok(Grace::SevenDays),
            _ => Err(CoreError::invalid("grace", "Choose none, 1h, 24h or 7d.")),
        }
    }

    /// The canonical name, as the audit log shows it.
    pub fn label(self) -> &'static str {
        match self {
            Grace::None => "none",
            Grace::OneHour => "1h",
            Grace::OneDay => "24h",
            Grace::SevenDays => "7d",
        }
    }

    fn millis(self) -> Millis {
        match self {
            Grace::None => 0,
            Grace::OneHour => HOUR,
            Grace::OneDay => DAY,
            Grace::SevenDays => 7 * DAY,
        }
    }
}

const KEY_COLUMNS: &str = "k.id, k.name, k.environment, k.scopes, k.resources, k.last4, k.rate_limit_per_minute, u.email AS created_by, \
     k.created_at, k.expires_at, k.revoked_at, k.rolled_to, k.last_used_at, k.servers, k.allowed_ips, k.leaked_at, k.leaked_url";

impl FromColumns for ApiKey {
    fn from_columns(row: &impl Columns) -> CoreResult<Self> {
        key_from_row(row)
    }
}

fn key_from_row(row: &impl Columns) -> CoreResult<ApiKey> {
    let id: String = row.col("id")?;
    let environment = Environment::parse(&row.col::<String>("environment")?)
        .ok_or_else(|| CoreError::Internal(format!("key {id} has an unknown environment")))?;
    let last4: String = row.col("last4")?;
    Ok(ApiKey {
        hint: hint(environment, &id, &last4),
        name: row.col("name")?,
        environment,
        scopes: ScopeSet::from_stored(&row.col::<String>("scopes")?),
        resources: row.col::<Option<String>>("resources")?.map(|r| split_resources(&r)),
        rate_limit_per_minute: row.col("rate_limit_per_minute")?,
        created_by: row.col("created_by")?,
        created_at: row.col("created_at")?,
        expires_at: row.col("expires_at")?,
        revoked_at: row.col("revoked_at")?,
        rolled_to: row.col("rolled_to")?,
        last_used_at: row.col("last_used_at")?,
        servers: ServerAccess::from_stored(row.col::<Option<String>>("servers")?.as_deref()),
        allowed_ips: row.col::<Option<String>>("allowed_ips")?.map(|n| Networks::from_stored(&n)),
        leaked_at: row.col("leaked_at")?,
        leaked_url: row.col("leaked_url")?,
        id,
    })
}

/// The key policy of the workspace the user is in.
pub async fn policy(db: &Db, user_id: &str, slug: &str) -> CoreResult<KeyPolicy> {
    let m = workspaces::membership(db, user_id, slug).await?;
    policy_of(db, &m.workspace.id).await
}

/// The key policy of a workspace, for callers that have already checked membership.
pub async fn policy_of(db: &Db, workspace_id: &str) -> CoreResult<KeyPolicy> {
    let row = sqlx::query("SELECT max_key_lifetime_days, key_rate_limit_per_minute FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_one(db.pool())
        .await?;
    Ok(KeyPolicy {
        max_lifetime_days: row.try_get("max_key_lifetime_days")?,
        default_rate_limit_per_minute: row.try_get("key_rate_limit_per_minute")?,
    })
}

/// Sets the workspace's key policy (owners only). Existing keys keep their expiry.
pub async fn set_policy(db: &Db, user_id: &str, slug: &str, policy: KeyPolicy) -> CoreResult<KeyPolicy> {
    let m = workspaces::membership(db, user_id, slug).await?;
    m.role.require_owner("change the key policy")?;
    if let Some(days) = policy.max_lifetime_days
        && !(1..=3650).contains(&days)
    {
        return Err(CoreError::invalid("max_lifetime_days", "Choose between 1 and 3650 days, or no limit."));
    }
    if !(1..=MAX_RATE_LIMIT_PER_MINUTE).contains(&policy.default_rate_limit_per_minute) {
        return Err(rate_limit_out_of_range());
    }
    sqlx::query("UPDATE workspaces SET max_key_lifetime_days = $1, key_rate_limit_per_minute = $2 WHERE id = $3")
        .bind(policy.max_lifetime_days)
        .bind(policy.default_rate_limit_per_minute)
        .bind(&m.workspace.id)
        .execute(db.pool())
        .await?;
    db.access_changed(&m.workspace.id);
    Ok(policy)
}

/// Creates a key in a workspace the user administers. The token is returned once and never stored.
/// The key and its `key.created` audit entry are one transaction.
pub async fn create(db: &Db, actor: &Actor, slug: &str, new: NewKey) -> CoreResult<(ApiKey, KeyToken)> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("create API keys")?;
    create_in(db, &m.workspace.id, Some(actor), new).await
}

/// Creates a key in a workspace without a role check: for the admin CLI (no actor).
pub async fn create_in(
    db: &Db,
    workspace_id: &str,
    actor: Option<&Actor>,
    new: NewKey,
) -> CoreResult<(ApiKey, KeyToken)> {
    let now = now_ms();
    let policy = policy_of(db, workspace_id).await?;
    let expires_at = new.expiry.resolve(now, policy.max_lifetime_days)?;
    check_rate_limit(new.rate_limit_per_minute)?;
    let resources = check_resources(db, workspace_id, new.environment, new.resources.as_deref()).await?;
    check_servers(db, workspace_id, new.environment, &new.servers).await?;
    let servers = new.servers.to_stored();
    let allowed_ips = new.allowed_ips.as_ref().filter(|n| !n.is_empty()).map(Networks::to_stored);
    let row = NewRow {
        name: &new.name,
        environment: new.environment,
        scopes: &new.scopes,
        resources: resources.as_deref(),
        servers: servers.as_deref(),
        allowed_ips: allowed_ips.as_deref(),
        rate_limit: new.rate_limit_per_minute,
        created_at: now,
        expires_at,
    };
    let mut tx = db.pool().begin().await?;
    let token = insert_key(&mut tx, workspace_id, actor.and_then(Actor::person), row).await?;
    let details = serde_json::json!({
        "name": new.name.as_str(),
        "environment": new.environment,
        "scopes": new.scopes.names(),
        "expires_at": expires_at,
        "resources": resources.as_deref().map(split_resources),
        "servers": servers,
        "allowed_ips": allowed_ips,
    });
    audit::record(&mut *tx, workspace_id, actor, "key.created", ("key", token.lookup_id()), details).await?;
    tx.commit().await?;
    Ok((get_in(db, workspace_id, token.lookup_id()).await?, token))
}

/// The highest rate limit a key or a workspace's default may have: about 16,000 requests a
/// second, more than one process serves (docs/benchmarks.md).
pub const MAX_RATE_LIMIT_PER_MINUTE: i64 = 1_000_000;

fn rate_limit_out_of_range() -> CoreError {
    CoreError::invalid("rate_limit", format!("Choose between 1 and {MAX_RATE_LIMIT_PER_MINUTE} requests per minute."))
}

/// A key's own rate limit, when it has one, is 1 to [`MAX_RATE_LIMIT_PER_MINUTE`].
fn check_rate_limit(limit: Option<i64>) -> CoreResult<()> {
    match limit {
        Some(limit) if !(1..=MAX_RATE_LIMIT_PER_MINUTE).contains(&limit) => Err(rate_limit_out_of_range()),
        _ => Ok(()),
    }
}

/// The stored form of a resource list: ids separated by single spaces.
fn split_resources(stored: &str) -> Vec<String> {
    stored.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Checks that every id is an agent or app of the workspace in the key's environment; returns
/// the stored form (`None`: no restriction).
async fn check_resources(
    db: &Db,
    workspace_id: &str,
    environment: Environment,
    ids: Option<&[String]>,
) -> CoreResult<Option<String>> {
    let Some(ids) = ids else { return Ok(None) };
    let mut ids: Vec<&str> = ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(CoreError::invalid("resources", "Choose at least one agent or app, or no restriction."));
    }
    if ids.len() > 100 {
        return Err(CoreError::invalid("resources", "At most 100 resources."));
    }
    for id in &ids {
        let found = sqlx::query(
            "SELECT 1 AS found FROM agents WHERE id = $1 AND workspace_id = $2 AND environment = $3
             UNION ALL SELECT 1 AS found FROM apps WHERE id = $1 AND workspace_id = $2 AND environment = $3",
        )
        .bind(*id)
        .bind(workspace_id)
        .bind(environment.as_str())
        .fetch_optional(db.pool())
        .await?;
        if found.is_none() {
            return Err(CoreError::invalid(
                "resources",
                format!(
                    "'{}' is not an agent or app of this workspace's {} data.",
                    id.chars().take(40).collect::<String>(),
                    environment.as_str()
                ),
            ));
        }
    }
    Ok(Some(ids.join(" ")))
}

/// Checks that every server a key names exists in its workspace and environment (a `pk_test_`
/// key reaches test servers only, a `pk_live_` key live ones).
pub(crate) async fn check_servers(
    db: &Db,
    workspace_id: &str,
    environment: Environment,
    servers: &ServerAccess,
) -> CoreResult<()> {
    for slug in servers.slugs() {
        let row = sqlx::query("SELECT environment FROM upstream_servers WHERE workspace_id = $1 AND slug = $2")
            .bind(workspace_id)
            .bind(slug)
            .fetch_optional(db.pool())
            .await?;
        match row {
            None => {
                return Err(CoreError::invalid(
                    "servers",
                    format!("This workspace has no server '{slug}'. Add it under Servers first, or use *."),
                ));
            }
            Some(row) if row.try_get::<String, _>("environment")? != environment.as_str() => {
                return Err(CoreError::invalid(
                    "servers",
                    format!(
                        "'{slug}' is not a {} server, and a pk_{}_ key reaches {} servers only.",
                        environment.as_str(),
                        environment.as_str(),
                        environment.as_str()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The columns of a new key's row that its caller chooses.
struct NewRow<'a> {
    name: &'a KeyName,
    environment: Environment,
    scopes: &'a ScopeSet,
    /// The stored form of the resource list (`None`: no restriction).
    resources: Option<&'a str>,
    /// The stored form of the server access (`None`: none).
    servers: Option<&'a str>,
    /// The stored form of the allowed networks (`None`: anywhere).
    allowed_ips: Option<&'a str>,
    rate_limit: Option<i64>,
    created_at: Millis,
    expires_at: Option<Millis>,
}

/// Inserts a new key in the caller's transaction; returns the key's only full copy.
async fn insert_key(
    tx: &mut Transaction<'static, Any>,
    workspace_id: &str,
    created_by: Option<&str>,
    row: NewRow<'_>,
) -> CoreResult<KeyToken> {
    let token = KeyToken::generate(row.environment);
    sqlx::query(
        "INSERT INTO api_keys (id, workspace_id, name, environment, scopes, resources, digest, last4,
                               rate_limit_per_minute, created_by, created_at, expires_at, servers, allowed_ips)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(token.lookup_id())
    .bind(workspace_id)
    .bind(row.name.as_str())
    .bind(row.environment.as_str())
    .bind(row.scopes.to_stored())
    .bind(row.resources)
    .bind(token.digest())
    .bind(token.last4())
    .bind(row.rate_limit)
    .bind(created_by)
    .bind(row.created_at)
    .bind(row.expires_at)
    .bind(row.servers)
    .bind(row.allowed_ips)
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// Every key of the workspace, newest first (any member may list them).
pub async fn list(db: &Db, user_id: &str, slug: &str) -> CoreResult<Vec<ApiKey>> {
    let m = workspaces::membership(db, user_id, slug).await?;
    list_in(db, &m.workspace.id).await
}

pub async fn list_in(db: &Db, workspace_id: &str) -> CoreResult<Vec<ApiKey>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k LEFT JOIN users u ON u.id = k.created_by
         WHERE k.workspace_id = $1 ORDER BY k.created_at DESC, k.id"
    );
    // A workspace may have thousands of keys: on SQLite, read them on this thread (`crate::direct`).
    direct::fetch_all(db, &sql, &[workspace_id.into()]).await
}

/// One key of the workspace (no role check).
pub async fn get_in(db: &Db, workspace_id: &str, key_id: &str) -> CoreResult<ApiKey> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k LEFT JOIN users u ON u.id = k.created_by
         WHERE k.workspace_id = $1 AND k.id = $2"
    );
    let row = sqlx::query(&sql).bind(workspace_id).bind(key_id).fetch_optional(db.pool()).await?;
    key_from_row(&row.ok_or(CoreError::NotFound)?)
}

/// Revokes a key at once (admins). Revoking a revoked key changes nothing.
pub async fn revoke(db: &Db, actor: &Actor, slug: &str, key_id: &str) -> CoreResult<ApiKey> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("revoke API keys")?;
    revoke_in(db, &m.workspace.id, Some(actor), key_id).await
}

/// Revokes a key now. The revocation and its `key.revoked` audit entry are one transaction; a
/// key already revoked is left as it is, and no second entry is written.
pub async fn revoke_in(db: &Db, workspace_id: &str, actor: Option<&Actor>, key_id: &str) -> CoreResult<ApiKey> {
    let now = now_ms();
    let key = get_in(db, workspace_id, key_id).await?;
    let mut tx = db.pool().begin().await?;
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND (revoked_at IS NULL OR revoked_at > $1)",
    )
    .bind(now)
    .bind(workspace_id)
    .bind(key_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        let details = serde_json::json!({ "name": key.name });
        audit::record(&mut *tx, workspace_id, actor, "key.revoked", ("key", key_id), details).await?;
    }
    tx.commit().await?;
    db.access_changed(key_id);
    get_in(db, workspace_id, key_id).await
}

/// Rolls a key (admins): a new key with the same settings and lifetime, revealed once; the old
/// one keeps working for the grace period, then stops.
pub async fn roll(db: &Db, actor: &Actor, slug: &str, key_id: &str, grace: Grace) -> CoreResult<(ApiKey, KeyToken)> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("roll API keys")?;
    roll_in(db, &m.workspace.id, Some(actor), key_id, grace).await
}

/// Rolls a key without a role check (the management API). The new key, the old one's end and the
/// `key.rolled` audit entry are one transaction.
pub async fn roll_in(
    db: &Db,
    workspace_id: &str,
    actor: Option<&Actor>,
    key_id: &str,
    grace: Grace,
) -> CoreResult<(ApiKey, KeyToken)> {
    let old = get_in(db, workspace_id, key_id).await?;
    let now = now_ms();
    match old.status(now) {
        KeyStatus::Revoked | KeyStatus::Expired => {
            return Err(CoreError::Conflict(
                "This key no longer works, so it cannot be rolled. Create a new key.".into(),
            ));
        }
        _ if old.rolled_to.is_some() => {
            return Err(CoreError::Conflict("This key was already rolled. Roll its replacement instead.".into()));
        }
        _ => {}
    }
    // Same lifetime as the old key had, within the workspace's current limit.
    let policy = policy_of(db, workspace_id).await?;
    let same_lifetime = old.expires_at.map(|at| now + (at - old.created_at));
    let limit = policy.max_lifetime_days.map(|days| now + days * DAY);
    let expires_at = match (same_lifetime, limit) {
        (Some(at), Some(cap)) => Some(at.min(cap)),
        (at, cap) => at.or(cap),
    };
    let name = KeyName::parse(&old.name)?;
    let resources = old.resources.as_ref().map(|r| r.join(" "));
    let servers = old.servers.to_stored();
    let allowed_ips = old.allowed_ips.as_ref().map(Networks::to_stored);
    let row = NewRow {
        name: &name,
        environment: old.environment,
        scopes: &old.scopes,
        resources: resources.as_deref(),
        servers: servers.as_deref(),
        allowed_ips: allowed_ips.as_deref(),
        rate_limit: old.rate_limit_per_minute,
        created_at: now,
        expires_at,
    };
    // The new key and the old key's end are one change: never one without the other.
    let mut tx = db.pool().begin().await?;
    let token = insert_key(&mut tx, workspace_id, actor.and_then(Actor::person), row).await?;
    sqlx::query("UPDATE api_keys SET revoked_at = $1, rolled_to = $2 WHERE workspace_id = $3 AND id = $4")
        .bind(now + grace.millis())
        .bind(token.lookup_id())
        .bind(workspace_id)
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
    let details = serde_json::json!({ "name": old.name, "new_key": token.lookup_id(), "grace": grace.label() });
    audit::record(&mut *tx, workspace_id, actor, "key.rolled", ("key", key_id), details).await?;
    tx.commit().await?;
    db.access_changed(key_id);
    let new_key = get_in(db, workspace_id, token.lookup_id()).await?;
    Ok((new_key, token))
}

/// What an admin may change on an existing key.
#[derive(Debug, Clone)]
pub struct KeyEdit {
    pub name: KeyName,
    pub scopes: ScopeSet,
    /// Agent and app ids the key is limited to; `None` for all.
    pub resources: Option<Vec<String>>,
    /// `None` uses the workspace default.
    pub rate_limit_per_minute: Option<i64>,
    /// The upstream servers it may reach; `None` keeps what it has.
    pub servers: Option<ServerAccess>,
    /// The networks it may be used from; `None` keeps what it has, an empty list allows anywhere.
    pub allowed_ips: Option<Networks>,
}

/// Edits a key's name, scopes and rate limit (admins). Takes effect on the key's next request.
pub async fn update(db: &Db, actor: &Actor, slug: &str, key_id: &str, edit: KeyEdit) -> CoreResult<ApiKey> {
    let m = workspaces::membership(db, &actor.user_id, slug).await?;
    m.role.require_admin("edit API keys")?;
    update_in(db, &m.workspace.id, Some(actor), key_id, edit).await
}

/// Edits a key without a role check (the management API). The edit and its `key.edited` audit
/// entry are one transaction.
pub async fn update_in(
    db: &Db,
    workspace_id: &str,
    actor: Option<&Actor>,
    key_id: &str,
    edit: KeyEdit,
) -> CoreResult<ApiKey> {
    check_rate_limit(edit.rate_limit_per_minute)?;
    let current = get_in(db, workspace_id, key_id).await?;
    let resources = check_resources(db, workspace_id, current.environment, edit.resources.as_deref()).await?;
    let servers = edit.servers.unwrap_or(current.servers);
    check_servers(db, workspace_id, current.environment, &servers).await?;
    let allowed_ips = match edit.allowed_ips {
        Some(nets) => (!nets.is_empty()).then(|| nets.to_stored()),
        None => current.allowed_ips.as_ref().map(Networks::to_stored),
    };
    let mut tx = db.pool().begin().await?;
    let done = sqlx::query(
        "UPDATE api_keys SET name = $1, scopes = $2, rate_limit_per_minute = $3, resources = $4, servers = $7,
                allowed_ips = $8
         WHERE workspace_id = $5 AND id = $6",
    )
    .bind(edit.name.as_str())
    .bind(edit.scopes.to_stored())
    .bind(edit.rate_limit_per_minute)
    .bind(&resources)
    .bind(workspace_id)
    .bind(key_id)
    .bind(servers.to_stored())
    .bind(&allowed_ips)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(CoreError::NotFound);
    }
    let details = serde_json::json!({
        "name": edit.name.as_str(), "scopes": edit.scopes.names(), "rate_limit_per_minute": edit.rate_limit_per_minute,
        "resources": resources.as_deref().map(split_resources), "servers": servers.to_stored(), "allowed_ips": allowed_ips,
    });
    audit::record(&mut *tx, workspace_id, actor, "key.edited", ("key", key_id), details).await?;
    tx.commit().await?;
    db.access_changed(key_id);
    get_in(db, workspace_id, key_id).await
}
