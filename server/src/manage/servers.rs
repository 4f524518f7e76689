//! `/v1/servers`: the workspace's upstream MCP servers (the gateway): list, add, edit, remove.
//! Credential header values are write-only: stored sealed, never answered.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use gatehouse_core::{
    management::ManagementScope,
    servers::{
        self, CredentialHeaders, DEFAULT_TIMEOUT, NewServer, ServerChanges, ServerName, ServerSlug, UpstreamUrl,
        parse_timeout,
    },
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    auth::Manager,
    body::Body,
    keys::EnvironmentName,
    views::{List, ServerView},
};
use crate::{api::error::ApiError, state::AppState};

fn headers(map: BTreeMap<String, String>) -> Result<CredentialHeaders, ApiError> {
    Ok(CredentialHeaders::from_pairs(map.into_iter().collect())?)
}

fn timeout(seconds: i64) -> Result<std::time::Duration, ApiError> {
    Ok(parse_timeout(&format!("{seconds}s"))?)
}

/// The workspace's upstream servers.
#[utoipa::path(get, operation_id = "servers_list", path = "/v1/servers", tag = "servers",
    security(("management_key" = ["servers:read"])),
    responses((status = 200, description = "OK", body = List<ServerView>), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn list(State(state): State<AppState>, m: Manager) -> Result<Json<List<ServerView>>, ApiError> {
    m.require(ManagementScope::ServersRead)?;
    let listed = servers::list_in(&state.db, m.workspace_id()).await?;
    Ok(Json(List { data: listed.into_iter().map(Into::into).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddServer {
    name: String,
    /// `[a-z0-9-]`, unique in the workspace; made from the name when absent.
    slug: Option<String>,
    /// The server's Streamable HTTP endpoint, `https://…/mcp`.
    url: String,
    environment: EnvironmentName,
    /// 1 to 300 (default 60).
    timeout_seconds: Option<i64>,
    /// Headers Gatehouse sends the server (its own credential), such as `{"Authorization": "Bearer …"}`.
    headers: Option<BTreeMap<String, String>>,
    /// Also send who is calling as a signed JWT (`Gatehouse-Identity`).
    send_identity: Option<bool>,
}

/// Adds an upstream server. Its address must be public unless the operator set
/// `GATEHOUSE_UPSTREAMS_ALLOW_PRIVATE=true`.
#[utoipa::path(post, operation_id = "servers_add", path = "/v1/servers", tag = "servers", request_body = AddServer,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    security(("management_key" = ["servers:write"])),
    responses((status = 201, description = "Created", body = ServerView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    m: Manager,
    Body(body): Body<AddServer>,
) -> Result<(StatusCode, Json<ServerView>), ApiError> {
    m.require(ManagementScope::ServersWrite)?;
    let new = NewServer {
        name: ServerName::parse(&body.name)?,
        slug: body.slug.as_deref().map(ServerSlug::parse).transpose()?,
        url: UpstreamUrl::parse(&body.url)?,
        environment: body.environment.into(),
        timeout: body.timeout_seconds.map(timeout).transpose()?.unwrap_or(DEFAULT_TIMEOUT),
        headers: headers(body.headers.unwrap_or_default())?,
        send_identity: body.send_identity.unwrap_or(false),
        allow_private: state.config.upstreams_allow_private,
    };
    let added = servers::add_in(&state.db, &state.keyring, m.workspace_id(), Some(&m.actor), new).await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServer {
    name: Option<String>,
    url: Option<String>,
    environment: Option<EnvironmentName>,
    timeout_seconds: Option<i64>,
    enabled: Option<bool>,
    /// Replaces every credential header (`{}` removes them).
    headers: Option<BTreeMap<String, String>>,
    send_identity: Option<bool>,
    /// The tools switched off (replaces the list).
    disabled_tools: Option<Vec<String>>,
}

/// Edits an upstream server; the fields left out keep their values.
#[utoipa::path(patch, operation_id = "servers_update", path = "/v1/servers/{slug}", tag = "servers", request_body = UpdateServer,
    params(("slug" = String, Path, description = "The server's slug")),
    security(("management_key" = ["servers:write"])),
    responses((status = 200, description = "OK", body = ServerView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    m: Manager,
    Path(slug): Path<String>,
    Body(body): Body<UpdateServer>,
) -> Result<Json<ServerView>, ApiError> {
    m.require(ManagementScope::ServersWrite)?;
    let changes = ServerChanges {
        name: body.name.as_deref().map(ServerName::parse).transpose()?,
        url: body.url.as_deref().map(UpstreamUrl::parse).transpose()?,
        environment: body.environment.map(Into::into),
        timeout: body.timeout_seconds.map(timeout).transpose()?,
        enabled: body.enabled,
        headers: body.headers.map(headers).transpose()?,
        send_identity: body.send_identity,
        disabled_tools: body.disabled_tools,
    };
    let updated =
        servers::update_in(&state.db, &state.keyring, m.workspace_id(), Some(&m.actor), &slug, changes).await?;
    Ok(Json(updated.into()))
}

/// Removes an upstream server; keys and connectors no longer reach it.
#[utoipa::path(delete, operation_id = "servers_remove", path = "/v1/servers/{slug}", tag = "servers",
    params(("slug" = String, Path, description = "The server's slug")),
    security(("management_key" = ["servers:write"])),
    responses((status = 200, description = "OK", body = ServerView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    m: Manager,
    Path(slug): Path<String>,
) -> Result<Json<ServerView>, ApiError> {
    m.require(ManagementScope::ServersWrite)?;
    Ok(Json(servers::remove_in(&state.db, m.workspace_id(), Some(&m.actor), &slug).await?.into()))
}
