//! The one policy: what a principal may reach. Built-in tools by the scope each needs, upstream
//! servers and their tools by the credential's server list (`servers`). Every path asks here — a
//! built-in call, `/mcp`'s lists and calls of upstream tools, `/mcp/{slug}`, the OAuth step-up —
//! so a list never shows what a call would refuse and no path decides on its own. A refusal is a
//! typed [`Denial`]: `{"code", "message", "next_action"}`.
//!
//! Built-in tools are listed whole whatever the scopes (a host seeing a tool it may not call yet
//! can ask for the scope: OAuth's step-up); upstream tools a credential may not call are left out
//! of lists, since no scope can be asked for them.

mod servers;

pub use servers::{call_tool, reach, use_whole_server};

use crate::{keys::Principal, scopes::Scope};

/// A refusal, shown to the caller as `{"code", "message", "next_action"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub code: &'static str,
    pub message: String,
    pub next_action: String,
}

impl Denial {
    fn forbidden(message: String, next_action: String) -> Self {
        Denial { code: "FORBIDDEN", message, next_action }
    }
}

/// The scope a built-in tool requires; `None` for tools open to every caller.
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

/// May the principal call this built-in tool (its scopes cover the tool's)? `SCOPE_MISSING`
/// names what the tool needs, what the bearer carries, and how to get it.
pub fn built_in_tool(p: &Principal, tool: &str) -> Result<(), Denial> {
    let Some(required) = required_scope(tool) else { return Ok(()) };
    if p.scopes.contains(required) {
        return Ok(());
    }
    Err(Denial {
        code: "SCOPE_MISSING",
        message: format!("{tool} requires '{required}' but the bearer carries: {}", p.scopes.names().join(", ")),
        next_action: format!(
            "Ask an admin of workspace '{}' to add '{required}' to this key (API keys → Edit), or use a key whose scopes include {required}.",
            p.workspace_slug
        ),
    })
}

/// Whether a built-in tool makes a new agent, which a key limited to chosen agents and apps may
/// not do.
pub fn creates_agent(tool: &str) -> bool {
    matches!(tool, "create_agent" | "clone_agent")
}

fn credential(p: &Principal) -> &'static str {
    if p.is_oauth() { "connector" } else { "key" }
}
