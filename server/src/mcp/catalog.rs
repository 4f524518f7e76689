//! Which scope each tool needs, and the typed errors tools answer with. Scope enforcement happens
//! here, in one place, before any tool runs (see `server::GatehouseMcp::call_tool`).

use gatehouse_core::{CoreError, keys::Principal, scopes::Scope};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::json;

/// The scope a tool requires; `None` for tools open to every caller.
pub fn required_scope(tool: &str) -> Option<Scope> {
    Some(match tool {
        "list_agents" | "get_agent" | "list_agent_versions" | "validate_agent_spec" => Scope::AgentsRead,
        "create_agent" | "update_agent" | "delete_agent" | "clone_agent" | "restore_agent_version" => {
            Scope::AgentsWrite
        }
        "list_apps" | "get_app" => Scope::AppsRead,
        "publish_app" | "trigger_app" => Scope::AppsExecute,
        "upload_asset" => Scope::AssetsWrite,
        "list_runs" | "get_run" | "wait_for_run" => Scope::RunsRead,
        "trigger_run" | "cancel_run" => Scope::RunsExecute,
        _ => return None,
    })
}

/// A tool error result: `isError: true`, the typed error as structured content and as text.
pub fn tool_error(code: &str, message: impl Into<String>, next_action: impl Into<String>) -> CallToolResult {
    let body = json!({ "code": code, "message": message.into(), "next_action": next_action.into() });
    let mut result = CallToolResult::structured_error(body.clone());
    result.content = vec![ContentBlock::text(body.to_string())];
    result
}

/// `SCOPE_MISSING`: what the tool needs, what the bearer has, and how to get it.
pub fn scope_missing(tool: &str, required: Scope, principal: &Principal) -> CallToolResult {
    let carries = principal.scopes.names().join(", ");
    tool_error(
        "SCOPE_MISSING",
        format!("{tool} requires '{required}' but the bearer carries: {carries}"),
        format!(
            "Ask an admin of workspace '{}' to add '{required}' to this key (API keys → Edit), or use a key whose scopes include {required}.",
            principal.workspace_slug
        ),
    )
}

/// A domain error as a tool error; internal details go to the log only.
pub fn from_core(err: CoreError) -> CallToolResult {
    match err {
        CoreError::Invalid { field, message } => {
            tool_error("INVALID_ARGUMENT", format!("{field}: {message}"), "Fix the argument and call the tool again.")
        }
        CoreError::NotFound => tool_error(
            "NOT_FOUND",
            "No such item in this workspace and environment.",
            "List the items first; a pk_test_ key sees only test data and a pk_live_ key only live data.",
        ),
        CoreError::Conflict(m) => tool_error("CONFLICT", m, "Read the item again and retry."),
        CoreError::Forbidden(m) => tool_error("FORBIDDEN", m, "Use a key that may do this."),
        other => {
            tracing::error!(error = %other, "tool failed");
            tool_error("INTERNAL", "Something went wrong on our side.", "Retry in a moment.")
        }
    }
}

/// `FORBIDDEN`: the key is limited to chosen agents and apps, and this is not one of them.
pub fn resource_forbidden(what: &str) -> CallToolResult {
    tool_error(
        "FORBIDDEN",
        format!("This key is limited to chosen agents and apps; {what} is not one of them."),
        "Ask an admin to add it to the key's resources (API keys → Edit), or use a key without that restriction.",
    )
}

/// Tools that make a new agent, which a key limited to chosen resources may not do.
pub fn creates_agent(tool: &str) -> bool {
    matches!(tool, "create_agent" | "clone_agent")
}
