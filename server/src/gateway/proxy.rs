//! `/mcp/{slug}`: one upstream server under its own names. The path a call walks: the credential
//! (`mcp::auth`, for this resource) → the JSON-RPC edge (`mcp::wire`) → here: the server of the
//! caller's workspace → the policy (`gatehouse_core::policy`) → the upstream client → the answer relayed
//! back, event by event when it streams.
//!
//! Gatehouse answers the handshake itself (`initialize`, `notifications/initialized`,
//! `server/discover`, `ping`) with what the server said of itself, so callers of either era work
//! whatever era the server speaks, and no session is pinned to a process. `tools/list` is
//! filtered by the same policy a call meets.

use std::time::Instant;

use axum::{
    body::{Body, to_bytes},
    extract::{Path, Request, State},
    response::{IntoResponse, Response},
};
use gatehouse_core::{CoreError, clock::now_ms, keys::Principal, policy, servers::UpstreamServer, usage::Call};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use super::{
    GatewayError, naming,
    upstream::{Answer, ServerInfo, UpstreamStream, is_response},
};
use crate::{
    mcp::{MAX_MCP_BODY_BYTES, wire},
    state::AppState,
};

/// `POST /mcp/{slug}`.
pub async fn post(State(state): State<AppState>, Path(slug): Path<String>, request: Request) -> Response {
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && !crate::mcp::origin_allowed(&state.config.public_url, origin.as_bytes())
    {
        return super::error::refusal(
            StatusCode::FORBIDDEN,
            GatewayError {
                code: "FORBIDDEN",
                message: "This origin may not call Gatehouse's MCP endpoints.".into(),
                next_action: "Call from a server or an MCP host, not from another site's page.".into(),
            },
        );
    }
    let Some(principal) = request.extensions().get::<std::sync::Arc<Principal>>().cloned() else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let Ok(bytes) = to_bytes(request.into_body(), MAX_MCP_BODY_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let message: Value = match serde_json::from_slice::<Value>(&bytes) {
        Ok(m) if m.is_object() && m["jsonrpc"] == "2.0" && m["method"].is_string() => m,
        _ => return wire::not_one_message(&bytes),
    };
    let server = match state.upstreams.registry().get(&principal.workspace_id, &slug).await {
        Ok(s) => s,
        Err(CoreError::NotFound) => {
            return super::error::refusal(
                StatusCode::NOT_FOUND,
                GatewayError::not_found(format!("Workspace '{}' has no server '{slug}'.", principal.workspace_slug)),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read an upstream server");
            return crate::api::error::ApiError::unavailable("The server registry cannot be read right now.")
                .into_response();
        }
    };
    if let Err(denial) = policy::reach(&principal, &server) {
        return super::error::refusal(StatusCode::FORBIDDEN, denial.into());
    }
    serve(&state, &principal, &server, message).await
}

/// Whether the caller speaks revision 2026-07-28 (its request carries the version in `_meta`).
fn modern_caller(message: &Value) -> bool {
    message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"].is_string()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn result(id: &Value, result: Value) -> Response {
    json_response(StatusCode::OK, json!({ "jsonrpc": "2.0", "id": id, "result": result }))
}

/// The fields 2026-07-28 asks of a result, for a modern caller, where the result lacks them:
/// `resultType`, and on lists and reads cache hints that keep it out of shared caches (what a list
/// holds depends on the caller's credential). Gatehouse's own results and the upstream's alike.
fn complete(mut result: Value, modern: bool, list: bool) -> Value {
    if modern && let Some(fields) = result.as_object_mut() {
        fields.entry("resultType").or_insert_with(|| json!("complete"));
        if list {
            fields.entry("ttlMs").or_insert_with(|| json!(0));
            fields.entry("cacheScope").or_insert_with(|| json!("private"));
        }
    }
    result
}

async fn serve(state: &AppState, p: &Principal, server: &UpstreamServer, message: Value) -> Response {
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let method = message["method"].as_str().unwrap_or_default().to_owned();
    let modern = modern_caller(&message);
    let upstreams = &state.upstreams;
    match method.as_str() {
        "initialize" | "server/discover" | "ping" => {
            let info = match upstreams.info(server).await {
                Ok(info) => info,
                Err(e) => return json_response(StatusCode::OK, e.json_rpc(&id)),
            };
            match method.as_str() {
                "initialize" => result(&id, initialize_result(&message, &info)),
                "server/discover" => result(&id, complete(discover_result(&info), true, false)),
                _ => result(&id, json!({})),
            }
        }
        "notifications/initialized" => StatusCode::ACCEPTED.into_response(),
        "tools/list" => match upstreams.list(server, Some(p), "tools/list").await {
            Ok(tools) => {
                let visible: Vec<Value> = tools
                    .iter()
                    .filter(|t| t["name"].as_str().is_some_and(|name| policy::call_tool(p, server, name).is_ok()))
                    .cloned()
                    .collect();
                result(&id, complete(json!({ "tools": visible }), modern, true))
            }
            Err(e) => json_response(StatusCode::OK, e.json_rpc(&id)),
        },
        "tools/call" => {
            let tool = message["params"]["name"].as_str().unwrap_or_default().to_owned();
            if let Err(denial) = policy::call_tool(p, server, &tool) {
                let e: GatewayError = denial.into();
                record(state, p, server, &tool, e.code, Instant::now());
                return result(&id, complete(e.tool_result(), modern, false));
            }
            relay(state, p, server, message, Some(tool)).await
        }
        _ if method.starts_with("notifications/") => match upstreams.send(server, Some(p), &message).await {
            Ok(_) | Err(_) => StatusCode::ACCEPTED.into_response(),
        },
        _ => {
            if let Err(denial) = policy::use_whole_server(p, server) {
                let e: GatewayError = denial.into();
                return json_response(StatusCode::OK, e.json_rpc(&id));
            }
            relay(state, p, server, message, None).await
        }
    }
}

/// `initialize`, answered as the server would in the caller's revision.
pub fn initialize_result(message: &Value, info: &ServerInfo) -> Value {
    let asked = message["params"]["protocolVersion"].as_str().unwrap_or_default();
    let legacy: Vec<&str> =
        wire::SUPPORTED_VERSIONS.iter().map(|v| v.as_str()).filter(|v| *v < super::upstream::MODERN).collect();
    let version =
        if legacy.contains(&asked) { asked } else { legacy.last().copied().unwrap_or(super::upstream::LEGACY) };
    let mut result = json!({
        "protocolVersion": version,
        "capabilities": info.capabilities,
        "serverInfo": { "name": info.name, "version": info.version },
    });
    if let Some(instructions) = &info.instructions {
        result["instructions"] = json!(instructions);
    }
    result
}

fn discover_result(info: &ServerInfo) -> Value {
    let versions: Vec<&str> = wire::SUPPORTED_VERSIONS.iter().map(|v| v.as_str()).collect();
    let mut result = json!({
        "supportedVersions": versions,
        "capabilities": info.capabilities,
        "_meta": { "io.modelcontextprotocol/serverInfo": { "name": info.name, "version": info.version } },
        "ttlMs": 0,
        "cacheScope": "private",
    });
    if let Some(instructions) = &info.instructions {
        result["instructions"] = json!(instructions);
    }
    result
}

fn record(state: &AppState, p: &Principal, server: &UpstreamServer, tool: &str, outcome: &str, started: Instant) {
    let exposed = naming::exposed(&server.slug, tool);
    state.usage.record(Call {
        workspace_id: &p.workspace_id,
        environment: p.environment,
        caller: &p.caller_id,
        server: &server.slug,
        tool: &exposed,
        outcome,
        latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        at: now_ms(),
    });
}

/// The outcome of a tool call's response, for usage: `ok`, the tool error's code, or the JSON-RPC error.
pub fn outcome_of(response: &Value) -> String {
    if let Some(code) = response["error"]["code"].as_i64() {
        return format!("JSONRPC_{code}");
    }
    if response["result"]["isError"] == true {
        return response["result"]["structuredContent"]["code"].as_str().unwrap_or("TOOL_ERROR").to_owned();
    }
    "ok".to_owned()
}

/// A response in the caller's revision: a 2026-07-28 caller of an upstream of the older revisions
/// gets the fields its revision requires.
fn for_caller(mut message: Value, method: &str, modern: bool) -> Value {
    if let Some(result) = message.get_mut("result") {
        let list = method.ends_with("/list") || method == "resources/read";
        *result = complete(result.take(), modern, list);
    }
    message
}

/// Sends the message on and relays the answer: as it came (JSON), or event by event (SSE).
async fn relay(
    state: &AppState,
    p: &Principal,
    server: &UpstreamServer,
    message: Value,
    tool: Option<String>,
) -> Response {
    let started = Instant::now();
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let modern = modern_caller(&message);
    let method = message["method"].as_str().unwrap_or_default().to_owned();
    match state.upstreams.send(server, Some(p), &message).await {
        Ok(Answer::Json { status, body }) => {
            let body = for_caller(body, &method, modern);
            if let Some(tool) = &tool {
                record(state, p, server, tool, &outcome_of(&body), started);
            }
            json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body)
        }
        Ok(Answer::Accepted) => StatusCode::ACCEPTED.into_response(),
        Ok(Answer::Stream(stream)) => {
            stream_response(state.clone(), p.clone(), server.clone(), message, stream, tool, started)
        }
        Err(e) => {
            if let Some(tool) = &tool {
                record(state, p, server, tool, e.code, started);
                return result(&id, complete(e.tool_result(), modern, false));
            }
            json_response(StatusCode::OK, e.json_rpc(&id))
        }
    }
}

/// Relays an upstream event stream as it comes. When the caller hangs up before the response,
/// the upstream is told (`notifications/cancelled`) and the stream closed.
fn stream_response(
    state: AppState,
    p: Principal,
    server: UpstreamServer,
    request: Value,
    stream: UpstreamStream,
    tool: Option<String>,
    started: Instant,
) -> Response {
    struct Relay {
        state: AppState,
        p: Principal,
        server: UpstreamServer,
        request: Value,
        stream: Option<UpstreamStream>,
        tool: Option<String>,
        started: Instant,
        done: bool,
    }
    impl Drop for Relay {
        fn drop(&mut self) {
            if self.done {
                return;
            }
            let Some(id) = self.request.get("id").cloned() else { return };
            let (upstreams, server, p) = (self.state.upstreams.clone(), self.server.clone(), self.p.clone());
            let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": id, "reason": "the caller went away"}});
            if let Some(tool) = &self.tool {
                record(&self.state, &self.p, &self.server, tool, "CANCELLED", self.started);
            }
            tokio::spawn(async move {
                let _ = upstreams.send(&server, Some(&p), &cancel).await;
            });
        }
    }
    let relay = Relay { state, p, server, request, stream: Some(stream), tool, started, done: false };
    let body = futures::stream::unfold(relay, |mut relay| async move {
        if relay.done {
            return None;
        }
        let mut stream = relay.stream.take()?;
        let next = stream.next().await;
        let id = relay.request.get("id").cloned().unwrap_or(Value::Null);
        let (event, finished) = match next {
            Some(Ok(message)) => {
                let finished = is_response(&message);
                let modern = modern_caller(&relay.request);
                let method = relay.request["method"].as_str().unwrap_or_default().to_owned();
                let message = if finished { for_caller(message, &method, modern) } else { message };
                if finished && let Some(tool) = &relay.tool {
                    record(&relay.state, &relay.p, &relay.server, tool, &outcome_of(&message), relay.started);
                }
                (message, finished)
            }
            Some(Err(e)) => {
                if let Some(tool) = &relay.tool {
                    record(&relay.state, &relay.p, &relay.server, tool, e.code, relay.started);
                    let modern = modern_caller(&relay.request);
                    (json!({"jsonrpc": "2.0", "id": id, "result": complete(e.tool_result(), modern, false)}), true)
                } else {
                    (e.json_rpc(&id), true)
                }
            }
            None => {
                let e = GatewayError::error(&relay.server.slug, "the stream ended without a response");
                (e.json_rpc(&id), true)
            }
        };
        if finished {
            relay.done = true;
        } else {
            relay.stream = Some(stream);
        }
        Some((Ok::<_, std::convert::Infallible>(super::sse::event(&event.to_string())), relay))
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
