//! API keys over HTTP: creating through the dashboard's server functions, `/v1/whoami` and every
//! way a key or header can fail, roles, rolling, the workspace policy, and the CLI.

use gatehouse_core::keys::{Environment, KeyToken};
use serde_json::Value;

use crate::{
    both_engines,
    helpers::{Engine, FEED_BOUND, TestApp, error_json, eventually, spawn_app, unique_email},
};

both_engines!(
    a_created_key_works_and_is_never_shown_again,
    whoami_reports_every_header_problem_precisely,
    expired_revoked_and_rate_limited_keys,
    bad_key_input_is_refused_and_nothing_is_stored,
    roles_and_tenants_are_enforced_for_keys,
    rolling_keeps_the_old_key_for_its_grace_period,
    the_workspace_policy_limits_key_lifetimes,
    editing_a_key_changes_what_it_may_do,
    the_keys_list_comes_a_page_at_a_time,
);

/// Creates a key through the dashboard's server function; returns (key id, full key).
pub async fn create_key(
    app: &TestApp,
    slug: &str,
    name: &str,
    scopes: &[&str],
    env: &str,
    expiry: &str,
) -> (String, String) {
    let mut form = vec![("slug", slug), ("name", name), ("environment", env), ("expiry", expiry)];
    form.extend(scopes.iter().map(|s| ("scopes[]", *s)));
    let res = app.call("/api/keys/create", &form).await;
    assert_eq!(res.status(), 200, "create failed");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.expect("json");
    (body["id"].as_str().expect("id").to_owned(), body["secret"].as_str().expect("secret").to_owned())
}

async fn whoami(app: &TestApp, auth: Option<&str>) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = app.client.get(app.url("/v1/whoami"));
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    let res = req.send().await.expect("GET");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

async fn a_created_key_works_and_is_never_shown_again(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("ann")).await;
    let (id, key) = create_key(&app, &slug, "Nightly export", &["runs:read", "agents:read"], "live", "30d").await;
    assert!(key.starts_with("pk_live_") && key.len() == 69, "{key}");

    let (status, headers, body) = whoami(&app, Some(&format!("Bearer {key}"))).await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["workspace"]["slug"], slug.as_str());
    assert_eq!(body["environment"], "live");
    assert_eq!(body["scopes"], serde_json::json!(["agents:read", "runs:read"]));
    assert_eq!(body["key"]["id"], id.as_str());
    assert_eq!(body["key"]["name"], "Nightly export");
    assert!(body["key"]["expires_at"].as_i64().is_some());

    // The list, the pages and the database never hold the key again.
    let list = app.call("/api/keys/list", &[("slug", &slug)]).await.text().await.expect("body");
    assert!(!list.contains(&key) && !list.contains(&key[8..40]));
    let listed: Value = serde_json::from_str(&list).expect("json");
    assert_eq!(listed["keys"][0]["hint"], format!("{}…{}", &key[..12], &key[key.len() - 4..]));
    assert!(listed["keys"][0]["last_used_at"].as_i64().is_some(), "the whoami call shows as last use");
    let page = app.get(&format!("/w/{slug}/keys")).await.text().await.expect("html");
    assert!(!page.contains(&key[8..40]));
    let rows = sqlx::query("SELECT * FROM api_keys").fetch_all(app.db.pool()).await.expect("rows");
    for row in &rows {
        use sqlx::{Column, Row};
        for (i, column) in row.columns().iter().enumerate() {
            if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                assert!(!text.contains(&key[8..40]), "column {} holds the secret", column.name());
            }
        }
    }

    // A test key works too, and says so.
    let (_, test_key) = create_key(&app, &slug, "Sandbox", &["runs:read"], "test", "never").await;
    let (status, _, body) = whoami(&app, Some(&format!("Bearer {test_key}"))).await;
    assert_eq!(status, 200);
    assert_eq!(body["environment"], "test");
    assert_eq!(body["key"]["expires_at"], Value::Null);
}

async fn whoami_reports_every_header_problem_precisely(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("bo")).await;
    let (_, key) = create_key(&app, &slug, "k", &["runs:read"], "live", "30d").await;
    let mut changed: Vec<char> = key.chars().collect();
    changed[30] = if changed[30] == 'x' { 'y' } else { 'x' };
    let changed: String = changed.into_iter().collect();
    let test_prefix = key.replacen("pk_live_", "pk_test_", 1);
    let unknown = KeyToken::generate(Environment::Live);
    let junk = "z".repeat(10 * 1024);
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing"),
        (Some(String::new()), "missing"),
        (Some("Bearer".into()), "carries no key"),
        (Some("Bearer ".into()), "carries no key"),
        (Some("Bearer  x".into()), "exactly one space"),
        (Some(format!("Bearer {key} extra")), "followed by whitespace"),
        (Some(format!("Bearer {key}\tx")), "followed by whitespace"),
        (Some(format!("Basic {key}")), "Bearer scheme"),
        (Some(key.clone()), "Bearer scheme"),
        (Some("Bearer rk_live_123".into()), "not a Gatehouse credential"),
        (Some("Bearer sk_live_123".into()), "incomplete or mistyped"),
        (Some("Bearer gat_short".into()), "incomplete or mistyped"),
        (Some(format!("Bearer {}", &key[..key.len() - 3])), "incomplete or mistyped"),
        (Some(format!("Bearer {changed}")), "checksum does not match"),
        (Some(format!("Bearer {test_prefix}")), "checksum does not match"),
        (Some(format!("Bearer {}", unknown.expose())), "No key matches"),
        (Some(junk), "longer than 512"),
    ];
    for (header, expected) in cases {
        let (status, headers, body) = whoami(&app, header.as_deref()).await;
        let shown = header.as_deref().map(|h| h.chars().take(40).collect::<String>());
        assert_eq!(status, 401, "{shown:?}");
        assert_eq!(body["code"], "UNAUTHORIZED", "{shown:?}");
        assert!(body["message"].as_str().unwrap_or_default().contains(expected), "{shown:?}: {body}");
        assert!(!body["next_action"].as_str().unwrap_or_default().is_empty());
        let challenge = headers["www-authenticate"].to_str().expect("ascii");
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(!body.to_string().contains(&key[8..40]), "an error never echoes the key");
    }
    // Whitespace at the very end is removed by HTTP itself (RFC 9110 §5.5), so it is the same key.
    assert_eq!(whoami(&app, Some(&format!("Bearer {key}  "))).await.0, 200);
    // The scheme word is case-insensitive.
    assert_eq!(whoami(&app, Some(&format!("bearer {key}"))).await.0, 200);
    assert_eq!(whoami(&app, Some(&format!("BEARER {key}"))).await.0, 200);
}

async fn expired_revoked_and_rate_limited_keys(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("cy")).await;
    let (expired_id, expired) = create_key(&app, &slug, "old", &["runs:read"], "live", "30d").await;
    sqlx::query("UPDATE api_keys SET expires_at = 1000 WHERE id = $1")
        .bind(&expired_id)
        .execute(app.db.pool())
        .await
        .expect("age");
    let (status, headers, body) = whoami(&app, Some(&format!("Bearer {expired}"))).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("KEY_EXPIRED")));
    assert!(headers.contains_key("www-authenticate"));

    let (revoked_id, revoked) = create_key(&app, &slug, "gone", &["runs:read"], "live", "30d").await;
    assert_eq!(whoami(&app, Some(&format!("Bearer {revoked}"))).await.0, 200);
    let res = app.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &revoked_id)]).await;
    assert_eq!(res.status(), 200);
    let (status, _, body) = whoami(&app, Some(&format!("Bearer {revoked}"))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (410, Some("KEY_REVOKED")),
        "revocation takes effect on the next request"
    );
    // Revoking twice changes nothing.
    assert_eq!(app.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &revoked_id)]).await.status(), 200);

    let (limited_id, limited) = create_key(&app, &slug, "busy", &["runs:read"], "live", "30d").await;
    let res = app
        .call(
            "/api/keys/update",
            &[
                ("slug", &slug),
                ("key_id", &limited_id),
                ("name", "busy"),
                ("scopes[]", "runs:read"),
                ("rate_limit", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(whoami(&app, Some(&format!("Bearer {limited}"))).await.0, 200);
    assert_eq!(whoami(&app, Some(&format!("Bearer {limited}"))).await.0, 200);
    let (status, headers, body) = whoami(&app, Some(&format!("Bearer {limited}"))).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("RATE_LIMITED")));
    let retry: u64 = headers["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=30).contains(&retry), "{retry}");
    // Other keys are not affected.
    assert_eq!(whoami(&app, Some(&format!("Bearer {expired}"))).await.0, 401);
}

async fn bad_key_input_is_refused_and_nothing_is_stored(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("di")).await;
    let long = "n".repeat(201);
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("name", ""), ("environment", "live"), ("expiry", "30d"), ("scopes[]", "runs:read")],
            "name",
            "Give the key a name",
        ),
        (
            vec![("name", &long), ("environment", "live"), ("expiry", "30d"), ("scopes[]", "runs:read")],
            "name",
            "at most 200",
        ),
        (
            vec![("name", "k"), ("environment", "live"), ("expiry", "30d"), ("scopes[]", "runs:fly")],
            "scopes",
            "not a scope",
        ),
        (vec![("name", "k"), ("environment", "live"), ("expiry", "30d")], "scopes", "at least one scope"),
        (vec![("name", "k"), ("environment", "live"), ("expiry", "30d"), ("scopes[]", "openid")], "scopes", "OAuth"),
        (
            vec![("name", "k"), ("environment", "prod"), ("expiry", "30d"), ("scopes[]", "runs:read")],
            "environment",
            "live or test",
        ),
        (
            vec![
                ("name", "k"),
                ("environment", "live"),
                ("expiry", "date"),
                ("expiry_date", "2001-01-01"),
                ("scopes[]", "runs:read"),
            ],
            "expiry",
            "has passed",
        ),
        (
            vec![("name", "k"), ("environment", "live"), ("expiry", "forever"), ("scopes[]", "runs:read")],
            "expiry",
            "Choose 30d",
        ),
    ];
    for (fields, field, message) in cases {
        let mut form = vec![("slug", slug.as_str())];
        form.extend(fields);
        let res = app.call("/api/keys/create", &form).await;
        assert_eq!(res.status(), 422, "{field}: {message}");
        let body = error_json(res).await;
        assert_eq!(body["Field"]["field"], field);
        assert!(body["Field"]["message"].as_str().unwrap_or_default().contains(message), "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 0);
}

async fn roles_and_tenants_are_enforced_for_keys(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("ed")).await;
    let (key_id, _) = create_key(&app, &slug, "owner's", &["runs:read"], "live", "30d").await;

    let member = app.other_client();
    let member_email = unique_email("flo");
    member.sign_up(&member_email).await;
    app.call("/api/workspaces/members/add", &[("slug", &slug), ("email", &member_email), ("role", "member")]).await;
    let res = member
        .call(
            "/api/keys/create",
            &[("slug", &slug), ("name", "mine"), ("environment", "live"), ("expiry", "30d"), ("scopes[]", "runs:read")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(member.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &key_id)]).await.status(), 403);
    assert_eq!(
        member.call("/api/keys/roll", &[("slug", &slug), ("key_id", &key_id), ("grace", "none")]).await.status(),
        403
    );
    let listed: Value = member.call("/api/keys/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(listed["keys"].as_array().map(Vec::len), Some(1), "members see the list");
    assert_eq!(listed["can_manage"], false);

    // An admin may manage keys.
    let members: Value = app.call("/api/workspaces/members", &[("slug", &slug)]).await.json().await.expect("json");
    let member_id = members[1]["user_id"].as_str().expect("id").to_owned();
    app.call("/api/workspaces/members/role", &[("slug", &slug), ("user_id", &member_id), ("role", "admin")]).await;
    let (_, admin_key) = create_key(&member, &slug, "admin's", &["runs:read"], "live", "30d").await;
    assert!(admin_key.starts_with("pk_live_"));

    // Another workspace's owner cannot touch these keys, and sees nothing of them.
    let stranger = app.other_client();
    let theirs = stranger.sign_up(&unique_email("gia")).await;
    assert_eq!(stranger.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &key_id)]).await.status(), 404);
    assert_eq!(stranger.call("/api/keys/revoke", &[("slug", &theirs), ("key_id", &key_id)]).await.status(), 404);
    assert_eq!(stranger.call("/api/keys/list", &[("slug", &slug)]).await.status(), 404);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL").await, 0);
}

async fn rolling_keeps_the_old_key_for_its_grace_period(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("hu")).await;
    let (old_id, old) = create_key(&app, &slug, "deploy", &["runs:execute"], "test", "90d").await;

    let res = app.call("/api/keys/roll", &[("slug", &slug), ("key_id", &old_id), ("grace", "1h")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let rolled: Value = res.json().await.expect("json");
    let new = rolled["secret"].as_str().expect("secret").to_owned();
    assert!(new.starts_with("pk_test_") && new != old);
    let (_, _, body) = whoami(&app, Some(&format!("Bearer {new}"))).await;
    assert_eq!(body["scopes"], serde_json::json!(["runs:execute"]));
    assert_eq!(body["key"]["name"], "deploy");
    assert_eq!(whoami(&app, Some(&format!("Bearer {old}"))).await.0, 200, "within the grace period");

    // The grace period runs out (moved into the past, as an hour passing would; written behind
    // the server's back, so it arrives through the change feed like another process's write).
    sqlx::query("UPDATE api_keys SET revoked_at = revoked_at - 3600001 WHERE id = $1")
        .bind(&old_id)
        .execute(app.db.pool())
        .await
        .expect("age");
    let ended = eventually(FEED_BOUND, || async { whoami(&app, Some(&format!("Bearer {old}"))).await.0 == 410 });
    assert!(ended.await.is_some(), "the old key stops when its grace period ends");
    assert_eq!(whoami(&app, Some(&format!("Bearer {new}"))).await.0, 200);

    // Rolling with no grace stops the old key at once; a dead key cannot be rolled.
    let new_id = rolled["id"].as_str().expect("id").to_owned();
    let res = app.call("/api/keys/roll", &[("slug", &slug), ("key_id", &new_id), ("grace", "none")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(whoami(&app, Some(&format!("Bearer {new}"))).await.0, 410);
    let res = app.call("/api/keys/roll", &[("slug", &slug), ("key_id", &old_id), ("grace", "none")]).await;
    assert_eq!(res.status(), 409);
    let res = app.call("/api/keys/roll", &[("slug", &slug), ("key_id", &new_id), ("grace", "2w")]).await;
    assert_eq!(res.status(), 422);
}

async fn the_workspace_policy_limits_key_lifetimes(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("ike")).await;
    let res =
        app.call("/api/keys/policy", &[("slug", &slug), ("max_lifetime_days", "60"), ("rate_limit", "600")]).await;
    assert_eq!(res.status(), 200);
    for expiry in ["90d", "1y", "never"] {
        let res = app
            .call(
                "/api/keys/create",
                &[
                    ("slug", &slug),
                    ("name", "k"),
                    ("environment", "live"),
                    ("expiry", expiry),
                    ("scopes[]", "runs:read"),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{expiry}");
        assert!(error_json(res).await["Field"]["message"].as_str().unwrap_or_default().contains("60 days"));
    }
    create_key(&app, &slug, "short-lived", &["runs:read"], "live", "30d").await;
    let res =
        app.call("/api/keys/policy", &[("slug", &slug), ("max_lifetime_days", "-4"), ("rate_limit", "600")]).await;
    assert_eq!(res.status(), 422);

    // Only an owner sets the policy.
    let admin = app.other_client();
    let admin_email = unique_email("jo");
    admin.sign_up(&admin_email).await;
    app.call("/api/workspaces/members/add", &[("slug", &slug), ("email", &admin_email), ("role", "admin")]).await;
    let res =
        admin.call("/api/keys/policy", &[("slug", &slug), ("max_lifetime_days", ""), ("rate_limit", "600")]).await;
    assert_eq!(res.status(), 403);
}

async fn editing_a_key_changes_what_it_may_do(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("kit")).await;
    let (id, key) = create_key(&app, &slug, "reader", &["runs:read"], "live", "30d").await;
    let res = app
        .call(
            "/api/keys/update",
            &[
                ("slug", &slug),
                ("key_id", &id),
                ("name", "writer"),
                ("scopes[]", "agents:write"),
                ("scopes[]", "runs:read"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, _, body) = whoami(&app, Some(&format!("Bearer {key}"))).await;
    assert_eq!(body["key"]["name"], "writer");
    assert_eq!(body["scopes"], serde_json::json!(["agents:write", "runs:read"]));
    let res = app.call("/api/keys/update", &[("slug", &slug), ("key_id", &id), ("name", "x")]).await;
    assert_eq!(res.status(), 422, "a key keeps at least one scope");
    let res = app
        .call("/api/keys/update", &[("slug", &slug), ("key_id", "nope"), ("name", "x"), ("scopes[]", "runs:read")])
        .await;
    assert_eq!(res.status(), 404);
}

/// A workspace with many keys gets them 50 to a page, newest first, with the counts of every
/// status; the page and the status filter are in the address, so each page can be linked to.
async fn the_keys_list_comes_a_page_at_a_time(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("pages")).await;
    let mut ids = Vec::new();
    for i in 0..53 {
        ids.push(create_key(&app, &slug, &format!("Key {i}"), &["runs:read"], "live", "30d").await.0);
    }
    let res = app.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &ids[0])]).await;
    assert_eq!(res.status(), 200);
    let list = |status: &'static str, page: &'static str| {
        let slug = slug.clone();
        let app = &app;
        async move {
            let res = app.call("/api/keys/list", &[("slug", slug.as_str()), ("status", status), ("page", page)]).await;
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.expect("json")
        }
    };
    let names = |body: &Value| -> Vec<String> {
        body["keys"].as_array().expect("keys").iter().map(|k| k["name"].as_str().expect("name").to_owned()).collect()
    };

    let first = list("", "1").await;
    assert_eq!(first["page"], 1);
    assert_eq!(first["pages"], 2);
    assert_eq!(names(&first).len(), 50);
    assert_eq!(names(&first)[0], "Key 52", "newest first");
    assert_eq!(
        first["counts"],
        serde_json::json!([["all", 53], ["active", 52], ["expiring", 0], ["expired", 0], ["revoked", 1]])
    );
    let second = list("", "2").await;
    assert_eq!(names(&second), ["Key 2", "Key 1", "Key 0"]);
    assert_eq!(list("", "9").await["page"], 2, "past the last page is the last page");
    assert_eq!(list("", "0").await["page"], 1);
    let revoked = list("revoked", "1").await;
    assert_eq!((names(&revoked), revoked["pages"].clone()), (vec!["Key 0".to_owned()], serde_json::json!(1)));
    let res = app.call("/api/keys/list", &[("slug", slug.as_str()), ("page", "-1")]).await;
    assert_eq!(res.status(), 400, "a page that is not a number is the client's mistake");

    // The page itself: 50 rows, where it is, and the way to the older keys.
    let html = app.get(&format!("/w/{slug}/keys")).await.text().await.expect("html");
    assert_eq!(html.matches("data-testid=\"key-row\"").count(), 50);
    assert!(html.contains("Page 1 of 2") && html.contains(&format!("href=\"/w/{slug}/keys?page=2\"")));
    assert!(html.contains("All (53)") && html.contains("Revoked (1)"));
    let html = app.get(&format!("/w/{slug}/keys?page=2")).await.text().await.expect("html");
    assert_eq!(html.matches("data-testid=\"key-row\"").count(), 3);
    assert!(html.contains("Page 2 of 2") && html.contains(&format!("href=\"/w/{slug}/keys\" rel=\"prev\"")));
    let html = app.get(&format!("/w/{slug}/keys?status=revoked")).await.text().await.expect("html");
    assert_eq!(html.matches("data-testid=\"key-row\"").count(), 1);
    assert!(!html.contains("Page 1 of"));

    // A key that expires within 7 days is counted and filtered as expiring (the rule runs in SQL).
    create_key(&app, &slug, "Short-lived", &["runs:read"], "live", "3d").await;
    let expiring = list("expiring", "1").await;
    assert_eq!(names(&expiring), ["Short-lived"]);
    assert_eq!(expiring["keys"][0]["status"], "expiring");
    assert_eq!(
        expiring["counts"],
        serde_json::json!([["all", 54], ["active", 52], ["expiring", 1], ["expired", 0], ["revoked", 1]])
    );
    // The Overview names the keys that stop within the week, and only those.
    let overview =
        app.call("/api/usage/overview", &[("slug", slug.as_str())]).await.json::<Value>().await.expect("json");
    let soon: Vec<&str> =
        overview["expiring"].as_array().expect("expiring").iter().filter_map(|k| k[0].as_str()).collect();
    assert_eq!(soon, ["Short-lived"]);
    let html = app.get(&format!("/w/{slug}")).await.text().await.expect("html");
    assert!(html.contains("Short-lived") && !html.contains("No key stops working"));
    let res = app.call("/api/keys/list", &[("slug", slug.as_str()), ("status", "bogus")]).await;
    assert_eq!(res.status(), 422, "an unknown status is the client's mistake");
}
