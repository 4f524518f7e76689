//! The MCP server handler: server info and the tool catalog. Each tool reads the verified
//! principal that `auth::require_bearer` put in the request.

use std::{sync::Arc, time::Duration};

use gatehouse_core::{
    Db,
    agents::{self, Tenant},
    apps, assets,
    keys::Principal,
    policy::{self, creates_agent},
    runs,
    scopes::Scope,
    servers::{self, UpstreamServer},
    usage::{Call, UsageRecorder},
};
use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, tool::ToolCallContext, wrapper::Parameters},
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, GetPromptRequestParams, GetPromptResponse,
        Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
        PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ResourceContents,
        ResourceTemplate, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::catalog::{denied, from_core, resource_forbidden};
use crate::gateway::{GatewayError, aggregate, naming, upstream::Upstreams};

/// The handler. The transport is stateless, so rmcp clones one for every request: two reference
/// counts.
#[derive(Clone)]
pub struct GatehouseMcp {
    parts: Arc<Parts>,
    /// Built once.
    tool_router: Arc<ToolRouter<GatehouseMcp>>,
}

/// What the tools reach.
pub struct Parts {
    db: Db,
    /// The pages of `list_agents`, cached until an agent of their workspace changes.
    agent_pages: agents::AgentPages,
    usage: Arc<UsageRecorder>,
    /// The gateway's client: upstream servers' tools, prompts and resources beside the built-in ones.
    upstreams: Upstreams,
}

impl GatehouseMcp {
    /// Whether `name` is a tool of the built-in catalog (not an upstream server's).
    pub fn is_built_in(&self, name: &str) -> bool {
        self.tool_router.has_route(name)
    }
}

impl std::ops::Deref for GatehouseMcp {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.parts
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListAgentsArgs {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// How many agents per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgentIdArgs {
    /// The agent's id, as list_agents shows it.
    pub agent_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SpecArgs {
    /// The agent graph: {"nodes": [{"id", "type", "config"}], "edges": [{"from", "to"}]}.
    pub spec: Value,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateAgentArgs {
    /// A name, 1 to 200 characters.
    pub name: String,
    /// The agent graph: {"nodes": [{"id", "type", "config"}], "edges": [{"from", "to"}]}.
    pub graph: Value,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateAgentArgs {
    pub agent_id: String,
    /// A new name; the current one when left out.
    pub name: Option<String>,
    /// The new graph; it becomes the next version.
    pub graph: Value,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListRunsArgs {
    /// Only runs of this agent.
    pub agent_id: Option<String>,
    /// Only runs in this state: queued, running, succeeded, failed or cancelled.
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// How many runs per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunIdArgs {
    /// The run's id.
    pub run_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct WaitArgs {
    pub run_id: String,
    /// Seconds to wait for a terminal state, 1 to 60 (default 30).
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TriggerRunArgs {
    /// The agent to run (its current version).
    pub agent_id: String,
    /// The run's input: any JSON, up to 256 KiB.
    #[serde(default)]
    pub input: Value,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CloneAgentArgs {
    pub agent_id: String,
    /// The copy's name; "<name> (copy)" when left out.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RestoreArgs {
    pub agent_id: String,
    /// The version whose graph becomes current again (as a new version).
    pub version: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PublishArgs {
    pub agent_id: String,
    /// The version to publish; the current one when left out.
    pub version: Option<i64>,
    /// The app's name; the agent's when left out.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AppIdArgs {
    pub app_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TriggerAppArgs {
    pub app_id: String,
    #[serde(default)]
    pub input: Value,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UploadArgs {
    /// A file name, without slashes.
    pub name: String,
    /// image/png, image/jpeg, image/gif, image/webp, application/pdf, text/plain, text/csv or application/json.
    pub content_type: String,
    /// The file, base64-encoded; at most 256 KiB decoded.
    pub content_base64: String,
}

fn tenant(p: &Principal) -> Tenant<'_> {
    Tenant { workspace_id: &p.workspace_id, environment: p.environment }
}

impl GatehouseMcp {
    /// For a key limited to chosen agents and apps: the agent, app or run a call names must be one
    /// of them (a run through its agent), and no new agent may be made.
    async fn check_resources(&self, request: &CallToolRequestParams, p: &Principal) -> Result<(), CallToolResult> {
        if creates_agent(&request.name) {
            return Err(resource_forbidden("a new agent"));
        }
        let arg = |name: &str| {
            request.arguments.as_ref().and_then(|a| a.get(name)).and_then(Value::as_str).map(str::to_owned)
        };
        if let Some(agent_id) = arg("agent_id")
            && !p.may_use(&agent_id)
        {
            return Err(resource_forbidden(&format!("agent '{agent_id}'")));
        }
        if let Some(app_id) = arg("app_id")
            && !p.may_use(&app_id)
        {
            let app_agent = apps::get(&self.db, tenant(p), &app_id).await.ok().map(|a| a.agent_id);
            if !app_agent.is_some_and(|agent| p.may_use(&agent)) {
                return Err(resource_forbidden(&format!("app '{app_id}'")));
            }
        }
        if let Some(run_id) = arg("run_id")
            && let Ok(run) = runs::get(&self.db, tenant(p), &run_id).await
            && !p.may_use(&run.agent_id)
        {
            return Err(resource_forbidden(&format!("run '{run_id}'")));
        }
        Ok(())
    }
}

fn ok_json(value: Value) -> Result<CallToolResult, McpError> {
    Ok(CallToolResult::structured(value))
}

/// A domain result as a tool result: the value as structured content, or the typed tool error.
fn respond<T: serde::Serialize>(result: gatehouse_core::error::CoreResult<T>) -> Result<CallToolResult, McpError> {
    match result {
        Ok(value) => ok_json(json!(value)),
        Err(e) => Ok(from_core(e)),
    }
}

/// The principal of the request being handled.
fn principal(ctx: &RequestContext<RoleServer>) -> Result<Arc<Principal>, McpError> {
    ctx.extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<Principal>>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("the request was not authenticated", None))
}

#[tool_router]
impl GatehouseMcp {
    pub fn new(db: Db, usage: Arc<UsageRecorder>, upstreams: Upstreams) -> Self {
        let parts = Parts { agent_pages: agents::AgentPages::new(db.clone()), db, usage, upstreams };
        GatehouseMcp { parts: Arc::new(parts), tool_router: Arc::new(Self::tool_router()) }
    }

    #[tool(
        title = "List agents",
        description = "List the workspace's agents, newest first, a page at a time. Requires agents:read.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_agents(
        &self,
        Parameters(args): Parameters<ListAgentsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        match self.agent_pages.list(tenant(&p), args.cursor.as_deref(), args.limit.unwrap_or(20)).await {
            Ok(page) => {
                let visible: Vec<&agents::Agent> = page.value.agents.iter().filter(|a| p.may_use(&a.id)).collect();
                ok_json(json!({ "agents": visible, "next_cursor": page.value.next_cursor }))
            }
            Err(e) => Ok(from_core(e)),
        }
    }

    #[tool(
        title = "Get an agent",
        description = "One agent with its current graph and version. Requires agents:read.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_agent(
        &self,
        Parameters(args): Parameters<AgentIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(agents::get(&self.db, tenant(&p), &args.agent_id).await)
    }

    #[tool(
        title = "List agent versions",
        description = "Every version of an agent, newest first. Requires agents:read.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_agent_versions(
        &self,
        Parameters(args): Parameters<AgentIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        match agents::versions(&self.db, tenant(&p), &args.agent_id).await {
            Ok(versions) => ok_json(json!({ "versions": versions })),
            Err(e) => Ok(from_core(e)),
        }
    }

    #[tool(
        title = "Validate an agent spec",
        description = "Check an agent graph and report every problem (duplicate id, dangling edge, cycle, unknown node type, bad config) with a JSON Pointer. Requires agents:read.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn validate_agent_spec(&self, Parameters(args): Parameters<SpecArgs>) -> Result<CallToolResult, McpError> {
        let problems = agents::validate(&args.spec);
        ok_json(json!({ "valid": problems.is_empty(), "problems": problems }))
    }

    #[tool(
        title = "Clone an agent",
        description = "A new agent with a copy of another's current graph. Requires agents:write.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn clone_agent(
        &self,
        Parameters(args): Parameters<CloneAgentArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(agents::clone(&self.db, tenant(&p), &args.agent_id, args.name.as_deref()).await)
    }

    #[tool(
        title = "Restore an agent version",
        description = "Make an earlier version's graph current again; this makes a new version. Requires agents:write.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn restore_agent_version(
        &self,
        Parameters(args): Parameters<RestoreArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(agents::restore(&self.db, tenant(&p), &args.agent_id, args.version).await)
    }

    #[tool(
        title = "List apps",
        description = "List the workspace's apps (published agent versions). Requires apps:read.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_apps(&self, ctx: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        match apps::list(&self.db, tenant(&p)).await {
            Ok(mut list) => {
                list.retain(|a| p.may_use(&a.id) || p.may_use(&a.agent_id));
                ok_json(json!({ "apps": list }))
            }
            Err(e) => Ok(from_core(e)),
        }
    }

    #[tool(
        title = "Get an app",
        description = "One app's metadata: name, agent and published version. Requires apps:read.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_app(
        &self,
        Parameters(args): Parameters<AppIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(apps::get(&self.db, tenant(&p), &args.app_id).await)
    }

    #[tool(
        title = "Publish an app",
        description = "Publish an agent version (the current one by default) as an app. Requires apps:execute.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn publish_app(
        &self,
        Parameters(args): Parameters<PublishArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(apps::publish(&self.db, tenant(&p), &args.agent_id, args.version, args.name.as_deref()).await)
    }

    #[tool(
        title = "Trigger an app",
        description = "Queue a run of an app's published agent version with an input. Requires apps:execute.",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true)
    )]
    async fn trigger_app(
        &self,
        Parameters(args): Parameters<TriggerAppArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(apps::trigger(&self.db, tenant(&p), &args.app_id, &args.input).await)
    }

    #[tool(
        title = "Upload an asset",
        description = "Upload a file (base64, at most 256 KiB decoded); its content must match its content type. Requires assets:write.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn upload_asset(
        &self,
        Parameters(args): Parameters<UploadArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        use base64::Engine as _;
        let p = principal(&ctx)?;
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(args.content_base64.trim()) else {
            return Ok(from_core(gatehouse_core::CoreError::invalid("content_base64", "This is not valid base64.")));
        };
        respond(assets::upload(&self.db, tenant(&p), &args.name, &args.content_type, &bytes).await)
    }

    #[tool(
        title = "List runs",
        description = "List runs newest first, optionally of one agent or in one state. Requires runs:read.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_runs(
        &self,
        Parameters(args): Parameters<ListRunsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        let page = runs::list(
            &self.db,
            tenant(&p),
            args.agent_id.as_deref(),
            args.status.as_deref(),
            args.cursor.as_deref(),
            args.limit.unwrap_or(20),
        )
        .await;
        match page {
            Ok(mut page) => {
                page.runs.retain(|r| p.may_use(&r.agent_id));
                ok_json(json!(page))
            }
            Err(e) => Ok(from_core(e)),
        }
    }

    #[tool(
        title = "Get a run",
        description = "One run: status, input, output or error, timestamps and events. Also readable as the resource gatehouse://runs/{id}. Requires runs:read.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_run(
        &self,
        Parameters(args): Parameters<RunIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(runs::get(&self.db, tenant(&p), &args.run_id).await)
    }

    #[tool(
        title = "Wait for a run",
        description = "Wait up to timeout_seconds (at most 60) for a run to succeed, fail or be cancelled, and return it. Requires runs:read.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn wait_for_run(
        &self,
        Parameters(args): Parameters<WaitArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        let timeout = Duration::from_secs(args.timeout_seconds.unwrap_or(30).clamp(1, 60));
        match runs::wait(&self.db, tenant(&p), &args.run_id, timeout).await {
            Ok(run) => ok_json(json!({ "finished": run.is_terminal(), "run": run })),
            Err(e) => Ok(from_core(e)),
        }
    }

    #[tool(
        title = "Trigger a run",
        description = "Queue a run of an agent's current version with an input; the workspace's runner executes it. Requires runs:execute.",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true)
    )]
    async fn trigger_run(
        &self,
        Parameters(args): Parameters<TriggerRunArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(runs::trigger(&self.db, tenant(&p), &args.agent_id, &args.input).await)
    }

    #[tool(
        title = "Cancel a run",
        description = "Cancel a queued or running run. Requires runs:execute.",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn cancel_run(
        &self,
        Parameters(args): Parameters<RunIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(runs::cancel(&self.db, tenant(&p), &args.run_id).await)
    }

    #[tool(
        title = "Create an agent",
        description = "Create an agent from a valid graph, as version 1. Requires agents:write.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_agent(
        &self,
        Parameters(args): Parameters<CreateAgentArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(agents::create(&self.db, tenant(&p), &args.name, &args.graph).await)
    }

    #[tool(
        title = "Update an agent",
        description = "Replace an agent's graph (and optionally its name); this makes a new version. Requires agents:write.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn update_agent(
        &self,
        Parameters(args): Parameters<UpdateAgentArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        respond(agents::update(&self.db, tenant(&p), &args.agent_id, args.name.as_deref(), &args.graph).await)
    }

    #[tool(
        title = "Delete an agent",
        description = "Delete an agent and all its versions. Requires agents:write.",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false)
    )]
    async fn delete_agent(
        &self,
        Parameters(args): Parameters<AgentIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        match agents::delete(&self.db, tenant(&p), &args.agent_id).await {
            Ok(()) => ok_json(json!({ "deleted": args.agent_id })),
            Err(e) => Ok(from_core(e)),
        }
    }

    /// Who is calling: workspace, environment and scopes. Needs no scope.
    #[tool(
        title = "Who am I",
        description = "Who is calling: the workspace, environment (live or test), scopes and key. Requires no scope.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn whoami(&self, ctx: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        let p = principal(&ctx)?;
        Ok(CallToolResult::structured(crate::api::whoami::describe(&p)))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for GatehouseMcp {
    /// What `server/discover` and version negotiation name: the revisions served on Streamable HTTP.
    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [rmcp::model::ProtocolVersion]> {
        std::borrow::Cow::Borrowed(super::wire::SUPPORTED_VERSIONS)
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("gatehouse", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Gatehouse: tools act on this workspace's agents, runs, apps and assets. Call whoami to see your workspace and scopes."
                    .to_owned(),
            )
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let template = ResourceTemplate::new("gatehouse://runs/{id}", "run")
            .with_title("A run")
            .with_description("A run as JSON: status, input, output or error, events. Requires runs:read.")
            .with_mime_type("application/json");
        let mut templates = vec![serde_json::to_value(template).unwrap_or_default()];
        let p = principal(&_context)?;
        templates.extend(aggregate::resources(&self.upstreams, &p, "resources/templates/list").await);
        listed(json!({ "resourceTemplates": templates }), &_context, &p)
    }

    /// Upstream servers' resources, under `gatehouse://upstream/{slug}/`; the built-in catalog has
    /// templates only.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let p = principal(&context)?;
        let resources = aggregate::resources(&self.upstreams, &p, "resources/list").await;
        listed(json!({ "resources": resources }), &context, &p)
    }

    /// Gatehouse's capabilities and, when a reachable upstream server has prompts, prompts too.
    async fn initialize(
        &self,
        request: rmcp::model::InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::InitializeResult, McpError> {
        context.peer.set_peer_info(request.clone());
        let mut result = self.negotiate_initialize(&request)?;
        if let Ok(p) = principal(&context)
            && aggregate::any_prompts(&self.upstreams, &p).await
        {
            result.capabilities.prompts = Some(Default::default());
        }
        Ok(result)
    }

    async fn discover(&self, context: RequestContext<RoleServer>) -> Result<rmcp::model::DiscoverResult, McpError> {
        let mut info = self.get_info();
        if let Ok(p) = principal(&context)
            && aggregate::any_prompts(&self.upstreams, &p).await
        {
            info.capabilities.prompts = Some(Default::default());
        }
        Ok(rmcp::model::DiscoverResult::from_server_info(self.supported_protocol_versions().into_owned(), info))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let p = principal(&context)?;
        let mut tools: Vec<Value> =
            self.tool_router.list_all().into_iter().filter_map(|t| serde_json::to_value(t).ok()).collect();
        tools.extend(aggregate::tools(&self.upstreams, &p).await);
        listed(json!({ "tools": tools }), &context, &p)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let p = principal(&context)?;
        let prompts = aggregate::prompts(&self.upstreams, &p).await;
        listed(json!({ "prompts": prompts }), &context, &p)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let p = principal(&context)?;
        let (server, name) = match aggregate::resolve(&self.upstreams, &p, &request.name, "prompts/list").await {
            Some(Ok(found)) => found,
            Some(Err(e)) => return Err(gateway_error(&e)),
            None => return Err(McpError::invalid_params(format!("no prompt {:?}", request.name), None)),
        };
        if let Err(d) = policy::use_whole_server(&p, &server) {
            return Err(gateway_error(&d.into()));
        }
        let mut params = serde_json::to_value(&request).unwrap_or_default();
        params["name"] = json!(name);
        let reply = self.forward(&server, &p, "prompts/get", params, &context).await?;
        serde_json::from_value::<rmcp::model::GetPromptResult>(reply)
            .map(Into::into)
            .map_err(|_| McpError::internal_error("the upstream's prompt is not readable", None))
    }

    /// `gatehouse://runs/{id}`, under the same scope as `get_run`.
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let p = principal(&context)?;
        if let Some((slug, original)) = naming::split_uri(&request.uri) {
            let server = match self.upstreams.registry().get(&p.workspace_id, slug).await {
                Ok(s) => s,
                Err(_) => {
                    return Err(McpError::resource_not_found(format!("no server {slug:?} in this workspace"), None));
                }
            };
            if let Err(d) = policy::use_whole_server(&p, &server) {
                return Err(gateway_error(&d.into()));
            }
            let mut params = serde_json::to_value(&request).unwrap_or_default();
            params["uri"] = json!(original);
            let mut reply = self.forward(&server, &p, "resources/read", params, &context).await?;
            if let Some(contents) = reply["contents"].as_array_mut() {
                for item in contents {
                    if let Some(uri) = item["uri"].as_str() {
                        item["uri"] = json!(naming::exposed_uri(slug, uri));
                    }
                }
            }
            return serde_json::from_value::<ReadResourceResult>(reply)
                .map(Into::into)
                .map_err(|_| McpError::internal_error("the upstream's resource is not readable", None));
        }
        let Some(id) = request.uri.strip_prefix("gatehouse://runs/") else {
            return Err(McpError::resource_not_found(
                format!("no resource {:?}; runs are gatehouse://runs/{{id}}", request.uri),
                None,
            ));
        };
        if !p.scopes.contains(Scope::RunsRead) {
            return Err(McpError::invalid_request(
                format!("reading runs requires 'runs:read' but the bearer carries: {}", p.scopes.names().join(", ")),
                Some(json!({ "code": "SCOPE_MISSING" })),
            ));
        }
        match runs::get(&self.db, tenant(&p), id).await {
            Ok(run) if !p.may_use(&run.agent_id) => Err(McpError::invalid_request(
                format!("this key is limited to chosen agents and apps; run {id:?} is not one of them"),
                Some(json!({ "code": "FORBIDDEN" })),
            )),
            Ok(run) => {
                let text = serde_json::to_string(&run).map_err(|e| McpError::internal_error(e.to_string(), None))?;
                Ok(ReadResourceResult::new(vec![ResourceContents::text(text, request.uri.clone())]).into())
            }
            Err(_) => {
                Err(McpError::resource_not_found(format!("no run {id:?} in this workspace and environment"), None))
            }
        }
    }

    /// Every tool call passes here: the scope and resource checks, in one place, then the tool;
    /// and every call is handed to the usage recorder (in memory, no database write).
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let started = std::time::Instant::now();
        let p = principal(&context)?;
        let tool = request.name.to_string();
        let mut server_slug = String::new();
        let result = match aggregate::resolve(&self.upstreams, &p, &tool, "tools/list").await {
            None => self.checked_call(request, context, &p).await,
            Some(Err(e)) => Ok(upstream_tool_error(&e)),
            Some(Ok((server, original))) => {
                server_slug = server.slug.clone();
                self.upstream_call(&server, &original, request, &context, &p).await
            }
        };
        let outcome = match &result {
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => r
                .structured_content
                .as_ref()
                .and_then(|c| c.get("code"))
                .and_then(Value::as_str)
                .unwrap_or("TOOL_ERROR")
                .to_owned(),
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("JSONRPC_{}", e.code.0),
        };
        self.usage.record(Call {
            workspace_id: &p.workspace_id,
            environment: p.environment,
            caller: &p.caller_id,
            server: &server_slug,
            tool: &tool,
            outcome: &outcome,
            latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            at: gatehouse_core::clock::now_ms(),
        });
        result
    }
}

impl GatehouseMcp {
    async fn checked_call(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
        p: &Principal,
    ) -> Result<CallToolResponse, McpError> {
        if let Err(denial) = policy::built_in_tool(p, &request.name) {
            return Ok(denied(denial).into());
        }
        if p.resources.is_some()
            && let Err(denied) = self.check_resources(&request, p).await
        {
            return Ok(denied.into());
        }
        let call = ToolCallContext::new(self, request, context);
        self.tool_router.call(call).await
    }
}

/// A list result for the caller's revision: 2026-07-28 asks for cache hints; a list that depends on
/// the credential's upstream servers is private to it.
fn listed<T: serde::de::DeserializeOwned>(
    mut result: Value,
    context: &RequestContext<RoleServer>,
    p: &Principal,
) -> Result<T, McpError> {
    let modern = context.protocol_version().is_some_and(|v| v >= rmcp::model::ProtocolVersion::V_2026_07_28);
    if modern {
        result["resultType"] = json!("complete");
        result["ttlMs"] = json!(0);
        result["cacheScope"] = json!(if p.servers == servers::ServerAccess::None { "public" } else { "private" });
    }
    serde_json::from_value(result)
        .map_err(|e| McpError::internal_error(format!("a list could not be built: {e}"), None))
}

/// A gateway error as a JSON-RPC error whose data is the typed body.
fn gateway_error(e: &GatewayError) -> McpError {
    McpError::new(rmcp::model::ErrorCode::INTERNAL_ERROR, e.message.clone(), Some(e.body()))
}

/// A gateway error as a tool error result.
fn upstream_tool_error(e: &GatewayError) -> CallToolResponse {
    serde_json::from_value::<CallToolResult>(e.tool_result())
        .map(Into::into)
        .unwrap_or_else(|_| CallToolResult::structured_error(e.body()).into())
}

impl GatehouseMcp {
    /// Sends a request to an upstream server and reads its response, passing progress
    /// notifications on to the caller; the upstream's JSON-RPC error comes back as it was.
    async fn forward(
        &self,
        server: &UpstreamServer,
        p: &Principal,
        method: &str,
        params: Value,
        context: &RequestContext<RoleServer>,
    ) -> Result<Value, McpError> {
        let message = json!({ "jsonrpc": "2.0", "id": format!("gh-{}", gatehouse_core::ids::random_base62(12)), "method": method, "params": params });
        let peer = context.peer.clone();
        let mut progress = Vec::new();
        let reply = self
            .upstreams
            .call(server, Some(p), &message, |n| {
                if n["method"] == "notifications/progress" {
                    progress.push(n["params"].clone());
                }
            })
            .await
            .map_err(|e| gateway_error(&e))?;
        for params in progress {
            if let Ok(params) = serde_json::from_value(params) {
                let _ = peer.notify_progress(params).await;
            }
        }
        if let Some(error) = reply.get("error") {
            let code = error["code"].as_i64().and_then(|c| i32::try_from(c).ok()).unwrap_or(-32603);
            return Err(McpError::new(
                rmcp::model::ErrorCode(code),
                error["message"].as_str().unwrap_or("upstream error").to_owned(),
                error.get("data").cloned(),
            ));
        }
        Ok(reply["result"].clone())
    }

    /// An upstream tool through `/mcp`: the policy, then the server.
    async fn upstream_call(
        &self,
        server: &UpstreamServer,
        tool: &str,
        request: CallToolRequestParams,
        context: &RequestContext<RoleServer>,
        p: &Principal,
    ) -> Result<CallToolResponse, McpError> {
        if let Err(d) = policy::call_tool(p, server, tool) {
            return Ok(upstream_tool_error(&d.into()));
        }
        let mut params = serde_json::to_value(&request).unwrap_or_default();
        params["name"] = json!(tool);
        match self.forward(server, p, "tools/call", params, context).await {
            Ok(result) => serde_json::from_value::<CallToolResult>(result)
                .map(Into::into)
                .map_err(|_| McpError::internal_error("the upstream's tool result is not readable", None)),
            Err(e) if e.data.as_ref().is_some_and(|d| d.get("next_action").is_some()) => {
                Ok(CallToolResult::structured_error(e.data.unwrap_or_default()).into())
            }
            Err(e) => Err(e),
        }
    }
}
