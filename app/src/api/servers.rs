//! Server functions of the Servers page: a workspace's upstream MCP servers — listed with their
//! health, tools and calls; added (credential headers sealed, never shown again); tested; their
//! tools switched off or on; switched off; removed. Members see the list; admins and owners change it.
// A server function takes one argument per form field, and some forms have more than seven.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::context::{actor, fail, require_user_id, server_context};
use crate::error::AppError;

/// A tool as "Test connection" found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolView {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Plain words for the annotations: read-only, destructive, idempotent, open world.
    pub annotations: Vec<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerView {
    pub slug: String,
    pub name: String,
    pub url: String,
    pub environment: String,
    pub enabled: bool,
    pub timeout_secs: i64,
    pub credential_names: Vec<String>,
    pub send_identity: bool,
    pub disabled_tools: Vec<String>,
    /// unknown, up or down.
    pub health: String,
    pub checked_at: Option<i64>,
    pub last_error: Option<String>,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub protocol_version: Option<String>,
    pub tool_count: Option<i64>,
    pub calls_24h: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServersPage {
    pub servers: Vec<ServerView>,
    pub can_manage: bool,
    pub public_url: String,
}

/// What a connection test found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestView {
    /// The server tested (its slug).
    pub server_slug: String,
    pub server_name: String,
    pub server_version: String,
    pub protocol_version: String,
    pub tools: Vec<ToolView>,
}

#[cfg(feature = "ssr")]
fn view_of(s: gatehouse_core::servers::UpstreamServer, calls_24h: i64) -> ServerView {
    ServerView {
        timeout_secs: s.timeout_ms / 1000,
        environment: s.environment.as_str().to_owned(),
        health: s.health.status,
        checked_at: s.health.checked_at,
        last_error: s.health.error,
        server_name: s.health.server_name,
        server_version: s.health.server_version,
        protocol_version: s.health.protocol_version,
        tool_count: s.health.tool_count,
        slug: s.slug,
        name: s.name,
        url: s.url,
        enabled: s.enabled,
        credential_names: s.credential_names,
        send_identity: s.send_identity,
        disabled_tools: s.disabled_tools,
        calls_24h,
    }
}

#[server(endpoint = "servers/list")]
pub async fn list_servers(slug: String) -> Result<ServersPage, AppError> {
    use gatehouse_core::{
        clock::{DAY, now_ms},
        usage, workspaces,
    };
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let m = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    let calls = usage::calls_by_server(&ctx.db, &m.workspace.id, now_ms() - DAY).await.map_err(fail)?;
    let servers = gatehouse_core::servers::list_in(&ctx.db, &m.workspace.id)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|s| {
            let n = calls.get(&s.slug).copied().unwrap_or(0);
            view_of(s, n)
        })
        .collect();
    Ok(ServersPage { servers, can_manage: m.role.can_manage_access(), public_url: ctx.public_url.clone() })
}

/// Adds a server; its credential headers are sealed and never shown again.
#[server(endpoint = "servers/add")]
pub async fn add_server(
    slug: String,
    name: String,
    #[server(default)] server_slug: String,
    url: String,
    environment: String,
    #[server(default)] timeout: String,
    #[server(default)] headers: String,
    #[server(default)] send_identity: String,
) -> Result<String, AppError> {
    use gatehouse_core::{
        CoreError,
        keys::Environment,
        servers::{
            self, CredentialHeaders, DEFAULT_TIMEOUT, NewServer, ServerName, ServerSlug, UpstreamUrl, parse_timeout,
        },
    };
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let new = NewServer {
        name: ServerName::parse(&name).map_err(fail)?,
        slug: match server_slug.trim() {
            "" => None,
            s => Some(ServerSlug::parse(s).map_err(fail)?),
        },
        url: UpstreamUrl::parse(&url).map_err(fail)?,
        environment: Environment::parse(&environment)
            .ok_or_else(|| fail(CoreError::invalid("environment", "Choose live or test.")))?,
        timeout: match timeout.trim() {
            "" => DEFAULT_TIMEOUT,
            t => parse_timeout(t).map_err(fail)?,
        },
        headers: CredentialHeaders::parse(&headers).map_err(fail)?,
        send_identity: matches!(send_identity.as_str(), "on" | "true"),
        allow_private: ctx.upstreams_allow_private,
    };
    let added = servers::add(&ctx.db, &ctx.keyring, &actor(&user_id).await, &slug, new).await.map_err(fail)?;
    tracing::info!(server = %added.id, "upstream server added");
    Ok(added.slug)
}

/// Connects to the server now: what it is and its tools (with whether each is switched on).
#[server(endpoint = "servers/test")]
pub async fn test_server(slug: String, server_slug: String) -> Result<TestView, AppError> {
    use gatehouse_core::{CoreError, workspaces};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let m = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    let server = gatehouse_core::servers::get_in(&ctx.db, &m.workspace.id, &server_slug).await.map_err(fail)?;
    let disabled = server.disabled_tools.clone();
    let found = ctx.prober.probe(server).await.map_err(|why| fail(CoreError::Conflict(why)))?;
    Ok(TestView {
        server_slug,
        server_name: found.server_name,
        server_version: found.server_version,
        protocol_version: found.protocol_version,
        tools: found
            .tools
            .into_iter()
            .map(|t| {
                let mut annotations = Vec::new();
                for (flag, word) in [
                    (t.read_only, "read-only"),
                    (t.destructive, "destructive"),
                    (t.idempotent, "idempotent"),
                    (t.open_world, "open world"),
                ] {
                    if flag == Some(true) {
                        annotations.push(word.to_owned());
                    }
                }
                ToolView {
                    enabled: !disabled.contains(&t.name),
                    name: t.name,
                    title: t.title,
                    description: t.description,
                    annotations,
                }
            })
            .collect(),
    })
}

/// Switches one tool of a server off or on.
#[server(endpoint = "servers/tool")]
pub async fn set_server_tool(slug: String, server_slug: String, tool: String, enabled: String) -> Result<(), AppError> {
    use gatehouse_core::{servers, workspaces};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let m = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    let current = servers::get_in(&ctx.db, &m.workspace.id, &server_slug).await.map_err(fail)?;
    let mut disabled = current.disabled_tools;
    disabled.retain(|t| t != &tool);
    if enabled != "true" {
        disabled.push(tool);
    }
    let changes = servers::ServerChanges { disabled_tools: Some(disabled), ..Default::default() };
    servers::update(&ctx.db, &ctx.keyring, &actor(&user_id).await, &slug, &server_slug, changes).await.map_err(fail)?;
    Ok(())
}

/// Switches a whole server off or on.
#[server(endpoint = "servers/enable")]
pub async fn set_server_enabled(slug: String, server_slug: String, enabled: String) -> Result<(), AppError> {
    use gatehouse_core::servers;
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let changes = servers::ServerChanges { enabled: Some(enabled == "true"), ..Default::default() };
    servers::update(&ctx.db, &ctx.keyring, &actor(&user_id).await, &slug, &server_slug, changes).await.map_err(fail)?;
    Ok(())
}

/// Removes a server; keys and connectors naming it reach it no more.
#[server(endpoint = "servers/remove")]
pub async fn remove_server(slug: String, server_slug: String) -> Result<(), AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    gatehouse_core::servers::remove(&ctx.db, &actor(&user_id).await, &slug, &server_slug).await.map_err(fail)?;
    Ok(())
}
