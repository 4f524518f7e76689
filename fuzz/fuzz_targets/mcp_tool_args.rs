//! MCP tool arguments through the real `/mcp` endpoint (the whole router, on an SQLite file, with
//! a key holding every scope): any tool name and arguments — or any bytes as the JSON-RPC body —
//! give a JSON-RPC answer or a 4xx, never a panic or a 500.
#![no_main]

use std::{net::SocketAddr, sync::OnceLock};

use axum::{Router, body::Body, extract::ConnectInfo};
use gatehouse_core::{
    accounts::{self, Email, Password},
    keys::{self, Environment, ExpiryChoice, KeyName, NewKey},
    scopes::{Scope, ScopeSet},
};
use http::Request;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Target {
    runtime: tokio::runtime::Runtime,
    router: Router,
    bearer: String,
    /// Every tool in the server's `tools/list` order, and one that does not exist; the first input
    /// byte picks one.
    tools: Vec<String>,
    _dir: tempfile::TempDir,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/fuzz.db", dir.path().display());
        let (router, bearer, tools) = runtime.block_on(async {
            let server = gatehouse::build_server(gatehouse::Config::for_tests(&url)).await.expect("server");
            let db = server.db().clone();
            let email = Email::parse("fuzz@example.com").expect("email");
            let password = Password::parse("fuzzing password 123").expect("password");
            let (_, workspace) = accounts::sign_up(&db, email, password).await.expect("account");
            let scopes: Vec<&str> = Scope::for_keys().map(Scope::as_str).collect();
            let new = NewKey {
                name: KeyName::parse("fuzz").expect("name"),
                environment: Environment::Live,
                scopes: ScopeSet::parse_for_key(&scopes).expect("scopes"),
                expiry: ExpiryChoice::Never,
                resources: None,
                rate_limit_per_minute: None,
                servers: gatehouse_core::servers::ServerAccess::None,
                allowed_ips: None,
            };
            let (key, token) = keys::create_in(&db, &workspace.id, None, new).await.expect("key");
            // The fuzzer must reach the tools, not the rate limiter's refusal.
            sqlx::query("UPDATE api_keys SET rate_limit_per_minute = 1000000000 WHERE id = $1")
                .bind(&key.id)
                .execute(db.pool())
                .await
                .expect("limit");
            let router = server.router();
            let bearer = token.expose().to_owned();
            let (_, listed) =
                call(&router, &bearer, br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_vec()).await;
            let listed: serde_json::Value = serde_json::from_slice(&listed).expect("tools/list");
            let mut tools: Vec<String> = listed["result"]["tools"]
                .as_array()
                .expect("tools")
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect();
            assert!(!tools.is_empty(), "the server lists its tools");
            tools.push("no_such_tool".to_owned());
            (router, bearer, tools)
        });
        Target { runtime, router, bearer, tools, _dir: dir }
    })
}

/// One JSON-RPC message to `/mcp` through the router, as a client sends it: status and body.
async fn call(router: &Router, bearer: &str, body: Vec<u8>) -> (http::StatusCode, axum::body::Bytes) {
    let mut request = Request::post("/mcp")
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .header("authorization", format!("Bearer {bearer}"))
        .body(Body::from(body))
        .expect("request");
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
    let response = router.clone().oneshot(request).await.expect("the router is infallible");
    let status = response.status();
    (status, axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("body"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let t = target();
    let tool = &t.tools[usize::from(pick) % t.tools.len()];
    let body = match serde_json::from_slice::<serde_json::Value>(rest) {
        Ok(arguments) => serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                            "params": {"name": tool, "arguments": arguments}})
        .to_string()
        .into_bytes(),
        // Not JSON: the bytes are the whole JSON-RPC body.
        Err(_) => rest.to_vec(),
    };
    let (status, bytes) = t.runtime.block_on(call(&t.router, &t.bearer, body));
    assert!(status.as_u16() < 500, "{status} for {tool}: {}", String::from_utf8_lossy(&bytes));
    if status.is_success() && !bytes.is_empty() {
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("a 200 answer is JSON");
    }
});
