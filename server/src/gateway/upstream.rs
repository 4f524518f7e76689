//! Talking to upstream MCP servers over Streamable HTTP, in the era each one speaks:
//!
//! - revision 2026-07-28 (modern): every request stands alone, with Gatehouse's `_meta` and the
//!   `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers;
//! - 2025-03-26 to 2025-11-25 (legacy): a session opened with `initialize` per caller and server,
//!   kept in the database for every process; an upstream 404 for it opens a new one once and
//!   retries.
//!
//! The era is learnt by asking `server/discover` first. Every request is built from scratch: the
//! caller's `Authorization`, cookies and other headers never go upstream — only the server's own
//! credential headers and, when the server asks for it, the signed `Gatehouse-Identity`. Answers
//! come back as one JSON message or as an event stream read one event at a time. A per-server
//! circuit breaker keeps a dead server from costing its callers a timeout each.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use futures::StreamExt;
use gatehouse_core::{
    Db,
    keys::Principal,
    net::{Outbound, OutboundError, OutboundOptions},
    secrets::Keyring,
    servers::{self, UpstreamServer, UpstreamSession},
    signing::Signer,
};
use serde_json::{Map, Value, json};

use super::{GatewayError, identity, sse::SseReader};
use crate::mcp::wire::SUPPORTED_VERSIONS;

/// The revision spoken to modern upstreams.
pub const MODERN: &str = "2026-07-28";
/// The revision asked for in a legacy `initialize`.
pub const LEGACY: &str = "2025-11-25";
/// The largest answer read from an upstream (a JSON body, or an event stream in all).
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
/// The most tools (or prompts, resources) a server's list may hold.
pub const MAX_LIST_ITEMS: usize = 2000;
/// Consecutive failures that open a server's breaker, and how long it stays open.
const BREAKER_FAILURES: u32 = 5;
const BREAKER_OPEN: Duration = Duration::from_secs(30);
/// How long what a server said of itself (era, identity, capabilities, lists) is kept.
const INFO_TTL: Duration = Duration::from_secs(60);

/// What a server said of itself.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub modern: bool,
    pub protocol_version: String,
    pub name: String,
    pub version: String,
    pub capabilities: Value,
    pub instructions: Option<String>,
}

/// An answer from upstream.
pub enum Answer {
    /// One JSON-RPC message, with the HTTP status it came with.
    Json { status: u16, body: Value },
    /// An event stream: notifications, then the response.
    Stream(UpstreamStream),
    /// A notification was accepted (202).
    Accepted,
}

/// An upstream event stream, read one event at a time.
pub struct UpstreamStream {
    body: futures::stream::BoxStream<'static, Result<bytes::Bytes, reqwest::Error>>,
    reader: SseReader,
    queued: std::collections::VecDeque<String>,
    read: usize,
    server: String,
    timeout_secs: u64,
}

impl UpstreamStream {
    /// The next JSON-RPC message, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Value, GatewayError>> {
        loop {
            if let Some(data) = self.queued.pop_front() {
                // A priming event (an id with empty data, for resumption) carries no message.
                if data.trim().is_empty() {
                    continue;
                }
                return Some(
                    serde_json::from_str(&data)
                        .map_err(|_| GatewayError::error(&self.server, "an event that is not JSON")),
                );
            }
            match self.body.next().await {
                None => return None,
                Some(Ok(chunk)) => {
                    self.read += chunk.len();
                    if self.read > MAX_ANSWER_BYTES {
                        return Some(Err(GatewayError::error(&self.server, "an answer larger than 16 MiB")));
                    }
                    self.queued.extend(self.reader.push(&chunk));
                }
                Some(Err(e)) if e.is_timeout() => {
                    return Some(Err(GatewayError::timeout(&self.server, self.timeout_secs)));
                }
                Some(Err(_)) => return Some(Err(GatewayError::unavailable(&self.server, "the stream broke off"))),
            }
        }
    }

    /// Reads to the JSON-RPC response (a message with an `id` and a result or error), handing
    /// every notification before it to `on_notification`.
    pub async fn response(mut self, mut on_notification: impl FnMut(Value)) -> Result<Value, GatewayError> {
        while let Some(message) = self.next().await {
            let message = message?;
            if is_response(&message) {
                return Ok(message);
            }
            if message.get("method").is_some() && message.get("id").is_none() {
                on_notification(message);
            }
        }
        Err(GatewayError::error(&self.server, "the stream ended without a response"))
    }
}

/// A JSON-RPC response: an id and a result or an error.
pub fn is_response(message: &Value) -> bool {
    message.get("id").is_some() && (message.get("result").is_some() || message.get("error").is_some())
}

#[derive(Debug, Default, Clone, Copy)]
struct Breaker {
    failures: u32,
    opened: Option<Instant>,
}

/// The upstream client, shared by every request. Cheap to clone.
/// Entries kept for a while, stamped with when they were fetched.
type Cache<K, V> = Arc<Mutex<HashMap<K, (Instant, Arc<V>)>>>;

#[derive(Clone)]
pub struct Upstreams {
    db: Db,
    keys: Keyring,
    signer: Signer,
    issuer: String,
    public: Outbound,
    private: Outbound,
    breakers: Arc<Mutex<HashMap<String, Breaker>>>,
    /// The registry, read through its cache on every call.
    registry: servers::RegistryCache,
    info: Cache<String, ServerInfo>,
    lists: Cache<(String, &'static str), Vec<Value>>,
}

fn failure(e: &OutboundError, server: &UpstreamServer) -> GatewayError {
    match e {
        OutboundError::Timeout(_) => GatewayError::timeout(&server.slug, server.timeout().as_secs()),
        OutboundError::TooLarge(_) => GatewayError::error(&server.slug, "an answer larger than 16 MiB"),
        OutboundError::Refused(why) | OutboundError::Unreachable(why) => GatewayError::unavailable(&server.slug, why),
    }
}

/// A header value as the 2026-07-28 transport carries it: plain when it is safe ASCII, else the
/// `=?base64?…?=` form.
fn header_value(value: &str) -> String {
    let printable = value.bytes().all(|b| (0x20..0x7f).contains(&b));
    let padded = value.starts_with(' ') || value.ends_with(' ');
    let looks_encoded = value.starts_with("=?base64?") && value.ends_with("?=");
    let plain = printable && !padded && !looks_encoded;
    if plain { value.to_owned() } else { format!("=?base64?{}?=", STANDARD.encode(value.as_bytes())) }
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstreams").finish_non_exhaustive()
    }
}

impl Upstreams {
    pub fn new(
        db: Db,
        keys: Keyring,
        signer: Signer,
        issuer: &str,
        roots: Option<Arc<Vec<u8>>>,
    ) -> Result<Self, String> {
        let options = || {
            OutboundOptions::new(Duration::from_secs(300), concat!("Gatehouse-Gateway/", env!("CARGO_PKG_VERSION")))
                .with_roots(roots.clone())
        };
        Ok(Upstreams {
            public: Outbound::new(servers::address_rules(false), options())?,
            private: Outbound::new(servers::address_rules(true), options())?,
            registry: servers::RegistryCache::new(db.clone()),
            db,
            keys,
            signer,
            issuer: issuer.to_owned(),
            breakers: Arc::default(),
            info: Arc::default(),
            lists: Arc::default(),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The workspaces' servers, cached until they change.
    pub fn registry(&self) -> &servers::RegistryCache {
        &self.registry
    }

    fn client(&self, server: &UpstreamServer) -> &Outbound {
        if server.allow_private { &self.private } else { &self.public }
    }

    /// Forgets what was learnt of a server (after it changed, or for a fresh test).
    pub fn forget(&self, server_id: &str) {
        if let Ok(mut info) = self.info.lock() {
            info.remove(server_id);
        }
        if let Ok(mut lists) = self.lists.lock() {
            lists.retain(|(id, _), _| id != server_id);
        }
    }

    fn breaker_check(&self, server: &UpstreamServer) -> Result<(), GatewayError> {
        let breaker = self.breakers.lock().ok().and_then(|b| b.get(&server.id).copied()).unwrap_or_default();
        match breaker.opened {
            Some(at) if at.elapsed() < BREAKER_OPEN => {
                let wait = (BREAKER_OPEN - at.elapsed()).as_secs().max(1);
                Err(GatewayError::unavailable(
                    &server.slug,
                    &format!(
                        "it failed {BREAKER_FAILURES} times in a row, so Gatehouse waits {wait} more seconds before trying again"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    fn breaker_note(&self, server: &UpstreamServer, ok: bool) {
        if let Ok(mut breakers) = self.breakers.lock() {
            let b = breakers.entry(server.id.clone()).or_default();
            if ok {
                *b = Breaker::default();
            } else {
                b.failures += 1;
                if b.failures >= BREAKER_FAILURES {
                    b.opened = Some(Instant::now());
                    b.failures = 0;
                    tracing::warn!(server = %server.id, "upstream failing: circuit breaker open for 30 s");
                }
            }
        }
    }

    /// Sends one message and reads the answer's head; no era logic.
    async fn send_raw(
        &self,
        server: &UpstreamServer,
        principal: Option<&Principal>,
        message: &Value,
        version: &str,
        session: Option<&str>,
    ) -> Result<Answer, GatewayError> {
        self.breaker_check(server)?;
        let client = self.client(server);
        let method = message.get("method").and_then(Value::as_str).unwrap_or_default();
        let Some(endpoint) = server.endpoint() else {
            return Err(GatewayError::unavailable(&server.slug, "its stored URL is not valid; edit the server"));
        };
        let mut request = client
            .client()
            .post(endpoint.clone())
            .timeout(server.timeout())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", version);
        if version >= MODERN {
            request = request.header("mcp-method", header_value(method));
            let params = message.get("params");
            let name = params.and_then(|p| p.get("name").or_else(|| p.get("uri"))).and_then(Value::as_str);
            if let Some(name) = name.filter(|_| matches!(method, "tools/call" | "prompts/get" | "resources/read")) {
                request = request.header("mcp-name", header_value(name));
            }
        }
        if let Some(session) = session.filter(|s| !s.is_empty()) {
            request = request.header("mcp-session-id", session);
        }
        let credentials = server.credentials(&self.keys).map_err(|e| {
            tracing::error!(server = %server.id, error = %e, "cannot open a server's credentials");
            GatewayError::unavailable(&server.slug, "its credentials cannot be read with this server key")
        })?;
        for (name, value) in credentials.pairs() {
            request = request.header(name.as_str(), value.as_str());
        }
        if server.send_identity
            && let Some(p) = principal
        {
            let jwt = identity::assertion(&self.signer, &self.issuer, server, p).await.map_err(|e| {
                tracing::error!(error = %e, "cannot sign an identity assertion");
                GatewayError::unavailable(&server.slug, "Gatehouse could not sign who is calling")
            })?;
            request = request.header(identity::HEADER, jwt);
        }
        let request = request.body(message.to_string());
        let response = match client.send(request).await {
            Ok(r) => r,
            Err(e) => {
                self.breaker_note(server, false);
                return Err(failure(&e, server));
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if status >= 500 {
            self.breaker_note(server, false);
        } else {
            self.breaker_note(server, true);
        }
        if status == 202 {
            return Ok(Answer::Accepted);
        }
        if content_type.starts_with("text/event-stream") && status == 200 {
            return Ok(Answer::Stream(UpstreamStream {
                body: response.bytes_stream().boxed(),
                reader: SseReader::default(),
                queued: Default::default(),
                read: 0,
                server: server.slug.clone(),
                timeout_secs: server.timeout().as_secs(),
            }));
        }
        let is_json = content_type.starts_with("application/json");
        let body =
            gatehouse_core::net::read_capped(response, MAX_ANSWER_BYTES).await.map_err(|e| failure(&e, server))?;
        let parsed: Option<Value> = if is_json { serde_json::from_slice(&body).ok() } else { None };
        match parsed {
            Some(body) if body.get("jsonrpc").is_some() && !(status == 404 && session.is_some()) => {
                Ok(Answer::Json { status, body })
            }
            _ if status == 404 && session.is_some() => {
                Err(GatewayError { code: "SESSION_GONE", ..GatewayError::error(&server.slug, "session gone") })
            }
            _ if status == 401 || status == 403 => Err(GatewayError::error(
                &server.slug,
                &format!(
                    "it refused Gatehouse's credential (HTTP {status}); an admin should check the server's headers"
                ),
            )),
            _ if (200..300).contains(&status) => {
                Err(GatewayError::error(&server.slug, "an answer that is not JSON-RPC"))
            }
            _ => Err(GatewayError::error(&server.slug, &format!("HTTP {status} without a JSON-RPC answer"))),
        }
    }

    /// What the server says of itself, learnt once a minute: `server/discover` (modern), or an
    /// `initialize` (legacy).
    pub async fn info(&self, server: &UpstreamServer) -> Result<Arc<ServerInfo>, GatewayError> {
        if let Some((at, info)) = self.info.lock().ok().and_then(|i| i.get(&server.id).cloned())
            && at.elapsed() < INFO_TTL
        {
            return Ok(info);
        }
        let info = Arc::new(self.learn(server).await?);
        if let Ok(mut cache) = self.info.lock() {
            cache.insert(server.id.clone(), (Instant::now(), info.clone()));
        }
        Ok(info)
    }

    async fn learn(&self, server: &UpstreamServer) -> Result<ServerInfo, GatewayError> {
        let discover = json!({"jsonrpc": "2.0", "id": "gatehouse-discover", "method": "server/discover", "params": {"_meta": modern_meta()}});
        let answer = self.send_raw(server, None, &discover, MODERN, None).await;
        let message = match answer {
            Ok(Answer::Json { status: 200, body }) => Some(body),
            Ok(Answer::Stream(stream)) => stream.response(|_| {}).await.ok(),
            Ok(_) => None,
            // A server of the older revisions may answer the probe with anything: try initialize.
            Err(e) if e.code == "UPSTREAM_ERROR" => None,
            Err(e) => return Err(e),
        };
        if let Some(result) = message.as_ref().and_then(|m| m.get("result"))
            && result["supportedVersions"].as_array().is_some_and(|v| v.iter().any(|v| v == MODERN))
        {
            let identity = &result["_meta"]["io.modelcontextprotocol/serverInfo"];
            return Ok(ServerInfo {
                modern: true,
                protocol_version: MODERN.into(),
                name: identity["name"].as_str().unwrap_or(&server.name).to_owned(),
                version: identity["version"].as_str().unwrap_or_default().to_owned(),
                capabilities: result["capabilities"].clone(),
                instructions: result["instructions"].as_str().map(str::to_owned),
            });
        }
        let (session, result) = self.initialize(server).await?;
        // This session was only for learning; the caller's own is opened on its first call.
        drop(session);
        Ok(ServerInfo {
            modern: false,
            protocol_version: result["protocolVersion"].as_str().unwrap_or(LEGACY).to_owned(),
            name: result["serverInfo"]["name"].as_str().unwrap_or(&server.name).to_owned(),
            version: result["serverInfo"]["version"].as_str().unwrap_or_default().to_owned(),
            capabilities: result["capabilities"].clone(),
            instructions: result["instructions"].as_str().map(str::to_owned),
        })
    }

    /// A legacy handshake: `initialize`, then `notifications/initialized` in the new session.
    async fn initialize(&self, server: &UpstreamServer) -> Result<(UpstreamSession, Value), GatewayError> {
        let init = json!({"jsonrpc": "2.0", "id": "gatehouse-init", "method": "initialize", "params": {
            "protocolVersion": LEGACY, "capabilities": {},
            "clientInfo": {"name": "gatehouse", "version": env!("CARGO_PKG_VERSION")}}});
        self.breaker_check(server)?;
        let client = self.client(server);
        let mut request = client
            .client()
            .post(&server.url)
            .timeout(server.timeout())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        let credentials = server.credentials(&self.keys).map_err(|_| {
            GatewayError::unavailable(&server.slug, "its credentials cannot be read with this server key")
        })?;
        for (name, value) in credentials.pairs() {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = client.send(request.body(init.to_string())).await.map_err(|e| {
            self.breaker_note(server, false);
            failure(&e, server)
        })?;
        let session_id =
            response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        self.breaker_note(server, status < 500);
        let message = if content_type.starts_with("text/event-stream") {
            UpstreamStream {
                body: response.bytes_stream().boxed(),
                reader: SseReader::default(),
                queued: Default::default(),
                read: 0,
                server: server.slug.clone(),
                timeout_secs: server.timeout().as_secs(),
            }
            .response(|_| {})
            .await?
        } else {
            let body =
                gatehouse_core::net::read_capped(response, MAX_ANSWER_BYTES).await.map_err(|e| failure(&e, server))?;
            serde_json::from_slice(&body).map_err(|_| {
                GatewayError::error(&server.slug, &format!("its initialize answer is not JSON-RPC (HTTP {status})"))
            })?
        };
        let result = message
            .get("result")
            .cloned()
            .ok_or_else(|| GatewayError::error(&server.slug, "it refused Gatehouse's initialize"))?;
        let version = result["protocolVersion"].as_str().unwrap_or(LEGACY).to_owned();
        if !SUPPORTED_VERSIONS.iter().any(|v| v.as_str() == version) {
            return Err(GatewayError::error(
                &server.slug,
                &format!("it speaks protocol revision {version}, which Gatehouse does not"),
            ));
        }
        let session = UpstreamSession { session_id, protocol_version: version };
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        self.send_raw(server, None, &initialized, &session.protocol_version, Some(&session.session_id)).await?;
        Ok((session, result))
    }

    /// The caller's session at a legacy server: the stored one, or a new one.
    async fn session(&self, server: &UpstreamServer, caller: &str) -> Result<UpstreamSession, GatewayError> {
        if let Ok(Some(session)) = servers::find_session(&self.db, &server.id, caller).await {
            return Ok(session);
        }
        let (session, _) = self.initialize(server).await?;
        if let Err(e) = servers::store_session(&self.db, &server.id, caller, &session).await {
            tracing::warn!(error = %e, "could not store an upstream session; it is used once");
        }
        Ok(session)
    }

    /// Sends a caller's message to the server in the server's era; `None` principal for Gatehouse's
    /// own requests (health, "Test connection").
    pub async fn send(
        &self,
        server: &UpstreamServer,
        principal: Option<&Principal>,
        message: &Value,
    ) -> Result<Answer, GatewayError> {
        let info = self.info(server).await?;
        let mut message = message.clone();
        retarget_meta(&mut message, info.modern);
        if info.modern {
            return self.send_raw(server, principal, &message, MODERN, None).await;
        }
        let caller = principal.map_or("gatehouse", |p| p.caller_id.as_str());
        for attempt in 0..2 {
            let session = self.session(server, caller).await?;
            match self.send_raw(server, principal, &message, &session.protocol_version, Some(&session.session_id)).await
            {
                Err(e) if e.code == "SESSION_GONE" && attempt == 0 => {
                    let _ = servers::drop_session(&self.db, &server.id, caller, &session.session_id).await;
                }
                Err(e) if e.code == "SESSION_GONE" => {
                    return Err(GatewayError::error(&server.slug, "it forgot a session Gatehouse had just opened"));
                }
                other => return other,
            }
        }
        Err(GatewayError::error(&server.slug, "no session"))
    }

    /// Sends a request and reads it to its response (notifications before it go to `on_notification`).
    pub async fn call(
        &self,
        server: &UpstreamServer,
        principal: Option<&Principal>,
        message: &Value,
        on_notification: impl FnMut(Value),
    ) -> Result<Value, GatewayError> {
        match self.send(server, principal, message).await? {
            Answer::Json { body, .. } => Ok(body),
            Answer::Stream(stream) => stream.response(on_notification).await,
            Answer::Accepted => Err(GatewayError::error(&server.slug, "202 Accepted for a request")),
        }
    }

    /// A whole list (`tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`),
    /// every page, at most [`MAX_LIST_ITEMS`] items; kept a minute.
    pub async fn list(
        &self,
        server: &UpstreamServer,
        principal: Option<&Principal>,
        method: &'static str,
    ) -> Result<Arc<Vec<Value>>, GatewayError> {
        let key = (server.id.clone(), method);
        if let Some((at, items)) = self.lists.lock().ok().and_then(|l| l.get(&key).cloned())
            && at.elapsed() < INFO_TTL
        {
            return Ok(items);
        }
        let field = match method {
            "tools/list" => "tools",
            "prompts/list" => "prompts",
            "resources/list" => "resources",
            _ => "resourceTemplates",
        };
        let mut items: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        for page in 0..100 {
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => json!({}),
            };
            let request =
                json!({"jsonrpc": "2.0", "id": format!("gatehouse-list-{page}"), "method": method, "params": params});
            let reply = self.call(server, principal, &request, |_| {}).await?;
            if let Some(error) = reply.get("error") {
                // A server without this feature has an empty list.
                if error["code"] == -32601 {
                    break;
                }
                return Err(GatewayError::error(
                    &server.slug,
                    &format!("{method} failed: {}", error["message"].as_str().unwrap_or("an error")),
                ));
            }
            let result = &reply["result"];
            let page_items = result[field]
                .as_array()
                .ok_or_else(|| GatewayError::error(&server.slug, &format!("{method} has no {field}")))?;
            items.extend(page_items.iter().cloned());
            if items.len() > MAX_LIST_ITEMS {
                return Err(GatewayError::error(
                    &server.slug,
                    &format!("its {field} list has more than {MAX_LIST_ITEMS} entries"),
                ));
            }
            cursor = result["nextCursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        let items = Arc::new(items);
        if let Ok(mut lists) = self.lists.lock() {
            lists.insert(key, (Instant::now(), items.clone()));
        }
        Ok(items)
    }
}

/// Gatehouse's own `_meta` for a modern request.
fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "gatehouse", "version": env!("CARGO_PKG_VERSION")},
        "io.modelcontextprotocol/clientCapabilities": {},
    })
}

/// The caller's `_meta` without the protocol's own keys (whose values describe the caller's hop),
/// and with Gatehouse's for a modern upstream; other keys (`progressToken`, trace context) stay.
fn retarget_meta(message: &mut Value, modern: bool) {
    let Some(params) = message.get_mut("params").and_then(Value::as_object_mut) else {
        if modern && message.get("id").is_some() {
            message["params"] = json!({ "_meta": modern_meta() });
        }
        return;
    };
    let mut meta: Map<String, Value> = params.remove("_meta").and_then(|m| m.as_object().cloned()).unwrap_or_default();
    meta.retain(|k, _| !k.starts_with("io.modelcontextprotocol/"));
    if modern && let Some(ours) = modern_meta().as_object() {
        meta.extend(ours.clone());
    }
    if !meta.is_empty() {
        params.insert("_meta".into(), Value::Object(meta));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_is_retargeted() {
        let mut m = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x",
            "_meta": {"progressToken": 7, "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": {"name": "caller"}}}});
        retarget_meta(&mut m, false);
        assert_eq!(m["params"]["_meta"], json!({"progressToken": 7}));
        retarget_meta(&mut m, true);
        assert_eq!(m["params"]["_meta"]["io.modelcontextprotocol/clientInfo"]["name"], "gatehouse");
        assert_eq!(m["params"]["_meta"]["progressToken"], 7);
        let mut bare = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
        retarget_meta(&mut bare, true);
        assert_eq!(bare["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"], MODERN);
    }

    #[test]
    fn header_values_are_encoded_when_unsafe() {
        assert_eq!(header_value("search_contacts"), "search_contacts");
        assert_eq!(header_value("日本"), format!("=?base64?{}?=", STANDARD.encode("日本")));
        assert!(header_value(" padded").starts_with("=?base64?"));
        assert!(
            header_value("=?base64?x?=").starts_with("=?base64?") && header_value("=?base64?x?=") != "=?base64?x?="
        );
    }
}
