//! `/v1/connectors`: list, remove and move the workspace's connectors (chat clients and CLIs
//! connected through OAuth), and the addresses each is used from.

use axum::{
    Json,
    extract::{Path, State},
};
use gatehouse_core::{management::ManagementScope, oauth, watch};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    auth::Manager,
    body::Body,
    views::{AddressView, ConnectorView, List},
};
use crate::{api::error::ApiError, state::AppState};

/// The workspace's connectors that still work, newest first.
#[utoipa::path(get, operation_id = "connectors_list", path = "/v1/connectors", tag = "connectors",
    security(("management_key" = ["connectors:read"])),
    responses((status = 200, description = "OK", body = List<ConnectorView>), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn list(State(state): State<AppState>, m: Manager) -> Result<Json<List<ConnectorView>>, ApiError> {
    m.require(ManagementScope::ConnectorsRead)?;
    let connectors = oauth::list_connectors_in(&state.db, m.workspace_id()).await?;
    Ok(Json(List { data: connectors.into_iter().map(Into::into).collect() }))
}

/// Removes a connector: its tokens stop working at once, in every process.
#[utoipa::path(post, operation_id = "connectors_remove", path = "/v1/connectors/{id}/remove", tag = "connectors",
    params(("id" = String, Path, description = "The connector's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    security(("management_key" = ["connectors:write"])),
    responses((status = 200, description = "OK", body = ConnectorView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
) -> Result<Json<ConnectorView>, ApiError> {
    m.require(ManagementScope::ConnectorsWrite)?;
    Ok(Json(oauth::remove_connector_in(&state.db, m.workspace_id(), &m.actor, &id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveConnector {
    /// The slug of the workspace to move it to. The person who made the management key must be
    /// an admin there, and the person who approved the connection a member.
    to: String,
}

/// Moves a connector to another workspace: the client's next call acts there.
#[utoipa::path(post, operation_id = "connectors_move_to", path = "/v1/connectors/{id}/move", tag = "connectors", request_body = MoveConnector,
    params(("id" = String, Path, description = "The connector's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    security(("management_key" = ["connectors:write"])),
    responses((status = 200, description = "OK", body = ConnectorView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn move_to(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
    Body(body): Body<MoveConnector>,
) -> Result<Json<ConnectorView>, ApiError> {
    m.require(ManagementScope::ConnectorsWrite)?;
    let creator = gatehouse_core::management::creator_of(&state.db, &m.key.key_id).await?;
    let moved =
        oauth::move_connector_in(&state.db, m.workspace_id(), &m.actor, creator.as_deref(), &id, body.to.trim())
            .await?;
    Ok(Json(moved.into()))
}

/// The addresses a connector was used from, most recent first.
#[utoipa::path(get, operation_id = "connectors_addresses", path = "/v1/connectors/{id}/addresses", tag = "connectors",
    params(("id" = String, Path, description = "The connector's id")),
    security(("management_key" = ["connectors:read"])),
    responses((status = 200, description = "OK", body = List<AddressView>), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn addresses(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
) -> Result<Json<List<AddressView>>, ApiError> {
    m.require(ManagementScope::ConnectorsRead)?;
    oauth::get_connector_in(&state.db, m.workspace_id(), &id).await?;
    let seen = watch::addresses_of(&state.db, m.workspace_id(), &id).await?;
    Ok(Json(List { data: seen.into_iter().map(Into::into).collect() }))
}
