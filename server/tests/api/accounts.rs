//! Sign-up, sign-in, sign-out, the session cookie, and the sign-in throttle.

use crate::{
    both_engines,
    helpers::{Engine, PASSWORD, error_json, session_cookie, spawn_app, spawn_app_with, unique_email},
};

both_engines!(
    sign_up_opens_the_personal_workspace,
    sign_up_rejects_bad_input_and_stores_nothing,
    sign_in_gives_one_message_for_unknown_email_and_wrong_password,
    sign_in_renews_the_session_id,
    sign_out_ends_the_session_on_the_server,
    repeated_failures_lock_the_account_for_a_while,
    cookies_are_secure_behind_https,
);

async fn cookies_are_secure_behind_https(engine: Engine) {
    let app = spawn_app_with(engine, |c| c.public_url = "https://gatehouse.example.com".into()).await;
    let res = app.call("/api/auth/sign_up", &[("email", &unique_email("sec")), ("password", PASSWORD)]).await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap_or_default().to_owned();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

async fn sign_up_opens_the_personal_workspace(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = unique_email("ada");
    let res = app.call("/api/auth/sign_up", &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.starts_with("gatehouse_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http must not set Secure: {cookie}");
    let slug = crate::helpers::slug_of(&res);

    let page = app.get(&format!("/w/{slug}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains(&email), "the header shows who is signed in");
    assert!(html.contains("Owner"));

    let root = app.get("/").await;
    assert_eq!(root.status(), 302);
    assert_eq!(root.headers()["location"], format!("/w/{slug}").as_str());
}

async fn sign_up_rejects_bad_input_and_stores_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let long = "x".repeat(1025);
    let cases: [(&str, &str, &str, &str); 5] = [
        ("not-an-email", PASSWORD, "email", "like name@example.com"),
        ("", PASSWORD, "email", "Enter your email"),
        ("bob@example.com", "short", "password", "at least 12"),
        ("bob@example.com", &long, "password", "at most 1024"),
        ("bob@example.com", "           ", "password", "at least 12"),
    ];
    for (email, password, field, message) in cases {
        let res = app.call("/api/auth/sign_up", &[("email", email), ("password", password)]).await;
        assert_eq!(res.status(), 422, "{email:?}");
        let body = error_json(res).await;
        assert_eq!(body["Field"]["field"], field);
        assert!(body["Field"]["message"].as_str().unwrap_or_default().contains(message), "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    app.sign_up("carol@example.com").await;
    let again = app.other_client();
    let res = again.call("/api/auth/sign_up", &[("email", "Carol@Example.com"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 422);
    assert!(error_json(res).await["Field"]["message"].as_str().unwrap_or_default().contains("already exists"));
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM workspaces").await, 1);
}

async fn sign_in_gives_one_message_for_unknown_email_and_wrong_password(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = unique_email("dan");
    app.sign_up(&email).await;
    let visitor = app.other_client();

    let wrong = visitor.call("/api/auth/sign_in", &[("email", &email), ("password", "wrong password here")]).await;
    assert_eq!(wrong.status(), 401);
    let wrong = error_json(wrong).await;
    let unknown = visitor
        .call("/api/auth/sign_in", &[("email", "nobody@example.com"), ("password", "wrong password here")])
        .await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(wrong, error_json(unknown).await, "the two failures must be indistinguishable");

    let ok = visitor.call("/api/auth/sign_in", &[("email", &email.to_uppercase()), ("password", PASSWORD)]).await;
    assert_eq!(ok.status(), 200);
    assert!(ok.headers()["location"].to_str().unwrap_or_default().starts_with("/w/"));

    // `next` is honoured for paths on this site and ignored for anything else.
    let next = visitor
        .call("/api/auth/sign_in", &[("email", &email), ("password", PASSWORD), ("next", "/workspaces/new")])
        .await;
    assert_eq!(next.headers()["location"], "/workspaces/new");
    let evil = visitor
        .call("/api/auth/sign_in", &[("email", &email), ("password", PASSWORD), ("next", "//evil.example/x")])
        .await;
    assert!(evil.headers()["location"].to_str().unwrap_or_default().starts_with("/w/"));
}

async fn sign_in_renews_the_session_id(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = unique_email("eve");
    let first = app.call("/api/auth/sign_up", &[("email", &email), ("password", PASSWORD)]).await;
    let before = session_cookie(&first).expect("a session cookie at sign-up");
    let again = app.call("/api/auth/sign_in", &[("email", &email), ("password", PASSWORD)]).await;
    let after = session_cookie(&again).expect("a new session cookie at sign-in");
    assert_ne!(before, after);
    // The old id no longer opens anything.
    let stale = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let res = stale.get(app.url("/")).header("cookie", before).send().await.expect("GET");
    assert_eq!(res.headers()["location"], "/signin");
}

async fn sign_out_ends_the_session_on_the_server(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = unique_email("fay");
    let res = app.call("/api/auth/sign_up", &[("email", &email), ("password", PASSWORD)]).await;
    let cookie = session_cookie(&res).expect("cookie");
    let slug = crate::helpers::slug_of(&res);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);

    let out = app.call("/api/auth/sign_out", &[]).await;
    assert_eq!(out.headers()["location"], "/signin");
    // Replaying the old cookie, as a thief would, gets nowhere.
    let thief = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let res = thief.get(app.url(&format!("/w/{slug}"))).header("cookie", cookie).send().await.expect("GET");
    assert_eq!(res.status(), 302);
    assert!(res.headers()["location"].to_str().unwrap_or_default().starts_with("/signin?next="));
}

async fn repeated_failures_lock_the_account_for_a_while(engine: Engine) {
    let app = spawn_app_with(engine, |c| {
        c.throttle.account_limit = 3;
        c.throttle.delay_step = std::time::Duration::from_millis(10);
    })
    .await;
    let email = unique_email("gus");
    app.sign_up(&email).await;
    let visitor = app.other_client();
    for _ in 0..3 {
        let res = visitor.call("/api/auth/sign_in", &[("email", &email), ("password", "not the password")]).await;
        assert_eq!(res.status(), 401);
    }
    // Now even the right password is refused, with a message that says why.
    let res = visitor.call("/api/auth/sign_in", &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 429);
    let body = error_json(res).await;
    assert!(body["Throttled"].as_str().unwrap_or_default().contains("Too many failed sign-ins"), "{body}");
    // Another account is not affected.
    let other = unique_email("hal");
    app.other_client().sign_up(&other).await;
    let res = visitor.call("/api/auth/sign_in", &[("email", &other), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 200);
}
