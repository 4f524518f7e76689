//! The management API over HTTP: management keys and their scopes, every `/v1` endpoint with its
//! errors, cursors, `Idempotency-Key` (also across two processes), allowed networks and the
//! addresses a key is used from behind a trusted proxy, the alerts, the leaked-key report, and the
//! OpenAPI document (checked by a real validator, and holding every route).

use std::time::Duration;

use gatehouse_core::{
    keys::ExpiryChoice,
    management::{self, ManagementScopes, NewManagementKey},
    net::Networks,
    workspaces,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_engines,
    helpers::{Engine, TestApp, spawn_app, spawn_app_with, spawn_instance_of, unique_email},
};

both_engines!(
    management_keys_manage_api_keys_with_their_scopes,
    bad_management_input_is_refused_and_nothing_changes,
    key_lists_come_in_cursor_pages_of_one_workspace,
    an_idempotency_key_gives_the_first_answer_again_in_any_process,
    every_endpoint_answers_and_checks_its_scope,
    allowed_networks_addresses_and_alerts_behind_a_trusted_proxy,
    a_leaked_key_report_revokes_and_answers_the_same,
    the_openapi_document_is_valid_and_holds_every_route,
    settings_makes_management_keys_within_the_makers_role,
    the_dashboard_shows_addresses_and_alerts_to_admins_only,
);

/// Asks `check` every 200 ms until it gives a value or `within` has passed: for what the usage
/// recorder writes in its periodic flush (every 5 seconds).
async fn wait_for<T, F, Fut>(within: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if start.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A workspace with a management key carrying `scopes`; returns (slug, workspace id, key).
async fn workspace_with_key(app: &TestApp, scopes: &[&str]) -> (String, String, String) {
    let slug = app.sign_up(&unique_email("ops")).await;
    let ws = workspaces::find_by_slug(&app.db, &slug).await.expect("workspace");
    let new = NewManagementKey {
        name: gatehouse_core::keys::KeyName::parse("ci").expect("name"),
        scopes: ManagementScopes::parse(scopes).expect("scopes"),
        expiry: ExpiryChoice::Never,
    };
    let (_, token) = management::create_in(&app.db, &ws.id, None, new).await.expect("management key");
    (slug, ws.id, token.expose().to_owned())
}

/// One request to the API: status, headers, JSON body (`Null` when not JSON).
async fn api(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(bearer);
    if let Some(body) = body {
        req = req.header("content-type", "application/json").body(body.to_string());
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

async fn whoami(app: &TestApp, key: &str, forwarded_for: Option<&str>) -> (u16, Value) {
    let mut req = app.client.get(app.url("/v1/whoami")).bearer_auth(key);
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    let res = req.send().await.expect("whoami");
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], want_code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["next_action"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

async fn management_keys_manage_api_keys_with_their_scopes(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, ws, admin) = workspace_with_key(&app, &["keys:read", "keys:write", "audit:read"]).await;
    assert!(admin.starts_with("sk_live_"), "{admin}");

    let (status, headers, created) = api(
        &app,
        Method::POST,
        "/v1/keys",
        &admin,
        Some(json!({"name": "customer-42", "scopes": ["agents:read"], "environment": "live", "expires_in_days": 30})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(headers["cache-control"], "no-store");
    let key = created["key"].as_str().expect("the secret, once").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(key.starts_with("pk_live_"), "{key}");
    assert_eq!(created["name"], "customer-42");
    assert_eq!(created["status"], "active");
    assert!(created["expires_at"].as_str().is_some());

    // The new key works where API keys work, and the list never shows its secret.
    assert_eq!(whoami(&app, &key, None).await.0, 200);
    let (status, _, listed) = api(&app, Method::GET, "/v1/keys", &admin, None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert!(listed["next_cursor"].is_null());
    assert!(!listed.to_string().contains(&key[8..40]));
    let (status, _, one) = api(&app, Method::GET, &format!("/v1/keys/{id}"), &admin, None).await;
    assert_eq!((status, one["name"].as_str()), (200, Some("customer-42")));

    // Each kind of key only where it belongs, with an error that names the right one.
    let (status, _, wrong) = api(&app, Method::GET, "/v1/keys", &key, None).await;
    assert_error(status, &wrong, 401, "WRONG_KEY_TYPE");
    assert!(wrong["message"].as_str().is_some_and(|m| m.contains("management key")), "{wrong}");
    let (status, _, body) = crate::helpers::mcp_call(&app, &admin, "tools/list", json!({})).await;
    assert_eq!(status, 401, "{body}");

    // Edits and revocation, effective at once.
    let (status, _, edited) = api(
        &app,
        Method::PATCH,
        &format!("/v1/keys/{id}"),
        &admin,
        Some(json!({"scopes": ["agents:read", "runs:read"]})),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["scopes"], json!(["agents:read", "runs:read"]));
    assert_eq!(edited["name"], "customer-42", "left-out fields keep their values");
    assert_eq!(whoami(&app, &key, None).await.1["scopes"], json!(["agents:read", "runs:read"]));
    let (status, _, rolled) =
        api(&app, Method::POST, &format!("/v1/keys/{id}/roll"), &admin, Some(json!({"grace": "none"}))).await;
    assert_eq!(status, 201, "{rolled}");
    let new_key = rolled["key"].as_str().expect("new secret").to_owned();
    let new_id = rolled["id"].as_str().expect("new id").to_owned();
    assert_eq!(whoami(&app, &new_key, None).await.0, 200);
    assert_ne!(whoami(&app, &key, None).await.0, 200, "no grace: the old key stops");
    let (status, _, revoked) = api(&app, Method::POST, &format!("/v1/keys/{new_id}/revoke"), &admin, None).await;
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")), "{revoked}");
    assert_eq!(whoami(&app, &new_key, None).await.0, 410);

    // Every change is in the audit log with the management key as the actor.
    let (status, _, log) = api(&app, Method::GET, "/v1/audit?kind=key", &admin, None).await;
    assert_eq!(status, 200, "{log}");
    let actions: Vec<&str> =
        log["data"].as_array().expect("entries").iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["key.created", "key.edited", "key.rolled", "key.revoked"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(log["data"].as_array().expect("entries").iter().all(|e| e["actor"] == "management key 'ci'"), "{log}");

    // A key with read scopes only cannot write; a revoked management key stops.
    let reader = {
        let new = NewManagementKey {
            name: gatehouse_core::keys::KeyName::parse("reader").expect("name"),
            scopes: ManagementScopes::parse(&["keys:read"]).expect("scopes"),
            expiry: ExpiryChoice::Never,
        };
        management::create_in(&app.db, &ws, None, new).await.expect("reader").1.expose().to_owned()
    };
    let (status, _, refused) = api(
        &app,
        Method::POST,
        "/v1/keys",
        &reader,
        Some(json!({"name": "x", "scopes": ["agents:read"], "environment": "live"})),
    )
    .await;
    assert_error(status, &refused, 403, "SCOPE_MISSING");
    assert!(refused["message"].as_str().is_some_and(|m| m.contains("keys:write")), "{refused}");
    sqlx::query("UPDATE management_keys SET revoked_at = 1 WHERE name = 'reader'")
        .execute(app.db.pool())
        .await
        .expect("revoke");
    let (status, _, gone) = api(&app, Method::GET, "/v1/keys", &reader, None).await;
    assert_error(status, &gone, 410, "KEY_REVOKED");
}

async fn bad_management_input_is_refused_and_nothing_changes(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, _, admin) = workspace_with_key(&app, &["keys:read", "keys:write"]).await;
    let before = app.count("SELECT COUNT(*) FROM api_keys").await;
    let good = json!({"name": "k", "scopes": ["agents:read"], "environment": "live"});
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"name": "k", "scopes": ["agents:read"], "environment": "live", "colour": "red"}),
            400,
            "INVALID_REQUEST",
        ),
        (json!({"name": 7, "scopes": ["agents:read"], "environment": "live"}), 400, "INVALID_REQUEST"),
        (json!({"name": "k", "scopes": ["agents:read"], "environment": "staging"}), 400, "INVALID_REQUEST"),
        (
            json!({"name": "k", "scopes": ["agents:read"], "environment": "live", "expires_in_days": 0}),
            422,
            "INVALID_ARGUMENT",
        ),
        (
            json!({"name": "k", "scopes": ["agents:read"], "environment": "live", "expires_in_days": -3}),
            422,
            "INVALID_ARGUMENT",
        ),
        (json!({"name": "k", "scopes": ["root:everything"], "environment": "live"}), 422, "INVALID_ARGUMENT"),
        (
            json!({"name": "k", "scopes": ["agents:read"], "environment": "live", "allowed_ips": ["10.0.0.0/99"]}),
            422,
            "INVALID_ARGUMENT",
        ),
        (json!({"name": "", "scopes": ["agents:read"], "environment": "live"}), 422, "INVALID_ARGUMENT"),
    ];
    for (body, status, code) in cases {
        let (got, _, answer) = api(&app, Method::POST, "/v1/keys", &admin, Some(body.clone())).await;
        assert_error(got, &answer, status, code);
        assert!(!answer.to_string().contains("sk_live_"), "{answer}");
    }
    // Not JSON, no content type, and a 10 MB body.
    let res = app
        .client
        .post(app.url("/v1/keys"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let res =
        app.client.post(app.url("/v1/keys")).bearer_auth(&admin).body(good.to_string()).send().await.expect("post");
    assert_eq!(res.status(), 415);
    // The server answers a 10 MB body as soon as it reads its length, so it is sent by hand.
    let answer = oversized_post(&app, &admin, 10 * 1024 * 1024).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":\"BODY_TOO_LARGE\""), "{answer}");
    let answer = oversized_post(&app, &admin, 100 * 1024).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":\"BODY_TOO_LARGE\""), "{answer}");
    // A query parameter of the wrong kind, and an unknown one.
    let (status, _, answer) = api(&app, Method::GET, "/v1/keys?limit=lots", &admin, None).await;
    assert_error(status, &answer, 400, "INVALID_REQUEST");
    let (status, _, answer) = api(&app, Method::GET, "/v1/keys?colour=red", &admin, None).await;
    assert_error(status, &answer, 400, "INVALID_REQUEST");
    let (status, _, answer) = api(&app, Method::PATCH, "/v1/keys/nope", &admin, Some(json!({"name": "x"}))).await;
    assert_error(status, &answer, 404, "NOT_FOUND");
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, before, "nothing was created");
}

/// A POST to `/v1/keys` announcing a body of `length` bytes and sending up to 128 KiB of it; the
/// server's answer as text.
async fn oversized_post(app: &TestApp, bearer: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let head = format!(
        "POST /v1/keys HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let _ = stream.write_all(&vec![b' '; length.min(128 * 1024)]).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn key_lists_come_in_cursor_pages_of_one_workspace(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, _, a) = workspace_with_key(&app, &["keys:read", "keys:write"]).await;
    let (_, _, b) = workspace_with_key(&app, &["keys:read", "keys:write"]).await;
    let mut made = Vec::new();
    for n in 0..5 {
        let env = if n % 2 == 0 { "live" } else { "test" };
        let body = json!({"name": format!("key {n}"), "scopes": ["agents:read"], "environment": env});
        let (status, _, key) = api(&app, Method::POST, "/v1/keys", &a, Some(body)).await;
        assert_eq!(status, 201);
        made.push(key["id"].as_str().expect("id").to_owned());
    }
    let (_, _, theirs) = api(
        &app,
        Method::POST,
        "/v1/keys",
        &b,
        Some(json!({"name": "b's", "scopes": ["agents:read"], "environment": "live"})),
    )
    .await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/keys?limit=2&cursor={c}"),
            None => "/v1/keys?limit=2".to_owned(),
        };
        let (status, _, page) = api(&app, Method::GET, &path, &a, None).await;
        assert_eq!(status, 200, "{page}");
        assert!(page["data"].as_array().expect("data").len() <= 2);
        seen.extend(page["data"].as_array().expect("data").iter().map(|k| k["id"].as_str().expect("id").to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    made.reverse();
    assert_eq!(seen, made, "every key once, newest first, none of the other workspace's");
    let (_, _, tests) = api(&app, Method::GET, "/v1/keys?environment=test", &a, None).await;
    assert_eq!(tests["data"].as_array().expect("data").len(), 2);
    let (_, _, named) = api(&app, Method::GET, "/v1/keys?name=KEY%203", &a, None).await;
    assert_eq!(named["data"].as_array().expect("data").len(), 1);
    // `%` and `_` in a name filter are characters, not wildcards.
    let (_, _, wild) = api(&app, Method::GET, "/v1/keys?name=%25", &a, None).await;
    assert_eq!(wild["data"].as_array().expect("data").len(), 0, "{wild}");
    let (_, _, wild) = api(&app, Method::GET, "/v1/keys?name=key_1", &a, None).await;
    assert_eq!(wild["data"].as_array().expect("data").len(), 0, "{wild}");

    // A cursor of workspace A brought to B, and B's key asked for with A's management key.
    let (_, _, first) = api(&app, Method::GET, "/v1/keys?limit=1", &a, None).await;
    let a_cursor = first["next_cursor"].as_str().expect("a cursor");
    let (status, _, refused) = api(&app, Method::GET, &format!("/v1/keys?cursor={a_cursor}"), &b, None).await;
    assert_error(status, &refused, 422, "INVALID_ARGUMENT");
    assert!(refused["message"].as_str().is_some_and(|m| m.contains("another workspace")), "{refused}");
    let (status, _, hidden) =
        api(&app, Method::GET, &format!("/v1/keys/{}", theirs["id"].as_str().expect("id")), &a, None).await;
    assert_error(status, &hidden, 404, "NOT_FOUND");
    let (status, _, hidden) =
        api(&app, Method::POST, &format!("/v1/keys/{}/revoke", theirs["id"].as_str().expect("id")), &a, None).await;
    assert_error(status, &hidden, 404, "NOT_FOUND");
    let (status, _, garbage) = api(&app, Method::GET, "/v1/keys?cursor=not-a-cursor", &a, None).await;
    assert_error(status, &garbage, 422, "INVALID_ARGUMENT");
}

async fn post_with_key(
    app: &TestApp,
    bearer: &str,
    idempotency: &str,
    body: &Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let res = app
        .client
        .post(app.url("/v1/keys"))
        .bearer_auth(bearer)
        .header("idempotency-key", idempotency)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

async fn an_idempotency_key_gives_the_first_answer_again_in_any_process(engine: Engine) {
    let app = spawn_app(engine).await;
    let other = spawn_instance_of(&app, |_| {}).await;
    let (_, workspace_id, admin) = workspace_with_key(&app, &["keys:write"]).await;
    let body = json!({"name": "once", "scopes": ["agents:read"], "environment": "live"});
    let (status, headers, first) = post_with_key(&app, &admin, "create-once-1", &body).await;
    assert_eq!(status, 201, "{first}");
    assert!(headers.get("idempotent-replayed").is_none());
    // The same request again, here and in another process: the same key, not a second one.
    for server in [&app, &other] {
        let (status, headers, again) = post_with_key(server, &admin, "create-once-1", &body).await;
        assert_eq!(status, 201);
        assert_eq!(headers["idempotent-replayed"], "true");
        assert_eq!(again, first);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys WHERE name = 'once'").await, 1);
    // The same idempotency key with another body.
    let changed = json!({"name": "twice", "scopes": ["agents:read"], "environment": "live"});
    let (status, _, conflict) = post_with_key(&other, &admin, "create-once-1", &changed).await;
    assert_error(status, &conflict, 409, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys WHERE name = 'twice'").await, 0);
    // A bad idempotency key, and another workspace using the same one (its own answer).
    let (status, _, bad) = post_with_key(&app, &admin, "has space", &body).await;
    assert_error(status, &bad, 400, "INVALID_REQUEST");
    let (_, _, b_admin) = workspace_with_key(&app, &["keys:write"]).await;
    let (status, headers, theirs) = post_with_key(&app, &b_admin, "create-once-1", &body).await;
    assert_eq!(status, 201);
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(theirs["id"], first["id"]);
    // A first request still running is 409; one abandoned (its process stopped mid-way) runs again.
    use gatehouse_core::management::idempotency::{ABANDONED_AFTER, request_hash};
    let retried = json!({"name": "retried", "scopes": ["agents:read"], "environment": "live"});
    let now = gatehouse_core::clock::now_ms();
    for (key, started) in [("running-1", now), ("abandoned-1", now - ABANDONED_AFTER - 1)] {
        sqlx::query(
            "INSERT INTO idempotency_keys (workspace_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&workspace_id)
        .bind(key)
        .bind(request_hash("POST", "/v1/keys", retried.to_string().as_bytes()))
        .bind(started)
        .execute(app.db.pool())
        .await
        .expect("claim");
    }
    let (status, _, busy) = post_with_key(&app, &admin, "running-1", &retried).await;
    assert_error(status, &busy, 409, "IDEMPOTENCY_KEY_IN_USE");
    let (status, _, ran) = post_with_key(&other, &admin, "abandoned-1", &retried).await;
    assert_eq!(status, 201, "{ran}");
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys WHERE name = 'retried'").await, 1);

    // The kept answer holds a secret: it is stored sealed, never as plain text.
    let kept = app
        .count(&format!(
            "SELECT COUNT(*) FROM idempotency_keys WHERE response LIKE '%{}%'",
            &first["key"].as_str().expect("key")[8..40]
        ))
        .await;
    assert_eq!(kept, 0);
}

async fn every_endpoint_answers_and_checks_its_scope(engine: Engine) {
    let app = spawn_app_with(engine, |c| {
        c.webhooks_allow_private = true;
        c.upstreams_allow_private = true;
    })
    .await;
    let all: Vec<&str> = gatehouse_core::management::ManagementScope::ALL.iter().map(|s| s.as_str()).collect();
    let (_, ws, admin) = workspace_with_key(&app, &all).await;
    let (_, _, none) = {
        let new = NewManagementKey {
            name: gatehouse_core::keys::KeyName::parse("audit only").expect("name"),
            scopes: ManagementScopes::parse(&["audit:read"]).expect("scopes"),
            expiry: ExpiryChoice::Never,
        };
        ((), (), management::create_in(&app.db, &ws, None, new).await.expect("key").1.expose().to_owned())
    };

    // Connectors: an empty list; an unknown one is 404 for remove, move and addresses.
    let (status, _, listed) = api(&app, Method::GET, "/v1/connectors", &admin, None).await;
    assert_eq!((status, listed["data"].as_array().map(Vec::len)), (200, Some(0)));
    let (status, _, e) = api(&app, Method::POST, "/v1/connectors/nope/remove", &admin, None).await;
    assert_error(status, &e, 404, "NOT_FOUND");
    let (status, _, e) =
        api(&app, Method::POST, "/v1/connectors/nope/move", &admin, Some(json!({"to": "elsewhere"}))).await;
    assert_error(status, &e, 422, "INVALID_ARGUMENT");
    let (status, _, e) = api(&app, Method::GET, "/v1/connectors/nope/addresses", &admin, None).await;
    assert_error(status, &e, 404, "NOT_FOUND");

    // Servers: add, list, edit, remove; a header value with a newline and a duplicate slug refused.
    let add = json!({"name": "CRM", "url": "http://127.0.0.1:9/mcp", "environment": "live",
                     "headers": {"Authorization": "Bearer crm-secret"}, "timeout_seconds": 5});
    let (status, _, server) = api(&app, Method::POST, "/v1/servers", &admin, Some(add.clone())).await;
    assert_eq!(status, 201, "{server}");
    assert_eq!(server["slug"], "crm");
    assert_eq!(server["credential_headers"], json!(["Authorization"]));
    assert!(!server.to_string().contains("crm-secret"));
    let (status, _, dup) = api(&app, Method::POST, "/v1/servers", &admin, Some(add)).await;
    assert_error(status, &dup, 422, "INVALID_ARGUMENT");
    let bad =
        json!({"name": "Bad", "url": "http://127.0.0.1:9/mcp", "environment": "live", "headers": {"X-A": "one\ntwo"}});
    let (status, _, e) = api(&app, Method::POST, "/v1/servers", &admin, Some(bad)).await;
    assert_error(status, &e, 422, "INVALID_ARGUMENT");
    let (status, _, edited) =
        api(&app, Method::PATCH, "/v1/servers/crm", &admin, Some(json!({"enabled": false}))).await;
    assert_eq!((status, edited["enabled"].as_bool()), (200, Some(false)), "{edited}");
    let (status, _, servers) = api(&app, Method::GET, "/v1/servers", &admin, None).await;
    assert_eq!((status, servers["data"].as_array().map(Vec::len)), (200, Some(1)));
    let (status, _, _) = api(&app, Method::DELETE, "/v1/servers/crm", &admin, None).await;
    assert_eq!(status, 200);
    let (status, _, e) = api(&app, Method::DELETE, "/v1/servers/crm", &admin, None).await;
    assert_error(status, &e, 404, "NOT_FOUND");

    // Usage as JSON and CSV; a bad range.
    let (status, _, usage) = api(&app, Method::GET, "/v1/usage?from=2026-11-01&to=2026-11-30", &admin, None).await;
    assert_eq!(status, 200, "{usage}");
    assert_eq!(usage["total"]["calls"], 0);
    assert_eq!(usage["environment"], "live");
    let res = app.client.get(app.url("/v1/usage?format=csv&range=24h")).bearer_auth(&admin).send().await.expect("csv");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().expect("type").starts_with("text/csv"));
    assert!(res.text().await.expect("csv").starts_with("period_start_utc,calls,errors"));
    let (status, _, e) = api(&app, Method::GET, "/v1/usage?from=2026-11-30&to=2026-11-01", &admin, None).await;
    assert_error(status, &e, 422, "INVALID_ARGUMENT");
    let (status, _, e) = api(&app, Method::GET, "/v1/usage?from=2026-11-01", &admin, None).await;
    assert_error(status, &e, 422, "INVALID_ARGUMENT");

    // Webhooks: create, list, roll the secret, deliveries, redeliver, remove.
    let (status, _, hook) = api(
        &app,
        Method::POST,
        "/v1/webhooks",
        &admin,
        Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["key.created", "key.leaked"]})),
    )
    .await;
    assert_eq!(status, 201, "{hook}");
    let hook_id = hook["id"].as_str().expect("id").to_owned();
    assert!(hook["secret"].as_str().is_some_and(|s| s.starts_with("whsec_")));
    let (status, _, e) = api(
        &app,
        Method::POST,
        "/v1/webhooks",
        &admin,
        Some(json!({"url": "http://127.0.0.1:9/h", "events": ["no.such"]})),
    )
    .await;
    assert_error(status, &e, 422, "INVALID_ARGUMENT");
    let (status, _, rolled) =
        api(&app, Method::POST, &format!("/v1/webhooks/{hook_id}/roll-secret"), &admin, None).await;
    assert_eq!(status, 200);
    assert_ne!(rolled["secret"], hook["secret"]);
    let (status, _, hooks) = api(&app, Method::GET, "/v1/webhooks", &admin, None).await;
    assert_eq!((status, hooks["data"].as_array().map(Vec::len)), (200, Some(1)));
    // A key created now is an event for the endpoint.
    api(
        &app,
        Method::POST,
        "/v1/keys",
        &admin,
        Some(json!({"name": "evt", "scopes": ["agents:read"], "environment": "live"})),
    )
    .await;
    let delivery = wait_for(Duration::from_secs(20), || async {
        let (_, _, log) = api(&app, Method::GET, &format!("/v1/webhooks/{hook_id}/deliveries"), &admin, None).await;
        log["data"].as_array().and_then(|d| d.first().cloned())
    })
    .await;
    let delivery = delivery.expect("a delivery of key.created");
    assert_eq!(delivery["event_type"], "key.created");
    let (status, _, queued) = api(
        &app,
        Method::POST,
        &format!("/v1/webhooks/deliveries/{}/redeliver", delivery["id"].as_str().expect("id")),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    assert!(queued["delivery_id"].as_str().is_some());
    let (status, _, e) = api(&app, Method::POST, "/v1/webhooks/deliveries/nope/redeliver", &admin, None).await;
    assert_error(status, &e, 404, "NOT_FOUND");
    let (status, _, _) = api(&app, Method::DELETE, &format!("/v1/webhooks/{hook_id}"), &admin, None).await;
    assert_eq!(status, 204);

    // Members: list, add, change a role, remove; the last owner stays.
    let (status, _, members) = api(&app, Method::GET, "/v1/members", &admin, None).await;
    assert_eq!(status, 200);
    let owner_id = members["data"][0]["user_id"].as_str().expect("owner").to_owned();
    let bob = unique_email("bob");
    app.other_client().sign_up(&bob).await;
    let (status, _, added) =
        api(&app, Method::POST, "/v1/members", &admin, Some(json!({"email": bob, "role": "member"}))).await;
    assert_eq!(status, 201, "{added}");
    let bob_id = added["user_id"].as_str().expect("id").to_owned();
    let (status, _, changed) =
        api(&app, Method::PATCH, &format!("/v1/members/{bob_id}"), &admin, Some(json!({"role": "admin"}))).await;
    assert_eq!((status, changed["role"].as_str()), (200, Some("admin")));
    let (status, _, e) =
        api(&app, Method::PATCH, &format!("/v1/members/{owner_id}"), &admin, Some(json!({"role": "member"}))).await;
    assert_error(status, &e, 409, "CONFLICT");
    let (status, _, e) =
        api(&app, Method::POST, "/v1/members", &admin, Some(json!({"email": bob, "role": "member"}))).await;
    assert_error(status, &e, 422, "INVALID_ARGUMENT");
    let (status, _, _) = api(&app, Method::DELETE, &format!("/v1/members/{bob_id}"), &admin, None).await;
    assert_eq!(status, 204);
    let (_, _, log) = api(&app, Method::GET, "/v1/audit?kind=member", &admin, None).await;
    let actions: Vec<&str> = log["data"].as_array().expect("log").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["member.removed", "member.role_changed", "member.added"]);

    // A key without the scope is refused at every endpoint, before anything happens.
    let guarded: [(Method, &str, Option<Value>, &str); 14] = [
        (Method::GET, "/v1/keys", None, "keys:read"),
        (
            Method::POST,
            "/v1/keys",
            Some(json!({"name": "x", "scopes": ["agents:read"], "environment": "live"})),
            "keys:write",
        ),
        (Method::GET, "/v1/connectors", None, "connectors:read"),
        (Method::POST, "/v1/connectors/x/remove", None, "connectors:write"),
        (Method::GET, "/v1/servers", None, "servers:read"),
        (Method::DELETE, "/v1/servers/x", None, "servers:write"),
        (Method::GET, "/v1/usage", None, "usage:read"),
        (Method::GET, "/v1/webhooks", None, "webhooks:read"),
        (Method::POST, "/v1/webhooks/x/roll-secret", None, "webhooks:write"),
        (Method::GET, "/v1/webhooks/x/deliveries", None, "webhooks:read"),
        (Method::GET, "/v1/members", None, "members:read"),
        (Method::DELETE, "/v1/members/x", None, "members:write"),
        (Method::GET, "/v1/keys/x/addresses", None, "keys:read"),
        (Method::PATCH, "/v1/keys/x", Some(json!({"name": "y"})), "keys:write"),
    ];
    for (method, path, body, scope) in guarded {
        let (status, _, e) = api(&app, method, path, &none, body).await;
        assert_error(status, &e, 403, "SCOPE_MISSING");
        assert!(e["message"].as_str().is_some_and(|m| m.contains(scope)), "{path}: {e}");
    }
    assert_eq!(api(&app, Method::GET, "/v1/audit", &none, None).await.0, 200);
    // No credential at all, and a management key of another workspace sees nothing of this one.
    let (status, headers, e) = api(&app, Method::GET, "/v1/keys", "", None).await;
    assert_eq!(status, 401, "{e}");
    assert!(headers.get("www-authenticate").is_some());
}

async fn allowed_networks_addresses_and_alerts_behind_a_trusted_proxy(engine: Engine) {
    let app = spawn_app_with(engine, |c| {
        c.trusted_proxies = Networks::parse("trusted_proxies", &["127.0.0.1/32", "::1/128"]).expect("proxies");
    })
    .await;
    let (_, ws, admin) = workspace_with_key(&app, &["keys:read", "keys:write", "audit:read"]).await;
    let (_, _, fenced) = api(
        &app,
        Method::POST,
        "/v1/keys",
        &admin,
        Some(json!({"name": "fenced", "scopes": ["agents:read"], "environment": "live", "allowed_ips": ["203.0.113.0/24"]})),
    )
    .await;
    assert_eq!(fenced["allowed_ips"], json!(["203.0.113.0/24"]));
    let key = fenced["key"].as_str().expect("key").to_owned();
    let (status, refused) = whoami(&app, &key, Some("198.51.100.7")).await;
    assert_error(status, &refused, 403, "IP_NOT_ALLOWED");
    assert!(refused["message"].as_str().is_some_and(|m| m.contains("198.51.100.7")), "{refused}");
    assert_eq!(whoami(&app, &key, Some("203.0.113.9")).await.0, 200);
    // A forwarded address is believed only from a trusted proxy: the proxy's own list ends the walk.
    assert_eq!(whoami(&app, &key, Some("203.0.113.9, 127.0.0.1")).await.0, 200);

    // The key's addresses, gathered by the recorder (written within its flush).
    let id = fenced["id"].as_str().expect("id").to_owned();
    let seen = wait_for(Duration::from_secs(20), || async {
        let (_, _, list) = api(&app, Method::GET, &format!("/v1/keys/{id}/addresses"), &admin, None).await;
        list["data"].as_array().filter(|d| !d.is_empty()).cloned()
    })
    .await
    .expect("addresses written");
    assert_eq!(seen[0]["address"], "203.0.113.9");
    assert_eq!(seen[0]["network"], "203.0.113.0/24");
    assert_eq!(seen[0]["calls"], 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM credential_addresses WHERE address = '198.51.100.7'").await,
        0,
        "a refused call is not a use"
    );

    // Narrowing the networks applies on the next request; widening again too.
    let (status, _, _) =
        api(&app, Method::PATCH, &format!("/v1/keys/{id}"), &admin, Some(json!({"allowed_ips": ["192.0.2.0/24"]})))
            .await;
    assert_eq!(status, 200);
    assert_eq!(whoami(&app, &key, Some("203.0.113.9")).await.0, 403);
    api(&app, Method::PATCH, &format!("/v1/keys/{id}"), &admin, Some(json!({"allowed_ips": []}))).await;
    // A first use from another network: `key.new_network`, once.
    for _ in 0..3 {
        assert_eq!(whoami(&app, &key, Some("198.51.100.7")).await.0, 200);
    }
    let alert = wait_for(Duration::from_secs(20), || async {
        let (_, _, log) = api(&app, Method::GET, "/v1/audit?kind=key", &admin, None).await;
        log["data"].as_array().and_then(|d| d.iter().find(|e| e["action"] == "key.new_network").cloned())
    })
    .await
    .expect("a key.new_network alert");
    assert_eq!(alert["details"]["network"], "198.51.100.0/24");
    assert_eq!(alert["target_id"], id.as_str());
    whoami(&app, &key, Some("192.0.2.50")).await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'key.new_network'").await,
        1,
        "rate-limited"
    );

    // An error spike: more than half of the key's calls in the window fail.
    let actor = gatehouse_core::audit::Actor { user_id: "test".into(), ..Default::default() };
    gatehouse_core::watch::set_error_spike(
        &app.db,
        &ws,
        &actor,
        gatehouse_core::watch::ErrorSpike { percent: Some(50), window_minutes: 15, min_calls: 4 },
    )
    .await
    .expect("alert set");
    for _ in 0..6 {
        crate::helpers::mcp_call(&app, &key, "tools/call", json!({"name": "no_such_tool", "arguments": {}})).await;
    }
    let spike = wait_for(Duration::from_secs(20), || async {
        let (_, _, log) = api(&app, Method::GET, "/v1/audit?kind=key", &admin, None).await;
        log["data"].as_array().and_then(|d| d.iter().find(|e| e["action"] == "key.error_spike").cloned())
    })
    .await
    .expect("a key.error_spike alert");
    assert_eq!(spike["details"]["threshold_percent"], 50);
}

async fn a_leaked_key_report_revokes_and_answers_the_same(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, _, admin) = workspace_with_key(&app, &["keys:read", "keys:write", "audit:read"]).await;
    let (_, _, created) = api(
        &app,
        Method::POST,
        "/v1/keys",
        &admin,
        Some(json!({"name": "pushed", "scopes": ["agents:read"], "environment": "live"})),
    )
    .await;
    let key = created["key"].as_str().expect("key").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    let unknown = gatehouse_core::keys::KeyToken::generate(gatehouse_core::keys::Environment::Live).expose().to_owned();
    let report = |keys: Vec<&str>| {
        let app = &app;
        let body = json!({"keys": keys, "url": "https://github.com/acme/app/commit/abc123"});
        async move {
            let res = app
                .client
                .post(app.url("/v1/keys/leaked"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("report");
            (res.status().as_u16(), res.text().await.expect("body"))
        }
    };
    let for_unknown = report(vec![&unknown]).await;
    let for_garbage = report(vec!["pk_live_not-a-key"]).await;
    let for_valid = report(vec![&key]).await;
    assert_eq!(for_valid.0, 202);
    assert_eq!(for_valid, for_unknown, "the same answer for a valid and an unknown key");
    assert_eq!(for_valid, for_garbage, "the same answer for a valid and a malformed key");
    assert_eq!(whoami(&app, &key, None).await.0, 410, "revoked at once");
    let (_, _, leaked) = api(&app, Method::GET, &format!("/v1/keys/{id}"), &admin, None).await;
    assert_eq!(leaked["leaked_url"], "https://github.com/acme/app/commit/abc123");
    assert!(leaked["leaked_at"].as_str().is_some());
    let (_, _, log) = api(&app, Method::GET, "/v1/audit?kind=key", &admin, None).await;
    let entry =
        log["data"].as_array().expect("log").iter().find(|e| e["action"] == "key.leaked").cloned().expect("key.leaked");
    assert_eq!(entry["details"]["url"], "https://github.com/acme/app/commit/abc123");
    // Reported again: the same answer, and the workspace is not told twice.
    assert_eq!(report(vec![&key]).await, for_unknown);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'key.leaked'").await, 1);
    // A report with no keys, and rate limiting per address.
    let res = app
        .client
        .post(app.url("/v1/keys/leaked"))
        .header("content-type", "application/json")
        .body(r#"{"keys": []}"#)
        .send()
        .await
        .expect("report");
    assert_eq!(res.status(), 422);
    let mut limited = false;
    for _ in 0..12 {
        if report(vec![&unknown]).await.0 == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "reports are rate-limited per address");
}

async fn the_openapi_document_is_valid_and_holds_every_route(engine: Engine) {
    let app = spawn_app(engine).await;
    let res = app.client.get(app.url("/v1/openapi.json")).send().await.expect("document");
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("text");
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);

    // A real validator (openapi-spec-validator, from PyPI, in .venv) accepts it.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &text).expect("write");
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python");
    let out = std::process::Command::new(python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator (scripts/setup.sh --test installs it)");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{}", said.chars().take(600).collect::<String>());

    // The contract scripts rely on.
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/v1/keys", "get"),
        ("/v1/keys", "post"),
        ("/v1/keys/{id}/revoke", "post"),
        ("/v1/usage", "get"),
        ("/v1/audit", "get"),
        ("/v1/keys/leaked", "post"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path}");
    }
    assert!(doc["components"]["schemas"]["CreateKey"]["properties"]["expires_in_days"].is_object());

    // Every described operation is served (not 404/405), and the server serves no `/v1` route
    // the document lacks: routes are only made through `routes!` (checked in the source).
    for (path, item) in paths {
        for method in item.as_object().expect("operations").keys() {
            let concrete = path.replace("{id}", "x").replace("{slug}", "x").replace("{user_id}", "x");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let res = app.client.request(method.clone(), app.url(&concrete)).send().await.expect("probe");
            assert!(![404, 405].contains(&res.status().as_u16()), "{method} {path} is described but not served");
        }
    }
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut stack = vec![std::path::PathBuf::from(src)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let code = std::fs::read_to_string(&path).expect("read");
                assert!(
                    !code.contains(".route(\"/v1"),
                    "{} adds a /v1 route outside routes!: it would be missing from /v1/openapi.json",
                    path.display()
                );
            }
        }
    }
}

/// Calls a server function with a form of owned values.
async fn call_form(app: &TestApp, endpoint: &str, form: &[(&str, String)]) -> reqwest::Response {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.call(endpoint, &form).await
}

/// A member of `owner`'s workspace with `role`, signed in on a client of their own.
async fn member_with_role(owner: &TestApp, slug: &str, role: &str) -> TestApp {
    let other = owner.other_client();
    let email = unique_email(role);
    other.sign_up(&email).await;
    let res = owner.call("/api/workspaces/members/add", &[("slug", slug), ("email", &email), ("role", role)]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    other
}

async fn settings_makes_management_keys_within_the_makers_role(engine: Engine) {
    let owner = spawn_app(engine).await;
    let slug = owner.sign_up(&unique_email("owner")).await;
    let count = "SELECT COUNT(*) FROM management_keys";

    // The owner gives any scope; the key is in this one answer, which no cache keeps.
    let res = owner
        .call(
            "/api/management/create",
            &[
                ("slug", &slug),
                ("name", "Billing"),
                ("scopes[]", "keys:read"),
                ("scopes[]", "members:write"),
                ("expiry", "30d"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let made: Value = res.json().await.expect("json");
    let secret = made["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("sk_live_"), "{made}");
    let (status, _, body) = api(&owner, Method::GET, "/v1/members", &secret, None).await;
    assert_eq!(status, 403, "members:write does not read members: {body}");
    assert_eq!(api(&owner, Method::GET, "/v1/keys", &secret, None).await.0, 200);

    // An admin cannot give what only an owner does; nothing is made.
    let admin = member_with_role(&owner, &slug, "admin").await;
    let res = admin
        .call(
            "/api/management/create",
            &[("slug", &slug), ("name", "Sneaky"), ("scopes[]", "members:write"), ("expiry", "30d")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.expect("json");
    assert!(err.to_string().contains("Only an owner can give a management key members:write"), "{err}");
    assert_eq!(owner.count(count).await, 1);
    // Bad input: no scope, an unknown one, an expiry in the past; nothing is made.
    for form in [
        vec![("slug", slug.as_str()), ("name", "x"), ("expiry", "30d")],
        vec![("slug", slug.as_str()), ("name", "x"), ("scopes[]", "keys:fly"), ("expiry", "30d")],
        vec![
            ("slug", slug.as_str()),
            ("name", "x"),
            ("scopes[]", "keys:read"),
            ("expiry", "date"),
            ("expiry_date", "2001-01-01"),
        ],
        vec![("slug", slug.as_str()), ("name", ""), ("scopes[]", "keys:read"), ("expiry", "30d")],
    ] {
        let res = admin.call("/api/management/create", &form).await;
        assert_eq!(res.status(), 422, "{form:?}");
    }
    assert_eq!(owner.count(count).await, 1);
    let res = admin
        .call(
            "/api/management/create",
            &[("slug", &slug), ("name", "Rotator"), ("scopes[]", "keys:write"), ("expiry", "never")],
        )
        .await;
    assert_eq!(res.status(), 200);

    // A member sees that they exist, not the keys, and can make none.
    let member = member_with_role(&owner, &slug, "member").await;
    let page: Value = member.call("/api/management/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(page["can_manage"], false);
    assert_eq!(page["keys"], json!([]));
    let res = member
        .call("/api/management/create", &[("slug", &slug), ("name", "m"), ("scopes[]", "keys:read"), ("expiry", "30d")])
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(owner.count(count).await, 2);

    // The admin revokes the owner's key: it stops at once; the log says who did what.
    let page: Value = admin.call("/api/management/list", &[("slug", &slug)]).await.json().await.expect("json");
    let keys = page["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k.get("secret").is_none() && !k.to_string().contains(&secret[12..40])));
    let billing = keys.iter().find(|k| k["name"] == "Billing").expect("billing");
    let id = billing["id"].as_str().expect("id");
    let res = member.call("/api/management/revoke", &[("slug", &slug), ("key_id", id)]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(api(&owner, Method::GET, "/v1/keys", &secret, None).await.0, 200);
    let res = admin.call("/api/management/revoke", &[("slug", &slug), ("key_id", id)]).await;
    assert_eq!(res.status(), 200);
    let (status, _, body) = api(&owner, Method::GET, "/v1/keys", &secret, None).await;
    assert_error(status, &body, 410, "KEY_REVOKED");
    let res = admin.call("/api/management/revoke", &[("slug", &slug), ("key_id", "sk_nothing")]).await;
    assert_eq!(res.status(), 404);
    let logged = owner
        .count("SELECT COUNT(*) FROM audit_events WHERE action IN ('management_key.created', 'management_key.revoked')")
        .await;
    assert_eq!(logged, 3);
}

async fn the_dashboard_shows_addresses_and_alerts_to_admins_only(engine: Engine) {
    let owner = spawn_app_with(engine, |c| {
        c.trusted_proxies = gatehouse_core::net::Networks::parse("trusted_proxies", &["127.0.0.1/32"]).expect("cidr");
    })
    .await;
    let slug = owner.sign_up(&unique_email("owner")).await;
    let member = member_with_role(&owner, &slug, "member").await;

    // A key made in the form with allowed networks; a range that does not parse makes nothing.
    let form = |ips: &'static str| {
        vec![
            ("slug", slug.clone()),
            ("name", "Office".to_owned()),
            ("environment", "live".to_owned()),
            ("scopes[]", "runs:read".to_owned()),
            ("expiry", "30d".to_owned()),
            ("allowed_ips", ips.to_owned()),
        ]
    };
    assert_eq!(call_form(&owner, "/api/keys/create", &form("10.0.0.0/40")).await.status(), 422);
    assert_eq!(owner.count("SELECT COUNT(*) FROM api_keys").await, 0);
    let made: Value = call_form(&owner, "/api/keys/create", &form("203.0.113.0/24")).await.json().await.expect("json");
    let (key, key_id) = (made["secret"].as_str().expect("secret"), made["id"].as_str().expect("id"));
    assert_eq!(whoami(&owner, key, Some("203.0.113.9")).await.0, 200);

    // The list shows its networks to everyone, and where it was used from to admins only.
    let row_of = |page: &Value| page["keys"][0].clone();
    let seen = wait_for(Duration::from_secs(15), || async {
        let page: Value = owner.call("/api/keys/list", &[("slug", &slug)]).await.json().await.ok()?;
        let row = row_of(&page);
        (!row["used_from"].is_null()).then_some(row)
    })
    .await
    .expect("the address is written within a flush");
    assert_eq!(seen["used_from"], json!(["203.0.113.9", 1]));
    assert_eq!(seen["allowed_ips"], json!(["203.0.113.0/24"]));
    let theirs: Value = member.call("/api/keys/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(row_of(&theirs)["used_from"], Value::Null);
    assert_eq!(row_of(&theirs)["allowed_ips"], json!(["203.0.113.0/24"]));
    let res = member.call("/api/keys/addresses", &[("slug", &slug), ("key_id", key_id)]).await;
    assert_eq!(res.status(), 403);
    let list: Value =
        owner.call("/api/keys/addresses", &[("slug", &slug), ("key_id", key_id)]).await.json().await.expect("json");
    assert_eq!(list[0]["address"], "203.0.113.9");
    assert_eq!(list[0]["network"], "203.0.113.0/24");
    assert_eq!(list[0]["calls"], 1);
    // A key of another workspace is not found.
    let stranger = owner.other_client();
    let their_slug = stranger.sign_up(&unique_email("stranger")).await;
    let res = stranger.call("/api/keys/addresses", &[("slug", &their_slug), ("key_id", key_id)]).await;
    assert_eq!(res.status(), 404);

    // Edit widens the networks; empty lifts the limit; left out of the form, they are kept.
    let edit = |ips: Option<&'static str>| {
        let mut form = vec![
            ("slug", slug.clone()),
            ("key_id", key_id.to_owned()),
            ("name", "Office".to_owned()),
            ("scopes[]", "runs:read".to_owned()),
        ];
        if let Some(ips) = ips {
            form.push(("allowed_ips_shown", "1".to_owned()));
            form.push(("allowed_ips", ips.to_owned()));
        }
        form
    };
    for (ips, want) in [
        (Some("203.0.113.0/24, 198.51.100.0/24"), json!(["203.0.113.0/24", "198.51.100.0/24"])),
        (None, json!(["203.0.113.0/24", "198.51.100.0/24"])),
        (Some(""), json!([])),
    ] {
        assert_eq!(call_form(&owner, "/api/keys/update", &edit(ips)).await.status(), 200);
        let page: Value = owner.call("/api/keys/list", &[("slug", &slug)]).await.json().await.expect("json");
        let mut got = row_of(&page)["allowed_ips"].as_array().cloned().unwrap_or_default();
        let mut want = want.as_array().cloned().unwrap_or_default();
        got.sort_by_key(Value::to_string);
        want.sort_by_key(Value::to_string);
        assert_eq!(got, want, "{ips:?}");
    }
    assert_eq!(whoami(&owner, key, Some("192.0.2.1")).await.0, 200);

    // The first use from a new network is an alert on the Overview, for admins only.
    let notices = wait_for(Duration::from_secs(15), || async {
        let stats: Value = owner.call("/api/usage/overview", &[("slug", &slug)]).await.json().await.ok()?;
        let notices = stats["notices"].as_array().cloned().unwrap_or_default();
        (!notices.is_empty()).then_some(notices)
    })
    .await
    .expect("the new network is noticed within a flush");
    assert_eq!(notices[0]["action"], "key.new_network");
    let text = notices[0]["text"].as_str().expect("text");
    assert!(text.contains("Office") && text.contains("192.0.2.0/24") && text.contains("192.0.2.1"), "{text}");
    assert_eq!(notices[0]["href"], format!("/w/{slug}/keys"));
    let theirs: Value = member.call("/api/usage/overview", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(theirs["notices"], json!([]));

    // A key used from two networks one after the other: the alert names the second, whichever
    // of them sorts first and whether or not both calls are written in one flush.
    let second = vec![
        ("slug", slug.clone()),
        ("name", "Second".to_owned()),
        ("environment", "live".to_owned()),
        ("scopes[]", "runs:read".to_owned()),
        ("expiry", "30d".to_owned()),
    ];
    let made: Value = call_form(&owner, "/api/keys/create", &second).await.json().await.expect("json");
    let other = made["secret"].as_str().expect("secret");
    assert_eq!(whoami(&owner, other, Some("203.0.113.50")).await.0, 200);
    assert_eq!(whoami(&owner, other, Some("198.51.100.50")).await.0, 200);
    let text = wait_for(Duration::from_secs(15), || async {
        let stats: Value = owner.call("/api/usage/overview", &[("slug", &slug)]).await.json().await.ok()?;
        stats["notices"]
            .as_array()?
            .iter()
            .find_map(|n| n["text"].as_str().filter(|t| t.contains("Second")).map(str::to_owned))
    })
    .await
    .expect("the second key's new network is noticed");
    assert!(text.contains("198.51.100.0/24 (address 198.51.100.50)"), "{text}");

    // The error-spike setting: a member cannot set it; a bad value is refused and changes nothing.
    let spike = |percent: &'static str, window: &'static str, calls: &'static str| {
        vec![
            ("slug", slug.clone()),
            ("percent", percent.to_owned()),
            ("window_minutes", window.to_owned()),
            ("min_calls", calls.to_owned()),
        ]
    };
    let setting = "SELECT COUNT(*) FROM workspaces WHERE error_spike_percent IS NOT NULL";
    let send = |who: &TestApp, form: Vec<(&'static str, String)>| {
        let who = who.same_session();
        async move { call_form(&who, "/api/management/error-spike", &form).await.status() }
    };
    assert_eq!(send(&member, spike("50", "15", "20")).await, 403);
    for (p, w, c) in
        [("0", "15", "20"), ("101", "15", "20"), ("50", "4", "20"), ("50", "15", "0"), ("fifty", "15", "20")]
    {
        assert_eq!(send(&owner, spike(p, w, c)).await, 422, "{p} {w} {c}");
    }
    assert_eq!(owner.count(setting).await, 0);
    assert_eq!(send(&owner, spike("50", "30", "5")).await, 200);
    let page: Value = owner.call("/api/management/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(page["error_spike"], json!({"percent": 50, "window_minutes": 30, "min_calls": 5}));
    let log: Value = owner
        .call("/api/audit/list", &[("slug", &slug), ("kind", "usage"), ("actor", "")])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        log["events"][0]["summary"],
        "Set the error-spike alert: above 50% of a key's calls in 30 minutes, from 5 calls"
    );
    assert_eq!(send(&owner, spike("", "30", "5")).await, 200);
    assert_eq!(owner.count(setting).await, 0);
}
