//! Server functions of the Webhooks page (admins and owners): endpoints with their events and
//! signing secret, a test event, the delivery log, redelivery, rolling the secret, deleting.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::context::{actor, fail, require_user_id, server_context};
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub next_attempt_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub secret: String,
    pub previous_secret_expires_at: Option<i64>,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksPage {
    pub endpoints: Vec<EndpointView>,
    /// (event, what it means).
    pub events: Vec<(String, String)>,
    pub now: i64,
    /// The daily alert of live calls, if set.
    pub usage_threshold: Option<i64>,
}

#[server(endpoint = "webhooks/list")]
pub async fn list_webhooks(slug: String) -> Result<WebhooksPage, AppError> {
    use gatehouse_core::{clock::now_ms, webhooks};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let mut endpoints = Vec::new();
    for (e, deliveries) in webhooks::list(&ctx.db, &user_id, &slug, 20).await.map_err(fail)? {
        endpoints.push(EndpointView {
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryView {
                    id: d.id,
                    event_type: d.event_type,
                    status: d.status,
                    attempts: d.attempts,
                    last_status_code: d.last_status_code,
                    last_error: d.last_error,
                    created_at: d.created_at,
                    next_attempt_at: d.next_attempt_at,
                })
                .collect(),
            id: e.id,
            url: e.url,
            description: e.description,
            events: e.events,
            secret: e.secret,
            previous_secret_expires_at: e.previous_secret_expires_at,
        });
    }
    Ok(WebhooksPage {
        endpoints,
        events: webhooks::EVENTS.iter().map(|(n, d)| ((*n).to_owned(), (*d).to_owned())).collect(),
        now: now_ms(),
        usage_threshold: webhooks::usage_threshold(&ctx.db, &user_id, &slug).await.map_err(fail)?,
    })
}

#[server(endpoint = "webhooks/create")]
pub async fn create_webhook(
    slug: String,
    url: String,
    #[server(default)] description: String,
    #[server(default)] events: Vec<String>,
) -> Result<String, AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let who = actor(&user_id).await;
    let e =
        gatehouse_core::webhooks::create(&ctx.db, &who, &slug, &url, &description, &events, ctx.webhooks_allow_private)
            .await
            .map_err(fail)?;
    Ok(e.id)
}

#[server(endpoint = "webhooks/delete")]
pub async fn delete_webhook(slug: String, endpoint_id: String) -> Result<(), AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    gatehouse_core::webhooks::delete(&ctx.db, &actor(&user_id).await, &slug, &endpoint_id).await.map_err(fail)
}

#[server(endpoint = "webhooks/roll")]
pub async fn roll_webhook_secret(slug: String, endpoint_id: String) -> Result<(), AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    gatehouse_core::webhooks::roll_secret(&ctx.db, &actor(&user_id).await, &slug, &endpoint_id).await.map_err(fail)?;
    Ok(())
}

#[server(endpoint = "webhooks/test")]
pub async fn test_webhook(slug: String, endpoint_id: String) -> Result<String, AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    gatehouse_core::webhooks::send_test(&ctx.db, &actor(&user_id).await, &slug, &endpoint_id).await.map_err(fail)
}

#[server(endpoint = "webhooks/redeliver")]
pub async fn redeliver_webhook(slug: String, delivery_id: String) -> Result<String, AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    gatehouse_core::webhooks::redeliver(&ctx.db, &actor(&user_id).await, &slug, &delivery_id).await.map_err(fail)
}

/// Sets the daily usage alert (empty turns it off).
#[server(endpoint = "webhooks/threshold")]
pub async fn set_usage_threshold(slug: String, threshold: String) -> Result<(), AppError> {
    use gatehouse_core::CoreError;
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let value = match threshold.trim() {
        "" => None,
        t => Some(t.parse::<i64>().map_err(|_| {
            fail(CoreError::invalid(
                "threshold",
                "Enter a whole number of calls, or leave it empty to turn the alert off.",
            ))
        })?),
    };
    gatehouse_core::webhooks::set_usage_threshold(&ctx.db, &actor(&user_id).await, &slug, value).await.map_err(fail)
}
