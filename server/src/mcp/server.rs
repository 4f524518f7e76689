//! The MCP server handler: server info and the tool catalog. Each tool reads the verified
//! principal that `auth::require_bearer` put in the request.

use gatehouse_core::keys::Principal;
use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    handler::server::router::tool::ToolRouter,
    model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig},
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use serde_json::json;

#[derive(Clone)]
pub struct GatehouseMcp {
    tool_router: ToolRouter<GatehouseMcp>,
}

impl Default for GatehouseMcp {
    fn default() -> Self {
        Self::new()
    }
}

/// The principal of the request being handled.
fn principal(ctx: &RequestContext<RoleServer>) -> Result<Principal, McpError> {
    ctx.extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("the request was not authenticated", None))
}

#[tool_router]
impl GatehouseMcp {
    pub fn new() -> Self {
        GatehouseMcp { tool_router: Self::tool_router() }
    }

    /// Who is calling: workspace, environment and scopes. Needs no scope.
    #[tool(
        title = "Who am I",
        description = "Who is calling: the workspace, environment (live or test), scopes and key. Requires no scope.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn whoami(&self, ctx: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        Ok(CallToolResult::structured(json!({
            "workspace": { "id": p.workspace_id, "slug": p.workspace_slug, "name": p.workspace_name },
            "environment": p.environment,
            "scopes": p.scopes.names(),
            "key": { "id": p.key_id, "name": p.key_name, "expires_at": p.expires_at },
        })))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for GatehouseMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("gatehouse", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Gatehouse: tools act on this workspace's agents, runs, apps and assets. Call whoami to see your workspace and scopes."
                    .to_owned(),
            )
    }
}
