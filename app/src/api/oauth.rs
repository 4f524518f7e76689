//! Server functions of the consent page (an OAuth client asks to connect) and the device
//! verification page (a CLI asks to connect). Deciding needs an admin or owner of the chosen
//! workspace; every decision is a POST behind the dashboard's origin check.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::context::{actor, fail, require_user_id, server_context};
use super::keys::ScopeInfo;
use crate::error::AppError;

/// A workspace the person may pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceChoice {
    pub slug: String,
    pub name: String,
    /// Admins and owners may connect apps to it.
    pub can_approve: bool,
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    pub id: String,
    pub client_name: String,
    pub client_uri: Option<String>,
    pub redirect_host: String,
    pub redirect_uri: String,
    /// The host a metadata-document client was fetched from (verified); `None` for a client that
    /// registered itself, whose name is unverified.
    pub verified_host: Option<String>,
    pub scopes: Vec<ScopeInfo>,
    /// pending, approved, denied or expired.
    pub status: String,
    pub workspaces: Vec<WorkspaceChoice>,
    pub lifetimes: Vec<(String, String)>,
    pub email: String,
    /// The live upstream servers of each workspace the person may approve for: (workspace slug,
    /// server slug, server name).
    pub servers: Vec<(String, String, String)>,
    /// The one upstream server the app asked for (its resource is `/mcp/{slug}`), if so.
    pub only_server: Option<String>,
}

/// What the device page shows for a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    pub user_code: String,
    pub client_name: String,
    pub scopes: Vec<ScopeInfo>,
    pub workspaces: Vec<WorkspaceChoice>,
    pub lifetimes: Vec<(String, String)>,
    pub email: String,
}

#[cfg(feature = "ssr")]
fn scope_infos(scopes: &gatehouse_core::scopes::ScopeSet) -> Vec<ScopeInfo> {
    scopes.iter().map(|s| ScopeInfo { name: s.as_str().to_owned(), description: s.description().to_owned() }).collect()
}

#[cfg(feature = "ssr")]
async fn choices(db: &gatehouse_core::Db, user_id: &str) -> Result<Vec<WorkspaceChoice>, AppError> {
    let memberships = gatehouse_core::workspaces::list_for_user(db, user_id).await.map_err(fail)?;
    Ok(memberships
        .into_iter()
        .map(|m| WorkspaceChoice {
            slug: m.workspace.slug,
            name: m.workspace.name,
            can_approve: m.role.can_manage_access(),
        })
        .collect())
}

#[cfg(feature = "ssr")]
fn lifetimes() -> Vec<(String, String)> {
    gatehouse_core::oauth::Lifetime::CHOICES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect()
}

#[cfg(feature = "ssr")]
async fn email_of(db: &gatehouse_core::Db, user_id: &str) -> Result<String, AppError> {
    Ok(gatehouse_core::accounts::find_user(db, user_id).await.map_err(fail)?.map(|u| u.email).unwrap_or_default())
}

/// The servers a person ticked, as `slug@workspace` values (the form lists the servers of every
/// workspace they may pick); only those of the chosen workspace count, `*` for all.
#[cfg(feature = "ssr")]
fn chosen_servers(workspace: &str, ticked: Vec<String>) -> Result<gatehouse_core::servers::ServerAccess, AppError> {
    let items: Vec<&str> = ticked
        .iter()
        .filter_map(|v| v.rsplit_once('@').filter(|(_, ws)| *ws == workspace).map(|(item, _)| item))
        .collect();
    gatehouse_core::servers::ServerAccess::parse(&items.join(",")).map_err(fail)
}

/// The authorization request behind a consent page.
#[server(endpoint = "oauth/consent")]
pub async fn load_consent(id: String) -> Result<ConsentView, AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let request = gatehouse_core::oauth::consent_request(&ctx.db, &id).await.map_err(fail)?;
    let status = match request.status {
        gatehouse_core::oauth::ConsentStatus::Pending => "pending",
        gatehouse_core::oauth::ConsentStatus::Approved => "approved",
        gatehouse_core::oauth::ConsentStatus::Denied => "denied",
        gatehouse_core::oauth::ConsentStatus::Expired => "expired",
    };
    let workspaces = choices(&ctx.db, &user_id).await?;
    let mut servers = Vec::new();
    for w in workspaces.iter().filter(|w| w.can_approve) {
        let ws = gatehouse_core::workspaces::find_by_slug(&ctx.db, &w.slug).await.map_err(fail)?;
        for s in gatehouse_core::servers::list_in(&ctx.db, &ws.id).await.map_err(fail)? {
            if s.environment == gatehouse_core::keys::Environment::Live {
                servers.push((w.slug.clone(), s.slug, s.name));
            }
        }
    }
    let only_server = gatehouse_core::oauth::server_of_resource(&request.resource, &ctx.public_url).map(str::to_owned);
    Ok(ConsentView {
        servers,
        only_server,
        id: request.id,
        client_name: request.client_name,
        client_uri: request.client_uri,
        redirect_host: request.redirect_host,
        redirect_uri: request.redirect_uri,
        verified_host: request.verified_host,
        scopes: scope_infos(&request.scopes),
        status: status.to_owned(),
        workspaces,
        lifetimes: lifetimes(),
        email: email_of(&ctx.db, &user_id).await?,
    })
}

/// Approves: the browser goes back to the client with a code.
#[server(endpoint = "oauth/approve")]
pub async fn approve_consent(
    id: String,
    workspace: String,
    lifetime: String,
    #[server(default)] servers: Vec<String>,
) -> Result<(), AppError> {
    use gatehouse_core::oauth::{self, Lifetime};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let lifetime = Lifetime::parse(&lifetime).map_err(fail)?;
    let servers = chosen_servers(&workspace, servers)?;
    let who = actor(&user_id).await;
    let url = oauth::approve(&ctx.db, &who, &id, &workspace, lifetime, &ctx.public_url, servers).await.map_err(fail)?;
    tracing::info!(request = %id, "OAuth request approved");
    leptos_axum::redirect(&url);
    Ok(())
}

/// Denies: the browser goes back to the client with `error=access_denied`.
#[server(endpoint = "oauth/deny")]
pub async fn deny_consent(id: String) -> Result<(), AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let who = actor(&user_id).await;
    let url = gatehouse_core::oauth::deny(&ctx.db, &who, &id, &ctx.public_url).await.map_err(fail)?;
    tracing::info!(request = %id, "OAuth request denied");
    leptos_axum::redirect(&url);
    Ok(())
}

/// The device waiting for a user code; `None` when no code was given yet (the person must be
/// signed in either way).
#[server(endpoint = "device/lookup")]
pub async fn lookup_device(user_code: String) -> Result<Option<DeviceView>, AppError> {
    let user_id = require_user_id().await?;
    if user_code.trim().is_empty() {
        return Ok(None);
    }
    let ctx = server_context()?;
    let request =
        gatehouse_core::oauth::device_request(&ctx.db, &ctx.throttle, &user_id, &user_code).await.map_err(fail)?;
    Ok(Some(DeviceView {
        user_code: request.user_code,
        client_name: request.client_name,
        scopes: scope_infos(&request.scopes),
        workspaces: choices(&ctx.db, &user_id).await?,
        lifetimes: lifetimes(),
        email: email_of(&ctx.db, &user_id).await?,
    }))
}

/// Approves the device; its polling receives tokens. Returns what was approved, for the page.
#[server(endpoint = "device/approve")]
pub async fn approve_device(
    user_code: String,
    workspace: String,
    lifetime: String,
    #[server(default)] servers: Vec<String>,
) -> Result<String, AppError> {
    use gatehouse_core::oauth::{self, Lifetime};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let lifetime = Lifetime::parse(&lifetime).map_err(fail)?;
    let servers = chosen_servers(&workspace, servers)?;
    let who = actor(&user_id).await;
    let request = oauth::approve_device(&ctx.db, &who, &user_code, &workspace, lifetime, &ctx.public_url, servers)
        .await
        .map_err(fail)?;
    tracing::info!("device approved");
    Ok(format!("{} is connected. Go back to your terminal: it will continue by itself.", request.client_name))
}

/// Denies the device; its polling answers `access_denied`.
#[server(endpoint = "device/deny")]
pub async fn deny_device(user_code: String) -> Result<String, AppError> {
    require_user_id().await?;
    let ctx = server_context()?;
    gatehouse_core::oauth::deny_device(&ctx.db, &user_code).await.map_err(fail)?;
    Ok("Denied. The device was told no, and nothing was connected.".to_owned())
}
