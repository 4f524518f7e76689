//! `tools/call` of the built-in catalog, answered without rmcp's per-request session.
//!
//! In stateless mode rmcp serves every request as a session of its own: a task spawned for the
//! session, another for the handler, a channel, a response pool and cancellation tokens, then the
//! answer handed back across tasks. For a call that neither streams nor talks back to the client,
//! that machinery (and the thread wake-ups it causes) cost more than the call
//! (docs/benchmarks.md). Here the same handler answers through rmcp's own
//! `Service::handle_request` — our scope and resource checks and usage count in `call_tool`, rmcp's
//! tool router and typed parameters, the result shaped for the caller's revision, rmcp's error
//! mapping — and the answer is encoded exactly as rmcp encodes a JSON answer. What is skipped is
//! only the session around it.
//!
//! A request is taken here only when rmcp would accept it as it is and answer it with one JSON
//! message: a `tools/call` of a built-in tool (not an upstream's `{slug}__{tool}`, whose progress
//! is relayed), in the older revisions (no `_meta` protocol version, no `Mcp-Method` headers), no
//! progress token, no session, an allowed `Host`, no `Origin`, and `Accept` and `Content-Type` as
//! rmcp requires them. Everything else goes to rmcp, which answers (or refuses) as before.

use std::mem::swap;

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use rmcp::{
    RoleServer, Service,
    model::{
        ClientJsonRpcMessage, ClientRequest, Extensions, GetExtensions, GetMeta, Implementation,
        InitializeRequestParams, JsonRpcRequest, ProtocolVersion, RequestMetaObject, ServerJsonRpcMessage,
    },
    service::{RequestContext, RunningService, serve_directly},
};

use super::{server::GatehouseMcp, wire::SUPPORTED_VERSIONS};

/// The revision rmcp assumes when a stateless request names none.
const DEFAULT_VERSION: ProtocolVersion = ProtocolVersion::V_2025_03_26;

/// A call this module will answer.
pub struct DirectCall {
    request: JsonRpcRequest<ClientRequest>,
    /// Which of [`DirectCalls::sessions`] the caller's revision is.
    session: usize,
}

/// The handler, and an idle session per older revision whose peer the calls' contexts carry (the
/// built-in tools never send the client anything).
pub struct DirectCalls {
    handler: GatehouseMcp,
    sessions: Vec<(ProtocolVersion, RunningService<RoleServer, GatehouseMcp>)>,
    hosts: Vec<String>,
}

impl DirectCalls {
    /// `hosts` are the `Host` names `/mcp` answers to (rmcp's DNS-rebinding list).
    pub fn new(handler: GatehouseMcp, hosts: Vec<String>) -> Self {
        let sessions = SUPPORTED_VERSIONS
            .iter()
            .filter(|v| v.as_str() < ProtocolVersion::V_2026_07_28.as_str())
            .map(|version| {
                // As rmcp describes a stateless caller of this revision to its handler.
                let peer_info = InitializeRequestParams::new(Default::default(), Implementation::default())
                    .with_protocol_version(version.clone());
                let idle = (futures::sink::drain(), futures::stream::pending());
                (version.clone(), serve_directly(handler.clone(), idle, Some(peer_info)))
            })
            .collect();
        DirectCalls { handler, sessions, hosts }
    }

    /// The call, when this request is one answered here.
    pub fn take(&self, headers: &HeaderMap, body: &[u8]) -> Option<DirectCall> {
        if headers.contains_key("mcp-session-id")
            || headers.contains_key("mcp-method")
            || headers.contains_key("mcp-name")
            || headers.contains_key(header::ORIGIN)
            || !self.host_allowed(headers)
            || !accepts_json_and_events(headers)
            || !is_json(headers)
        {
            return None;
        }
        let version = match headers.get("mcp-protocol-version") {
            None => DEFAULT_VERSION,
            Some(value) => {
                let value = value.to_str().ok()?;
                self.sessions.iter().find(|(v, _)| v.as_str() == value)?.0.clone()
            }
        };
        let session = self.sessions.iter().position(|(v, _)| *v == version)?;
        let ClientJsonRpcMessage::Request(request) = serde_json::from_slice::<ClientJsonRpcMessage>(body).ok()? else {
            return None;
        };
        let ClientRequest::CallToolRequest(call) = &request.request else { return None };
        let meta = request.request.get_meta();
        if meta.protocol_version().is_some()
            || meta.get_progress_token().is_some()
            || !self.handler.is_built_in(&call.params.name)
        {
            return None;
        }
        Some(DirectCall { request, session })
    }

    /// Answers the call with `parts` (the request's head, which the tools read the principal
    /// from) as rmcp would: the handler's result or error as one JSON-RPC message, `200`.
    pub async fn serve(&self, parts: http::request::Parts, call: DirectCall) -> Response {
        let DirectCall { request: JsonRpcRequest { id, mut request, .. }, session } = call;
        let Some((_, running)) = self.sessions.get(session) else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        // What rmcp's serve loop does with a request before the handler sees it.
        request.extensions_mut().insert(parts);
        let mut meta = RequestMetaObject::new();
        swap(&mut meta, request.get_meta_mut());
        let mut extensions = Extensions::new();
        swap(&mut extensions, request.extensions_mut());
        let mut context = RequestContext::new(id.clone(), running.peer().clone());
        context.meta = meta;
        context.extensions = extensions;
        let message = match self.handler.handle_request(request, context).await {
            Ok(result) => ServerJsonRpcMessage::response(result, id),
            Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
        };
        match serde_json::to_vec(&message) {
            Ok(body) => {
                let mut response = Response::new(Body::from(body));
                response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Err(e) => {
                tracing::error!(error = %e, "a tool result could not be encoded");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }

    /// The `Host` header names one of the hosts `/mcp` answers to (any port), as rmcp checks it.
    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(authority) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
        let Ok(authority) = http::uri::Authority::try_from(authority) else { return false };
        let host = authority.host().trim_matches(['[', ']']).to_ascii_lowercase();
        self.hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(&host))
    }
}

/// `Accept` names both `application/json` and `text/event-stream`, as rmcp requires of a POST.
fn accepts_json_and_events(headers: &HeaderMap) -> bool {
    let (mut json, mut events) = (false, false);
    for value in headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()) {
        for media in value.split(',') {
            let essence = media.split(';').next().unwrap_or_default().trim();
            json |= essence.eq_ignore_ascii_case("application/json");
            events |= essence.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && events
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json"))
}
