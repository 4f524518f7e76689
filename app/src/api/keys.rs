//! Server functions for the API keys page: list, create (the key is in that one response only,
//! sent with `Cache-Control: no-store`), edit, roll, revoke, and the workspace's key policy.
// A server function takes one argument per form field, and some forms have more than seven.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::context::{actor, fail, require_user_id, server_context};
use crate::error::AppError;

/// A key as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub environment: String,
    pub scopes: Vec<String>,
    /// Agent and app ids the key is limited to; `None` for all.
    pub resources: Option<Vec<String>>,
    pub hint: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub rolled_to: Option<String>,
    pub rate_limit_per_minute: Option<i64>,
    /// active, expiring, expired or revoked.
    pub status: String,
    /// The upstream servers it may reach, as stored: none (`None`), `*`, or `crm search/tool …`.
    pub servers: Option<String>,
    /// The networks it may be used from (CIDR); empty: anywhere.
    pub allowed_ips: Vec<String>,
    /// Where it was used from: the latest address and how many are kept (admins only).
    pub used_from: Option<(String, i64)>,
    /// When it was reported as found in public, and where.
    pub leaked: Option<(i64, Option<String>)>,
}

/// One address a key was used from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressView {
    pub address: String,
    pub network: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub calls: i64,
}

/// An upstream server a key may be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerChoice {
    pub slug: String,
    pub name: String,
    pub environment: String,
}

/// A scope of the catalog, with what it allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeInfo {
    pub name: String,
    pub description: String,
}

/// An agent or app a key can be limited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceInfo {
    pub id: String,
    pub name: String,
    /// agent or app.
    pub kind: String,
    pub environment: String,
}

/// Keys shown on one page of the list.
pub const KEYS_PER_PAGE: usize = 50;

/// Everything the keys page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysPage {
    /// One page of the keys with the chosen status (all keys when none is chosen), newest first.
    pub keys: Vec<KeyView>,
    /// How many keys the workspace has of each status (`all`, `active`, `expiring`, `expired`, `revoked`).
    pub counts: Vec<(String, usize)>,
    /// The page shown, from 1, and how many there are (at least 1).
    pub page: usize,
    pub pages: usize,
    pub catalog: Vec<ScopeInfo>,
    /// The workspace's agents and apps, live and test.
    pub resources: Vec<ResourceInfo>,
    /// The workspace's upstream servers.
    pub servers: Vec<ServerChoice>,
    pub can_manage: bool,
    pub is_owner: bool,
    pub max_lifetime_days: Option<i64>,
    pub default_rate_limit_per_minute: i64,
    pub now: i64,
}

/// A key just created or rolled: the only response that ever holds the whole key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    pub hint: String,
    pub secret: String,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CreatedKey({}, {})", self.id, self.hint)
    }
}

#[cfg(feature = "ssr")]
fn view_of(k: gatehouse_core::keys::ApiKey, now: i64, pending: Option<i64>) -> KeyView {
    let status = k.status(now).as_str().to_owned();
    KeyView {
        id: k.id,
        name: k.name,
        environment: k.environment.as_str().to_owned(),
        scopes: k.scopes.names(),
        servers: k.servers.to_stored(),
        resources: k.resources,
        hint: k.hint,
        created_by: k.created_by,
        created_at: k.created_at,
        expires_at: k.expires_at,
        revoked_at: k.revoked_at,
        last_used_at: match (k.last_used_at, pending) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        },
        rolled_to: k.rolled_to,
        rate_limit_per_minute: k.rate_limit_per_minute,
        status,
        allowed_ips: k.allowed_ips.map(|n| n.names()).unwrap_or_default(),
        used_from: None,
        leaked: k.leaked_at.map(|at| (at, k.leaked_url)),
    }
}

/// No ticked resource means no restriction.
#[cfg(feature = "ssr")]
fn restriction(resources: Vec<String>) -> Option<Vec<String>> {
    let ids: Vec<String> = resources.into_iter().filter(|r| !r.trim().is_empty()).collect();
    (!ids.is_empty()).then_some(ids)
}

/// The expiry a key form chose: its `expiry` select, or the date beside it for "On a date…".
#[cfg(feature = "ssr")]
pub(crate) fn expiry_choice(expiry: &str, expiry_date: &str) -> Result<gatehouse_core::keys::ExpiryChoice, AppError> {
    use gatehouse_core::{CoreError, keys::ExpiryChoice};
    if expiry != "date" {
        return ExpiryChoice::parse(expiry).map_err(fail);
    }
    if expiry_date.trim().is_empty() {
        return Err(fail(CoreError::invalid("expiry", "Pick the date the key stops working.")));
    }
    ExpiryChoice::parse(expiry_date).map_err(fail)
}

/// The response holding a new key must not be stored by any cache.
#[cfg(feature = "ssr")]
pub(crate) fn no_store() {
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.insert_header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    }
}

#[server(endpoint = "keys/list")]
pub async fn list_keys(
    slug: String,
    // Only keys of this status (active, expiring, expired or revoked); all when empty.
    #[server(default)] status: String,
    // The page, from 1; the first when 0, the last when past it.
    #[server(default)] page: usize,
) -> Result<KeysPage, AppError> {
    use gatehouse_core::{
        CoreError,
        clock::now_ms,
        keys::{self, KeyStatus},
        scopes::Scope,
        workspaces,
    };
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let membership = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    let status = match status.as_str() {
        "" => None,
        name => Some(KeyStatus::parse(name).ok_or_else(|| {
            fail(CoreError::invalid("status", "The status is one of active, expiring, expired and revoked."))
        })?),
    };
    let now = now_ms();
    let chosen =
        keys::page_in(&ctx.db, &membership.workspace.id, status, page, KEYS_PER_PAGE, now).await.map_err(fail)?;
    let policy = keys::policy_of(&ctx.db, &membership.workspace.id).await.map_err(fail)?;
    let counts = std::iter::once(("all".to_owned(), chosen.counts.total()))
        .chain(KeyStatus::ALL.map(|s| (s.as_str().to_owned(), chosen.counts.of(s))))
        .collect();
    let can_manage = membership.role.can_manage_access();
    // Where keys are used from is for those who manage them, as the audit log is.
    let mut used_from = if can_manage {
        let ids: Vec<&str> = chosen.keys.iter().map(|k| k.id.as_str()).collect();
        gatehouse_core::watch::address_summaries(&ctx.db, &membership.workspace.id, &ids).await.map_err(fail)?
    } else {
        Default::default()
    };
    Ok(KeysPage {
        keys: chosen
            .keys
            .into_iter()
            .map(|k| {
                let pending = ctx.keys.last_used.pending(&k.id);
                let seen = used_from.remove(&k.id).map(|s| (s.latest, s.count));
                KeyView { used_from: seen, ..view_of(k, now, pending) }
            })
            .collect(),
        counts,
        page: chosen.page,
        pages: chosen.pages,
        catalog: Scope::for_keys()
            .map(|s| ScopeInfo { name: s.as_str().to_owned(), description: s.description().to_owned() })
            .collect(),
        resources: workspace_resources(&ctx.db, &membership.workspace.id).await.map_err(fail)?,
        servers: gatehouse_core::servers::list_in(&ctx.db, &membership.workspace.id)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|s| ServerChoice { slug: s.slug, name: s.name, environment: s.environment.as_str().to_owned() })
            .collect(),
        can_manage,
        is_owner: membership.role.can_manage_workspace(),
        max_lifetime_days: policy.max_lifetime_days,
        default_rate_limit_per_minute: policy.default_rate_limit_per_minute,
        now,
    })
}

#[cfg(feature = "ssr")]
async fn workspace_resources(
    db: &gatehouse_core::Db,
    workspace_id: &str,
) -> Result<Vec<ResourceInfo>, gatehouse_core::CoreError> {
    use gatehouse_core::{agents::Tenant, apps, keys::Environment};
    let mut out = Vec::new();
    for environment in [Environment::Live, Environment::Test] {
        let at = Tenant { workspace_id, environment };
        for agent in gatehouse_core::agents::list(db, at, None, 100).await?.agents {
            out.push(ResourceInfo {
                id: agent.id,
                name: agent.name,
                kind: "agent".into(),
                environment: environment.as_str().into(),
            });
        }
        for app in apps::list(db, at).await? {
            out.push(ResourceInfo {
                id: app.id,
                name: app.name,
                kind: "app".into(),
                environment: environment.as_str().into(),
            });
        }
    }
    Ok(out)
}

/// Creates a key and reveals it, once.
#[server(endpoint = "keys/create")]
pub async fn create_key(
    slug: String,
    name: String,
    environment: String,
    #[server(default)] scopes: Vec<String>,
    expiry: String,
    #[server(default)] expiry_date: String,
    #[server(default)] resources: Vec<String>,
    #[server(default)] servers: Vec<String>,
    #[server(default)] allowed_ips: String,
) -> Result<CreatedKey, AppError> {
    use gatehouse_core::{
        CoreError,
        keys::{self, Environment, KeyName, NewKey},
        net::Networks,
        scopes::ScopeSet,
        servers::ServerAccess,
    };
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let name = KeyName::parse(&name).map_err(fail)?;
    let environment = Environment::parse(&environment)
        .ok_or_else(|| fail(CoreError::invalid("environment", "Choose live or test.")))?;
    let scopes = ScopeSet::parse_for_key(&scopes).map_err(fail)?;
    let expiry = expiry_choice(&expiry, &expiry_date)?;
    let servers = ServerAccess::parse(&servers.join(",")).map_err(fail)?;
    let new = NewKey {
        name,
        environment,
        scopes,
        expiry,
        resources: restriction(resources),
        rate_limit_per_minute: None,
        servers,
        allowed_ips: Some(Networks::parse("allowed_ips", &[allowed_ips]).map_err(fail)?),
    };
    let (key, token) = keys::create(&ctx.db, &actor(&user_id).await, &slug, new).await.map_err(fail)?;
    no_store();
    tracing::info!(key_id = %key.id, "API key created");
    Ok(CreatedKey { id: key.id, name: key.name, hint: key.hint, secret: token.expose().to_owned() })
}

/// The addresses a key was used from, most recent first (admins and owners).
#[server(endpoint = "keys/addresses")]
pub async fn key_addresses(slug: String, key_id: String) -> Result<Vec<AddressView>, AppError> {
    use gatehouse_core::{keys, watch, workspaces};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let m = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    m.role.require_admin("see where keys are used from").map_err(fail)?;
    keys::get_in(&ctx.db, &m.workspace.id, &key_id).await.map_err(fail)?;
    let seen = watch::addresses_of(&ctx.db, &m.workspace.id, &key_id).await.map_err(fail)?;
    Ok(seen
        .into_iter()
        .map(|a| AddressView {
            address: a.address,
            network: a.network,
            first_seen: a.first_seen,
            last_seen: a.last_seen,
            calls: a.calls,
        })
        .collect())
}

/// Revokes a key at once.
#[server(endpoint = "keys/revoke")]
pub async fn revoke_key(slug: String, key_id: String) -> Result<(), AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    gatehouse_core::keys::revoke(&ctx.db, &actor(&user_id).await, &slug, &key_id).await.map_err(fail)?;
    tracing::info!(%key_id, "API key revoked");
    Ok(())
}

/// Rolls a key: a new one with the same settings, revealed once; the old one works for `grace`.
#[server(endpoint = "keys/roll")]
pub async fn roll_key(slug: String, key_id: String, grace: String) -> Result<CreatedKey, AppError> {
    use gatehouse_core::keys::{self, Grace};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let grace = Grace::parse(&grace).map_err(fail)?;
    let (key, token) = keys::roll(&ctx.db, &actor(&user_id).await, &slug, &key_id, grace).await.map_err(fail)?;
    no_store();
    tracing::info!(old = %key_id, new = %key.id, "API key rolled");
    Ok(CreatedKey { id: key.id, name: key.name, hint: key.hint, secret: token.expose().to_owned() })
}

/// Edits a key's name, scopes and rate limit (empty: the workspace default).
#[server(endpoint = "keys/update")]
pub async fn update_key(
    slug: String,
    key_id: String,
    name: String,
    #[server(default)] scopes: Vec<String>,
    #[server(default)] rate_limit: String,
    #[server(default)] resources: Vec<String>,
    #[server(default)] servers: Vec<String>,
    #[server(default)] servers_shown: String,
    #[server(default)] allowed_ips: String,
    #[server(default)] allowed_ips_shown: String,
) -> Result<(), AppError> {
    use gatehouse_core::{
        CoreError,
        keys::{self, KeyEdit, KeyName},
        net::Networks,
        scopes::ScopeSet,
    };
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let rate_limit_per_minute = match rate_limit.trim() {
        "" => None,
        n => Some(n.parse::<i64>().map_err(|_| {
            fail(CoreError::invalid("rate_limit", "Enter a whole number of requests per minute, or leave it empty."))
        })?),
    };
    let edit = KeyEdit {
        name: KeyName::parse(&name).map_err(fail)?,
        scopes: ScopeSet::parse_for_key(&scopes).map_err(fail)?,
        resources: restriction(resources),
        rate_limit_per_minute,
        // The form shows the server choice only when the workspace has servers; without it, kept.
        servers: if servers_shown.is_empty() {
            None
        } else {
            Some(gatehouse_core::servers::ServerAccess::parse(&servers.join(",")).map_err(fail)?)
        },
        // A form without the field keeps them; the field sent empty allows anywhere. (An empty
        // field arrives as no value at all, so the form says it showed the field.)
        allowed_ips: if allowed_ips_shown.is_empty() {
            None
        } else {
            Some(Networks::parse("allowed_ips", &[allowed_ips]).map_err(fail)?)
        },
    };
    keys::update(&ctx.db, &actor(&user_id).await, &slug, &key_id, edit).await.map_err(fail)?;
    Ok(())
}

/// Sets the longest lifetime of new keys (empty: no limit) and the default rate limit (owners).
#[server(endpoint = "keys/policy")]
pub async fn set_key_policy(slug: String, max_lifetime_days: String, rate_limit: String) -> Result<(), AppError> {
    use gatehouse_core::{
        CoreError,
        keys::{self, KeyPolicy},
    };
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let max_lifetime_days = match max_lifetime_days.trim() {
        "" => None,
        n => Some(n.parse::<i64>().map_err(|_| {
            fail(CoreError::invalid(
                "max_lifetime_days",
                "Enter a whole number of days, or leave it empty for no limit.",
            ))
        })?),
    };
    let default_rate_limit_per_minute = rate_limit
        .trim()
        .parse::<i64>()
        .map_err(|_| fail(CoreError::invalid("rate_limit", "Enter a whole number of requests per minute.")))?;
    keys::set_policy(&ctx.db, &user_id, &slug, KeyPolicy { max_lifetime_days, default_rate_limit_per_minute })
        .await
        .map_err(fail)?;
    Ok(())
}

/// The workspace's key policy: (longest lifetime in days, default requests per minute).
#[server(endpoint = "keys/policy/get")]
pub async fn key_policy(slug: String) -> Result<(Option<i64>, i64), AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let policy = gatehouse_core::keys::policy(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    Ok((policy.max_lifetime_days, policy.default_rate_limit_per_minute))
}
