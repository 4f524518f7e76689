//! Upstream MCP servers for the gateway tests, real ones: `@modelcontextprotocol/server-everything`
//! from npm (Streamable HTTP, sessions, progress on an event stream), a CRM written with the Python
//! SDK (`end2end/python/upstream_server.py`, revision 2026-07-28), and a small recorder written
//! here that speaks 2026-07-28 (or, asked to, the older revisions with sessions), notes the headers
//! of every request, and can misbehave on purpose.

use std::{
    collections::HashMap,
    net::TcpListener as StdListener,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

async fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start ({status})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not listen within 30 s");
}

/// A child process killed when dropped.
pub struct Spawned {
    child: Child,
    pub url: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn project(path: &str) -> String {
    format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))
}

/// `server-everything` in its Streamable HTTP mode.
pub async fn everything() -> Spawned {
    let port = free_port();
    let mut child = Command::new("node")
        .arg(project("node_modules/@modelcontextprotocol/server-everything/dist/index.js"))
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node and server-everything (make test installs them)");
    wait_for_port(port, "server-everything", &mut child).await;
    Spawned { child, url: format!("http://127.0.0.1:{port}/mcp") }
}

/// The Python SDK's CRM.
/// The Python SDK's CRM; its `caller` tool verifies identity assertions issued by `gatehouse`
/// (a base URL) for `http://127.0.0.1:{port}/mcp`, the URL returned.
pub async fn python_crm(gatehouse: &str) -> Spawned {
    let port = free_port();
    let mut child = Command::new(project(".venv/bin/python"))
        .arg(project("end2end/python/upstream_server.py"))
        .arg(port.to_string())
        .arg(gatehouse)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the Python MCP SDK in .venv (make test installs it)");
    wait_for_port(port, "the Python upstream", &mut child).await;
    Spawned { child, url: format!("http://127.0.0.1:{port}/mcp") }
}

/// How the recorder behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Revision 2026-07-28, stateless.
    Modern,
    /// 2025-11-25 with sessions.
    Legacy,
    /// Answers HTML.
    Html,
    /// Lists 10,000 tools.
    Flood,
    /// Never answers.
    Hang,
}

#[derive(Default)]
struct Seen {
    headers: Vec<HeaderMap>,
    /// (method, session id) of every request.
    requests: Vec<(String, Option<String>)>,
    sessions: Vec<String>,
}

/// The recorder, running.
#[derive(Clone)]
pub struct Recorder {
    pub url: String,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Clone)]
struct RecorderState {
    mode: Mode,
    seen: Arc<Mutex<Seen>>,
}

fn tool(name: &str) -> Value {
    json!({"name": name, "description": format!("The recorder's {name}"), "inputSchema": {"type": "object"},
           "annotations": {"readOnlyHint": true}})
}

async fn answer(State(s): State<RecorderState>, headers: HeaderMap, body: Bytes) -> Response {
    s.seen.lock().expect("seen").headers.push(headers.clone());
    let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = message["id"].clone();
    let method = message["method"].as_str().unwrap_or_default().to_owned();
    let session = headers.get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    s.seen.lock().expect("seen").requests.push((method.clone(), session));
    let reply = |result: Value| axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response();
    match s.mode {
        Mode::Html => return ([("content-type", "text/html")], "<html>a login page</html>").into_response(),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            return StatusCode::OK.into_response();
        }
        _ => {}
    }
    if s.mode == Mode::Legacy {
        if method == "initialize" {
            let session = format!("sess-{}", gatehouse_core::ids::random_base62(8));
            let mut seen = s.seen.lock().expect("seen");
            seen.sessions.push(session.clone());
            drop(seen);
            let mut response = reply(json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                                            "serverInfo": {"name": "legacy-recorder", "version": "1.0"}}));
            response.headers_mut().insert("mcp-session-id", session.parse().expect("header"));
            return response;
        }
        let given = headers.get("mcp-session-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        if !s.seen.lock().expect("seen").sessions.contains(&given) {
            return (StatusCode::NOT_FOUND, "no such session").into_response();
        }
        if message.get("id").is_none() {
            return StatusCode::ACCEPTED.into_response();
        }
    } else if method == "server/discover" {
        return reply(
            json!({"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
                            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "recorder", "version": "1.0"}}}),
        );
    } else if method == "initialize" {
        return (StatusCode::BAD_REQUEST, "modern only").into_response();
    }
    match method.as_str() {
        "tools/list" if s.mode == Mode::Flood => {
            reply(json!({"tools": (0..10_000).map(|i| tool(&format!("t{i}"))).collect::<Vec<_>>()}))
        }
        "tools/list" => reply(json!({"tools": [tool("record"), tool("fail"), tool("find.contact")]})),
        "tools/call" => match message["params"]["name"].as_str() {
            Some("fail") => {
                reply(json!({"content": [{"type": "text", "text": "the CRM is read-only today"}], "isError": true}))
            }
            Some("record" | "find.contact") => {
                let names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
                reply(json!({"content": [{"type": "text", "text": "noted"}], "structuredContent": {"headers": names}}))
            }
            other => axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32602, "message": format!("unknown tool {other:?}")}}))
                .into_response(),
        },
        _ => axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": method}}))
            .into_response(),
    }
}

impl Recorder {
    pub async fn start(mode: Mode) -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let app = Router::new().fallback(answer).with_state(RecorderState { mode, seen: seen.clone() });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder { url: format!("http://127.0.0.1:{port}/mcp"), seen }
    }

    /// The headers of every request so far.
    pub fn headers(&self) -> Vec<HeaderMap> {
        self.seen.lock().expect("seen").headers.clone()
    }

    /// The session ids `tools/call` requests came with.
    pub fn call_sessions(&self) -> Vec<Option<String>> {
        self.seen
            .lock()
            .expect("seen")
            .requests
            .iter()
            .filter(|(m, _)| m == "tools/call")
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// Forgets every session (a restart, as far as callers can tell).
    pub fn forget_sessions(&self) {
        self.seen.lock().expect("seen").sessions.clear();
    }

    /// The value of a header in the last request that had it.
    pub fn last(&self, name: &str) -> Option<String> {
        self.headers().iter().rev().find_map(|h| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned))
    }

    pub fn header_names(&self) -> HashMap<String, usize> {
        let mut names = HashMap::new();
        for h in self.headers() {
            for k in h.keys() {
                *names.entry(k.as_str().to_owned()).or_default() += 1;
            }
        }
        names
    }
}
