//! The MCP endpoint over HTTP: the Streamable HTTP transport rules, authentication through the
//! key verification, the protected resource metadata, and the `whoami` tool.

use serde_json::{Value, json};

use crate::{
    both_engines,
    helpers::{Engine, TestApp, spawn_app, unique_email},
};

both_engines!(
    mcp_transport_and_whoami,
    mcp_authentication,
    mcp_rejects_bad_requests,
    protected_resource_metadata,
    scopes_are_enforced_with_a_typed_error,
    agents_are_versioned_and_isolated,
    agent_specs_are_validated_with_pointers,
    a_runner_completes_a_run_while_a_client_waits,
    runs_are_scoped_and_cancellable,
    apps_assets_and_agent_history,
    keys_limited_to_resources,
    every_scoped_tool_refuses_a_key_without_its_scope,
    every_call_is_counted,
    built_in_calls_answered_beside_rmcp_answer_what_rmcp_answers,
);

const SCOPED_TOOLS: [(&str, &str); 20] = [
    ("list_agents", "agents:read"),
    ("get_agent", "agents:read"),
    ("list_agent_versions", "agents:read"),
    ("validate_agent_spec", "agents:read"),
    ("create_agent", "agents:write"),
    ("update_agent", "agents:write"),
    ("delete_agent", "agents:write"),
    ("clone_agent", "agents:write"),
    ("restore_agent_version", "agents:write"),
    ("list_runs", "runs:read"),
    ("get_run", "runs:read"),
    ("wait_for_run", "runs:read"),
    ("trigger_run", "runs:execute"),
    ("cancel_run", "runs:execute"),
    ("list_apps", "apps:read"),
    ("get_app", "apps:read"),
    ("publish_app", "apps:execute"),
    ("trigger_app", "apps:execute"),
    ("upload_asset", "assets:write"),
    ("whoami", ""),
];

async fn every_scoped_tool_refuses_a_key_without_its_scope(engine: Engine) {
    let app = spawn_app(engine).await;
    let (slug, _) = key_with(&app, &["runs:read"]).await;
    // Each tool is called with a key that has every scope but the one it needs.
    let all = ["agents:read", "agents:write", "runs:read", "runs:execute", "apps:read", "apps:execute", "assets:write"];
    for (tool, scope) in SCOPED_TOOLS {
        if scope.is_empty() {
            continue;
        }
        let others: Vec<&str> = all.iter().copied().filter(|s| *s != scope).collect();
        let key = another_key(&app, &slug, "live", &others).await;
        let result = call_tool(&app, &key, tool, json!({})).await;
        assert_eq!(result["isError"], true, "{tool}");
        assert_eq!(result["structuredContent"]["code"], "SCOPE_MISSING", "{tool}");
        let expected = format!("{tool} requires '{scope}' but the bearer carries: {}", others.join(", "));
        assert_eq!(result["structuredContent"]["message"], expected.as_str());
    }
}

async fn every_call_is_counted(engine: Engine) {
    let mut app = spawn_app(engine).await;
    let (_, key) = key_with(&app, &["runs:read"]).await;
    for _ in 0..5 {
        call_tool(&app, &key, "whoami", json!({})).await;
    }
    for _ in 0..2 {
        call_tool(&app, &key, "create_agent", json!({"name": "x", "graph": graph()})).await;
    }
    call_tool(&app, &key, "get_run", json!({"run_id": "run_nope"})).await;
    // A clean stop writes what was counted in memory.
    let db = app.shut_down().await;
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            use sqlx::Row;
            sqlx::query(sql).fetch_one(db.pool()).await.expect("query").try_get::<i64, _>(0).expect("count")
        }
    };
    assert_eq!(count("SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes").await, 8);
    assert_eq!(
        count(
            "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes WHERE tool = 'whoami' AND outcome = 'ok'"
        )
        .await,
        5
    );
    assert_eq!(count("SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes WHERE tool = 'create_agent' AND outcome = 'SCOPE_MISSING'").await, 2);
    assert_eq!(count("SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes WHERE tool = 'get_run' AND outcome = 'NOT_FOUND'").await, 1);
    assert_eq!(count("SELECT COUNT(DISTINCT caller) FROM usage_minutes").await, 1);
    db.close().await;
}

/// Calls a tool; returns the JSON-RPC `result` (or the whole body when there is none).
async fn call_tool(app: &TestApp, key: &str, name: &str, arguments: Value) -> Value {
    let body =
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": name, "arguments": arguments}});
    let (status, _, body) = post(app, Some(key), Some("2025-06-18"), &body.to_string()).await;
    assert_eq!(status, 200, "{name}: {body}");
    if body["result"].is_null() { body } else { body["result"].clone() }
}

/// A second key in the same workspace.
async fn another_key(app: &TestApp, slug: &str, env: &str, scopes: &[&str]) -> String {
    let mut form = vec![("slug", slug), ("name", "second"), ("environment", env), ("expiry", "30d")];
    form.extend(scopes.iter().map(|s| ("scopes[]", *s)));
    let body: Value = app.call("/api/keys/create", &form).await.json().await.expect("json");
    body["secret"].as_str().expect("secret").to_owned()
}

fn graph() -> Value {
    json!({"nodes": [{"id": "in", "type": "input"}, {"id": "llm", "type": "llm", "config": {"model": "claude"}}, {"id": "out", "type": "output"}],
           "edges": [{"from": "in", "to": "llm"}, {"from": "llm", "to": "out"}]})
}

async fn scopes_are_enforced_with_a_typed_error(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, key) = key_with(&app, &["agents:read", "runs:read"]).await;
    let result = call_tool(&app, &key, "create_agent", json!({"name": "x", "graph": graph()})).await;
    assert_eq!(result["isError"], true, "{result}");
    let err = &result["structuredContent"];
    assert_eq!(err["code"], "SCOPE_MISSING");
    assert_eq!(err["message"], "create_agent requires 'agents:write' but the bearer carries: agents:read, runs:read");
    assert!(err["next_action"].as_str().unwrap_or_default().contains("agents:write"));
    let text: Value =
        serde_json::from_str(result["content"][0]["text"].as_str().unwrap_or_default()).expect("text is the JSON");
    assert_eq!(&text, err);
    assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 0, "nothing was created");
    // What it may do, it does.
    let listed = call_tool(&app, &key, "list_agents", json!({})).await;
    assert_eq!(listed["isError"], false, "{listed}");
    // tools/list shows every tool, so a caller sees what a scope would unlock.
    let (_, _, body) =
        post(&app, Some(&key), Some("2025-06-18"), r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).await;
    let names: Vec<&str> =
        body["result"]["tools"].as_array().expect("tools").iter().filter_map(|t| t["name"].as_str()).collect();
    for tool in [
        "whoami",
        "list_agents",
        "get_agent",
        "list_agent_versions",
        "validate_agent_spec",
        "create_agent",
        "update_agent",
        "delete_agent",
    ] {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
}

async fn agents_are_versioned_and_isolated(engine: Engine) {
    let app = spawn_app(engine).await;
    let (slug, key) = key_with(&app, &["agents:read", "agents:write"]).await;
    let created = call_tool(&app, &key, "create_agent", json!({"name": "Support triage", "graph": graph()})).await;
    let agent = &created["structuredContent"];
    assert_eq!(agent["version"], 1, "{created}");
    let id = agent["id"].as_str().expect("id").to_owned();

    let mut g = graph();
    g["nodes"][1]["config"]["model"] = json!("claude-opus");
    let updated = call_tool(&app, &key, "update_agent", json!({"agent_id": id, "graph": g})).await;
    assert_eq!(updated["structuredContent"]["version"], 2);
    let got = call_tool(&app, &key, "get_agent", json!({"agent_id": id})).await;
    assert_eq!(got["structuredContent"]["graph"]["nodes"][1]["config"]["model"], "claude-opus");
    assert_eq!(got["structuredContent"]["name"], "Support triage");
    let versions = call_tool(&app, &key, "list_agent_versions", json!({"agent_id": id})).await;
    assert_eq!(versions["structuredContent"]["versions"].as_array().map(Vec::len), Some(2));

    // A test key of the same workspace sees no live agent, and the reverse.
    let test_key = another_key(&app, &slug, "test", &["agents:read", "agents:write"]).await;
    let seen = call_tool(&app, &test_key, "get_agent", json!({"agent_id": id})).await;
    assert_eq!(seen["structuredContent"]["code"], "NOT_FOUND");
    let listed = call_tool(&app, &test_key, "list_agents", json!({})).await;
    assert_eq!(listed["structuredContent"]["agents"], json!([]));
    call_tool(&app, &test_key, "create_agent", json!({"name": "Sandbox", "graph": graph()})).await;
    let live = call_tool(&app, &key, "list_agents", json!({})).await;
    assert_eq!(live["structuredContent"]["agents"].as_array().map(Vec::len), Some(1));

    // Another workspace's key cannot read, change or delete it.
    let (_, stranger) = key_with(&app, &["agents:read", "agents:write"]).await;
    for (tool, args) in [
        ("get_agent", json!({"agent_id": id})),
        ("update_agent", json!({"agent_id": id, "graph": graph()})),
        ("delete_agent", json!({"agent_id": id})),
    ] {
        let r = call_tool(&app, &stranger, tool, args).await;
        assert_eq!(r["structuredContent"]["code"], "NOT_FOUND", "{tool}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM agent_versions").await, 3);

    // Paging and deleting.
    for n in 0..3 {
        call_tool(&app, &key, "create_agent", json!({"name": format!("a{n}"), "graph": graph()})).await;
    }
    let page = call_tool(&app, &key, "list_agents", json!({"limit": 2})).await;
    assert_eq!(page["structuredContent"]["agents"].as_array().map(Vec::len), Some(2));
    let cursor = page["structuredContent"]["next_cursor"].as_str().expect("cursor").to_owned();
    let rest = call_tool(&app, &key, "list_agents", json!({"limit": 2, "cursor": cursor})).await;
    assert_eq!(rest["structuredContent"]["agents"].as_array().map(Vec::len), Some(2));
    assert_eq!(rest["structuredContent"]["next_cursor"], Value::Null);
    let deleted = call_tool(&app, &key, "delete_agent", json!({"agent_id": id})).await;
    assert_eq!(deleted["isError"], false);
    let gone = call_tool(&app, &key, "get_agent", json!({"agent_id": id})).await;
    assert_eq!(gone["structuredContent"]["code"], "NOT_FOUND");
}

async fn agent_specs_are_validated_with_pointers(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, key) = key_with(&app, &["agents:read", "agents:write"]).await;
    let bad = json!({"nodes": [{"id": "a", "type": "input"}, {"id": "a", "type": "wormhole"}], "edges": [{"from": "a", "to": "zzz"}]});
    let result = call_tool(&app, &key, "validate_agent_spec", json!({"spec": bad})).await;
    let report = &result["structuredContent"];
    assert_eq!(report["valid"], false);
    let pointers: Vec<&str> =
        report["problems"].as_array().expect("problems").iter().filter_map(|p| p["pointer"].as_str()).collect();
    assert!(
        pointers.contains(&"/nodes/1/id") && pointers.contains(&"/nodes/1/type") && pointers.contains(&"/edges/0/to"),
        "{pointers:?}"
    );
    let ok = call_tool(&app, &key, "validate_agent_spec", json!({"spec": graph()})).await;
    assert_eq!(ok["structuredContent"], json!({"valid": true, "problems": []}));

    // An invalid graph is refused on create, and nothing is stored.
    let refused = call_tool(&app, &key, "create_agent", json!({"name": "x", "graph": bad})).await;
    assert_eq!(refused["structuredContent"]["code"], "INVALID_ARGUMENT");
    assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 0);
    // Arguments that do not match the schema.
    let wrong = call_tool(&app, &key, "create_agent", json!({"title": "x"})).await;
    assert!(wrong["error"]["message"].as_str().is_some() || wrong["isError"] == true, "{wrong}");
    assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 0);
}

/// A workspace with one live key of `scopes`; returns (slug, key).
pub async fn key_with(app: &TestApp, scopes: &[&str]) -> (String, String) {
    let slug = app.sign_up(&unique_email("mcp")).await;
    let mut form = vec![("slug", slug.as_str()), ("name", "mcp"), ("environment", "live"), ("expiry", "30d")];
    form.extend(scopes.iter().map(|s| ("scopes[]", *s)));
    let body: Value = app.call("/api/keys/create", &form).await.json().await.expect("json");
    (slug, body["secret"].as_str().expect("secret").to_owned())
}

/// POSTs one JSON-RPC message to `/mcp`; returns the status and the JSON body (or `Null`).
async fn post(
    app: &TestApp,
    key: Option<&str>,
    version: Option<&str>,
    body: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_owned());
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(v) = version {
        req = req.header("mcp-protocol-version", v);
    }
    let res = req.send().await.expect("POST");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn initialize(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}})
    .to_string()
}

async fn mcp_transport_and_whoami(engine: Engine) {
    let app = spawn_app(engine).await;
    let (slug, key) = key_with(&app, &["agents:read", "runs:read"]).await;
    for version in ["2025-06-18", "2025-11-25"] {
        let (status, _, body) = post(&app, Some(&key), None, &initialize(version)).await;
        assert_eq!(status, 200);
        assert_eq!(body["result"]["protocolVersion"], version, "{body}");
        assert_eq!(body["result"]["serverInfo"]["name"], "gatehouse");
    }
    // A version newer than initialize speaks is answered with the newest one it does.
    let (_, _, body) = post(&app, Some(&key), None, &initialize("2026-07-28")).await;
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25", "{body}");
    let (_, _, body) = post(&app, Some(&key), None, &initialize("2099-01-01")).await;
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25", "{body}");
    let v = Some("2025-06-18");
    let (status, _, _) = post(&app, Some(&key), v, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
    assert_eq!(status, 202);
    let (status, _, body) = post(&app, Some(&key), v, r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#).await;
    assert_eq!((status, &body["result"]), (200, &json!({})));

    let (_, _, body) = post(&app, Some(&key), v, r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#).await;
    let tools = body["result"]["tools"].as_array().expect("tools");
    let whoami = tools.iter().find(|t| t["name"] == "whoami").expect("whoami is listed");
    assert_eq!(whoami["annotations"]["readOnlyHint"], true);
    assert!(whoami["description"].as_str().unwrap_or_default().contains("no scope"));

    let call = r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
    let (status, _, body) = post(&app, Some(&key), v, call).await;
    assert_eq!(status, 200);
    let out = &body["result"]["structuredContent"];
    assert_eq!(out["workspace"]["slug"], slug.as_str());
    assert_eq!(out["environment"], "live");
    assert_eq!(out["scopes"], json!(["agents:read", "runs:read"]));
    assert_eq!(body["result"]["isError"], false);
}

async fn mcp_authentication(engine: Engine) {
    let app = spawn_app(engine).await;
    let (slug, key) = key_with(&app, &["runs:read"]).await;
    let (status, headers, body) = post(&app, None, None, &initialize("2025-06-18")).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "UNAUTHORIZED");
    let challenge = headers["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"", app.base)),
        "{challenge}"
    );
    let (status, _, body) = post(&app, Some(&format!("{key}x")), None, &initialize("2025-06-18")).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHORIZED")));

    let listed: Value = app.call("/api/keys/list", &[("slug", &slug)]).await.json().await.expect("json");
    let key_id = listed["keys"][0]["id"].as_str().expect("id").to_owned();
    app.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &key_id)]).await;
    let (status, _, body) = post(&app, Some(&key), None, &initialize("2025-06-18")).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("KEY_REVOKED")));
}

async fn mcp_rejects_bad_requests(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, key) = key_with(&app, &["runs:read"]).await;
    let v = Some("2025-06-18");
    // An unsupported protocol version.
    let (status, _, _) =
        post(&app, Some(&key), Some("1999-01-01"), r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).await;
    assert_eq!(status, 400);
    // Unknown method and unknown tool: JSON-RPC errors that say so.
    let (_, _, body) = post(&app, Some(&key), v, r#"{"jsonrpc":"2.0","id":2,"method":"tools/fly"}"#).await;
    assert_eq!(body["error"]["code"], -32601, "{body}");
    let (_, _, body) = post(
        &app,
        Some(&key),
        v,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","arguments":{}}}"#,
    )
    .await;
    assert_eq!(body["error"]["code"], -32602, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("not found"), "{body}");
    // Invalid JSON, a batch, a body that is not an object: client errors, never 5xx.
    for bad in ["{bad json", r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#, "42", ""] {
        let (status, _, body) = post(&app, Some(&key), v, bad).await;
        assert!((400..500).contains(&status) || body["error"].is_object(), "{bad:?} -> {status} {body}");
    }
    // A foreign browser origin (DNS rebinding) is refused.
    let res = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(&key)
        .header("origin", "https://evil.example")
        .header("content-type", "application/json")
        .body(initialize("2025-06-18"))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 403);
    // No server-initiated stream in stateless mode.
    let res = app
        .client
        .get(app.url("/mcp"))
        .bearer_auth(&key)
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 405);
}

async fn protected_resource_metadata(engine: Engine) {
    let app = spawn_app(engine).await;
    for path in ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let doc: Value = res.json().await.expect("json");
        assert_eq!(doc["resource"], format!("{}/mcp", app.base));
        assert_eq!(doc["authorization_servers"], json!([app.base]));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
        assert!(doc["scopes_supported"].as_array().expect("scopes").contains(&json!("runs:execute")));
    }
}

async fn runner(app: &TestApp, key: &str, path: &str, body: Value) -> (u16, Value) {
    let res = app.client.post(app.url(path)).bearer_auth(key).json(&body).send().await.expect("POST");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn a_runner_completes_a_run_while_a_client_waits(engine: Engine) {
    let app = spawn_app(engine).await;
    let (slug, key) = key_with(&app, &["agents:read", "agents:write", "runs:read", "runs:execute"]).await;
    let runner_key = another_key(&app, &slug, "live", &["runs:execute"]).await;
    let agent = call_tool(&app, &key, "create_agent", json!({"name": "echo", "graph": graph()})).await;
    let agent_id = agent["structuredContent"]["id"].as_str().expect("id").to_owned();

    // Nothing queued yet: the runner's claim answers 204 after its wait.
    let res = app
        .client
        .post(app.url("/v1/runs/claim"))
        .bearer_auth(&runner_key)
        .json(&json!({"wait_seconds": 0}))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 204);

    let triggered =
        call_tool(&app, &key, "trigger_run", json!({"agent_id": agent_id, "input": {"question": "hi"}})).await;
    let run = &triggered["structuredContent"];
    assert_eq!(run["status"], "queued", "{triggered}");
    assert_eq!(run["agent_version"], 1);
    let run_id = run["id"].as_str().expect("id").to_owned();

    // A client waits while the runner works.
    let waiter = {
        let (app2, key2, id2) = (app.other_client(), key.clone(), run_id.clone());
        tokio::spawn(async move {
            call_tool(&app2, &key2, "wait_for_run", json!({"run_id": id2, "timeout_seconds": 20})).await
        })
    };
    let (status, claimed) = runner(&app, &runner_key, "/v1/runs/claim", json!({"wait_seconds": 5})).await;
    assert_eq!(status, 200);
    assert_eq!(claimed["id"], run_id.as_str());
    assert_eq!(claimed["status"], "running");
    assert_eq!(claimed["input"], json!({"question": "hi"}));
    let (status, event) = runner(
        &app,
        &runner_key,
        &format!("/v1/runs/{run_id}/events"),
        json!({"kind": "progress", "message": "half way"}),
    )
    .await;
    assert_eq!((status, event["seq"].as_i64()), (201, Some(1)));
    let (status, done) =
        runner(&app, &runner_key, &format!("/v1/runs/{run_id}/complete"), json!({"output": {"answer": 42}})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "succeeded");

    let waited = waiter.await.expect("waiter");
    assert_eq!(waited["structuredContent"]["finished"], true, "{waited}");
    assert_eq!(waited["structuredContent"]["run"]["output"], json!({"answer": 42}));
    assert_eq!(waited["structuredContent"]["run"]["events"][0]["message"], "half way");

    // The same run as a resource.
    let read = json!({"jsonrpc": "2.0", "id": 5, "method": "resources/read", "params": {"uri": format!("gatehouse://runs/{run_id}")}});
    let (_, _, body) = post(&app, Some(&key), Some("2025-06-18"), &read.to_string()).await;
    let text = body["result"]["contents"][0]["text"].as_str().expect("text");
    assert_eq!(serde_json::from_str::<Value>(text).expect("json")["status"], "succeeded");
    let (_, _, body) =
        post(&app, Some(&key), Some("2025-06-18"), r#"{"jsonrpc":"2.0","id":6,"method":"resources/templates/list"}"#)
            .await;
    assert_eq!(body["result"]["resourceTemplates"][0]["uriTemplate"], "gatehouse://runs/{id}");

    // Completing twice is refused.
    let (status, body) = runner(&app, &runner_key, &format!("/v1/runs/{run_id}/complete"), json!({"output": 1})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("CONFLICT")));
}

async fn runs_are_scoped_and_cancellable(engine: Engine) {
    let app = spawn_app(engine).await;
    let (slug, reader) = key_with(&app, &["agents:read", "runs:read"]).await;
    let writer = another_key(&app, &slug, "live", &["agents:write", "runs:execute", "runs:read"]).await;
    let agent = call_tool(&app, &writer, "create_agent", json!({"name": "a", "graph": graph()})).await;
    let agent_id = agent["structuredContent"]["id"].as_str().expect("id").to_owned();

    let denied = call_tool(&app, &reader, "trigger_run", json!({"agent_id": agent_id, "input": {}})).await;
    assert_eq!(
        denied["structuredContent"]["message"],
        "trigger_run requires 'runs:execute' but the bearer carries: agents:read, runs:read"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM runs").await, 0);
    let (status, body) = runner(&app, &reader, "/v1/runs/claim", json!({"wait_seconds": 0})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("SCOPE_MISSING")));

    let run = call_tool(&app, &writer, "trigger_run", json!({"agent_id": agent_id})).await;
    let run_id = run["structuredContent"]["id"].as_str().expect("id").to_owned();
    // A test runner never sees live runs.
    let test_runner = another_key(&app, &slug, "test", &["runs:execute"]).await;
    let res = app
        .client
        .post(app.url("/v1/runs/claim"))
        .bearer_auth(&test_runner)
        .json(&json!({"wait_seconds": 0}))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 204);
    let missing = call_tool(&app, &reader, "get_run", json!({"run_id": "run_nope"})).await;
    assert_eq!(missing["structuredContent"]["code"], "NOT_FOUND");

    let cancelled = call_tool(&app, &writer, "cancel_run", json!({"run_id": run_id})).await;
    assert_eq!(cancelled["structuredContent"]["status"], "cancelled");
    let again = call_tool(&app, &writer, "cancel_run", json!({"run_id": run_id})).await;
    assert_eq!(again["structuredContent"]["code"], "CONFLICT");
    let listed = call_tool(&app, &reader, "list_runs", json!({"status": "cancelled"})).await;
    assert_eq!(listed["structuredContent"]["runs"].as_array().map(Vec::len), Some(1));
    let bad = call_tool(&app, &reader, "list_runs", json!({"status": "exploded"})).await;
    assert_eq!(bad["structuredContent"]["code"], "INVALID_ARGUMENT");
}

async fn apps_assets_and_agent_history(engine: Engine) {
    let app = spawn_app(engine).await;
    let all = ["agents:read", "agents:write", "apps:read", "apps:execute", "assets:write", "runs:read"];
    let (slug, key) = key_with(&app, &all).await;
    let created = call_tool(&app, &key, "create_agent", json!({"name": "Bot", "graph": graph()})).await;
    let id = created["structuredContent"]["id"].as_str().expect("id").to_owned();
    let mut g2 = graph();
    g2["nodes"][1]["config"]["model"] = json!("v2-model");
    call_tool(&app, &key, "update_agent", json!({"agent_id": id, "graph": g2})).await;

    // Restore version 1: its graph becomes version 3.
    let restored = call_tool(&app, &key, "restore_agent_version", json!({"agent_id": id, "version": 1})).await;
    assert_eq!(restored["structuredContent"]["version"], 3);
    assert_eq!(restored["structuredContent"]["graph"]["nodes"][1]["config"]["model"], "claude");
    let missing = call_tool(&app, &key, "restore_agent_version", json!({"agent_id": id, "version": 9})).await;
    assert_eq!(missing["structuredContent"]["code"], "INVALID_ARGUMENT");
    let cloned = call_tool(&app, &key, "clone_agent", json!({"agent_id": id})).await;
    assert_eq!(cloned["structuredContent"]["name"], "Bot (copy)");
    assert_eq!(cloned["structuredContent"]["version"], 1);

    // Publish version 2 as an app and trigger it: the run pins that version.
    let published = call_tool(&app, &key, "publish_app", json!({"agent_id": id, "version": 2, "name": "Bot v2"})).await;
    let app_id = published["structuredContent"]["id"].as_str().expect("app id").to_owned();
    assert_eq!(published["structuredContent"]["agent_version"], 2);
    let listed = call_tool(&app, &key, "list_apps", json!({})).await;
    assert_eq!(listed["structuredContent"]["apps"].as_array().map(Vec::len), Some(1));
    let got = call_tool(&app, &key, "get_app", json!({"app_id": app_id})).await;
    assert_eq!(got["structuredContent"]["name"], "Bot v2");
    let run = call_tool(&app, &key, "trigger_app", json!({"app_id": app_id, "input": {"x": 1}})).await;
    assert_eq!(run["structuredContent"]["agent_version"], 2);
    assert_eq!(run["structuredContent"]["status"], "queued");

    // Apps need apps:* scopes.
    let reader = another_key(&app, &slug, "live", &["agents:read"]).await;
    let denied = call_tool(&app, &reader, "publish_app", json!({"agent_id": id})).await;
    assert_eq!(denied["structuredContent"]["code"], "SCOPE_MISSING");
    let denied = call_tool(
        &app,
        &reader,
        "upload_asset",
        json!({"name": "a.txt", "content_type": "text/plain", "content_base64": "aGk="}),
    )
    .await;
    assert_eq!(denied["structuredContent"]["code"], "SCOPE_MISSING");

    // Assets: checked type, size and encoding.
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let ok = call_tool(
        &app,
        &key,
        "upload_asset",
        json!({"name": "dot.png", "content_type": "image/png", "content_base64": png}),
    )
    .await;
    assert_eq!(ok["isError"], false, "{ok}");
    assert_eq!(ok["structuredContent"]["content_type"], "image/png");
    let lie = call_tool(
        &app,
        &key,
        "upload_asset",
        json!({"name": "x.png", "content_type": "image/png", "content_base64": "aGVsbG8="}),
    )
    .await;
    assert_eq!(lie["structuredContent"]["code"], "INVALID_ARGUMENT");
    let exe = call_tool(
        &app,
        &key,
        "upload_asset",
        json!({"name": "x.exe", "content_type": "application/x-msdownload", "content_base64": "TVo="}),
    )
    .await;
    assert_eq!(exe["structuredContent"]["code"], "INVALID_ARGUMENT");
    let junk = call_tool(
        &app,
        &key,
        "upload_asset",
        json!({"name": "x.txt", "content_type": "text/plain", "content_base64": "%%%"}),
    )
    .await;
    assert_eq!(junk["structuredContent"]["code"], "INVALID_ARGUMENT");
    use base64::Engine as _;
    let big = base64::engine::general_purpose::STANDARD.encode(vec![b'a'; 300 * 1024]);
    let (status, _, body) = post(
        &app,
        Some(&key),
        Some("2025-06-18"),
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "upload_asset", "arguments": {"name": "big.txt", "content_type": "text/plain", "content_base64": big}}}).to_string(),
    )
    .await;
    assert!(status == 413 || body["result"]["structuredContent"]["code"] == "INVALID_ARGUMENT", "{status} {body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM assets").await, 1);
}

async fn keys_limited_to_resources(engine: Engine) {
    let app = spawn_app(engine).await;
    let all = ["agents:read", "agents:write", "runs:read", "runs:execute", "apps:read", "apps:execute"];
    let (slug, key) = key_with(&app, &all).await;
    let mine = call_tool(&app, &key, "create_agent", json!({"name": "mine", "graph": graph()})).await;
    let mine = mine["structuredContent"]["id"].as_str().expect("id").to_owned();
    let other = call_tool(&app, &key, "create_agent", json!({"name": "other", "graph": graph()})).await;
    let other = other["structuredContent"]["id"].as_str().expect("id").to_owned();
    let other_run = call_tool(&app, &key, "trigger_run", json!({"agent_id": other})).await;
    let other_run = other_run["structuredContent"]["id"].as_str().expect("run").to_owned();

    // A key limited to one agent.
    let mut form = vec![
        ("slug", slug.as_str()),
        ("name", "limited"),
        ("environment", "live"),
        ("expiry", "30d"),
        ("resources[]", mine.as_str()),
    ];
    form.extend(all.iter().map(|s| ("scopes[]", *s)));
    let res = app.call("/api/keys/create", &form).await;
    assert_eq!(res.status(), 200);
    let limited = res.json::<Value>().await.expect("json")["secret"].as_str().expect("secret").to_owned();
    let who = app
        .client
        .get(app.url("/v1/whoami"))
        .bearer_auth(&limited)
        .send()
        .await
        .expect("GET")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(who["resources"], json!([mine]));

    assert_eq!(call_tool(&app, &limited, "get_agent", json!({"agent_id": mine})).await["isError"], false);
    let denied = call_tool(&app, &limited, "get_agent", json!({"agent_id": other})).await;
    assert_eq!(denied["structuredContent"]["code"], "FORBIDDEN", "{denied}");
    for (tool, args) in [
        ("update_agent", json!({"agent_id": other, "graph": graph()})),
        ("trigger_run", json!({"agent_id": other})),
        ("get_run", json!({"run_id": other_run})),
        ("create_agent", json!({"name": "new", "graph": graph()})),
        ("clone_agent", json!({"agent_id": mine})),
    ] {
        let r = call_tool(&app, &limited, tool, args).await;
        assert_eq!(r["structuredContent"]["code"], "FORBIDDEN", "{tool}: {r}");
    }
    // Every tool that names an agent, app or run refuses the ones outside the key's list.
    let app_row = call_tool(&app, &key, "publish_app", json!({"agent_id": other})).await;
    let other_app = app_row["structuredContent"]["id"].as_str().expect("app").to_owned();
    for (tool, args) in [
        ("list_agent_versions", json!({"agent_id": other})),
        ("delete_agent", json!({"agent_id": other})),
        ("restore_agent_version", json!({"agent_id": other, "version": 1})),
        ("wait_for_run", json!({"run_id": other_run, "timeout_seconds": 1})),
        ("cancel_run", json!({"run_id": other_run})),
        ("get_app", json!({"app_id": other_app})),
        ("publish_app", json!({"agent_id": other})),
        ("trigger_app", json!({"app_id": other_app})),
    ] {
        let r = call_tool(&app, &limited, tool, args).await;
        assert_eq!(r["structuredContent"]["code"], "FORBIDDEN", "{tool}: {r}");
    }
    let apps_seen = call_tool(&app, &limited, "list_apps", json!({})).await;
    assert_eq!(apps_seen["structuredContent"]["apps"], json!([]));
    let listed = call_tool(&app, &limited, "list_agents", json!({})).await;
    let ids: Vec<&str> = listed["structuredContent"]["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, [mine.as_str()]);
    let run = call_tool(&app, &limited, "trigger_run", json!({"agent_id": mine})).await;
    assert_eq!(run["structuredContent"]["status"], "queued");
    let runs = call_tool(&app, &limited, "list_runs", json!({})).await;
    assert_eq!(runs["structuredContent"]["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 2, "nothing was created by the limited key");

    // Resources must be the workspace's own, of the key's environment.
    let stranger = app.other_client();
    let theirs = stranger.sign_up(&unique_email("far")).await;
    for (env, id) in [("live", "agt_doesnotexist"), ("test", mine.as_str())] {
        let res = app
            .call(
                "/api/keys/create",
                &[
                    ("slug", &slug),
                    ("name", "x"),
                    ("environment", env),
                    ("expiry", "30d"),
                    ("scopes[]", "agents:read"),
                    ("resources[]", id),
                ],
            )
            .await;
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.expect("json");
        assert!(body["Field"]["message"].as_str().unwrap_or_default().contains("is not an agent or app"), "{body}");
    }
    let res = stranger
        .call(
            "/api/keys/create",
            &[
                ("slug", &theirs),
                ("name", "x"),
                ("environment", "live"),
                ("expiry", "30d"),
                ("scopes[]", "agents:read"),
                ("resources[]", &mine),
            ],
        )
        .await;
    assert_eq!(res.status(), 422, "another workspace's agent cannot be named");
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys WHERE name = 'x'").await, 0);
}

/// A built-in tool's call is answered beside rmcp's per-request session (`mcp/direct.rs`); the
/// same call with an allowed `Origin` header goes through rmcp itself. Both must answer the same,
/// byte for byte once parsed, for results, tool errors, parameter errors and every older
/// revision (a call rmcp refuses or the direct path declines gives the same answer as well).
async fn built_in_calls_answered_beside_rmcp_answer_what_rmcp_answers(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("direct")).await;
    let (_, writer) = crate::keys::create_key(&app, &slug, "w", &["agents:read", "agents:write"], "live", "30d").await;
    let graph = json!({"nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output"}],
                       "edges": [{"from": "in", "to": "out"}]});
    let send = |bearer: String, version: Option<&'static str>, origin: bool, body: Value| {
        let app = &app;
        async move {
            let mut req = app
                .client
                .post(app.url("/mcp"))
                .bearer_auth(bearer)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(body.to_string());
            if let Some(version) = version {
                req = req.header("mcp-protocol-version", version);
            }
            if origin {
                req = req.header("origin", &app.base);
            }
            let res = req.send().await.expect("POST /mcp");
            let status = res.status().as_u16();
            let kind = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            (status, kind, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let call = |id: u64, name: &str, arguments: Value| json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}});
    let (_, _, made) =
        send(writer.clone(), None, false, call(1, "create_agent", json!({"name": "A", "graph": graph}))).await;
    assert_eq!(made["result"]["isError"], false, "{made}");
    let cases = [
        call(2, "list_agents", json!({})),
        call(3, "list_agents", json!({"limit": "many"})),
        call(4, "get_agent", json!({"agent_id": "agt_missing"})),
        call(5, "trigger_run", json!({"agent_id": "agt_missing"})),
        call(6, "whoami", json!({})),
        call(7, "no_such_tool", json!({})),
        json!({"jsonrpc": "2.0", "id": "s", "method": "tools/call", "params": {"name": "list_agents"}}),
    ];
    for version in [None, Some("2025-03-26"), Some("2025-06-18"), Some("2025-11-25")] {
        for body in &cases {
            let direct = send(writer.clone(), version, false, body.clone()).await;
            let through_rmcp = send(writer.clone(), version, true, body.clone()).await;
            assert_eq!(direct, through_rmcp, "{version:?} {body}");
            assert_eq!(direct.0, 200, "{body}: {direct:?}");
        }
    }
}
