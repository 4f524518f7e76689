//! The safety baseline: health checks, security headers, the origin check, and client mistakes
//! answered with 4xx, never 500.

use crate::{
    both_engines,
    helpers::{Engine, PASSWORD, spawn_app, unique_email},
};

both_engines!(
    health_and_readiness,
    pages_carry_security_headers,
    cross_origin_state_changes_are_refused,
    malformed_server_function_calls_are_client_errors,
    unknown_pages_are_404,
);

async fn health_and_readiness(engine: Engine) {
    let app = spawn_app(engine).await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.expect("json")["database"], "ok");
    app.db.close().await;
    assert_eq!(app.get("/readyz").await.status(), 503);
}

async fn pages_carry_security_headers(engine: Engine) {
    let app = spawn_app(engine).await;
    let res = app.get("/signin").await;
    assert_eq!(res.status(), 200);
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce in the CSP").to_owned();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    let html = res.text().await.expect("html");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    // A fresh nonce on every page.
    let again = app.get("/signin").await;
    assert!(!again.headers()["content-security-policy"].to_str().expect("csp").contains(&nonce));
}

async fn cross_origin_state_changes_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = unique_email("sam");
    let res = app
        .client
        .post(app.url("/api/auth/sign_up"))
        .header("origin", "https://evil.example")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 403);
    let res = app
        .client
        .post(app.url("/api/auth/sign_up"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    // The dashboard's own origin passes.
    let res = app
        .client
        .post(app.url("/api/auth/sign_up"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 200);
}

async fn malformed_server_function_calls_are_client_errors(engine: Engine) {
    let app = spawn_app(engine).await;
    let res = app.call("/api/auth/sign_up", &[("nothing", "useful")]).await;
    assert_eq!(res.status(), 400);
    let res = app.client.post(app.url("/api/auth/sign_in")).body(vec![0xff, 0xfe, 0x00]).send().await.expect("POST");
    assert!(res.status().is_client_error(), "{}", res.status());
    // An oversized body is refused from its Content-Length, before it is read.
    let status_line = raw_request(
        &app.base,
        "POST /api/auth/sign_in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\n\r\n",
    )
    .await;
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    // Signed out, a workspace function says so.
    let res = app.call("/api/workspaces/create", &[("name", "X")]).await;
    assert_eq!(res.status(), 401);
}

async fn unknown_pages_are_404(engine: Engine) {
    let app = spawn_app(engine).await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.expect("html").contains("Page not found"));
}

/// Sends raw bytes and returns the response's status line.
async fn raw_request(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 1024];
    let n = stream.read(&mut buf).await.expect("read");
    String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_owned()
}
