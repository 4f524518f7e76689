//! The typed errors the built-in tools answer with. Which scope each tool needs is the one
//! policy's (`gatehouse_core::policy`), asked before any tool runs (`server::GatehouseMcp::call_tool`).

use gatehouse_core::{CoreError, policy::Denial};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::json;

/// A tool error result: `isError: true`, the typed error as structured content and as text.
pub fn tool_error(code: &str, message: impl Into<String>, next_action: impl Into<String>) -> CallToolResult {
    let body = json!({ "code": code, "message": message.into(), "next_action": next_action.into() });
    let mut result = CallToolResult::structured_error(body.clone());
    result.content = vec![ContentBlock::text(body.to_string())];
    result
}

/// A refusal of the policy as a tool error result.
pub fn denied(denial: Denial) -> CallToolResult {
    tool_error(denial.code, denial.message, denial.next_action)
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
