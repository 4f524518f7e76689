//! The management API: `/v1/…` endpoints for scripts that do what an admin does in the dashboard
//! (keys, connectors, upstream servers, usage, the audit log, webhooks, members), authenticated
//! with management keys (`sk_live_…`) and described by the OpenAPI 3.1 document at
//! `/v1/openapi.json`, which is generated from these handlers and their types. See docs/api.md.

mod audit;
mod auth;
mod body;
mod connectors;
mod idempotency;
mod keys;
mod leaked;
mod members;
mod servers;
mod usage;
mod views;
mod webhooks;

use std::sync::OnceLock;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, header};
use serde::Serialize;
use tower_http::{limit::RequestBodyLimitLayer, set_header::SetResponseHeaderLayer};
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use body::MAX_BODY_BYTES;

use crate::state::AppState;

/// Every error of the API: a stable code, a message for people, and what to do next.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// `INVALID_REQUEST`, `INVALID_ARGUMENT`, `NOT_FOUND`, `SCOPE_MISSING`, `WRONG_KEY_TYPE`, …
    pub code: String,
    pub message: String,
    pub next_action: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse API",
        version = "1",
        description = "Manage a Gatehouse workspace from scripts: API keys, connectors, upstream servers, usage, \
                       the audit log, webhooks and members (management keys, `sk_live_…`), and the runner protocol \
                       (API keys, `pk_…`). Errors are `{code, message, next_action}`. See docs/api.md."
    ),
    modifiers(&Security),
    components(schemas(keys::StatusName, keys::EnvironmentName)),
    tags(
        (name = "keys", description = "API keys"),
        (name = "connectors", description = "OAuth connections of chat clients and CLIs"),
        (name = "servers", description = "Upstream MCP servers behind the gateway"),
        (name = "usage", description = "The usage report"),
        (name = "audit", description = "The audit log"),
        (name = "webhooks", description = "Webhook endpoints and deliveries"),
        (name = "members", description = "The workspace's members"),
        (name = "runner", description = "The runner protocol and whoami, with API keys"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The two kinds of bearer credential.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.description = Some(description.to_owned());
            SecurityScheme::Http(http)
        };
        components.add_security_scheme(
            "management_key",
            bearer("A management key, `sk_live_…` (`gatehouse admin-key create`); the scopes listed are required."),
        );
        components.add_security_scheme(
            "api_key",
            bearer("An API key, `pk_live_…` or `pk_test_…`, or an OAuth access token."),
        );
    }
}

/// The routes of the `/v1` API and their document; every `/v1` route is made here, through
/// `routes!`, so none can be served without being described.
fn routes(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let management = OpenApiRouter::new()
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::get, keys::update))
        .routes(routes!(keys::roll))
        .routes(routes!(keys::revoke))
        .routes(routes!(keys::addresses))
        .routes(routes!(connectors::list))
        .routes(routes!(connectors::remove))
        .routes(routes!(connectors::move_to))
        .routes(routes!(connectors::addresses))
        .routes(routes!(servers::list, servers::add))
        .routes(routes!(servers::update, servers::remove))
        .routes(routes!(usage::report))
        .routes(routes!(audit::list))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::remove))
        .routes(routes!(webhooks::roll_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(members::list, members::add))
        .routes(routes!(members::change_role, members::remove))
        .layer(middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Answers hold keys, secrets and workspace data: no cache keeps them.
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    let open = OpenApiRouter::new()
        .routes(routes!(leaked::report))
        .routes(routes!(openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(management)
        .merge(open)
        .merge(crate::api::routes().layer(RequestBodyLimitLayer::new(crate::startup::MAX_BODY_BYTES)))
        .split_for_parts()
}

/// The document, made once with the routes.
static DOCUMENT: OnceLock<String> = OnceLock::new();

/// The `/v1` router: the management API (with its `Idempotency-Key` layer and body limit), the
/// leaked-key report, the runner protocol and whoami, and `/v1/openapi.json`.
pub fn router(state: &AppState) -> Router<AppState> {
    let (router, doc) = routes(state);
    DOCUMENT.get_or_init(|| doc.to_json().unwrap_or_else(|_| "{}".to_owned()));
    router
}

/// This document: the OpenAPI 3.1 description of every `/v1` route.
#[utoipa::path(get, operation_id = "openapi", path = "/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
async fn openapi() -> Response {
    let json = DOCUMENT.get().cloned().unwrap_or_else(|| "{}".to_owned());
    let mut response = json.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
