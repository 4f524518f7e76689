//! `/v1/keys`: list, create, read, edit, roll and revoke API keys, and the addresses a key is used
//! from. Every change is the domain's own (the same audit entry and webhook event as the
//! dashboard's), with the management key as the actor.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use gatehouse_core::{
    CoreError,
    clock::now_ms,
    keys::{self, Environment, ExpiryChoice, Grace, KeyEdit, KeyName, KeyQuery, KeyStatus, NewKey},
    management::ManagementScope,
    net::Networks,
    paging::{Seek, page_size},
    scopes::ScopeSet,
    servers::ServerAccess,
    watch,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::Manager,
    body::{Body, OptionalBody, Params},
    views::{AddressView, CreatedKeyView, KeyView, List, Page},
};
use crate::{api::error::ApiError, state::AppState};

/// `live` or `test`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentName {
    Live,
    Test,
}

impl From<EnvironmentName> for Environment {
    fn from(e: EnvironmentName) -> Self {
        match e {
            EnvironmentName::Live => Environment::Live,
            EnvironmentName::Test => Environment::Test,
        }
    }
}

/// `active`, `expiring`, `expired` or `revoked`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusName {
    Active,
    Expiring,
    Expired,
    Revoked,
}

impl From<StatusName> for KeyStatus {
    fn from(s: StatusName) -> Self {
        match s {
            StatusName::Active => KeyStatus::Active,
            StatusName::Expiring => KeyStatus::Expiring,
            StatusName::Expired => KeyStatus::Expired,
            StatusName::Revoked => KeyStatus::Revoked,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListKeys {
    /// Only keys in this status.
    status: Option<StatusName>,
    /// Only keys of this environment.
    environment: Option<EnvironmentName>,
    /// Only keys whose name contains this (case-insensitive).
    name: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Keys per page, 1 to 100 (default 50).
    limit: Option<i64>,
}

/// The workspace's API keys, newest first.
#[utoipa::path(get, operation_id = "keys_list", path = "/v1/keys", tag = "keys", params(ListKeys),
    security(("management_key" = ["keys:read"])),
    responses((status = 200, description = "OK", body = Page<KeyView>), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    m: Manager,
    Params(q): Params<ListKeys>,
) -> Result<Json<Page<KeyView>>, ApiError> {
    m.require(ManagementScope::KeysRead)?;
    let after = q.cursor.as_deref().map(|c| Seek::decode(c, m.workspace_id())).transpose()?;
    let query = KeyQuery {
        status: q.status.map(Into::into),
        environment: q.environment.map(Into::into),
        name: q.name.unwrap_or_default(),
    };
    let (keys, next) =
        keys::seek_in(&state.db, m.workspace_id(), &query, after.as_ref(), page_size(q.limit), now_ms()).await?;
    Ok(Json(Page {
        data: keys.into_iter().map(Into::into).collect(),
        next_cursor: next.map(|s| s.encode(m.workspace_id())),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// 1 to 64 characters.
    name: String,
    /// API scopes, such as `agents:read` (see docs/api-keys.md).
    scopes: Vec<String>,
    environment: EnvironmentName,
    /// Days until it stops working, 1 to 3650; absent for no expiry (unless the workspace's policy sets one).
    expires_in_days: Option<i64>,
    /// Upstream servers it may reach: slugs, `slug/tool`, or `*`; absent or empty for none.
    servers: Option<Vec<String>>,
    /// CIDR ranges it may be used from; absent or empty for anywhere.
    allowed_ips: Option<Vec<String>>,
    /// Agent and app ids it is limited to; absent for all of the workspace's.
    resources: Option<Vec<String>>,
    /// Requests per minute; absent for the workspace's default.
    rate_limit_per_minute: Option<i64>,
}

fn expiry(days: Option<i64>) -> Result<ExpiryChoice, CoreError> {
    match days {
        None => Ok(ExpiryChoice::Never),
        Some(n) if n < 1 => Err(CoreError::invalid(
            "expires_in_days",
            "Give 1 or more days; a key cannot expire in the past. Leave it out for no expiry.",
        )),
        Some(n) => Ok(ExpiryChoice::Days(n)),
    }
}

fn resources(ids: Option<Vec<String>>) -> Option<Vec<String>> {
    ids.map(|ids| ids.into_iter().filter(|r| !r.trim().is_empty()).collect::<Vec<_>>()).filter(|ids| !ids.is_empty())
}

/// Creates a key; the answer holds the secret as `key`, this once.
#[utoipa::path(post, operation_id = "keys_create", path = "/v1/keys", tag = "keys", request_body = CreateKey,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely: the same key and body within 24 hours returns the first answer")),
    security(("management_key" = ["keys:write"])),
    responses((status = 201, description = "Created", body = CreatedKeyView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    m: Manager,
    Body(body): Body<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKeyView>), ApiError> {
    m.require(ManagementScope::KeysWrite)?;
    let new = NewKey {
        name: KeyName::parse(&body.name)?,
        environment: body.environment.into(),
        scopes: ScopeSet::parse_for_key(&body.scopes)?,
        expiry: expiry(body.expires_in_days)?,
        resources: resources(body.resources),
        rate_limit_per_minute: body.rate_limit_per_minute,
        servers: ServerAccess::parse(&body.servers.unwrap_or_default().join(","))?,
        allowed_ips: Some(Networks::parse("allowed_ips", &body.allowed_ips.unwrap_or_default())?),
    };
    let (key, token) = keys::create_in(&state.db, m.workspace_id(), Some(&m.actor), new).await?;
    tracing::info!(key_id = %key.id, management_key = %m.key.key_id, "API key created through the management API");
    Ok((StatusCode::CREATED, Json(CreatedKeyView { key: key.into(), secret: token.expose().to_owned() })))
}

/// One key.
#[utoipa::path(get, operation_id = "keys_get", path = "/v1/keys/{id}", tag = "keys", params(("id" = String, Path, description = "The key's id")),
    security(("management_key" = ["keys:read"])),
    responses((status = 200, description = "OK", body = KeyView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn get(State(state): State<AppState>, m: Manager, Path(id): Path<String>) -> Result<Json<KeyView>, ApiError> {
    m.require(ManagementScope::KeysRead)?;
    Ok(Json(keys::get_in(&state.db, m.workspace_id(), &id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateKey {
    name: Option<String>,
    scopes: Option<Vec<String>>,
    /// Replaces the servers it may reach (`[]` for none).
    servers: Option<Vec<String>>,
    /// Replaces the ranges it may be used from (`[]` for anywhere).
    allowed_ips: Option<Vec<String>>,
    /// Replaces the agent and app ids it is limited to (`[]` for all).
    resources: Option<Vec<String>>,
    /// Requests per minute; `null` for the workspace's default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    rate_limit_per_minute: Option<Option<i64>>,
}

/// A field that may be absent (keep), `null` (clear) or a value.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// Edits a key; the fields left out keep their values. Takes effect on the key's next request.
#[utoipa::path(patch, operation_id = "keys_update", path = "/v1/keys/{id}", tag = "keys", request_body = UpdateKey,
    params(("id" = String, Path, description = "The key's id")),
    security(("management_key" = ["keys:write"])),
    responses((status = 200, description = "OK", body = KeyView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
    Body(body): Body<UpdateKey>,
) -> Result<Json<KeyView>, ApiError> {
    m.require(ManagementScope::KeysWrite)?;
    let current = keys::get_in(&state.db, m.workspace_id(), &id).await?;
    let edit = KeyEdit {
        name: KeyName::parse(body.name.as_deref().unwrap_or(&current.name))?,
        scopes: match &body.scopes {
            Some(scopes) => ScopeSet::parse_for_key(scopes)?,
            None => current.scopes.clone(),
        },
        resources: match body.resources {
            Some(ids) => resources(Some(ids)),
            None => current.resources.clone(),
        },
        rate_limit_per_minute: body.rate_limit_per_minute.unwrap_or(current.rate_limit_per_minute),
        servers: body.servers.map(|s| ServerAccess::parse(&s.join(","))).transpose()?,
        allowed_ips: body.allowed_ips.map(|ips| Networks::parse("allowed_ips", &ips)).transpose()?,
    };
    Ok(Json(keys::update_in(&state.db, m.workspace_id(), Some(&m.actor), &id, edit).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RollKey {
    /// How long the old key keeps working: `none`, `1h`, `24h` (default) or `7d`.
    grace: Option<String>,
}

/// Rolls a key: a new key with the same settings (its secret in this answer only); the old one
/// works for the grace period, then stops.
#[utoipa::path(post, operation_id = "keys_roll", path = "/v1/keys/{id}/roll", tag = "keys", request_body(content = Option<RollKey>, description = "Optional"),
    params(("id" = String, Path, description = "The key's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    security(("management_key" = ["keys:write"])),
    responses((status = 201, description = "Created", body = CreatedKeyView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn roll(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
    OptionalBody(body): OptionalBody<RollKey>,
) -> Result<(StatusCode, Json<CreatedKeyView>), ApiError> {
    m.require(ManagementScope::KeysWrite)?;
    let grace = Grace::parse(body.grace.as_deref().unwrap_or("24h"))?;
    let (key, token) = keys::roll_in(&state.db, m.workspace_id(), Some(&m.actor), &id, grace).await?;
    Ok((StatusCode::CREATED, Json(CreatedKeyView { key: key.into(), secret: token.expose().to_owned() })))
}

/// Revokes a key at once, in every process. Revoking a revoked key changes nothing.
#[utoipa::path(post, operation_id = "keys_revoke", path = "/v1/keys/{id}/revoke", tag = "keys",
    params(("id" = String, Path, description = "The key's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    security(("management_key" = ["keys:write"])),
    responses((status = 200, description = "OK", body = KeyView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
) -> Result<Json<KeyView>, ApiError> {
    m.require(ManagementScope::KeysWrite)?;
    Ok(Json(keys::revoke_in(&state.db, m.workspace_id(), Some(&m.actor), &id).await?.into()))
}

/// The addresses a key was used from, most recent first.
#[utoipa::path(get, operation_id = "keys_addresses", path = "/v1/keys/{id}/addresses", tag = "keys",
    params(("id" = String, Path, description = "The key's id")),
    security(("management_key" = ["keys:read"])),
    responses((status = 200, description = "OK", body = List<AddressView>), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn addresses(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
) -> Result<Json<List<AddressView>>, ApiError> {
    m.require(ManagementScope::KeysRead)?;
    keys::get_in(&state.db, m.workspace_id(), &id).await?;
    let seen = watch::addresses_of(&state.db, m.workspace_id(), &id).await?;
    Ok(Json(List { data: seen.into_iter().map(Into::into).collect() }))
}
