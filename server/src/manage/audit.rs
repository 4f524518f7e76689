//! `/v1/audit`: the audit log, newest first, in cursor pages.

use axum::{Json, extract::State};
use gatehouse_core::{
    audit::{self, AuditFilter},
    management::ManagementScope,
    paging::{Seek, page_size},
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    auth::Manager,
    body::Params,
    views::{AuditEventView, Page},
};
use crate::{api::error::ApiError, state::AppState};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this kind of entry: `key`, `management_key`, `server`, `connector`, `device`, `member`,
    /// `webhook`, `usage` or `signin`.
    kind: Option<String>,
    /// Only entries by this actor (an email, or `management key 'name'`).
    actor: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Entries per page, 1 to 100 (default 50).
    limit: Option<i64>,
}

/// The audit log, newest first.
#[utoipa::path(get, operation_id = "audit_list", path = "/v1/audit", tag = "audit", params(AuditQuery),
    security(("management_key" = ["audit:read"])),
    responses((status = 200, description = "OK", body = Page<AuditEventView>), (status = "4XX", description = "An error: {code, message, next_action}", body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    m: Manager,
    Params(q): Params<AuditQuery>,
) -> Result<Json<Page<AuditEventView>>, ApiError> {
    m.require(ManagementScope::AuditRead)?;
    let after = q.cursor.as_deref().map(|c| Seek::decode(c, m.workspace_id())).transpose()?;
    let filter = AuditFilter { kind: q.kind.unwrap_or_default(), actor: q.actor.unwrap_or_default() };
    let (events, next) =
        audit::page_in(&state.db, m.workspace_id(), &filter, after.as_ref(), page_size(q.limit)).await?;
    Ok(Json(Page {
        data: events.into_iter().map(Into::into).collect(),
        next_cursor: next.map(|s| s.encode(m.workspace_id())),
    }))
}
