//! The gateway over HTTP, against real upstream servers (`upstreams.rs`): which servers and tools a
//! key reaches, names on `/mcp`, prompts and resources routed, no caller token upstream and the
//! identity assertion verifying, progress before the result, typed failures, sessions shared by
//! two processes and reopened after an upstream restart, bad registrations, usage by server, and
//! OAuth tokens bound to their resource.

use std::time::{Duration, Instant};

use gatehouse_core::{
    keys::Environment,
    secrets::{Keyring, parse_key_text},
    servers::{self, CredentialHeaders, NewServer, ServerName, ServerSlug, UpstreamUrl},
};
use serde_json::{Value, json};

use crate::{
    both_engines,
    helpers::{Engine, TestApp, spawn_app, spawn_instance_of, unique_email},
    upstreams::{Mode, Recorder, everything, python_crm},
};

both_engines!(
    keys_reach_only_their_servers_and_tools,
    upstream_names_prompts_and_resources_on_mcp,
    no_caller_token_goes_upstream_and_the_identity_verifies,
    progress_arrives_before_the_result,
    failures_are_typed_and_bounded,
    sessions_are_shared_and_reopened,
    bad_servers_are_refused_and_nothing_is_stored,
    upstream_calls_are_counted_by_server,
    oauth_connectors_reach_the_servers_chosen_and_tokens_their_resource,
    health_changes_are_audited_and_sent_as_webhooks,
);

fn keyring(app: &TestApp) -> Keyring {
    let key = parse_key_text(&gatehouse::Config::test_secret_key(&app.database_url)).expect("test key");
    Keyring::new(&key, &[])
}

async fn workspace_id(app: &TestApp, slug: &str) -> String {
    gatehouse_core::workspaces::find_by_slug(&app.db, slug).await.expect("workspace").id
}

/// Adds a server the way `gatehouse server add` does.
pub async fn add_server(
    app: &TestApp,
    slug: &str,
    server: &str,
    url: &str,
    env: Environment,
    headers: &str,
) -> servers::UpstreamServer {
    let new = NewServer {
        name: ServerName::parse(&server.to_uppercase()).expect("name"),
        slug: Some(ServerSlug::parse(server).expect("slug")),
        url: UpstreamUrl::parse(url).expect("url"),
        environment: env,
        timeout: Duration::from_secs(10),
        headers: CredentialHeaders::parse(headers).expect("headers"),
        send_identity: true,
        allow_private: true,
    };
    servers::add_in(&app.db, &keyring(app), &workspace_id(app, slug).await, None, new).await.expect("server added")
}

/// A key of the signed-in workspace with these upstream servers.
pub async fn key(app: &TestApp, slug: &str, env: &str, servers: &[&str]) -> String {
    let mut form =
        vec![("slug", slug), ("name", "gw"), ("environment", env), ("expiry", "30d"), ("scopes[]", "agents:read")];
    form.extend(servers.iter().map(|s| ("servers[]", *s)));
    let res = app.call("/api/keys/create", &form).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    body["secret"].as_str().expect("secret").to_owned()
}

/// One JSON-RPC request to `path`; status and body (an event stream's last message).
pub async fn rpc(app: &TestApp, path: &str, bearer: &str, method: &str, params: Value) -> (u16, Value) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .body(body.to_string())
        .send()
        .await
        .expect("POST");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or_else(|_| {
        text.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .rev()
            .find_map(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null)
    });
    (status, value)
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list["result"][field]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn keys_reach_only_their_servers_and_tools(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("gw")).await;
    let crm = python_crm(&app.url("")).await;
    let recorder = Recorder::start(Mode::Modern).await;
    add_server(&app, &slug, "crm", &crm.url, Environment::Live, "").await;
    add_server(&app, &slug, "rec", &recorder.url, Environment::Live, "").await;
    add_server(&app, &slug, "sandbox", &recorder.url, Environment::Test, "").await;

    let crm_key = key(&app, &slug, "live", &["crm"]).await;
    let (status, list) = rpc(&app, "/mcp/crm", &crm_key, "tools/list", json!({})).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list, "tools"), ["search_contacts", "caller"], "the server's own names");
    let (_, found) = rpc(
        &app,
        "/mcp/crm",
        &crm_key,
        "tools/call",
        json!({"name": "search_contacts", "arguments": {"query": "ada"}}),
    )
    .await;
    assert!(found["result"]["content"][0]["text"].as_str().unwrap_or_default().contains("Ada Lovelace"), "{found}");
    // The server verifies who is calling as docs/gateway.md shows (PyJWT against the JWKS).
    let (_, caller) = rpc(&app, "/mcp/crm", &crm_key, "tools/call", json!({"name": "caller", "arguments": {}})).await;
    let text = caller["result"]["content"][0]["text"].as_str().unwrap_or_default();
    let claims: Value = serde_json::from_str(text).unwrap_or_else(|_| panic!("verified claims: {caller}"));
    assert_eq!(claims["workspace"], slug.as_str());
    assert_eq!((claims["via"].as_str(), claims["environment"].as_str()), (Some("key"), Some("live")));
    let sub = claims["sub"].as_str().unwrap_or_default();
    assert!(!sub.is_empty() && crm_key.starts_with(&format!("pk_live_{sub}")), "the key's id: {claims}");
    // An assertion made for another URL (the audience) is refused by that check.
    let elsewhere = crm.url.replace("127.0.0.1", "localhost");
    add_server(&app, &slug, "crm-alias", &elsewhere, Environment::Live, "").await;
    let alias_key = key(&app, &slug, "live", &["crm-alias"]).await;
    let (_, refused) =
        rpc(&app, "/mcp/crm-alias", &alias_key, "tools/call", json!({"name": "caller", "arguments": {}})).await;
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    assert!(refused.to_string().to_lowercase().contains("audience"), "{refused}");
    // Another server: a typed refusal, not an empty list.
    let res = app
        .client
        .post(app.url("/mcp/rec"))
        .bearer_auth(&crm_key)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 403);
    let refusal: Value = res.json().await.expect("json");
    assert_eq!(refusal["code"], "FORBIDDEN");
    assert!(refusal["message"].as_str().unwrap_or_default().contains("'rec'"), "{refusal}");
    assert!(refusal["next_action"].as_str().unwrap_or_default().contains("servers"), "{refusal}");
    let (status, _) = rpc(&app, "/mcp/nope", &crm_key, "tools/list", json!({})).await;
    assert_eq!(status, 404);

    // Without servers a key sees the built-in catalog only.
    let plain = key(&app, &slug, "live", &[]).await;
    let (_, list) = rpc(&app, "/mcp", &plain, "tools/list", json!({})).await;
    assert!(names(&list, "tools").iter().all(|n| !n.contains("__")), "{list}");

    // Narrowed to one tool: the list shows it alone, other tools and the prompts are refused.
    let narrow = key(&app, &slug, "live", &["rec/record"]).await;
    let (_, list) = rpc(&app, "/mcp/rec", &narrow, "tools/list", json!({})).await;
    assert_eq!(names(&list, "tools"), ["record"]);
    let (_, refused) = rpc(&app, "/mcp/rec", &narrow, "tools/call", json!({"name": "fail", "arguments": {}})).await;
    assert_eq!(refused["result"]["isError"], true);
    assert_eq!(refused["result"]["structuredContent"]["code"], "FORBIDDEN", "{refused}");
    let (_, refused) = rpc(&app, "/mcp/rec", &narrow, "prompts/list", json!({})).await;
    assert_eq!(refused["error"]["data"]["code"], "FORBIDDEN", "{refused}");

    // Environments: a test key reaches test servers only, and a live key live ones.
    let test_key = key(&app, &slug, "test", &["sandbox"]).await;
    let (status, _) = rpc(&app, "/mcp/sandbox", &test_key, "tools/list", json!({})).await;
    assert_eq!(status, 200);
    let all = key(&app, &slug, "live", &["*"]).await;
    let res = app
        .client
        .post(app.url("/mcp/sandbox"))
        .bearer_auth(&all)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.expect("json");
    assert!(body["message"].as_str().unwrap_or_default().contains("test server"), "{body}");
    let form = [
        ("slug", slug.as_str()),
        ("name", "x"),
        ("environment", "test"),
        ("expiry", "30d"),
        ("scopes[]", "agents:read"),
        ("servers[]", "crm"),
    ];
    let res = app.call("/api/keys/create", &form).await;
    assert_eq!(res.status(), 422, "a test key may not name a live server");

    // A server switched off, and a tool switched off.
    servers::update_in(
        &app.db,
        &keyring(&app),
        &workspace_id(&app, &slug).await,
        None,
        "rec",
        servers::ServerChanges { disabled_tools: Some(vec!["fail".into()]), ..Default::default() },
    )
    .await
    .expect("update");
    let (_, list) = rpc(&app, "/mcp/rec", &all, "tools/list", json!({})).await;
    assert!(!names(&list, "tools").contains(&"fail".to_owned()), "{list}");
    servers::update_in(
        &app.db,
        &keyring(&app),
        &workspace_id(&app, &slug).await,
        None,
        "rec",
        servers::ServerChanges { enabled: Some(false), ..Default::default() },
    )
    .await
    .expect("update");
    let (status, _) = rpc(&app, "/mcp/rec", &all, "tools/list", json!({})).await;
    assert_eq!(status, 403);
}

async fn upstream_names_prompts_and_resources_on_mcp(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("agg")).await;
    let crm = python_crm(&app.url("")).await;
    let recorder = Recorder::start(Mode::Modern).await;
    add_server(&app, &slug, "crm", &crm.url, Environment::Live, "").await;
    add_server(&app, &slug, "rec", &recorder.url, Environment::Live, "").await;
    let all = key(&app, &slug, "live", &["*"]).await;
    let (_, list) = rpc(&app, "/mcp", &all, "tools/list", json!({})).await;
    let tools = names(&list, "tools");
    assert!(tools.contains(&"whoami".to_owned()) && tools.contains(&"crm__search_contacts".to_owned()), "{tools:?}");
    let dotted = tools.iter().find(|t| t.starts_with("rec__find_contact-")).expect("a renamed tool").clone();
    for name in &tools {
        assert!(name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'), "{name}");
    }
    let (_, found) =
        rpc(&app, "/mcp", &all, "tools/call", json!({"name": "crm__search_contacts", "arguments": {"query": "alan"}}))
            .await;
    assert!(found["result"]["content"][0]["text"].as_str().unwrap_or_default().contains("Turing"), "{found}");
    let (_, renamed) = rpc(&app, "/mcp", &all, "tools/call", json!({"name": dotted, "arguments": {}})).await;
    assert!(renamed["result"]["structuredContent"]["headers"].is_array(), "{renamed}");
    // An upstream's own tool error passes through unchanged.
    let (_, failed) = rpc(&app, "/mcp", &all, "tools/call", json!({"name": "rec__fail", "arguments": {}})).await;
    assert_eq!(failed["result"]["isError"], true);
    assert_eq!(failed["result"]["content"][0]["text"], "the CRM is read-only today");
    // Prompts and resources, routed.
    let (_, prompts) = rpc(&app, "/mcp", &all, "prompts/list", json!({})).await;
    assert!(names(&prompts, "prompts").contains(&"crm__follow_up".to_owned()), "{prompts}");
    let (_, prompt) =
        rpc(&app, "/mcp", &all, "prompts/get", json!({"name": "crm__follow_up", "arguments": {"name": "Ada"}})).await;
    assert!(prompt.to_string().contains("follow-up email to Ada"), "{prompt}");
    let (_, resources) = rpc(&app, "/mcp", &all, "resources/list", json!({})).await;
    let uri = resources["result"]["resources"][0]["uri"].as_str().expect("a resource").to_owned();
    assert_eq!(uri, "gatehouse://upstream/crm/crm://contacts/ada");
    let (_, read) = rpc(&app, "/mcp", &all, "resources/read", json!({"uri": uri})).await;
    assert_eq!(read["result"]["contents"][0]["text"], "Ada Lovelace <ada@example.com>");
    // initialize names the capabilities the reachable servers have.
    let (_, init) = rpc(
        &app,
        "/mcp",
        &all,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    )
    .await;
    assert!(init["result"]["capabilities"]["prompts"].is_object(), "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "gatehouse");
}

async fn no_caller_token_goes_upstream_and_the_identity_verifies(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("tok")).await;
    let recorder = Recorder::start(Mode::Modern).await;
    let server =
        add_server(&app, &slug, "rec", &recorder.url, Environment::Live, "Authorization: Bearer crm-secret").await;
    let bearer = key(&app, &slug, "live", &["rec"]).await;
    let res = app
        .client
        .post(app.url("/mcp/rec"))
        .bearer_auth(&bearer)
        .header("cookie", "gatehouse_session=stolen")
        .header("x-custom", "caller-only")
        .header("content-type", "application/json")
        .body(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "record", "arguments": {}}})
                .to_string(),
        )
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 200);
    let authorizations: Vec<String> = recorder
        .headers()
        .iter()
        .filter_map(|h| h.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned))
        .collect();
    assert!(
        !authorizations.is_empty() && authorizations.iter().all(|a| a == "Bearer crm-secret"),
        "{authorizations:?}"
    );
    let names = recorder.header_names();
    assert!(!names.contains_key("cookie") && !names.contains_key("x-custom"), "{names:?}");
    for h in recorder.headers() {
        assert!(!format!("{h:?}").contains(&bearer), "the caller's key never goes upstream");
    }
    // The identity assertion verifies against Gatehouse's published keys.
    let jwt = recorder.last("gatehouse-identity").expect("an identity assertion");
    let set: jsonwebtoken::jwk::JwkSet = app.get("/.well-known/jwks.json").await.json().await.expect("jwks");
    let kid = jsonwebtoken::decode_header(&jwt).expect("header").kid.expect("kid");
    let key = jsonwebtoken::DecodingKey::from_jwk(set.find(&kid).expect("published")).expect("key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&server.url]);
    validation.set_issuer(&[&app.base]);
    let claims = jsonwebtoken::decode::<Value>(&jwt, &key, &validation).expect("verifies").claims;
    assert_eq!(claims["workspace"]["slug"], slug.as_str());
    assert_eq!(claims["via"], "key");
    assert!(claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0) <= 60);
    assert_eq!(claims["scopes"], json!(["agents:read"]));
    // The stored credential is sealed.
    let stored: String = sqlx::Row::try_get(
        &sqlx::query("SELECT credentials FROM upstream_servers").fetch_one(app.db.pool()).await.expect("row"),
        0,
    )
    .expect("col");
    assert!(!stored.contains("crm-secret"));
}

async fn progress_arrives_before_the_result(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("prog")).await;
    let upstream = everything().await;
    add_server(&app, &slug, "everything", &upstream.url, Environment::Live, "").await;
    let bearer = key(&app, &slug, "live", &["everything"]).await;
    let started = Instant::now();
    let mut res = app
        .client
        .post(app.url("/mcp/everything"))
        .bearer_auth(&bearer)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "trigger-long-running-operation",
              "arguments": {"duration": 3, "steps": 3}, "_meta": {"progressToken": "tok"}}}).to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let mut first_progress = None;
    while let Some(chunk) = res.chunk().await.expect("chunk") {
        text.push_str(&String::from_utf8_lossy(&chunk));
        if first_progress.is_none() && text.contains("notifications/progress") {
            first_progress = Some(started.elapsed());
        }
    }
    let total = started.elapsed();
    let first = first_progress.expect("a progress notification");
    assert!(
        first + Duration::from_millis(1500) < total,
        "progress at {first:?}, result at {total:?}: relayed as it came"
    );
    assert!(text.contains("Long running operation completed"), "{text}");
    // Legacy upstream, legacy caller and a modern caller on the same path.
    let (_, echo) =
        rpc(&app, "/mcp/everything", &bearer, "tools/call", json!({"name": "echo", "arguments": {"message": "hi"}}))
            .await;
    assert_eq!(echo["result"]["content"][0]["text"], "Echo: hi", "{echo}");
}

async fn failures_are_typed_and_bounded(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("fail")).await;
    let closed = format!(
        "http://127.0.0.1:{}/mcp",
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port()
    );
    add_server(&app, &slug, "gone", &closed, Environment::Live, "").await;
    let html = Recorder::start(Mode::Html).await;
    add_server(&app, &slug, "html", &html.url, Environment::Live, "").await;
    let flood = Recorder::start(Mode::Flood).await;
    add_server(&app, &slug, "flood", &flood.url, Environment::Live, "").await;
    let hang = Recorder::start(Mode::Hang).await;
    let hung = add_server(&app, &slug, "hang", &hang.url, Environment::Live, "").await;
    servers::update_in(
        &app.db,
        &keyring(&app),
        &hung.workspace_id,
        None,
        "hang",
        servers::ServerChanges { timeout: Some(Duration::from_secs(1)), ..Default::default() },
    )
    .await
    .expect("timeout");
    let healthy = Recorder::start(Mode::Modern).await;
    add_server(&app, &slug, "ok", &healthy.url, Environment::Live, "").await;
    let bearer = key(&app, &slug, "live", &["*"]).await;
    for (server, code) in [
        ("gone", "UPSTREAM_UNAVAILABLE"),
        ("html", "UPSTREAM_ERROR"),
        ("flood", "UPSTREAM_ERROR"),
        ("hang", "UPSTREAM_TIMEOUT"),
    ] {
        let (status, body) = rpc(&app, &format!("/mcp/{server}"), &bearer, "tools/list", json!({})).await;
        assert_eq!(status, 200, "{server}: {body}");
        assert_eq!(body["error"]["data"]["code"], code, "{server}: {body}");
        assert!(body["error"]["data"]["next_action"].is_string());
        // A 10,000-tool list is refused; a call goes to the server, which answers for itself.
        if server != "flood" {
            let (_, call) =
                rpc(&app, &format!("/mcp/{server}"), &bearer, "tools/call", json!({"name": "x", "arguments": {}}))
                    .await;
            assert_eq!(call["result"]["structuredContent"]["code"], code, "{server}: {call}");
        }
    }
    // The others are unaffected, on /mcp and on their own path.
    let (_, list) = rpc(&app, "/mcp", &bearer, "tools/list", json!({})).await;
    let tools = names(&list, "tools");
    assert!(tools.contains(&"ok__record".to_owned()) && tools.contains(&"whoami".to_owned()), "{tools:?}");
    assert!(!tools.iter().any(|t| t.starts_with("flood__")), "a 10,000-tool list is refused, not passed on");
    // A dead server opens its breaker: after five failures the answer comes at once.
    for _ in 0..5 {
        let _ = rpc(&app, "/mcp/gone", &bearer, "tools/call", json!({"name": "x", "arguments": {}})).await;
    }
    let started = Instant::now();
    let (_, call) = rpc(&app, "/mcp/gone", &bearer, "tools/call", json!({"name": "x", "arguments": {}})).await;
    assert!(call["result"]["structuredContent"]["message"].as_str().unwrap_or_default().contains("waits"), "{call}");
    assert!(started.elapsed() < Duration::from_millis(500));
}

async fn sessions_are_shared_and_reopened(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("sess")).await;
    let legacy = Recorder::start(Mode::Legacy).await;
    add_server(&app, &slug, "legacy", &legacy.url, Environment::Live, "").await;
    let bearer = key(&app, &slug, "live", &["legacy"]).await;
    let (_, first) = rpc(&app, "/mcp/legacy", &bearer, "tools/call", json!({"name": "record", "arguments": {}})).await;
    assert_eq!(first["result"]["content"][0]["text"], "noted", "{first}");
    // Another process on the same database uses the same upstream session.
    let other = spawn_instance_of(&app, |_| {}).await;
    let (_, again) =
        rpc(&other, "/mcp/legacy", &bearer, "tools/call", json!({"name": "record", "arguments": {}})).await;
    assert_eq!(again["result"]["content"][0]["text"], "noted", "{again}");
    assert_eq!(app.count("SELECT COUNT(*) FROM upstream_sessions WHERE caller_id NOT LIKE 'gatehouse%'").await, 1);
    let sessions = legacy.call_sessions();
    assert_eq!(sessions.len(), 2);
    assert!(sessions[0].is_some() && sessions[0] == sessions[1], "both processes used one session: {sessions:?}");
    // The upstream restarts: its 404 opens a new session once, and the call goes through.
    legacy.forget_sessions();
    let (_, after) =
        rpc(&other, "/mcp/legacy", &bearer, "tools/call", json!({"name": "record", "arguments": {}})).await;
    assert_eq!(after["result"]["content"][0]["text"], "noted", "{after}");
}

async fn bad_servers_are_refused_and_nothing_is_stored(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("bad")).await;
    let recorder = Recorder::start(Mode::Modern).await;
    add_server(&app, &slug, "rec", &recorder.url, Environment::Live, "").await;
    let add = |fields: Vec<(&'static str, String)>| {
        let slug = slug.clone();
        let app = &app;
        async move {
            let mut form: Vec<(&str, String)> = vec![("slug", slug)];
            form.extend(fields);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = app.call("/api/servers/add", &form).await;
            (res.status().as_u16(), res.text().await.unwrap_or_default())
        }
    };
    let base = |url: &str, server: &str| {
        vec![
            ("name", "CRM".to_owned()),
            ("server_slug", server.to_owned()),
            ("url", url.to_owned()),
            ("environment", "live".to_owned()),
        ]
    };
    for (fields, needle) in [
        (base("ftp://crm.example/mcp", "a"), "https://"),
        (base("not a url", "a"), "full MCP URL"),
        (base("http://169.254.169.254/mcp", "a"), "link-local"),
        (base("http://127.0.0.1:9/mcp", "a"), "loopback"),
        (base(&recorder.url, "rec"), "slug"),
        (base(&recorder.url, "Bad Slug"), "lowercase"),
        (
            {
                let mut f = base(&recorder.url, "a");
                f.push(("headers", "X-A: 1\r\nX-B".into()));
                f
            },
            "Name: value",
        ),
        (
            {
                let mut f = base(&recorder.url, "a");
                f.push(("headers", "Host: evil".into()));
                f
            },
            "set by Gatehouse",
        ),
    ] {
        let (status, body) = add(fields).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains(needle), "{needle}: {body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM upstream_servers").await, 1, "nothing stored");
    // Another workspace's server is not found there.
    let stranger = app.other_client();
    let other_slug = stranger.sign_up(&unique_email("other")).await;
    let other_key = key(&stranger, &other_slug, "live", &["*"]).await;
    let (status, _) = rpc(&app, "/mcp/rec", &other_key, "tools/list", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(stranger.call("/api/servers/remove", &[("slug", &slug), ("server_slug", "rec")]).await.status(), 404);
}

async fn upstream_calls_are_counted_by_server(engine: Engine) {
    let mut app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("use")).await;
    let recorder = Recorder::start(Mode::Modern).await;
    add_server(&app, &slug, "rec", &recorder.url, Environment::Live, "").await;
    let bearer = key(&app, &slug, "live", &["rec"]).await;
    for _ in 0..3 {
        rpc(&app, "/mcp/rec", &bearer, "tools/call", json!({"name": "record", "arguments": {}})).await;
    }
    rpc(&app, "/mcp", &bearer, "tools/call", json!({"name": "rec__fail", "arguments": {}})).await;
    rpc(&app, "/mcp", &bearer, "tools/call", json!({"name": "whoami", "arguments": {}})).await;
    let db = app.shut_down().await;
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            sqlx::Row::try_get::<i64, _>(&sqlx::query(sql).fetch_one(db.pool()).await.expect("query"), 0)
                .expect("count")
        }
    };
    assert_eq!(count("SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes WHERE server = 'rec' AND tool = 'rec__record' AND outcome = 'ok'").await, 3);
    assert_eq!(count("SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes WHERE server = 'rec' AND tool = 'rec__fail' AND outcome = 'TOOL_ERROR'").await, 1);
    assert_eq!(
        count(
            "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes WHERE server = '' AND tool = 'whoami'"
        )
        .await,
        1
    );
    db.close().await;
}

/// An authorization-code flow for `resource`; the person ticks `servers` (`slug@workspace`).
async fn connect_for(app: &TestApp, slug: &str, resource: &str, servers: &[&str]) -> Value {
    use crate::oauth::{REDIRECT, approve_with, authorize, location, pkce, public_client, query_of, token};
    let client = public_client(app).await;
    let (verifier, challenge) = pkce();
    let res = authorize(
        app,
        &[
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "agents:read"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("resource", resource),
        ],
    )
    .await;
    let consent = location(&res).strip_prefix("/oauth/consent/").expect("consent").to_owned();
    let view: Value = app.call("/api/oauth/consent", &[("id", &consent)]).await.json().await.expect("json");
    let back = approve_with(app, &consent, slug, servers).await;
    let code = query_of(&back)["code"].clone();
    let (status, _, tokens) = token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
            ("code_verifier", &verifier),
            ("resource", resource),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    json!({ "tokens": tokens, "consent": view })
}

async fn oauth_connectors_reach_the_servers_chosen_and_tokens_their_resource(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("oauth-gw")).await;
    let recorder = Recorder::start(Mode::Modern).await;
    add_server(&app, &slug, "rec", &recorder.url, Environment::Live, "").await;
    add_server(&app, &slug, "other", &recorder.url, Environment::Live, "").await;
    // Through /mcp, the person narrows the connector to one of the two servers.
    let all = connect_for(&app, &slug, &format!("{}/mcp", app.base), &[&format!("rec@{slug}")]).await;
    let servers: Vec<&str> =
        all["consent"]["servers"].as_array().expect("servers").iter().filter_map(|s| s[1].as_str()).collect();
    assert_eq!(servers, ["other", "rec"], "the consent page lists the workspace's servers");
    let access = all["tokens"]["access_token"].as_str().expect("access").to_owned();
    let (_, list) = rpc(&app, "/mcp", &access, "tools/list", json!({})).await;
    let tools = names(&list, "tools");
    assert!(tools.contains(&"rec__record".to_owned()) && !tools.iter().any(|t| t.starts_with("other__")), "{tools:?}");
    // A /mcp token is not for /mcp/rec (RFC 8707): the challenge there names that resource.
    let res = app
        .client
        .post(app.url("/mcp/rec"))
        .bearer_auth(&access)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains("/.well-known/oauth-protected-resource/mcp/rec")
    );
    let prm: Value = app.get("/.well-known/oauth-protected-resource/mcp/rec").await.json().await.expect("json");
    assert_eq!(prm["resource"], format!("{}/mcp/rec", app.base));
    // A token for /mcp/rec works there, and reaches that server only.
    let one = connect_for(&app, &slug, &format!("{}/mcp/rec", app.base), &[]).await;
    assert_eq!(one["consent"]["only_server"], "rec");
    let access = one["tokens"]["access_token"].as_str().expect("access").to_owned();
    let (status, list) = rpc(&app, "/mcp/rec", &access, "tools/list", json!({})).await;
    assert_eq!(status, 200, "{list}");
    assert!(names(&list, "tools").contains(&"record".to_owned()));
    let (status, _) = rpc(&app, "/mcp", &access, "tools/list", json!({})).await;
    assert_eq!(status, 401, "nor is a /mcp/rec token for /mcp");
}

/// "Test connection" (the same probe the once-a-minute check runs) records the server's health; a
/// change from up to down and back is an audit entry and a webhook event for each.
async fn health_changes_are_audited_and_sent_as_webhooks(engine: Engine) {
    use std::sync::{Arc, Mutex};

    let app = crate::helpers::spawn_app_with(engine, |c| c.webhooks_allow_private = true).await;
    let slug = app.sign_up(&unique_email("health")).await;
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                if let Ok(event) = serde_json::from_slice::<Value>(&body) {
                    sink.lock().expect("lock").push(event);
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let res = app
        .call(
            "/api/webhooks/create",
            &[("slug", &slug), ("url", &hook), ("events[]", "server.down"), ("events[]", "server.up")],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());

    let upstream = Recorder::start(Mode::Modern).await;
    let server = add_server(&app, &slug, "crm", &upstream.url, Environment::Live, "").await;
    assert_eq!(probe(&app, &slug).await, 200, "up: no change to announce");
    let moved =
        |url: &str| servers::ServerChanges { url: Some(UpstreamUrl::parse(url).expect("url")), ..Default::default() };
    let dead = format!("http://127.0.0.1:{}/mcp", crate::upstreams::free_port());
    servers::update_in(&app.db, &keyring(&app), &server.workspace_id, None, "crm", moved(&dead)).await.expect("moved");
    assert_ne!(probe(&app, &slug).await, 200, "the probe fails");
    servers::update_in(&app.db, &keyring(&app), &server.workspace_id, None, "crm", moved(&upstream.url))
        .await
        .expect("moved back");
    assert_eq!(probe(&app, &slug).await, 200);

    assert_eq!(health_actions(&app, &server.id).await, ["server.down", "server.up"]);
    let mut events = Vec::new();
    for _ in 0..100 {
        events = got.lock().expect("lock").clone();
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Deliveries may arrive in either order (each is sent on its own).
    let mut types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    types.sort_unstable();
    assert_eq!(types, ["server.down", "server.up"], "{events:?}");
    let down = events.iter().find(|e| e["type"] == "server.down").expect("down");
    assert_eq!(down["data"]["slug"], "crm");
    assert!(down["data"]["error"].as_str().is_some_and(|e| e.contains("cannot be reached")), "it says why: {down}");
    let page: Value = app.call("/api/servers/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert!(page.to_string().contains("\"up\""), "the Servers page shows it up again: {page}");
}

async fn probe(app: &TestApp, slug: &str) -> reqwest::StatusCode {
    app.call("/api/servers/test", &[("slug", slug), ("server_slug", "crm")]).await.status()
}

async fn health_actions(app: &TestApp, server_id: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT action FROM audit_events WHERE target_id = $1 AND action IN ('server.down', 'server.up')
         ORDER BY created_at, id",
    )
    .bind(server_id)
    .fetch_all(app.db.pool())
    .await
    .expect("audit")
}
