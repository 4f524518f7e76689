//! Server functions for workspaces: the dashboard frame, creating, renaming, and members.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::context::{audit, fail, require_user_id, server_context};
use super::types::{DashboardContext, MemberView};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<gatehouse_core::workspaces::Role, AppError> {
    gatehouse_core::workspaces::Role::parse(role).map_err(fail)
}

/// Where `/` should send the visitor: their first workspace, or the sign-in page.
#[server(endpoint = "workspaces/landing")]
pub async fn landing() -> Result<String, AppError> {
    let Some(user_id) = super::context::current_user_id().await? else {
        return Ok("/signin".to_owned());
    };
    let ctx = server_context()?;
    Ok(match gatehouse_core::workspaces::default_for_user(&ctx.db, &user_id).await.map_err(fail)? {
        Some(w) => format!("/w/{}", w.slug),
        None => "/workspaces/new".to_owned(),
    })
}

/// The signed-in user, the workspace `slug` with their role, and all their workspaces.
#[server(endpoint = "workspaces/context")]
pub async fn load_dashboard(slug: String) -> Result<DashboardContext, AppError> {
    use gatehouse_core::{accounts, workspaces};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let user = accounts::find_user(&ctx.db, &user_id)
        .await
        .map_err(fail)?
        .ok_or_else(|| super::context::set_status(AppError::SignedOut, http::StatusCode::UNAUTHORIZED))?;
    let current = workspaces::membership(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    let all = workspaces::list_for_user(&ctx.db, &user_id).await.map_err(fail)?;
    Ok(DashboardContext {
        user: user.into(),
        current: current.into(),
        workspaces: all.into_iter().map(super::types::WorkspaceView::from).collect(),
    })
}

/// Creates a workspace owned by the signed-in user and opens it.
#[server(endpoint = "workspaces/create")]
pub async fn create_workspace(name: String) -> Result<(), AppError> {
    use gatehouse_core::workspaces::{self, WorkspaceName};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let name = WorkspaceName::parse(&name).map_err(fail)?;
    let workspace = workspaces::create(&ctx.db, &user_id, name).await.map_err(fail)?;
    leptos_axum::redirect(&format!("/w/{}", workspace.slug));
    Ok(())
}

/// Renames a workspace (owners only).
#[server(endpoint = "workspaces/rename")]
pub async fn rename_workspace(slug: String, name: String) -> Result<String, AppError> {
    use gatehouse_core::workspaces::{self, WorkspaceName};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let name = WorkspaceName::parse(&name).map_err(fail)?;
    let workspace = workspaces::rename(&ctx.db, &user_id, &slug, name).await.map_err(fail)?;
    Ok(workspace.name)
}

/// The members of a workspace.
#[server(endpoint = "workspaces/members")]
pub async fn list_members(slug: String) -> Result<Vec<MemberView>, AppError> {
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let members = gatehouse_core::workspaces::list_members(&ctx.db, &user_id, &slug).await.map_err(fail)?;
    Ok(members.into_iter().map(MemberView::from).collect())
}

/// Adds an existing account to a workspace (owners only).
#[server(endpoint = "workspaces/members/add")]
pub async fn add_member(slug: String, email: String, role: String) -> Result<MemberView, AppError> {
    use gatehouse_core::{accounts::Email, workspaces};
    let user_id = require_user_id().await?;
    let ctx = server_context()?;
    let email = Email::parse(&email).map_err(fail)?;
    let role = parse_role(&role)?;
    let member = workspaces::add_member(&ctx.db, &user_id, &slug, &email, role).await.map_err(fail)?;
    audit(
        &slug,
        &user_id,
        "member.added",
        ("user", &member.user_id),
        serde_json::json!({ "email": member.email, "role": role.as_str() }),
    )
    .await;
    Ok(member.into())
}

/// Changes a member's role (owners only; never the last owner).
#[server(endpoint = "workspaces/members/role")]
pub async fn change_role(slug: String, user_id: String, role: String) -> Result<(), AppError> {
    let actor = require_user_id().await?;
    let ctx = server_context()?;
    let role = parse_role(&role)?;
    let email = member_email(&ctx.db, &user_id).await;
    gatehouse_core::workspaces::change_role(&ctx.db, &actor, &slug, &user_id, role).await.map_err(fail)?;
    audit(
        &slug,
        &actor,
        "member.role_changed",
        ("user", &user_id),
        serde_json::json!({ "email": email, "role": role.as_str() }),
    )
    .await;
    Ok(())
}

/// A member's email, for the audit log.
#[cfg(feature = "ssr")]
async fn member_email(db: &gatehouse_core::Db, user_id: &str) -> Option<String> {
    gatehouse_core::accounts::find_user(db, user_id).await.ok().flatten().map(|u| u.email)
}

/// Removes a member (owners), or leaves the workspace (anyone but its last owner).
#[server(endpoint = "workspaces/members/remove")]
pub async fn remove_member(slug: String, user_id: String) -> Result<(), AppError> {
    let actor = require_user_id().await?;
    let ctx = server_context()?;
    let email = member_email(&ctx.db, &user_id).await;
    gatehouse_core::workspaces::remove_member(&ctx.db, &actor, &slug, &user_id).await.map_err(fail)?;
    let action = if actor == user_id { "member.left" } else { "member.removed" };
    audit(&slug, &actor, action, ("user", &user_id), serde_json::json!({ "email": email })).await;
    if actor == user_id {
        leptos_axum::redirect("/");
    }
    Ok(())
}
