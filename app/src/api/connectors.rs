//! Server functions of the Connectors page: list a workspace's connections (members), remove
//! or rebind one (admins and owners).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::context::{actor, fail, require_user_id, server_context};
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorView {
    pub id: String,
    pub client_name: String,
    pub redirect_host: Option<String>,
    /// authorization_code (a chat client) or device_code (a CLI).
    pub kind: String,
    pub scopes: Vec<String>,
    pub approved_by: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// Where it was used from: the latest address and how many are kept (admins only).
    pub used_from: Option<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorsPage {
    pub connectors: Vec<ConnectorView>,
    pub can_manage: bool,
    /// Other workspaces the person may move connectors into: (slug, name).
    pub targets: Vec<(String, String)>,
    pub workspace_name: String,
}

#[server(endpoint = "connectors/list")]
pub async fn list_connectors(slug: String) -> Result<ConnectorsPage, AppError> {
    use gatehouse_core::{oauth, workspaces};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let m = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    let connectors = oauth::list_connectors_in(&ctx.db, &m.workspace.id).await.map_err(fail)?;
    let targets = workspaces::list_for_user(&ctx.db, &user_id)
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|t| t.workspace.id != m.workspace.id && t.role.can_manage_access())
        .map(|t| (t.workspace.slug, t.workspace.name))
        .collect();
    let can_manage = m.role.can_manage_access();
    // Where connectors are used from is for those who manage them, as the audit log is.
    let mut used_from = if can_manage {
        let ids: Vec<&str> = connectors.iter().map(|c| c.id.as_str()).collect();
        gatehouse_core::watch::address_summaries(&ctx.db, &m.workspace.id, &ids).await.map_err(fail)?
    } else {
        Default::default()
    };
    Ok(ConnectorsPage {
        connectors: connectors
            .into_iter()
            .map(|c| {
                let pending = ctx.keys.connector_last_used.pending(&c.id);
                ConnectorView {
                    used_from: used_from.remove(&c.id).map(|s| (s.latest, s.count)),
                    last_used_at: c.last_used_at.max(pending),
                    id: c.id,
                    client_name: c.client_name,
                    redirect_host: c.redirect_host,
                    kind: c.kind,
                    scopes: c.scopes.names(),
                    approved_by: c.approved_by,
                    created_at: c.created_at,
                    expires_at: c.expires_at,
                }
            })
            .collect(),
        can_manage,
        targets,
        workspace_name: m.workspace.name,
    })
}

/// Removes a connector: its tokens stop working at once.
#[server(endpoint = "connectors/remove")]
pub async fn remove_connector(slug: String, connector_id: String) -> Result<(), AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let who = actor(&user_id).await;
    gatehouse_core::oauth::remove(&ctx.db, &who, &slug, &connector_id).await.map_err(fail)?;
    tracing::info!(%connector_id, "connector removed");
    Ok(())
}

/// Moves a connector to another workspace; the client's next call acts there.
#[server(endpoint = "connectors/rebind")]
pub async fn rebind_connector(slug: String, connector_id: String, to: String) -> Result<String, AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let who = actor(&user_id).await;
    let c = gatehouse_core::oauth::rebind(&ctx.db, &who, &slug, &connector_id, &to).await.map_err(fail)?;
    tracing::info!(%connector_id, "connector rebound");
    Ok(format!("{} now works in the other workspace.", c.client_name))
}
