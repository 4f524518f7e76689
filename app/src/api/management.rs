//! Server functions of Settings' management-key and key-alert sections: list, create (the key is in
//! that one response only, sent with `Cache-Control: no-store`) and revoke management keys, and
//! the workspace's error-spike alert. Admins and owners; only owners give owner-only scopes.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::context::{actor, fail, require_user_id, server_context};
use super::keys::CreatedKey;
use crate::error::AppError;

/// A management key as Settings lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagementKeyView {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub hint: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl ManagementKeyView {
    /// Whether it still works at `now`.
    pub fn works(&self, now: i64) -> bool {
        self.revoked_at.is_none_or(|at| at > now) && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A management scope with what it allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagementScopeInfo {
    pub name: String,
    pub description: String,
    /// Only an owner can give it.
    pub owner_only: bool,
}

/// The workspace's error-spike alert, as the form shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorSpikeView {
    pub percent: Option<i64>,
    pub window_minutes: i64,
    pub min_calls: i64,
}

/// What Settings shows of management keys and key alerts; for a member, nothing but the fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagementPage {
    pub can_manage: bool,
    pub is_owner: bool,
    pub keys: Vec<ManagementKeyView>,
    pub scopes: Vec<ManagementScopeInfo>,
    pub max_lifetime_days: Option<i64>,
    pub error_spike: ErrorSpikeView,
    pub now: i64,
}

#[server(endpoint = "management/list")]
pub async fn list_management_keys(slug: String) -> Result<ManagementPage, AppError> {
    use gatehouse_core::{clock::now_ms, keys, management, watch, workspaces};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let m = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    let spike = watch::error_spike(&ctx.db, &m.workspace.id).await.map_err(fail)?;
    let can_manage = m.role.can_manage_access();
    let keys = if can_manage {
        management::list_in(&ctx.db, &m.workspace.id).await.map_err(fail)?.into_iter().map(view_of).collect()
    } else {
        Vec::new()
    };
    Ok(ManagementPage {
        can_manage,
        is_owner: m.role.can_manage_workspace(),
        keys,
        scopes: management::ManagementScope::ALL
            .iter()
            .map(|s| ManagementScopeInfo {
                name: s.as_str().to_owned(),
                description: s.description().to_owned(),
                owner_only: s.owner_only(),
            })
            .collect(),
        max_lifetime_days: keys::policy_of(&ctx.db, &m.workspace.id).await.map_err(fail)?.max_lifetime_days,
        error_spike: ErrorSpikeView {
            percent: spike.percent,
            window_minutes: spike.window_minutes,
            min_calls: spike.min_calls,
        },
        now: now_ms(),
    })
}

#[cfg(feature = "ssr")]
fn view_of(k: gatehouse_core::management::ManagementKey) -> ManagementKeyView {
    ManagementKeyView {
        scopes: k.scopes.names(),
        id: k.id,
        name: k.name,
        hint: k.hint,
        created_by: k.created_by,
        created_at: k.created_at,
        expires_at: k.expires_at,
        revoked_at: k.revoked_at,
        last_used_at: k.last_used_at,
    }
}

/// Creates a management key and reveals it, once.
#[server(endpoint = "management/create")]
pub async fn create_management_key(
    slug: String,
    name: String,
    #[server(default)] scopes: Vec<String>,
    expiry: String,
    #[server(default)] expiry_date: String,
) -> Result<CreatedKey, AppError> {
    use gatehouse_core::{
        keys::KeyName,
        management::{self, ManagementScopes, NewManagementKey},
    };
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let new = NewManagementKey {
        name: KeyName::parse(&name).map_err(fail)?,
        scopes: ManagementScopes::parse(&scopes).map_err(fail)?,
        expiry: super::keys::expiry_choice(&expiry, &expiry_date)?,
    };
    let (key, token) = management::create(&ctx.db, &actor(&user_id).await, &slug, new).await.map_err(fail)?;
    super::keys::no_store();
    tracing::info!(key_id = %key.id, "management key created");
    Ok(CreatedKey { id: key.id, name: key.name, hint: key.hint, secret: token.expose().to_owned() })
}

/// Revokes a management key at once.
#[server(endpoint = "management/revoke")]
pub async fn revoke_management_key(slug: String, key_id: String) -> Result<(), AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    gatehouse_core::management::revoke(&ctx.db, &actor(&user_id).await, &slug, &key_id).await.map_err(fail)?;
    tracing::info!(%key_id, "management key revoked");
    Ok(())
}

/// Sets the error-spike alert: a percentage (empty: off), a window in minutes, a least number of calls.
#[server(endpoint = "management/error-spike")]
pub async fn set_error_spike(
    slug: String,
    #[server(default)] percent: String,
    window_minutes: String,
    min_calls: String,
) -> Result<(), AppError> {
    use gatehouse_core::{CoreError, watch};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let number = |field: &'static str, value: &str, message: &'static str| {
        value.trim().parse::<i64>().map_err(|_| fail(CoreError::invalid(field, message)))
    };
    let percent = match percent.trim() {
        "" => None,
        p => Some(number("error_spike_percent", p, "Give a percentage from 1 to 100, or leave it empty.")?),
    };
    let spike = watch::ErrorSpike {
        percent,
        window_minutes: number("error_spike_window_minutes", &window_minutes, "Give a window from 5 to 1440 minutes.")?,
        min_calls: number("error_spike_min_calls", &min_calls, "Give a number of calls from 1 to 100000.")?,
    };
    watch::set_error_spike_as(&ctx.db, &actor(&user_id).await, &slug, spike).await.map_err(fail)
}
