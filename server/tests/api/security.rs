//! Security sweeps over every route and tool (docs/security.md): a member of workspace A tries
//! every dashboard server function on workspace B and with B's ids, A's key tries every MCP tool
//! and runner endpoint with B's ids, and every state-changing server function refuses another
//! site's origin. B's data is compared before and after: nothing may change or leak.

use std::collections::BTreeSet;

use gatehouse_core::scopes::Scope;
use serde_json::{Value, json};

use crate::{
    both_engines,
    helpers::{Engine, TestApp, mcp_call, spawn_app_with, unique_email},
    keys::create_key,
    oauth::{consent_id, device_client, device_start, pkce, public_client},
};

both_engines!(workspace_a_cannot_touch_workspace_b, every_state_changing_server_function_checks_the_origin);

/// Server functions that act on no workspace: the signed-in person's own session and accounts,
/// and the OAuth and device decisions (their workspace choice is checked below).
const NOT_WORKSPACE_SCOPED: [&str; 10] = [
    "auth/sign_up",
    "auth/sign_in",
    "auth/sign_out",
    "auth/me",
    "workspaces/landing",
    "workspaces/create",
    "oauth/consent",
    "oauth/deny",
    "device/lookup",
    "device/deny",
];

fn all_server_functions() -> BTreeSet<String> {
    leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.trim_start_matches("/api/").to_owned()).collect()
}

async fn key_with_every_scope(app: &TestApp, slug: &str, name: &str) -> (String, String) {
    let scopes: Vec<&str> = Scope::for_keys().map(Scope::as_str).collect();
    create_key(app, slug, name, &scopes, "live", "30d").await
}

/// A tool call's structured result (or error).
async fn tool(app: &TestApp, bearer: &str, name: &str, arguments: Value) -> Value {
    let (status, _, body) = mcp_call(app, bearer, "tools/call", json!({"name": name, "arguments": arguments})).await;
    assert_eq!(status, 200, "{name}: {body}");
    body["result"].clone()
}

async fn json_of(app: &TestApp, endpoint: &str, form: &[(&str, &str)]) -> Value {
    let res = app.call(endpoint, form).await;
    assert_eq!(res.status(), 200, "{endpoint}");
    let mut v: Value = res.json().await.expect("json");
    steady(&mut v);
    v
}

/// What B's own use changes meanwhile is left out: the page's clock, last-use times, and the
/// webhook deliveries of B's own events (their retries); test deliveries, which A could cause, stay.
fn steady(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.remove("now");
            o.remove("last_used_at");
            if let Some(Value::Array(deliveries)) = o.get_mut("deliveries") {
                deliveries.retain(|d| d["event_type"] == "webhook.test");
                for d in deliveries.iter_mut() {
                    *d = d["id"].clone();
                }
            }
            o.values_mut().for_each(steady);
        }
        Value::Array(a) => a.iter_mut().for_each(steady),
        _ => {}
    }
}

/// Everything B can see of its workspace, through B's own session and key.
async fn snapshot(bob: &TestApp, slug: &str, key: &str, agent: &str) -> Vec<Value> {
    let mut all = vec![];
    for endpoint in [
        "/api/keys/list",
        "/api/keys/policy/get",
        "/api/connectors/list",
        "/api/webhooks/list",
        "/api/workspaces/members",
        "/api/workspaces/context",
        "/api/usage/overview",
        "/api/management/list",
    ] {
        all.push(json_of(bob, endpoint, &[("slug", slug)]).await);
    }
    for (name, args) in [
        ("list_agents", json!({})),
        ("list_runs", json!({})),
        ("list_apps", json!({})),
        ("list_agent_versions", json!({"agent_id": agent})),
    ] {
        all.push(tool(bob, key, name, args).await["structuredContent"].clone());
    }
    all
}

async fn workspace_a_cannot_touch_workspace_b(engine: Engine) {
    let alice = spawn_app_with(engine, |c| c.webhooks_allow_private = true).await;
    let alice_email = unique_email("alice");
    let slug_a = alice.sign_up(&alice_email).await;
    let second_a = crate::helpers::slug_of(&alice.call("/api/workspaces/create", &[("name", "Alice's second")]).await);
    let bob = alice.other_client();
    let slug_b = bob.sign_up(&unique_email("bob")).await;

    // B's things: a key, an agent with a run and an app, a connector, a webhook with a delivery.
    let (key_b, secret_b) = key_with_every_scope(&bob, &slug_b, "Bob's key").await;
    let graph = json!({"nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output"}],
                       "edges": [{"from": "in", "to": "out"}]});
    let agent = tool(&bob, &secret_b, "create_agent", json!({"name": "Bob's agent", "graph": graph})).await;
    let agent_b = agent["structuredContent"]["id"].as_str().expect("agent id").to_owned();
    let run = tool(&bob, &secret_b, "trigger_run", json!({"agent_id": agent_b, "input": {}})).await;
    let run_b = run["structuredContent"]["id"].as_str().expect("run id").to_owned();
    let published = tool(&bob, &secret_b, "publish_app", json!({"agent_id": agent_b, "name": "Bob's app"})).await;
    let app_b = published["structuredContent"]["id"].as_str().expect("app id").to_owned();
    crate::oauth::connect(&bob, &slug_b, "agents:read").await;
    let connectors = json_of(&bob, "/api/connectors/list", &[("slug", &slug_b)]).await;
    let connector_b = connectors["connectors"][0]["id"].as_str().expect("connector").to_owned();
    let hook = [("slug", slug_b.as_str()), ("url", "http://127.0.0.1:9/hook"), ("events[]", "key.created")];
    let endpoint_b: String = bob.call("/api/webhooks/create", &hook).await.json().await.expect("endpoint id");
    assert_eq!(bob.call("/api/webhooks/test", &[("slug", &slug_b), ("endpoint_id", &endpoint_b)]).await.status(), 200);
    let hooks = json_of(&bob, "/api/webhooks/list", &[("slug", &slug_b)]).await;
    let delivery_b = hooks["endpoints"][0]["deliveries"][0].as_str().expect("the test delivery").to_owned();
    let made = [("slug", slug_b.as_str()), ("name", "Bob's script"), ("scopes[]", "keys:read"), ("expiry", "30d")];
    let management_b: Value = bob.call("/api/management/create", &made).await.json().await.expect("management key");
    let (management_b, management_secret_b) = (
        management_b["id"].as_str().expect("id").to_owned(),
        management_b["secret"].as_str().expect("secret").to_owned(),
    );
    let members = json_of(&bob, "/api/workspaces/members", &[("slug", &slug_b)]).await;
    let bob_id = members[0]["user_id"].as_str().expect("user id").to_owned();

    // A's own: a key with every scope, a pending consent and a pending device code.
    let (_, secret_a) = key_with_every_scope(&alice, &slug_a, "Alice's key").await;
    let client = public_client(&alice).await;
    let consent_a = consent_id(&alice, &client, "agents:read", &pkce().1).await;
    let device = device_start(&alice, &device_client(&alice).await, "agents:read").await;
    let user_code = device["user_code"].as_str().expect("user code").to_owned();

    let before = snapshot(&bob, &slug_b, &secret_b, &agent_b).await;
    let audit_of_b = format!(
        "SELECT COUNT(*) FROM audit_events e JOIN workspaces w ON w.id = e.workspace_id WHERE w.slug = '{slug_b}'"
    );
    let audit_before = alice.count(&audit_of_b).await;

    // Every workspace-scoped server function, once on B's workspace and, where it takes an id,
    // once on A's own workspace with B's id.
    let b = slug_b.as_str();
    let a = slug_a.as_str();
    let a2 = second_a.as_str();
    type Call<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [u16]);
    let denied: &[u16] = &[403, 404];
    let not_found: &[u16] = &[404];
    let refused_choice: &[u16] = &[403, 404, 422];
    let calls: Vec<Call> = vec![
        ("audit/list", vec![("slug", b), ("kind", ""), ("actor", "")], denied),
        ("connectors/list", vec![("slug", b)], denied),
        ("connectors/remove", vec![("slug", b), ("connector_id", &connector_b)], denied),
        ("connectors/remove", vec![("slug", a), ("connector_id", &connector_b)], not_found),
        ("connectors/rebind", vec![("slug", b), ("connector_id", &connector_b), ("to", a)], denied),
        ("connectors/rebind", vec![("slug", a), ("connector_id", &connector_b), ("to", a2)], not_found),
        ("keys/list", vec![("slug", b)], denied),
        (
            "keys/create",
            vec![("slug", b), ("name", "x"), ("environment", "live"), ("expiry", "30d"), ("scopes[]", "runs:read")],
            denied,
        ),
        ("keys/revoke", vec![("slug", b), ("key_id", &key_b)], denied),
        ("keys/revoke", vec![("slug", a), ("key_id", &key_b)], not_found),
        ("keys/roll", vec![("slug", b), ("key_id", &key_b), ("grace", "1h")], denied),
        ("keys/roll", vec![("slug", a), ("key_id", &key_b), ("grace", "1h")], not_found),
        ("keys/update", vec![("slug", b), ("key_id", &key_b), ("name", "x"), ("scopes[]", "runs:read")], denied),
        ("keys/update", vec![("slug", a), ("key_id", &key_b), ("name", "x"), ("scopes[]", "runs:read")], not_found),
        ("keys/policy", vec![("slug", b), ("max_lifetime_days", "1"), ("rate_limit", "5")], denied),
        ("keys/policy/get", vec![("slug", b)], denied),
        ("keys/addresses", vec![("slug", b), ("key_id", &key_b)], denied),
        ("keys/addresses", vec![("slug", a), ("key_id", &key_b)], not_found),
        ("management/list", vec![("slug", b)], denied),
        ("management/create", vec![("slug", b), ("name", "x"), ("scopes[]", "keys:read"), ("expiry", "30d")], denied),
        ("management/revoke", vec![("slug", b), ("key_id", &management_b)], denied),
        ("management/revoke", vec![("slug", a), ("key_id", &management_b)], not_found),
        (
            "management/error-spike",
            vec![("slug", b), ("percent", "1"), ("window_minutes", "5"), ("min_calls", "1")],
            denied,
        ),
        ("usage/report", vec![("slug", b), ("range", "24h"), ("environment", "live")], denied),
        ("usage/overview", vec![("slug", b)], denied),
        ("webhooks/list", vec![("slug", b)], denied),
        ("webhooks/create", vec![("slug", b), ("url", "http://127.0.0.1:9/x"), ("events[]", "key.created")], denied),
        ("webhooks/delete", vec![("slug", b), ("endpoint_id", &endpoint_b)], denied),
        ("webhooks/delete", vec![("slug", a), ("endpoint_id", &endpoint_b)], not_found),
        ("webhooks/roll", vec![("slug", b), ("endpoint_id", &endpoint_b)], denied),
        ("webhooks/roll", vec![("slug", a), ("endpoint_id", &endpoint_b)], not_found),
        ("webhooks/test", vec![("slug", b), ("endpoint_id", &endpoint_b)], denied),
        ("webhooks/test", vec![("slug", a), ("endpoint_id", &endpoint_b)], not_found),
        ("webhooks/redeliver", vec![("slug", b), ("delivery_id", &delivery_b)], denied),
        ("webhooks/redeliver", vec![("slug", a), ("delivery_id", &delivery_b)], not_found),
        ("webhooks/threshold", vec![("slug", b), ("threshold", "5")], denied),
        ("servers/list", vec![("slug", b)], denied),
        (
            "servers/add",
            vec![("slug", b), ("name", "X"), ("url", "https://example.com/mcp"), ("environment", "live")],
            denied,
        ),
        ("servers/test", vec![("slug", b), ("server_slug", "x")], denied),
        ("servers/tool", vec![("slug", b), ("server_slug", "x"), ("tool", "t"), ("enabled", "false")], denied),
        ("servers/enable", vec![("slug", b), ("server_slug", "x"), ("enabled", "false")], denied),
        ("servers/remove", vec![("slug", b), ("server_slug", "x")], denied),
        ("workspaces/context", vec![("slug", b)], denied),
        ("workspaces/rename", vec![("slug", b), ("name", "Taken")], denied),
        ("workspaces/members", vec![("slug", b)], denied),
        ("workspaces/members/add", vec![("slug", b), ("email", &alice_email), ("role", "admin")], denied),
        ("workspaces/members/role", vec![("slug", b), ("user_id", &bob_id), ("role", "member")], denied),
        ("workspaces/members/role", vec![("slug", a), ("user_id", &bob_id), ("role", "member")], not_found),
        ("workspaces/members/remove", vec![("slug", b), ("user_id", &bob_id)], denied),
        ("workspaces/members/remove", vec![("slug", a), ("user_id", &bob_id)], not_found),
        // Approving one's own pending connection or device into B's workspace.
        ("oauth/approve", vec![("id", &consent_a), ("workspace", b), ("lifetime", "")], refused_choice),
        ("device/approve", vec![("user_code", &user_code), ("workspace", b), ("lifetime", "")], refused_choice),
    ];
    for (endpoint, form, expected) in &calls {
        let res = alice.call(&format!("/api/{endpoint}"), form).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        assert!(expected.contains(&status), "{endpoint} {form:?} answered {status}: {body}");
        for secret in [&secret_b, &key_b, &agent_b, &run_b, &management_secret_b] {
            assert!(!body.contains(secret.as_str()), "{endpoint} leaked B's data: {body}");
        }
    }
    // Every server function is either in the table above or acts on no workspace.
    let covered: BTreeSet<String> =
        calls.iter().map(|(e, _, _)| (*e).to_owned()).chain(NOT_WORKSPACE_SCOPED.map(str::to_owned)).collect();
    assert_eq!(all_server_functions(), covered, "a server function is missing from the tenant sweep");

    // Every MCP tool, with B's ids wherever it takes one.
    let (_, _, listed) = mcp_call(&alice, &secret_a, "tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().expect("tools").clone();
    assert!(tools.len() >= 15, "{listed}");
    for t in &tools {
        let name = t["name"].as_str().expect("name");
        let schema = &t["inputSchema"];
        let mut args = serde_json::Map::new();
        let mut takes_an_id = false;
        for (prop, _) in schema["properties"].as_object().into_iter().flatten() {
            let value = match prop.as_str() {
                "agent_id" => json!(agent_b),
                "run_id" => json!(run_b),
                "app_id" => json!(app_b),
                "version" => json!(1),
                "name" => json!("Taken"),
                "graph" | "spec" => graph.clone(),
                "input" => json!({}),
                "timeout_seconds" => json!(1),
                "limit" => json!(100),
                "filename" => json!("a.txt"),
                "content_base64" => json!("aGk="),
                "cursor" | "status" | "agent" | "wait_seconds" | "content_type" => continue,
                other => panic!("tool {name} takes {other:?}: add it to this sweep"),
            };
            takes_an_id |= prop.ends_with("_id");
            args.insert(prop.clone(), value);
        }
        let result = tool(&alice, &secret_a, name, Value::Object(args)).await;
        let text = result.to_string();
        if takes_an_id && result["isError"] == true {
            assert_eq!(result["structuredContent"]["code"], "NOT_FOUND", "{name}: {text}");
        } else if takes_an_id {
            // A filter by B's id (list_runs' agent_id) finds nothing.
            let found = result["structuredContent"].as_object().expect("structured content");
            assert!(found.values().filter_map(Value::as_array).all(Vec::is_empty), "{name} answered A: {text}");
            assert!(found.values().any(Value::is_array), "{name} answered A with B's data: {text}");
        }
        for secret in [&agent_b, &run_b, &app_b, &key_b] {
            assert!(!text.contains(secret.as_str()), "{name} leaked B's ids: {text}");
        }
    }
    // The runner's endpoints, with B's run.
    for path in ["events", "complete"] {
        let res = alice
            .client
            .post(alice.url(&format!("/v1/runs/{run_b}/{path}")))
            .bearer_auth(&secret_a)
            .json(&json!({"kind": "log", "message": "x", "output": {}}))
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 404, "/v1/runs/…/{path}");
    }

    assert_eq!(snapshot(&bob, &slug_b, &secret_b, &agent_b).await, before, "B's workspace changed");
    // Secrets are shown once, in the creation answer, and never in a page.
    for page in ["keys", "connectors", "audit", ""] {
        let html = bob.get(&format!("/w/{slug_b}/{page}")).await.text().await.expect("html");
        assert!(html.contains(&slug_b), "/w/…/{page} rendered");
        assert!(
            !html.contains(&secret_b) && !html.contains("gat_") && !html.contains("grt_"),
            "a secret in /w/…/{page}"
        );
    }
    // Nothing was done, so nothing was audited in B's log.
    assert_eq!(alice.count(&audit_of_b).await, audit_before, "B's audit log changed");
}

async fn every_state_changing_server_function_checks_the_origin(engine: Engine) {
    let app = spawn_app_with(engine, |_| {}).await;
    let slug = app.sign_up(&unique_email("csrf")).await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_events").await;
    let keys_before = app.count("SELECT COUNT(*) FROM api_keys").await;
    let paths = all_server_functions();
    assert!(paths.len() >= 35, "{paths:?}");
    for path in &paths {
        for (header, value) in
            [("origin", "https://evil.example"), ("origin", "null"), ("sec-fetch-site", "cross-site")]
        {
            let res = app
                .client
                .post(app.url(&format!("/api/{path}")))
                .header(header, value)
                .form(&[("slug", slug.as_str()), ("name", "x"), ("environment", "live"), ("expiry", "30d")])
                .send()
                .await
                .expect("POST");
            assert_eq!(res.status(), 403, "/api/{path} with {header}: {value}");
        }
    }
    // `/mcp` checks the browser origin too, even with a valid key.
    let (_, key) = create_key(&app, &slug, "Browser", &["agents:read"], "live", "30d").await;
    let keys_before = keys_before + 1;
    let audit_before = audit_before + 1;
    let res = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(&key)
        .header("origin", "https://evil.example")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string())
        .send()
        .await
        .expect("POST /mcp");
    assert_eq!(res.status(), 403);
    // The session is still signed in, and nothing was done.
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events").await, audit_before);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, keys_before);
    assert_eq!(app.call("/api/keys/list", &[("slug", &slug)]).await.status(), 200);
}
