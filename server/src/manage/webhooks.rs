//! `/v1/webhooks`: webhook endpoints and their deliveries: list, create, roll a secret, remove,
//! redeliver.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use gatehouse_core::{management::ManagementScope, webhooks};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    auth::Manager,
    body::Body,
    views::{DeliveryView, List, QueuedView, WebhookView},
};
use crate::{api::error::ApiError, state::AppState};

/// The workspace's webhook endpoints.
#[utoipa::path(get, operation_id = "webhooks_list", path = "/v1/webhooks", tag = "webhooks",
    security(("management_key" = ["webhooks:read"])),
    responses((status = 200, description = "OK", body = List<WebhookView>), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn list(State(state): State<AppState>, m: Manager) -> Result<Json<List<WebhookView>>, ApiError> {
    m.require(ManagementScope::WebhooksRead)?;
    let listed = webhooks::list_in(&state.db, m.workspace_id()).await?;
    Ok(Json(List { data: listed.into_iter().map(Into::into).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An https (or http) URL that resolves to a public address.
    url: String,
    /// The events to send, such as `key.created`, `key.leaked` (docs/webhooks.md lists them).
    events: Vec<String>,
    /// Up to 200 characters.
    description: Option<String>,
}

/// Adds an endpoint; its signing secret is in the answer (and in later reads).
#[utoipa::path(post, operation_id = "webhooks_create", path = "/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    security(("management_key" = ["webhooks:write"])),
    responses((status = 201, description = "Created", body = WebhookView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    m: Manager,
    Body(body): Body<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    m.require(ManagementScope::WebhooksWrite)?;
    let endpoint = webhooks::create_in(
        &state.db,
        m.workspace_id(),
        &m.actor,
        &body.url,
        body.description.as_deref().unwrap_or(""),
        &body.events,
        state.config.webhooks_allow_private,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(endpoint.into())))
}

/// Removes an endpoint and its pending deliveries.
#[utoipa::path(delete, operation_id = "webhooks_remove", path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    security(("management_key" = ["webhooks:write"])),
    responses((status = 204, description = "Done"), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn remove(State(state): State<AppState>, m: Manager, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    m.require(ManagementScope::WebhooksWrite)?;
    webhooks::delete_in(&state.db, m.workspace_id(), &m.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret; the previous one keeps signing for 24 hours.
#[utoipa::path(post, operation_id = "webhooks_roll_secret", path = "/v1/webhooks/{id}/roll-secret", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    security(("management_key" = ["webhooks:write"])),
    responses((status = 200, description = "OK", body = WebhookView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn roll_secret(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    m.require(ManagementScope::WebhooksWrite)?;
    Ok(Json(webhooks::roll_secret_in(&state.db, m.workspace_id(), &m.actor, &id).await?.into()))
}

/// An endpoint's newest deliveries (up to 100).
#[utoipa::path(get, operation_id = "webhooks_deliveries", path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    security(("management_key" = ["webhooks:read"])),
    responses((status = 200, description = "OK", body = List<DeliveryView>), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
) -> Result<Json<List<DeliveryView>>, ApiError> {
    m.require(ManagementScope::WebhooksRead)?;
    webhooks::get_in(&state.db, m.workspace_id(), &id).await?;
    let log = webhooks::deliveries_of(&state.db, &id, 100).await?;
    Ok(Json(List { data: log.into_iter().map(Into::into).collect() }))
}

/// Sends a delivery again: a new delivery of the same event and body.
#[utoipa::path(post, operation_id = "webhooks_redeliver", path = "/v1/webhooks/deliveries/{id}/redeliver", tag = "webhooks",
    params(("id" = String, Path, description = "The delivery's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    security(("management_key" = ["webhooks:write"])),
    responses((status = 202, description = "Accepted", body = QueuedView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn redeliver(
    State(state): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<QueuedView>), ApiError> {
    m.require(ManagementScope::WebhooksWrite)?;
    let delivery_id = webhooks::redeliver_in(&state.db, m.workspace_id(), &id).await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedView { delivery_id })))
}
