//! MCP revision 2026-07-28 on `/mcp`, held as served: requests carry their version in
//! `MCP-Protocol-Version` and `_meta` and need no handshake, `server/discover`, the `Mcp-Method` /
//! `Mcp-Name` header checks, version errors; and the older revisions' `initialize` on the same
//! endpoint. Also the JSON-RPC errors for bodies that are not one message, and the 401 challenge.

use serde_json::{Value, json};

use crate::{
    both_engines,
    helpers::{Engine, TestApp, spawn_app},
};

both_engines!(
    a_modern_request_is_served_without_a_handshake,
    server_discover_names_versions_and_capabilities,
    headers_that_contradict_the_body_are_refused,
    versions_the_server_does_not_speak_are_named,
    older_clients_still_initialize,
    bodies_that_are_not_one_message_get_json_rpc_errors,
    the_challenge_names_the_scopes_to_ask_for,
);

const MODERN: &str = "2026-07-28";

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "revision-test", "version": "1.0.0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    })
}

/// A JSON-RPC request with `_meta`, and the headers the revision asks for.
fn modern(id: i64, method: &str, mut params: Value) -> (Value, Vec<(&'static str, String)>) {
    params["_meta"] = meta();
    let mut headers = vec![("mcp-protocol-version", MODERN.to_owned()), ("mcp-method", method.to_owned())];
    if let Some(name) = params.get("name").or_else(|| params.get("uri")).and_then(Value::as_str) {
        headers.push(("mcp-name", name.to_owned()));
    }
    (json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}), headers)
}

/// POSTs a raw body with these headers; returns status, content type and the body as JSON.
async fn send(app: &TestApp, key: &str, body: &str, headers: &[(&str, String)]) -> (u16, String, Value) {
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let res = req.body(body.to_owned()).send().await.expect("POST /mcp");
    let status = res.status().as_u16();
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = res.text().await.unwrap_or_default();
    (status, content_type, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn key(app: &TestApp) -> String {
    crate::mcp::key_with(app, &["agents:read", "runs:read"]).await.1
}

async fn a_modern_request_is_served_without_a_handshake(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = key(&app).await;
    let (body, headers) = modern(1, "tools/call", json!({"name": "whoami", "arguments": {}}));
    let (status, content_type, reply) = send(&app, &key, &body.to_string(), &headers).await;
    assert_eq!(status, 200, "{reply}");
    assert!(content_type.starts_with("application/json"));
    assert_eq!(reply["result"]["resultType"], "complete");
    assert_eq!(reply["result"]["structuredContent"]["scopes"], json!(["agents:read", "runs:read"]));
    assert!(reply.get("mcp-session-id").is_none());

    let (body, headers) = modern(2, "tools/list", json!({}));
    let (status, _, reply) = send(&app, &key, &body.to_string(), &headers).await;
    assert_eq!(status, 200, "{reply}");
    let tools = reply["result"]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "a deterministic order");
    assert!(reply["result"]["ttlMs"].is_number() && reply["result"]["cacheScope"].is_string(), "{}", reply["result"]);

    // A notification is accepted with 202 and no body.
    let notification = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}});
    let (status, _, _) = send(
        &app,
        &key,
        &notification.to_string(),
        &[("mcp-protocol-version", MODERN.into()), ("mcp-method", "notifications/cancelled".into())],
    )
    .await;
    assert_eq!(status, 202);

    // An unknown method is 404 with -32601; ping and logging/setLevel are gone from this revision.
    for method in ["foo/bar", "ping"] {
        let (body, headers) = modern(3, method, json!({}));
        let (status, _, reply) = send(&app, &key, &body.to_string(), &headers).await;
        assert_eq!((status, reply["error"]["code"].as_i64()), (404, Some(-32601)), "{method}: {reply}");
    }
    // GET and DELETE: no stream to open, no session to end.
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let res = app.client.request(method.clone(), app.url("/mcp")).bearer_auth(&key).send().await.expect("request");
        assert_eq!(res.status(), 405, "{method}");
    }
}

async fn server_discover_names_versions_and_capabilities(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = key(&app).await;
    let (body, headers) = modern(1, "server/discover", json!({}));
    let (status, _, reply) = send(&app, &key, &body.to_string(), &headers).await;
    assert_eq!(status, 200, "{reply}");
    let result = &reply["result"];
    assert_eq!(result["supportedVersions"], json!(["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]));
    assert!(result["capabilities"]["tools"].is_object() && result["capabilities"]["resources"].is_object());
    assert_eq!(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "gatehouse");
    assert_eq!(result["resultType"], "complete");
}

async fn headers_that_contradict_the_body_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = key(&app).await;
    let (body, _) = modern(1, "tools/call", json!({"name": "whoami", "arguments": {}}));
    let body = body.to_string();
    let version = ("mcp-protocol-version", MODERN.to_owned());
    for (what, headers) in [
        (
            "Mcp-Name names another tool",
            vec![version.clone(), ("mcp-method", "tools/call".into()), ("mcp-name", "list_agents".into())],
        ),
        (
            "Mcp-Method names another method",
            vec![version.clone(), ("mcp-method", "tools/list".into()), ("mcp-name", "whoami".into())],
        ),
        ("Mcp-Method missing", vec![version.clone(), ("mcp-name", "whoami".into())]),
        ("Mcp-Name missing", vec![version.clone(), ("mcp-method", "tools/call".into())]),
        (
            "the version header differs from _meta",
            vec![
                ("mcp-protocol-version", "2025-11-25".into()),
                ("mcp-method", "tools/call".into()),
                ("mcp-name", "whoami".into()),
            ],
        ),
    ] {
        let (status, _, reply) = send(&app, &key, &body, &headers).await;
        assert_eq!((status, reply["error"]["code"].as_i64()), (400, Some(-32020)), "{what}: {reply}");
    }
    // Mcp-Name may come base64-encoded, and is decoded before the comparison.
    let headers = vec![version, ("mcp-method", "tools/call".into()), ("mcp-name", "=?base64?d2hvYW1p?=".into())];
    let (status, _, reply) = send(&app, &key, &body, &headers).await;
    assert_eq!(status, 200, "{reply}");
    // A modern version header without _meta is a malformed request.
    let bare = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}).to_string();
    let (status, _, reply) =
        send(&app, &key, &bare, &[("mcp-protocol-version", MODERN.into()), ("mcp-method", "tools/list".into())]).await;
    assert_eq!((status, reply["error"]["code"].as_i64()), (400, Some(-32602)), "{reply}");
    assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 0);
}

async fn versions_the_server_does_not_speak_are_named(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = key(&app).await;
    // In the header alone (the older revisions' way), and in header and _meta (this revision's).
    let legacy = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let mut with_meta = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": meta()}});
    with_meta["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("1999-01-01");
    for (body, headers) in [
        (legacy, vec![("mcp-protocol-version", "1999-01-01".to_owned())]),
        (
            with_meta.to_string(),
            vec![("mcp-protocol-version", "1999-01-01".to_owned()), ("mcp-method", "tools/list".to_owned())],
        ),
        // 2024-11-05 predates Streamable HTTP: not served here.
        (
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}).to_string(),
            vec![("mcp-protocol-version", "2024-11-05".to_owned())],
        ),
    ] {
        let (status, content_type, reply) = send(&app, &key, &body, &headers).await;
        assert_eq!(status, 400, "{reply}");
        assert!(content_type.starts_with("application/json"), "{content_type}");
        assert_eq!(reply["error"]["code"], -32022, "{reply}");
        let supported = reply["error"]["data"]["supported"].as_array().expect("supported");
        assert!(supported.contains(&json!(MODERN)) && supported.contains(&json!("2025-06-18")));
        assert!(reply["error"]["data"]["requested"].is_string());
    }
}

async fn older_clients_still_initialize(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = key(&app).await;
    for version in ["2025-06-18", "2025-11-25"] {
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}}});
        let (status, _, reply) = send(&app, &key, &init.to_string(), &[]).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["result"]["protocolVersion"], version);
        assert_eq!(reply["result"]["serverInfo"]["name"], "gatehouse");
        let call =
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}});
        let (status, _, reply) =
            send(&app, &key, &call.to_string(), &[("mcp-protocol-version", version.to_owned())]).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["result"]["isError"], false);
        assert!(reply["result"].get("resultType").is_none(), "the older shape for older clients: {reply}");
    }
    // An initialize naming the stateless revision is answered with the newest handshake revision.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": MODERN, "capabilities": {}, "clientInfo": {"name": "eager", "version": "1"}}});
    let (_, _, reply) = send(&app, &key, &init.to_string(), &[]).await;
    assert_eq!(reply["result"]["protocolVersion"], "2025-11-25");
}

async fn bodies_that_are_not_one_message_get_json_rpc_errors(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = key(&app).await;
    // The id is echoed when the body has a readable one, and null otherwise.
    for (body, code, id) in [
        ("{bad json", -32700, Value::Null),
        ("", -32700, Value::Null),
        (r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#, -32600, Value::Null),
        ("42", -32600, Value::Null),
        (r#"{"hello": "world"}"#, -32600, Value::Null),
        (r#"{"jsonrpc": "1.0", "id": 7, "method": "tools/list"}"#, -32600, json!(7)),
    ] {
        let (status, content_type, reply) =
            send(&app, &key, body, &[("mcp-protocol-version", "2025-06-18".into())]).await;
        assert_eq!(status, 400, "{body:?}: {reply}");
        assert!(content_type.starts_with("application/json"), "{body:?}: {content_type}");
        assert_eq!(reply["jsonrpc"], "2.0");
        assert_eq!(reply["error"]["code"], code, "{body:?}: {reply}");
        assert_eq!(reply["id"], id, "{body:?}");
    }
    let huge =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"pad":"{}"}}}}"#, "x".repeat(600 * 1024));
    let (status, _, reply) = send(&app, &key, &huge, &[]).await;
    assert_eq!(status, 413, "{reply}");
    assert_eq!(reply["error"]["code"], -32600);
}

async fn the_challenge_names_the_scopes_to_ask_for(engine: Engine) {
    let app = spawn_app(engine).await;
    let res = app
        .client
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"].to_str().expect("ascii").to_owned();
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"", app.base)),
        "{challenge}"
    );
    let scope = challenge.split("scope=\"").nth(1).and_then(|s| s.split('"').next()).expect("a scope parameter");
    let scopes: Vec<&str> = scope.split(' ').collect();
    for s in ["agents:read", "agents:write", "runs:read", "runs:execute", "apps:read", "apps:execute", "assets:write"] {
        assert!(scopes.contains(&s), "{s} in {scope}");
    }
    assert!(!scopes.contains(&"openid"));
    // The protected resource metadata lists the resource's own scopes, not the authorization server's.
    let prm: Value = app.get("/.well-known/oauth-protected-resource/mcp").await.json().await.expect("json");
    let listed = prm["scopes_supported"].as_array().expect("scopes");
    assert!(listed.contains(&json!("runs:execute")));
    assert!(!listed.contains(&json!("offline_access")) && !listed.contains(&json!("openid")), "{prm}");
}
