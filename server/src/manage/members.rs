//! `/v1/members`: the workspace's members: list, add, change a role, remove. Writes need
//! `members:write`, which only owners can give a management key.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use gatehouse_core::{
    accounts::Email,
    audit,
    management::ManagementScope,
    workspaces::{self, Role},
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    auth::Manager,
    body::Body,
    views::{List, MemberView},
};
use crate::{api::error::ApiError, state::AppState};

/// The workspace's members.
#[utoipa::path(get, operation_id = "members_list", path = "/v1/members", tag = "members",
    security(("management_key" = ["members:read"])),
    responses((status = 200, description = "OK", body = List<MemberView>), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn list(State(state): State<AppState>, m: Manager) -> Result<Json<List<MemberView>>, ApiError> {
    m.require(ManagementScope::MembersRead)?;
    let members = workspaces::members_of(&state.db, m.workspace_id()).await?;
    Ok(Json(List { data: members.into_iter().map(Into::into).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    /// The email of an existing Gatehouse account.
    email: String,
    /// `owner`, `admin` or `member`.
    role: String,
}

/// Adds an existing account to the workspace.
#[utoipa::path(post, operation_id = "members_add", path = "/v1/members", tag = "members", request_body = AddMember,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    security(("management_key" = ["members:write"])),
    responses((status = 201, description = "Created", body = MemberView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    m: Manager,
    Body(body): Body<AddMember>,
) -> Result<(StatusCode, Json<MemberView>), ApiError> {
    m.require(ManagementScope::MembersWrite)?;
    let email = Email::parse(&body.email)?;
    let role = Role::parse(&body.role)?;
    let member = workspaces::add_member_in(&state.db, m.workspace_id(), &email, role).await?;
    let details = serde_json::json!({ "email": member.email, "role": role.as_str() });
    audit::record(
        state.db.pool(),
        m.workspace_id(),
        Some(&m.actor),
        "member.added",
        ("user", &member.user_id),
        details,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    /// `owner`, `admin` or `member`.
    role: String,
}

async fn member(state: &AppState, workspace_id: &str, user_id: &str) -> Result<workspaces::Member, ApiError> {
    workspaces::members_of(&state.db, workspace_id)
        .await?
        .into_iter()
        .find(|x| x.user_id == user_id)
        .ok_or_else(|| gatehouse_core::CoreError::NotFound.into())
}

/// Changes a member's role. The last owner stays an owner.
#[utoipa::path(patch, operation_id = "members_change_role", path = "/v1/members/{user_id}", tag = "members", request_body = ChangeRole,
    params(("user_id" = String, Path, description = "The member's user id")),
    security(("management_key" = ["members:write"])),
    responses((status = 200, description = "OK", body = MemberView), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn change_role(
    State(state): State<AppState>,
    m: Manager,
    Path(user_id): Path<String>,
    Body(body): Body<ChangeRole>,
) -> Result<Json<MemberView>, ApiError> {
    m.require(ManagementScope::MembersWrite)?;
    let role = Role::parse(&body.role)?;
    workspaces::change_role_in(&state.db, m.workspace_id(), &user_id, role).await?;
    let changed = member(&state, m.workspace_id(), &user_id).await?;
    let details = serde_json::json!({ "email": changed.email, "role": role.as_str() });
    audit::record(
        state.db.pool(),
        m.workspace_id(),
        Some(&m.actor),
        "member.role_changed",
        ("user", &user_id),
        details,
    )
    .await?;
    Ok(Json(changed.into()))
}

/// Removes a member; their connectors to this workspace stop working. The last owner stays.
#[utoipa::path(delete, operation_id = "members_remove", path = "/v1/members/{user_id}", tag = "members",
    params(("user_id" = String, Path, description = "The member's user id")),
    security(("management_key" = ["members:write"])),
    responses((status = 204, description = "Done"), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    m: Manager,
    Path(user_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    m.require(ManagementScope::MembersWrite)?;
    let gone = member(&state, m.workspace_id(), &user_id).await?;
    workspaces::remove_member_in(&state.db, m.workspace_id(), &user_id).await?;
    let details = serde_json::json!({ "email": gone.email });
    audit::record(state.db.pool(), m.workspace_id(), Some(&m.actor), "member.removed", ("user", &user_id), details)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
