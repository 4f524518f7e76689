//! Server functions for signing up, in and out, and for reading who is signed in.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::context::{USER_ID_KEY, client_ip, current_user_id, fail, safe_next, server_context, session};
use super::types::UserView;
use crate::error::AppError;

/// Creates an account and its personal workspace, signs the person in and opens `next` (a path
/// on this site, such as a consent page) or that workspace.
#[server(endpoint = "auth/sign_up")]
pub async fn sign_up(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use gatehouse_core::accounts::{self, Email, Password};
    let ctx = server_context()?;
    let email = Email::parse(&email).map_err(fail)?;
    let password = Password::parse(&password).map_err(fail)?;
    let (user, workspace) = accounts::sign_up(&ctx.db, email, password).await.map_err(fail)?;
    start_session(&user.id).await?;
    tracing::info!(user_id = %user.id, "account created");
    leptos_axum::redirect(&safe_next(next).unwrap_or_else(|| format!("/w/{}", workspace.slug)));
    Ok(())
}

/// Signs in with email and password, then goes to `next` (a path on this site) or the first workspace.
#[server(endpoint = "auth/sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use gatehouse_core::{accounts, workspaces};
    let ctx = server_context()?;
    if email.trim().is_empty() {
        return Err(fail(gatehouse_core::CoreError::invalid("email", "Enter your email address.")));
    }
    if password.is_empty() {
        return Err(fail(gatehouse_core::CoreError::invalid("password", "Enter your password.")));
    }
    let ip = client_ip().await;
    let user = accounts::sign_in(&ctx.db, &ctx.throttle, &email, &password, ip.as_deref()).await.map_err(fail)?;
    start_session(&user.id).await?;
    let target = match safe_next(next) {
        Some(next) => next,
        None => match workspaces::default_for_user(&ctx.db, &user.id).await.map_err(fail)? {
            Some(w) => format!("/w/{}", w.slug),
            None => "/workspaces/new".to_owned(),
        },
    };
    leptos_axum::redirect(&target);
    Ok(())
}

/// Ends the session on the server and returns to the sign-in page.
#[server(endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let session = session().await?;
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "could not delete the session");
        AppError::Internal
    })?;
    leptos_axum::redirect("/signin");
    Ok(())
}

/// The signed-in user, or `None`.
#[server(endpoint = "auth/me")]
pub async fn me() -> Result<Option<UserView>, AppError> {
    let Some(user_id) = current_user_id().await? else {
        return Ok(None);
    };
    let ctx = server_context()?;
    let user = gatehouse_core::accounts::find_user(&ctx.db, &user_id).await.map_err(fail)?;
    Ok(user.map(UserView::from))
}

/// A fresh session id (against session fixation) holding the user's id.
#[cfg(feature = "ssr")]
async fn start_session(user_id: &str) -> Result<(), AppError> {
    let session = session().await?;
    let result = async {
        session.cycle_id().await?;
        session.insert(USER_ID_KEY, user_id.to_owned()).await
    }
    .await;
    result.map_err(|e| {
        tracing::error!(error = %e, "could not start a session");
        AppError::Internal
    })
}
