//! Server-side plumbing for server functions: the shared state, the session, and the one place
//! where domain errors become dashboard errors (with an HTTP status and a log line).

use gatehouse_core::{CoreError, Db, accounts::ThrottlePolicy, keys::KeyVerifier};
use http::{StatusCode, header};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::error::AppError;

/// The session key that holds the signed-in user's id.
pub const USER_ID_KEY: &str = "uid";

/// What the server hands every server function and page render.
#[derive(Clone, Debug)]
pub struct ServerContext {
    pub db: Db,
    pub throttle: ThrottlePolicy,
    /// For the last-used times not yet written to the database.
    pub keys: KeyVerifier,
    /// The external base URL: the OAuth issuer.
    pub public_url: String,
    /// Webhook URLs may point at private addresses.
    pub webhooks_allow_private: bool,
    /// Upstream servers added from the dashboard may point at private addresses.
    pub upstreams_allow_private: bool,
    /// The server key, for upstream servers' credentials.
    pub keyring: gatehouse_core::secrets::Keyring,
    /// Tests upstream servers ("Test connection").
    pub prober: std::sync::Arc<dyn gatehouse_core::servers::Prober>,
}

/// The shared state, provided by the server for each request.
pub fn server_context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing from the Leptos context");
        AppError::Internal
    })
}

/// The request's session.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::Internal
    })
}

/// The signed-in user's id, if any.
pub async fn current_user_id() -> Result<Option<String>, AppError> {
    let session = session().await?;
    session.get::<String>(USER_ID_KEY).await.map_err(|e| {
        tracing::error!(error = %e, "session read failed");
        AppError::Internal
    })
}

/// The signed-in user's id, or `SignedOut` (401).
pub async fn require_user_id() -> Result<String, AppError> {
    current_user_id().await?.ok_or_else(|| set_status(AppError::SignedOut, StatusCode::UNAUTHORIZED))
}

/// Answers the page being rendered on the server with a redirect (the `<Redirect>` component
/// does the same in the browser).
pub fn redirect_page(path: &str) {
    if let Some(options) = use_context::<ResponseOptions>() {
        options.set_status(StatusCode::FOUND);
        if let Ok(value) = http::HeaderValue::from_str(path) {
            options.insert_header(header::LOCATION, value);
        }
    }
}

/// The client's address as the server found it (behind trusted proxies too), when it knows one.
pub async fn client_ip() -> Option<String> {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let parts = use_context::<http::request::Parts>();
    if let Some(found) = parts.as_ref().and_then(|p| p.extensions.get::<gatehouse_core::net::ClientAddr>()) {
        return Some(found.0.to_string());
    }
    leptos_axum::extract::<ConnectInfo<SocketAddr>>().await.ok().map(|ci| ci.0.ip().to_string())
}

/// The signed-in user as the audit log records them: with the request's address and user agent.
pub async fn actor(user_id: &str) -> gatehouse_core::audit::Actor {
    let user_agent = use_context::<http::request::Parts>()
        .and_then(|p| p.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned));
    gatehouse_core::audit::Actor { user_id: user_id.to_owned(), ip: client_ip().await, user_agent, label: None }
}

/// Writes an audit entry after an action has succeeded in the workspace `slug`. A failure to
/// write it is logged, not shown: the action itself is done.
pub async fn audit(slug: &str, user_id: &str, action: &str, target: (&str, &str), details: serde_json::Value) {
    let Ok(ctx) = server_context() else { return };
    let who = actor(user_id).await;
    if let Err(e) = gatehouse_core::audit::record_for_slug(&ctx.db, slug, &who, action, target, details).await {
        tracing::error!(error = %e, %action, "could not write an audit entry");
    }
}

/// Maps a domain error to what the page shows, sets a matching HTTP status, and logs internal
/// errors (their details stay in the log).
pub fn fail(err: CoreError) -> AppError {
    let (app, status) = match err {
        CoreError::Invalid { field, message } => {
            (AppError::Field { field: field.to_owned(), message }, StatusCode::UNPROCESSABLE_ENTITY)
        }
        CoreError::NotFound => (AppError::NotFound, StatusCode::NOT_FOUND),
        CoreError::Forbidden(m) => (AppError::Forbidden(m), StatusCode::FORBIDDEN),
        CoreError::Conflict(m) => (AppError::Conflict(m), StatusCode::CONFLICT),
        CoreError::InvalidCredentials => (
            AppError::Field {
                field: "password".into(),
                message: "That email and password do not match an account.".into(),
            },
            StatusCode::UNAUTHORIZED,
        ),
        CoreError::Throttled { retry_after_secs } => {
            let minutes = (retry_after_secs + 59) / 60;
            (
                AppError::Throttled(format!(
                    "Too many failed sign-ins. Sign-in is paused for this account for {minutes} minute{}; try again later.",
                    if minutes == 1 { "" } else { "s" }
                )),
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        CoreError::Database(e) => {
            tracing::error!(error = %e, "database error in a server function");
            (AppError::Internal, StatusCode::INTERNAL_SERVER_ERROR)
        }
        CoreError::Internal(e) => {
            tracing::error!(error = %e, "internal error in a server function");
            (AppError::Internal, StatusCode::INTERNAL_SERVER_ERROR)
        }
    };
    set_status(app, status)
}

/// Sets the response status for a server-function error called over HTTP. Not for a plain HTML
/// form post (that must stay a redirect back to the form, which then shows the error), and not
/// while rendering a page (the page decides its own status: a redirect, a 404).
pub fn set_status(err: AppError, status: StatusCode) -> AppError {
    let Some(parts) = use_context::<http::request::Parts>() else { return err };
    let is_server_fn_call = parts.uri.path().starts_with("/api/");
    let plain_form_post =
        parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    if is_server_fn_call
        && !plain_form_post
        && let Some(options) = use_context::<ResponseOptions>()
    {
        options.set_status(status);
    }
    err
}

/// A path inside this site to go to after sign-in, or `None` for anything else (no open redirects).
pub fn safe_next(next: Option<String>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && n.len() < 2048)
}
