//! OAuth over HTTP: discovery, registration, the authorization endpoint and consent, the token
//! endpoint (codes, PKCE, refresh rotation with its concurrent window and reuse detection),
//! revocation, step-up on `/mcp`, connectors (remove, rebind, roles) and the device flow.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{Response, header::HeaderMap};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    both_engines,
    helpers::{
        Engine, FEED_BOUND, TestApp, error_json, eventually, mcp_call as mcp, spawn_app, spawn_app_with, unique_email,
    },
};

both_engines!(
    discovery_documents_name_each_other,
    registration_accepts_good_clients_and_refuses_bad_ones,
    registrations_are_rate_limited,
    authorization_errors_are_pages_or_redirects,
    a_connected_client_calls_mcp_and_refreshes,
    approving_twice_does_nothing_twice_and_deny_goes_back,
    token_endpoint_refuses_bad_exchanges,
    a_code_used_twice_revokes_what_it_issued,
    concurrent_refreshes_share_one_new_pair_and_reuse_revokes,
    refresh_tokens_belong_to_their_client,
    confidential_clients_must_prove_their_secret,
    revocation_ends_tokens,
    step_up_and_expiry_on_mcp,
    connectors_are_listed_removed_and_rebound,
    device_flow_from_code_to_tokens,
    device_flow_denial_expiry_and_wrong_codes,
    clients_that_never_complete_a_grant_are_removed,
);

pub const REDIRECT: &str = "http://127.0.0.1:8976/callback";

pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

pub fn pkce() -> (String, String) {
    let verifier = format!("v{}", gatehouse_core::ids::random_base62(50));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub async fn register(app: &TestApp, metadata: Value) -> (u16, Value) {
    let res = app.client.post(app.url("/oauth/register")).json(&metadata).send().await.expect("POST");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn public_client(app: &TestApp) -> Client {
    let (status, body) = register(
        app,
        json!({"client_name": "Claude", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
               "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    Client { id: body["client_id"].as_str().expect("client_id").to_owned(), secret: None }
}

pub async fn authorize(app: &TestApp, query: &[(&str, &str)]) -> Response {
    app.client.get(app.url("/oauth/authorize")).query(query).send().await.expect("GET")
}

pub fn location(res: &Response) -> String {
    res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url).expect("url").query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// Starts an authorization; returns the consent request id.
pub async fn consent_id(app: &TestApp, client: &Client, scope: &str, challenge: &str) -> String {
    let res = authorize(
        app,
        &[
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", scope),
            ("state", "xyz"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("resource", &format!("{}/mcp", app.base)),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "authorize should go to the consent page: {}", res.text().await.unwrap_or_default());
    let loc = location(&res);
    loc.strip_prefix("/oauth/consent/").unwrap_or_else(|| panic!("consent redirect, got {loc}")).to_owned()
}

/// Approves on the consent page's server function; returns the redirect URL.
/// Approves with upstream servers ticked (`slug@workspace`).
pub async fn approve_with(app: &TestApp, id: &str, slug: &str, servers: &[&str]) -> String {
    let mut form = vec![("id", id), ("workspace", slug), ("lifetime", "")];
    form.extend(servers.iter().map(|s| ("servers[]", *s)));
    let res = app.call("/api/oauth/approve", &form).await;
    assert_eq!(res.status(), 200, "approve: {}", res.text().await.unwrap_or_default());
    location(&res)
}

pub async fn approve(app: &TestApp, id: &str, slug: &str, lifetime: &str) -> String {
    let res = app.call("/api/oauth/approve", &[("id", id), ("workspace", slug), ("lifetime", lifetime)]).await;
    assert_eq!(res.status(), 200, "approve: {}", res.text().await.unwrap_or_default());
    location(&res)
}

pub async fn token(app: &TestApp, form: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let res = app.client.post(app.url("/oauth/token")).form(form).send().await.expect("POST");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

/// The whole authorization-code flow for `slug`; returns the client and the token response.
pub async fn connect(app: &TestApp, slug: &str, scope: &str) -> (Client, Value) {
    let client = public_client(app).await;
    let (verifier, challenge) = pkce();
    let id = consent_id(app, &client, scope, &challenge).await;
    let back = approve(app, &id, slug, "").await;
    let code = query_of(&back)["code"].clone();
    let (status, _, tokens) = token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    (client, tokens)
}

async fn whoami(app: &TestApp, bearer: &str) -> (u16, Value) {
    let (status, _, body) = mcp(app, bearer, "tools/call", json!({"name": "whoami", "arguments": {}})).await;
    (status, if status == 200 { body["result"]["structuredContent"].clone() } else { body })
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

async fn discovery_documents_name_each_other(engine: Engine) {
    let app = spawn_app(engine).await;
    let prm: Value = app.get("/.well-known/oauth-protected-resource/mcp").await.json().await.expect("json");
    assert_eq!(prm["authorization_servers"][0], app.base.as_str());
    let res = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*", "browser-based MCP clients read it");
    let meta: Value = res.json().await.expect("json");
    assert_eq!(meta["issuer"], app.base.as_str());
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("registration_endpoint", "/oauth/register"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("device_authorization_endpoint", "/oauth/device_authorization"),
    ] {
        assert_eq!(meta[field], format!("{}{path}", app.base).as_str(), "{field}");
    }
    assert_eq!(meta["response_types_supported"], json!(["code"]));
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    let grants = meta["grant_types_supported"].as_array().expect("array");
    for g in ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"] {
        assert!(grants.contains(&json!(g)), "{g}");
    }
    assert!(meta["token_endpoint_auth_methods_supported"].as_array().expect("array").contains(&json!("none")));
    assert!(meta["scopes_supported"].as_array().expect("array").contains(&json!("offline_access")));
}

async fn registration_accepts_good_clients_and_refuses_bad_ones(engine: Engine) {
    let app = spawn_app_with(engine, |c| c.registrations_per_minute = 100).await;
    let (status, body) = register(
        &app,
        json!({"client_name": "ChatGPT", "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
               "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(s(&body["client_id"]).starts_with("gcl_"));
    assert!(body.get("client_secret").is_none(), "public clients get no secret");
    assert_eq!(body["grant_types"], json!(["authorization_code", "refresh_token"]));

    let (status, body) =
        register(&app, json!({"client_name": "Backend", "redirect_uris": ["https://app.example.com/cb"]})).await;
    assert_eq!(status, 201);
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic", "the RFC 7591 default");
    let secret = s(&body["client_secret"]);
    assert!(secret.starts_with("gcs_"), "{body}");
    let stored =
        app.count(&format!("SELECT COUNT(*) FROM oauth_clients WHERE secret_digest LIKE '%{}%'", &secret[4..])).await;
    assert_eq!(stored, 0, "the secret is stored only as a digest");

    let before = app.count("SELECT COUNT(*) FROM oauth_clients").await;
    let bad: Vec<(Value, &str, &str)> = vec![
        (json!({"redirect_uris": ["http://example.com/cb"]}), "invalid_redirect_uri", "loopback"),
        (json!({"redirect_uris": ["https://example.com/cb#frag"]}), "invalid_redirect_uri", "fragment"),
        (json!({"redirect_uris": ["not a url"]}), "invalid_redirect_uri", "absolute URL"),
        (json!({"redirect_uris": []}), "invalid_redirect_uri", "required"),
        (json!({"redirect_uris": "https://example.com/cb"}), "invalid_client_metadata", "expected"),
        (json!({"redirect_uris": [REDIRECT], "grant_types": ["password"]}), "invalid_client_metadata", "password"),
        (json!({"redirect_uris": [REDIRECT], "response_types": ["token"]}), "invalid_client_metadata", "token"),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
            "private_key_jwt",
        ),
        (json!({"redirect_uris": [REDIRECT], "scope": "runs:fly"}), "invalid_client_metadata", "runs:fly"),
        (
            json!({"redirect_uris": [REDIRECT], "client_name": "x".repeat(101)}),
            "invalid_client_metadata",
            "client_name",
        ),
    ];
    for (metadata, error, names) in bad {
        let (status, body) = register(&app, metadata.clone()).await;
        assert_eq!(status, 400, "{metadata}");
        assert_eq!(body["error"], error, "{metadata}: {body}");
        assert!(s(&body["error_description"]).contains(names), "{metadata}: {body}");
    }
    // Not JSON, and far too large.
    let res = app
        .client
        .post(app.url("/oauth/register"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 400);
    assert_eq!(error_json(res).await["error"], "invalid_client_metadata");
    let huge = json!({"redirect_uris": [REDIRECT], "client_name": "x", "padding": "y".repeat(20_000)});
    let (status, body) = register(&app, huge).await;
    assert_eq!((status, s(&body["error"])), (400, "invalid_client_metadata".into()));
    assert!(s(&body["error_description"]).contains("larger than 16 KiB"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_clients").await, before, "nothing stored");
}

async fn registrations_are_rate_limited(engine: Engine) {
    let app = spawn_app(engine).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (status, _) =
            register(&app, json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})).await;
        statuses.push(status);
    }
    assert!(statuses[..10].iter().all(|s| *s == 201), "{statuses:?}");
    let res = app
        .client
        .post(app.url("/oauth/register"))
        .json(&json!({"redirect_uris": [REDIRECT]}))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_clients").await, 10);
}

async fn authorization_errors_are_pages_or_redirects(engine: Engine) {
    let app = spawn_app(engine).await;
    let client = public_client(&app).await;
    let (_, challenge) = pkce();
    let good = |overrides: &[(&'static str, &'static str)]| {
        let mut q: Vec<(&str, String)> = vec![
            ("client_id", client.id.clone()),
            ("redirect_uri", REDIRECT.into()),
            ("response_type", "code".into()),
            ("scope", "agents:read".into()),
            ("state", "s1".into()),
            ("code_challenge", challenge.clone()),
            ("code_challenge_method", "S256".into()),
        ];
        for (k, v) in overrides {
            q.retain(|(name, _)| name != k);
            if !v.is_empty() {
                q.push((k, (*v).to_owned()));
            }
        }
        q
    };
    let run = |q: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            authorize(app, &pairs).await
        }
    };
    // Untrusted client or redirect: an error page, never a redirect.
    for (overrides, names) in [
        (vec![("client_id", "gcl_unknown")], "No client"),
        (vec![("redirect_uri", "http://127.0.0.1:8976/callback/")], "not one that"),
        (vec![("redirect_uri", "http://127.0.0.1:8976/callbacK")], "not one that"),
        (vec![("redirect_uri", "https://evil.example.com/cb")], "not one that"),
    ] {
        let res = run(good(&overrides)).await;
        assert_eq!(res.status(), 400, "{overrides:?}");
        assert!(res.headers().get("location").is_none());
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        let html = res.text().await.expect("html");
        assert!(html.contains(names), "{overrides:?}: {html}");
        assert!(!html.contains("<script"), "the page runs nothing");
    }
    let res = authorize(&app, &[("client_id", &client.id), ("client_id", &client.id)]).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.expect("html").contains("more than once"));

    // Everything else goes back to the client, with state and iss.
    for (overrides, error, names) in [
        (vec![("code_challenge", "")], "invalid_request", "code_challenge is required"),
        (vec![("code_challenge_method", "plain")], "invalid_request", "plain"),
        (vec![("code_challenge_method", "")], "invalid_request", "S256"),
        (vec![("response_type", "token")], "unsupported_response_type", "token"),
        (vec![("scope", "agents:read runs:fly")], "invalid_scope", "runs:fly"),
        (vec![("resource", "https://other.example.com/mcp")], "invalid_target", "other.example.com"),
    ] {
        let res = run(good(&overrides)).await;
        assert_eq!(res.status(), 303, "{overrides:?}");
        let loc = location(&res);
        assert!(loc.starts_with(REDIRECT), "{loc}");
        let q = query_of(&loc);
        assert_eq!(q["error"], error, "{overrides:?}");
        assert!(q["error_description"].contains(names), "{overrides:?}: {}", q["error_description"]);
        assert_eq!(q["state"], "s1");
        assert_eq!(q["iss"], app.base);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_requests").await, 0, "nothing stored for a bad request");

    // Asking beyond what the client registered is narrowed to its registration.
    let (_, reg) = register(
        &app,
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "scope": "agents:read offline_access"}),
    )
    .await;
    let limited = Client { id: s(&reg["client_id"]), secret: None };
    consent_id(&app, &limited, "agents:read runs:execute offline_access", &challenge).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_requests WHERE scopes = 'agents:read offline_access'").await, 1);
    let res = authorize(
        &app,
        &[
            ("client_id", &limited.id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "runs:execute"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(query_of(&location(&res))["error"], "invalid_scope", "nothing left after narrowing");
}

async fn a_connected_client_calls_mcp_and_refreshes(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = unique_email("ann");
    let slug = app.sign_up(&email).await;
    let client = public_client(&app).await;
    let (verifier, challenge) = pkce();
    let id = consent_id(&app, &client, "agents:read runs:read offline_access", &challenge).await;

    // The consent page: who asks, where it goes back to, the scopes in plain words; not framable.
    let page = app.get(&format!("/oauth/consent/{id}")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers()["content-security-policy"].to_str().expect("csp").contains("frame-ancestors 'none'"));
    let html = page.text().await.expect("html");
    assert!(html.contains("Claude wants to connect to Gatehouse"), "{html}");
    assert!(html.contains("127.0.0.1"));
    assert!(html.contains("List agents, read their graphs, validate specs"));
    assert!(html.contains("Stay connected with a refresh token"));

    let back = approve(&app, &id, &slug, "").await;
    assert!(back.starts_with(REDIRECT), "{back}");
    let q = query_of(&back);
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["iss"], app.base);
    let (status, headers, tokens) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
            ("code_verifier", &verifier),
            ("resource", &format!("{}/mcp", app.base)),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "agents:read runs:read offline_access");
    let access = s(&tokens["access_token"]);
    let refresh = s(&tokens["refresh_token"]);
    assert!(access.starts_with("gat_") && refresh.starts_with("grt_"));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM oauth_tokens WHERE digest = '{access}'")).await, 0);

    let (status, who) = whoami(&app, &access).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["workspace"]["slug"], slug.as_str());
    assert_eq!(who["scopes"], json!(["agents:read", "runs:read", "offline_access"]));
    assert_eq!(who["connector"]["client_name"], "Claude");
    assert!(who["key"].is_null());
    let (status, _, listed) = mcp(&app, &access, "tools/call", json!({"name": "list_agents", "arguments": {}})).await;
    assert_eq!(status, 200);
    assert_eq!(listed["result"]["isError"], false, "{listed}");
    let res = app.client.get(app.url("/v1/whoami")).bearer_auth(&access).send().await.expect("GET");
    assert_eq!(res.status(), 200);

    // Refresh: a new pair; the old refresh token is spent.
    let (status, _, fresh) =
        token(&app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("client_id", &client.id)]).await;
    assert_eq!(status, 200, "{fresh}");
    assert_ne!(fresh["refresh_token"], tokens["refresh_token"]);
    let (status, who) = whoami(&app, &s(&fresh["access_token"])).await;
    assert_eq!((status, s(&who["workspace"]["slug"])), (200, slug.clone()));
    // Narrowing on refresh is allowed; widening is not.
    let (status, _, narrow) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&fresh["refresh_token"])),
            ("client_id", &client.id),
            ("scope", "runs:read"),
        ],
    )
    .await;
    assert_eq!((status, s(&narrow["scope"])), (200, "runs:read".into()), "{narrow}");
    let (status, _, wide) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&narrow["refresh_token"])),
            ("client_id", &client.id),
            ("scope", "runs:execute"),
        ],
    )
    .await;
    assert_eq!((status, s(&wide["error"])), (400, "invalid_scope".into()));

    // The connector is listed, with who approved it.
    let list: Value = app.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    let c = &list["connectors"][0];
    assert_eq!(c["client_name"], "Claude");
    assert_eq!(c["redirect_host"], "127.0.0.1");
    assert_eq!(c["approved_by"], email.as_str());
    assert!(c["last_used_at"].is_i64(), "{c}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'connector.approved'").await, 1);

    // Without offline_access there is no refresh token.
    let (_, tokens) = connect(&app, &slug, "agents:read").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
}

async fn approving_twice_does_nothing_twice_and_deny_goes_back(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("bo")).await;
    let client = public_client(&app).await;
    let (_, challenge) = pkce();
    let id = consent_id(&app, &client, "agents:read", &challenge).await;
    approve(&app, &id, &slug, "7d").await;
    let again = app.call("/api/oauth/approve", &[("id", &id), ("workspace", &slug), ("lifetime", "")]).await;
    assert_eq!(again.status(), 409);
    assert!(error_json(again).await.to_string().contains("already been answered"));
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_codes").await, 1);
    let denied = app.call("/api/oauth/deny", &[("id", &id)]).await;
    assert_eq!(denied.status(), 409);
    let html = app.get(&format!("/oauth/consent/{id}")).await.text().await.expect("html");
    assert!(html.contains("already approved"), "{html}");

    let id = consent_id(&app, &client, "agents:read", &challenge).await;
    let res = app.call("/api/oauth/deny", &[("id", &id)]).await;
    assert_eq!(res.status(), 200);
    let q = query_of(&location(&res));
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["iss"], app.base);

    // Signed out: the consent page sends the person to sign in and back.
    let stranger = app.other_client();
    let id = consent_id(&stranger, &client, "agents:read", &challenge).await;
    let res = stranger.get(&format!("/oauth/consent/{id}")).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), format!("/signin?next=/oauth/consent/{id}"));
    // A workspace that is not theirs, or an unknown lifetime, is refused and changes nothing.
    let other_slug = stranger.sign_up(&unique_email("cy")).await;
    let res = app.call("/api/oauth/approve", &[("id", &id), ("workspace", &other_slug), ("lifetime", "")]).await;
    assert_eq!(res.status(), 422);
    let res = app.call("/api/oauth/approve", &[("id", &id), ("workspace", &slug), ("lifetime", "3y")]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM oauth_requests WHERE id = '{id}' AND decided_at IS NULL")).await,
        1
    );
}

async fn token_endpoint_refuses_bad_exchanges(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("di")).await;
    let client = public_client(&app).await;
    let (verifier, challenge) = pkce();
    let id = consent_id(&app, &client, "agents:read offline_access", &challenge).await;
    let code = query_of(&approve(&app, &id, &slug, "").await)["code"].clone();
    let base = |extra: &[(&'static str, &str)]| {
        let mut form: Vec<(&'static str, String)> = vec![
            ("grant_type", "authorization_code".into()),
            ("code", code.clone()),
            ("redirect_uri", REDIRECT.into()),
            ("client_id", client.id.clone()),
            ("code_verifier", verifier.clone()),
        ];
        for (k, v) in extra {
            form.retain(|(name, _)| name != k);
            if !v.is_empty() {
                form.push((k, (*v).to_owned()));
            }
        }
        form
    };
    let wrong_verifier = format!("w{}", &verifier[1..]);
    let other = public_client(&app).await;
    for (extra, status, error, names) in [
        (vec![("code_verifier", "")], 400, "invalid_request", "code_verifier is missing"),
        (vec![("code_verifier", wrong_verifier.as_str())], 400, "invalid_grant", "does not match the code_challenge"),
        (vec![("redirect_uri", "http://127.0.0.1:8976/callback/")], 400, "invalid_grant", "redirect_uri"),
        (vec![("redirect_uri", "")], 400, "invalid_request", "redirect_uri is missing"),
        (vec![("resource", "https://elsewhere.example.com/mcp")], 400, "invalid_target", "elsewhere"),
        (vec![("client_id", other.id.as_str())], 400, "invalid_grant", "another client"),
        (vec![("client_id", "gcl_nobody")], 401, "invalid_client", "not registered"),
        (vec![("code", "gac_000000000000000000000000000000000000000000")], 400, "invalid_grant", "not issued here"),
        (vec![("grant_type", "password")], 400, "unsupported_grant_type", "password"),
        (vec![("grant_type", "")], 400, "invalid_request", "grant_type is missing"),
    ] {
        let form = base(&extra);
        let (got, headers, body) = token(&app, &form.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
        assert_eq!(got, status, "{extra:?}: {body}");
        assert_eq!(body["error"], error, "{extra:?}: {body}");
        assert!(s(&body["error_description"]).contains(names), "{extra:?}: {body}");
        assert_eq!(headers["cache-control"], "no-store");
    }
    // A repeated parameter, and a JSON body.
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=authorization_code&code={code}&code={code}"))
        .send()
        .await
        .expect("POST");
    assert_eq!(error_json(res).await["error"], "invalid_request");
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(error_json(res).await["error"], "invalid_request");
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_tokens").await, 0, "nothing issued");

    // After 60 seconds the code is dead.
    sqlx::query("UPDATE oauth_codes SET expires_at = expires_at - 61000").execute(app.db.pool()).await.expect("age");
    let form = base(&[]);
    let (status, _, body) = token(&app, &form.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!((status, s(&body["error"])), (400, "invalid_grant".into()));
    assert!(s(&body["error_description"]).contains("60 seconds"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_tokens").await, 0);
}

async fn a_code_used_twice_revokes_what_it_issued(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("ed")).await;
    let client = public_client(&app).await;
    let (verifier, challenge) = pkce();
    let id = consent_id(&app, &client, "agents:read offline_access", &challenge).await;
    let code = query_of(&approve(&app, &id, &slug, "").await)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client.id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, _, first) = token(&app, &form).await;
    assert_eq!(status, 200);
    assert_eq!(whoami(&app, &s(&first["access_token"])).await.0, 200);
    let (status, _, second) = token(&app, &form).await;
    assert_eq!((status, s(&second["error"])), (400, "invalid_grant".into()));
    assert!(s(&second["error_description"]).contains("already been used"));
    let (status, body) = whoami(&app, &s(&first["access_token"])).await;
    assert_eq!((status, s(&body["code"])), (401, "UNAUTHORIZED".into()), "the first exchange's tokens are revoked");
    let (status, _, body) = token(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &s(&first["refresh_token"])), ("client_id", &client.id)],
    )
    .await;
    assert_eq!((status, s(&body["error"])), (400, "invalid_grant".into()));
}

async fn concurrent_refreshes_share_one_new_pair_and_reuse_revokes(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("fa")).await;
    let (client, tokens) = connect(&app, &slug, "agents:read offline_access").await;
    let refresh = s(&tokens["refresh_token"]);
    let form =
        [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str()), ("client_id", client.id.as_str())];
    let (a, b, c) = tokio::join!(token(&app, &form), token(&app, &form), token(&app, &form));
    for (status, _, body) in [&a, &b, &c] {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(a.2["refresh_token"], b.2["refresh_token"], "the same new pair for concurrent refreshes");
    assert_eq!(a.2["access_token"], c.2["access_token"]);
    assert_eq!(whoami(&app, &s(&a.2["access_token"])).await.0, 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_tokens WHERE kind = 'refresh'").await, 2, "one rotation only");

    // After the window, the replaced token is a sign of theft: the whole grant goes.
    sqlx::query("UPDATE oauth_tokens SET replaced_at = replaced_at - 10000 WHERE replaced_at IS NOT NULL")
        .execute(app.db.pool())
        .await
        .expect("age");
    let (status, _, body) = token(&app, &form).await;
    assert_eq!((status, s(&body["error"])), (400, "invalid_grant".into()));
    assert!(s(&body["error_description"]).contains("revoked"), "{body}");
    assert_eq!(whoami(&app, &s(&a.2["access_token"])).await.0, 401);
    let (status, _, _) = token(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &s(&a.2["refresh_token"])), ("client_id", &client.id)],
    )
    .await;
    assert_eq!(status, 400, "the newest refresh token is revoked too");
    let list: Value = app.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(list["connectors"], json!([]));
}

async fn refresh_tokens_belong_to_their_client(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("gu")).await;
    let (_, tokens) = connect(&app, &slug, "agents:read offline_access").await;
    let thief = public_client(&app).await;
    let (status, _, body) = token(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &s(&tokens["refresh_token"])), ("client_id", &thief.id)],
    )
    .await;
    assert_eq!((status, s(&body["error"])), (400, "invalid_grant".into()));
    assert!(s(&body["error_description"]).contains("another client"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM oauth_tokens WHERE replaced_at IS NOT NULL").await,
        0,
        "nothing rotated"
    );
    let (status, _, body) =
        token(&app, &[("grant_type", "refresh_token"), ("refresh_token", "grt_garbage"), ("client_id", &thief.id)])
            .await;
    assert_eq!((status, s(&body["error"])), (400, "invalid_grant".into()));
}

async fn confidential_clients_must_prove_their_secret(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("ha")).await;
    let (_, reg) = register(&app, json!({"client_name": "Server app", "redirect_uris": [REDIRECT]})).await;
    let client = Client { id: s(&reg["client_id"]), secret: Some(s(&reg["client_secret"])) };
    let (verifier, challenge) = pkce();
    let id = consent_id(&app, &client, "agents:read", &challenge).await;
    let code = query_of(&approve(&app, &id, &slug, "").await)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let send = |user: String, pass: Option<String>| {
        let app = &app;
        async move {
            let res =
                app.client.post(app.url("/oauth/token")).basic_auth(user, pass).form(&form).send().await.expect("POST");
            (res.status().as_u16(), res.headers().clone(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, headers, body) = send(client.id.clone(), Some("gcs_wrong".into())).await;
    assert_eq!((status, s(&body["error"])), (401, "invalid_client".into()));
    assert!(headers["www-authenticate"].to_str().expect("ascii").starts_with("Basic"));
    let (status, _, body) = token(&app, &[form.as_slice(), &[("client_id", client.id.as_str())]].concat()).await;
    assert_eq!((status, s(&body["error"])), (401, "invalid_client".into()), "no secret");
    let (status, _, body) = send(client.id.clone(), client.secret.clone()).await;
    assert_eq!(status, 200, "{body}");
}

async fn revocation_ends_tokens(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("io")).await;
    let (client, tokens) = connect(&app, &slug, "agents:read offline_access").await;
    let revoke = |token: String, client_id: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/oauth/revoke"))
                .form(&[("token", token), ("client_id", client_id)])
                .send()
                .await
                .expect("POST")
        }
    };
    // Another client's revocation, and an unknown token: 200, nothing changes.
    let other = public_client(&app).await;
    assert_eq!(revoke(s(&tokens["access_token"]), other.id.clone()).await.status(), 200);
    assert_eq!(whoami(&app, &s(&tokens["access_token"])).await.0, 200);
    assert_eq!(revoke("gat_unknown_unknown_unknown_unknown".into(), client.id.clone()).await.status(), 200);
    // The access token alone.
    assert_eq!(revoke(s(&tokens["access_token"]), client.id.clone()).await.status(), 200);
    assert_eq!(whoami(&app, &s(&tokens["access_token"])).await.0, 401);
    let (status, _, fresh) = token(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &s(&tokens["refresh_token"])), ("client_id", &client.id)],
    )
    .await;
    assert_eq!(status, 200);
    // The refresh token: the whole grant.
    assert_eq!(revoke(s(&fresh["refresh_token"]), client.id.clone()).await.status(), 200);
    assert_eq!(whoami(&app, &s(&fresh["access_token"])).await.0, 401);
}

async fn step_up_and_expiry_on_mcp(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("ju")).await;
    let (_, tokens) = connect(&app, &slug, "agents:read").await;
    let access = s(&tokens["access_token"]);
    let (status, headers, body) =
        mcp(&app, &access, "tools/call", json!({"name": "trigger_run", "arguments": {"agent_id": "agt_x"}})).await;
    assert_eq!(status, 403, "{body}");
    let challenge = headers["www-authenticate"].to_str().expect("ascii");
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    assert!(challenge.contains("scope=\"agents:read runs:execute\""), "{challenge}");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"", app.base))
    );
    assert_eq!(body["code"], "SCOPE_MISSING");
    assert_eq!(body["message"], "trigger_run requires 'runs:execute' but the bearer carries: agents:read");
    let (status, _, _) = mcp(&app, &access, "resources/read", json!({"uri": "gatehouse://runs/run_x"})).await;
    assert_eq!(status, 403);
    // What the scopes cover still works, and tools/list is open.
    assert_eq!(mcp(&app, &access, "tools/list", json!({})).await.0, 200);

    // Expired (written behind the server's back, so it arrives through the change feed): 401
    // TOKEN_EXPIRED with the challenge pointing at the metadata.
    sqlx::query("UPDATE oauth_tokens SET expires_at = 1").execute(app.db.pool()).await.expect("expire");
    let expired = eventually(FEED_BOUND, || async { mcp(&app, &access, "tools/list", json!({})).await.0 == 401 });
    assert!(expired.await.is_some(), "the expired token is refused");
    let (status, headers, body) = mcp(&app, &access, "tools/list", json!({})).await;
    assert_eq!((status, s(&body["code"])), (401, "TOKEN_EXPIRED".into()), "{body}");
    assert!(headers["www-authenticate"].to_str().expect("ascii").contains("resource_metadata="));
    // A made-up token of the right shape.
    let (status, _, body) = mcp(&app, "gat_0000000000000000000000000000000000000000000", "tools/list", json!({})).await;
    assert_eq!((status, s(&body["code"])), (401, "UNAUTHORIZED".into()));
}

async fn connectors_are_listed_removed_and_rebound(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = unique_email("ka");
    let slug = app.sign_up(&email).await;
    let res = app.call("/api/workspaces/create", &[("name", "Second team")]).await;
    let second = crate::helpers::slug_of(&res);
    let (_, tokens) = connect(&app, &slug, "agents:read offline_access").await;
    let access = s(&tokens["access_token"]);
    let list: Value = app.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    let id = s(&list["connectors"][0]["id"]);
    assert_eq!(list["can_manage"], true);
    assert_eq!(list["targets"][0][0], second.as_str());

    // A member sees but cannot manage; a stranger sees nothing.
    let member = app.other_client();
    let member_email = unique_email("lu");
    member.sign_up(&member_email).await;
    app.call("/api/workspaces/members/add", &[("slug", &slug), ("email", &member_email), ("role", "member")]).await;
    let seen: Value = member.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(seen["can_manage"], false);
    assert_eq!(seen["connectors"][0]["id"], id.as_str());
    assert_eq!(member.call("/api/connectors/remove", &[("slug", &slug), ("connector_id", &id)]).await.status(), 403);
    let stranger = app.other_client();
    let stranger_slug = stranger.sign_up(&unique_email("mo")).await;
    assert_eq!(stranger.call("/api/connectors/list", &[("slug", &slug)]).await.status(), 404);
    assert_eq!(
        stranger.call("/api/connectors/remove", &[("slug", &stranger_slug), ("connector_id", &id)]).await.status(),
        404
    );

    // Rebind: the same token now acts in the second workspace.
    let res = app.call("/api/connectors/rebind", &[("slug", &slug), ("connector_id", &id), ("to", &second)]).await;
    assert_eq!(res.status(), 200);
    let (status, who) = whoami(&app, &access).await;
    assert_eq!((status, s(&who["workspace"]["slug"])), (200, second.clone()));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'connector.rebound'").await,
        2,
        "recorded in both workspaces"
    );
    let gone: Value = app.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(gone["connectors"], json!([]));
    // Not into a workspace the actor is not in.
    let res =
        app.call("/api/connectors/rebind", &[("slug", &second), ("connector_id", &id), ("to", &stranger_slug)]).await;
    assert_eq!(res.status(), 422);

    // Remove: the token stops at once.
    let res = app.call("/api/connectors/remove", &[("slug", &second), ("connector_id", &id)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(whoami(&app, &access).await.0, 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'connector.removed'").await, 1);
    let audit: String = sqlx::query_scalar("SELECT details FROM audit_events WHERE action = 'connector.removed'")
        .fetch_one(app.db.pool())
        .await
        .expect("audit row");
    assert!(!audit.contains("gat_") && !audit.contains("grt_"), "no secret in the audit log: {audit}");

    // Removing the approver from the workspace ends their connections there.
    let (_, t2) = connect(&app, &slug, "agents:read").await;
    let member_of_slug = {
        let members: Value = app.call("/api/workspaces/members", &[("slug", &slug)]).await.json().await.expect("json");
        members
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["email"] == member_email.as_str())
            .map(|m| s(&m["user_id"]))
            .expect("member")
    };
    app.call("/api/workspaces/members/role", &[("slug", &slug), ("user_id", &member_of_slug), ("role", "admin")]).await;
    let (_, t3) = connect(&member, &slug, "agents:read").await;
    assert_eq!(whoami(&member, &s(&t3["access_token"])).await.0, 200);
    app.call("/api/workspaces/members/remove", &[("slug", &slug), ("user_id", &member_of_slug)]).await;
    let (status, body) = whoami(&member, &s(&t3["access_token"])).await;
    assert_eq!(status, 401, "{body}");
    assert!(s(&body["message"]).contains("no longer a member"));
    assert_eq!(whoami(&app, &s(&t2["access_token"])).await.0, 200, "the owner's own connection is unaffected");
}

pub async fn device_start(app: &TestApp, client_id: &str, scope: &str) -> Value {
    let res = app
        .client
        .post(app.url("/oauth/device_authorization"))
        .form(&[("client_id", client_id), ("scope", scope)])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.expect("json")
}

pub async fn device_client(app: &TestApp) -> String {
    let (status, body) = register(
        app,
        json!({"client_name": "gatehouse-cli", "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
               "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    s(&body["client_id"])
}

async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> (u16, HeaderMap, Value) {
    token(
        app,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", client_id),
        ],
    )
    .await
}

/// Lets the next poll through without waiting for the interval.
async fn skip_interval(app: &TestApp) {
    sqlx::query(
        "UPDATE oauth_device_codes SET last_polled_at = last_polled_at - 60000 WHERE last_polled_at IS NOT NULL",
    )
    .execute(app.db.pool())
    .await
    .expect("rewind");
}

async fn device_flow_from_code_to_tokens(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("na")).await;
    let client = device_client(&app).await;
    let started = device_start(&app, &client, "agents:read offline_access").await;
    let user_code = s(&started["user_code"]);
    assert!(
        user_code.len() == 9
            && &user_code[4..5] == "-"
            && user_code.chars().filter(|c| *c != '-').all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert_eq!(started["verification_uri"], format!("{}/device", app.base).as_str());
    assert_eq!(started["verification_uri_complete"], format!("{}/device?user_code={user_code}", app.base).as_str());
    assert_eq!(started["expires_in"], 300);
    assert_eq!(started["interval"], 5);
    let device_code = s(&started["device_code"]);

    let (status, _, body) = poll(&app, &client, &device_code).await;
    assert_eq!((status, s(&body["error"])), (400, "authorization_pending".into()));
    let (status, headers, body) = poll(&app, &client, &device_code).await;
    assert_eq!((status, s(&body["error"])), (429, "slow_down".into()), "polled faster than the interval");
    assert_eq!(headers["retry-after"], "10");

    // The verification page: signed-out visitors sign in first and come back with the code.
    let stranger = app.other_client();
    let res = stranger.get(&format!("/device?user_code={user_code}")).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), format!("/signin?next=/device%3Fuser_code%3D{user_code}"));
    let html = app.get(&format!("/device?user_code={}", user_code.to_lowercase())).await.text().await.expect("html");
    assert!(html.contains("Connect gatehouse-cli?"), "{html}");
    let looked: Value =
        app.call("/api/device/lookup", &[("user_code", &user_code.replace('-', ""))]).await.json().await.expect("json");
    assert_eq!(looked["client_name"], "gatehouse-cli");

    let res =
        app.call("/api/device/approve", &[("user_code", &user_code), ("workspace", &slug), ("lifetime", "30d")]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    skip_interval(&app).await;
    let (status, _, tokens) = poll(&app, &client, &device_code).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(s(&tokens["refresh_token"]).starts_with("grt_"));
    let (status, who) = whoami(&app, &s(&tokens["access_token"])).await;
    assert_eq!((status, s(&who["workspace"]["slug"])), (200, slug.clone()));
    skip_interval(&app).await;
    let (status, _, body) = poll(&app, &client, &device_code).await;
    assert_eq!((status, s(&body["error"])), (400, "invalid_grant".into()), "a device code works once");

    let list: Value = app.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(list["connectors"][0]["kind"], "device_code");
    assert!(list["connectors"][0]["expires_at"].is_i64());
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'device.approved'").await, 1);
    // A client that did not register the device grant cannot start one.
    let web = public_client(&app).await;
    let res = app
        .client
        .post(app.url("/oauth/device_authorization"))
        .form(&[("client_id", web.id.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(error_json(res).await["error"], "unauthorized_client");
}

async fn device_flow_denial_expiry_and_wrong_codes(engine: Engine) {
    let app = spawn_app(engine).await;
    app.sign_up(&unique_email("ob")).await;
    let client = device_client(&app).await;
    let denied = device_start(&app, &client, "agents:read").await;
    let res = app.call("/api/device/deny", &[("user_code", &s(&denied["user_code"]))]).await;
    assert_eq!(res.status(), 200);
    let (status, _, body) = poll(&app, &client, &s(&denied["device_code"])).await;
    assert_eq!((status, s(&body["error"])), (400, "access_denied".into()));

    let expired = device_start(&app, &client, "agents:read").await;
    sqlx::query("UPDATE oauth_device_codes SET expires_at = 1").execute(app.db.pool()).await.expect("expire");
    let (status, _, body) = poll(&app, &client, &s(&expired["device_code"])).await;
    assert_eq!((status, s(&body["error"])), (400, "expired_token".into()));

    // Wrong or expired codes: a message each time; after five, code entry pauses — even for a
    // right code — and nothing is approved.
    let live = device_start(&app, &client, "agents:read").await;
    for wrong in ["BBBB-BBBB", "not-a-code", &s(&expired["user_code"]), "CCCC-CCCC"] {
        let res = app.call("/api/device/lookup", &[("user_code", wrong)]).await;
        assert_eq!(res.status(), 422, "{wrong}");
        assert!(error_json(res).await.to_string().contains("code"), "{wrong}");
    }
    let res = app.call("/api/device/lookup", &[("user_code", "DDDD-DDDD")]).await;
    assert!(error_json(res).await.to_string().contains("Too many wrong codes"));
    let res = app.call("/api/device/lookup", &[("user_code", &s(&live["user_code"]))]).await;
    assert!(error_json(res).await.to_string().contains("Too many wrong codes"));
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_device_codes WHERE status = 'approved'").await, 0);
}

async fn clients_that_never_complete_a_grant_are_removed(engine: Engine) {
    use gatehouse_core::oauth::{CleanupPolicy, remove_stale};
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("pa")).await;
    let (used, tokens) = connect(&app, &slug, "agents:read").await;
    let unused = public_client(&app).await;
    // Younger than the limit: kept.
    assert_eq!(remove_stale(&app.db, CleanupPolicy::default()).await.expect("cleanup"), 0);
    sqlx::query("UPDATE oauth_clients SET created_at = created_at - 90000000")
        .execute(app.db.pool())
        .await
        .expect("age");
    assert_eq!(remove_stale(&app.db, CleanupPolicy::default()).await.expect("cleanup"), 1);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM oauth_clients WHERE id = '{}'", unused.id)).await, 0);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM oauth_clients WHERE id = '{}'", used.id)).await, 1);
    assert_eq!(whoami(&app, &s(&tokens["access_token"])).await.0, 200, "a client with a grant stays");
}
