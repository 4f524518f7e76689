//! Webhooks over HTTP with a real local receiver: endpoints and bad input, signed deliveries
//! checked with an HMAC computed here, test events, retries with backoff after a 500, giving up
//! after a day, redelivery, a rolled secret signing beside the old one, and roles.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU16, Ordering},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use serde_json::Value;
use sha2::Sha256;

use crate::{
    both_engines,
    helpers::{Engine, TestApp, mcp_call, spawn_app, spawn_app_with, unique_email},
};

both_engines!(
    webhooks_are_signed_retried_and_redelivered,
    webhook_input_is_checked,
    expiring_keys_and_usage_thresholds_are_announced
);

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    status: Arc<AtomicU16>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> axum::http::StatusCode {
    r.got.lock().expect("lock").push((headers, String::from_utf8_lossy(&body).into_owned()));
    axum::http::StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap_or(axum::http::StatusCode::OK)
}

async fn receiver() -> (String, Receiver) {
    let r = Receiver::default();
    r.status.store(200, Ordering::SeqCst);
    let app = Router::new().route("/hook", post(hook)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, r)
}

/// Waits until the receiver has `n` requests.
async fn wait_for(r: &Receiver, n: usize) -> Vec<(HeaderMap, String)> {
    for _ in 0..60 {
        let got = r.got.lock().expect("lock").clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the receiver got {} of {n} deliveries", r.got.lock().expect("lock").len());
}

/// An independent check of the signature header: HMAC-SHA256 of "t.body" with the secret.
fn signed_by(header: &str, secret: &str, body: &str) -> bool {
    use hmac::{Hmac, Mac};
    let t = header.split(',').find_map(|p| p.strip_prefix("t=")).expect("t=");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    header.split(',').filter_map(|p| p.strip_prefix("v1=")).any(|v| v == expected)
}

async fn endpoint(app: &TestApp, slug: &str) -> Value {
    let page: Value = app.call("/api/webhooks/list", &[("slug", slug)]).await.json().await.expect("json");
    page["endpoints"][0].clone()
}

async fn create_key(app: &TestApp, slug: &str, name: &str) -> Value {
    app.call(
        "/api/keys/create",
        &[("slug", slug), ("name", name), ("environment", "live"), ("expiry", "30d"), ("scopes[]", "runs:read")],
    )
    .await
    .json()
    .await
    .expect("json")
}

async fn webhooks_are_signed_retried_and_redelivered(engine: Engine) {
    let app = spawn_app_with(engine, |c| c.webhooks_allow_private = true).await;
    let slug = app.sign_up(&unique_email("hook")).await;
    let (url, r) = receiver().await;
    let res = app
        .call(
            "/api/webhooks/create",
            &[
                ("slug", &slug),
                ("url", &url),
                ("description", "CI"),
                ("events[]", "key.created"),
                ("events[]", "key.revoked"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let e = endpoint(&app, &slug).await;
    let secret = e["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(e["events"], serde_json::json!(["key.created", "key.revoked"]));

    // An event: delivered, signed, without any secret in it.
    let key = create_key(&app, &slug, "Exporter").await;
    let got = wait_for(&r, 1).await;
    let (headers, body) = &got[0];
    assert_eq!(headers["gatehouse-event"], "key.created");
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers["user-agent"].to_str().expect("ascii").starts_with("Gatehouse-Webhooks/"));
    let signature = headers["gatehouse-signature"].to_str().expect("ascii");
    assert!(signed_by(signature, &secret, body), "{signature}");
    assert!(!signed_by(signature, "whsec_wrong", body));
    let event: Value = serde_json::from_str(body).expect("json");
    assert_eq!(event["type"], "key.created");
    assert_eq!(event["data"]["name"], "Exporter");
    assert_eq!(event["data"]["key_id"], key["id"]);
    assert!(!body.contains(key["secret"].as_str().expect("secret")), "no key in a webhook");
    // Events it did not subscribe to are not sent (a rename is not an event; an edit is not subscribed).
    app.call(
        "/api/keys/update",
        &[("slug", &slug), ("key_id", key["id"].as_str().expect("id")), ("name", "x"), ("scopes[]", "runs:read")],
    )
    .await;

    // A test event.
    let id = e["id"].as_str().expect("id").to_owned();
    assert_eq!(app.call("/api/webhooks/test", &[("slug", &slug), ("endpoint_id", &id)]).await.status(), 200);
    let got = wait_for(&r, 2).await;
    assert_eq!(got[1].0["gatehouse-event"], "webhook.test");

    // A 500 is retried with backoff; the log shows the response code.
    r.status.store(500, Ordering::SeqCst);
    app.call("/api/keys/revoke", &[("slug", &slug), ("key_id", key["id"].as_str().expect("id"))]).await;
    wait_for(&r, 3).await;
    let mut failed = Value::Null;
    for _ in 0..40 {
        failed = endpoint(&app, &slug).await["deliveries"][0].clone();
        if failed["attempts"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (failed["status"].as_str(), failed["last_status_code"].as_i64()),
        (Some("pending"), Some(500)),
        "{failed}"
    );
    let wait = failed["next_attempt_at"].as_i64().unwrap_or(0) - gatehouse_core::clock::now_ms();
    assert!((20_000..=31_000).contains(&wait), "retried in about 30 seconds, not {wait} ms");
    // When the retry is due and the receiver is back, it succeeds.
    r.status.store(204, Ordering::SeqCst);
    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE status = 'pending'")
        .execute(app.db.pool())
        .await
        .expect("due");
    let got = wait_for(&r, 4).await;
    assert_eq!(got[3].0["gatehouse-event"], "key.revoked");
    assert_eq!(got[3].0["gatehouse-delivery"], got[2].0["gatehouse-delivery"], "the same delivery, retried");
    for _ in 0..40 {
        if endpoint(&app, &slug).await["deliveries"][0]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let done = endpoint(&app, &slug).await["deliveries"][0].clone();
    assert_eq!((done["status"].as_str(), done["attempts"].as_i64()), (Some("succeeded"), Some(2)), "{done}");

    // Redeliver: the same event again, as a new delivery.
    let delivery = done["id"].as_str().expect("id").to_owned();
    assert_eq!(app.call("/api/webhooks/redeliver", &[("slug", &slug), ("delivery_id", &delivery)]).await.status(), 200);
    let got = wait_for(&r, 5).await;
    let first: Value = serde_json::from_str(&got[3].1).expect("json");
    let again: Value = serde_json::from_str(&got[4].1).expect("json");
    assert_eq!(first["id"], again["id"]);
    assert_ne!(got[4].0["gatehouse-delivery"], got[3].0["gatehouse-delivery"]);

    // Rolling the secret: both sign during the overlap.
    assert_eq!(app.call("/api/webhooks/roll", &[("slug", &slug), ("endpoint_id", &id)]).await.status(), 200);
    let rolled = endpoint(&app, &slug).await;
    let new_secret = rolled["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new_secret, secret);
    assert!(rolled["previous_secret_expires_at"].is_i64());
    app.call("/api/webhooks/test", &[("slug", &slug), ("endpoint_id", &id)]).await;
    let got = wait_for(&r, 6).await;
    let (headers, body) = &got[5];
    let signature = headers["gatehouse-signature"].to_str().expect("ascii");
    assert_eq!(signature.matches("v1=").count(), 2);
    assert!(signed_by(signature, &new_secret, body) && signed_by(signature, &secret, body));

    // After a day of failures a delivery gives up.
    r.status.store(503, Ordering::SeqCst);
    app.call("/api/webhooks/test", &[("slug", &slug), ("endpoint_id", &id)]).await;
    wait_for(&r, 7).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::query("UPDATE webhook_deliveries SET created_at = created_at - 90000000, next_attempt_at = 0 WHERE status = 'pending'")
        .execute(app.db.pool())
        .await
        .expect("age");
    wait_for(&r, 8).await;
    let mut failed = 0;
    for _ in 0..40 {
        failed = app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed'").await;
        if failed == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(failed, 1, "given up after a day");
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'").await, 0);

    // Members cannot see endpoints (their secrets).
    let member = app.other_client();
    let member_email = unique_email("m");
    member.sign_up(&member_email).await;
    app.call("/api/workspaces/members/add", &[("slug", &slug), ("email", &member_email), ("role", "member")]).await;
    assert_eq!(member.call("/api/webhooks/list", &[("slug", &slug)]).await.status(), 403);
    assert_eq!(member.call("/api/webhooks/test", &[("slug", &slug), ("endpoint_id", &id)]).await.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'webhook.%'").await, 2);
}

async fn webhook_input_is_checked(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("bad")).await;
    for (url, events, names) in [
        ("ftp://example.com/x", vec!["key.created"], "https://"),
        ("not a url", vec!["key.created"], "full URL"),
        ("http://127.0.0.1:9/hook", vec!["key.created"], "private address"),
        ("http://10.0.0.8/hook", vec!["key.created"], "private address"),
        ("http://[::1]/hook", vec!["key.created"], "private address"),
        ("https://example.com/hook", vec![], "at least one event"),
        ("https://example.com/hook", vec!["key.stolen"], "not an event"),
    ] {
        let mut form = vec![("slug", slug.as_str()), ("url", url)];
        form.extend(events.iter().map(|e| ("events[]", *e)));
        let res = app.call("/api/webhooks/create", &form).await;
        assert_eq!(res.status(), 422, "{url} {events:?}");
        assert!(res.text().await.expect("body").contains(names), "{url}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_endpoints").await, 0);
}

async fn expiring_keys_and_usage_thresholds_are_announced(engine: Engine) {
    use gatehouse_core::{
        clock::{HOUR, now_ms},
        webhooks::{notify_expiring_keys, notify_usage_thresholds},
    };
    let app = spawn_app_with(engine, |c| c.webhooks_allow_private = true).await;
    let slug = app.sign_up(&unique_email("notice")).await;
    let (url, r) = receiver().await;
    app.call(
        "/api/webhooks/create",
        &[("slug", &slug), ("url", &url), ("events[]", "key.expiring"), ("events[]", "usage.threshold")],
    )
    .await;
    let key = create_key(&app, &slug, "Soon").await;
    let key_id = key["id"].as_str().expect("id").to_owned();

    // 30 days left: nothing. 6 days: the 7-day notice, once. 20 hours: the 1-day notice, once.
    assert_eq!(notify_expiring_keys(&app.db, now_ms()).await.expect("notices"), 0);
    sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE id = $2")
        .bind(now_ms() + 144 * HOUR)
        .bind(&key_id)
        .execute(app.db.pool())
        .await
        .expect("soon");
    assert_eq!(notify_expiring_keys(&app.db, now_ms()).await.expect("notices"), 1);
    assert_eq!(notify_expiring_keys(&app.db, now_ms()).await.expect("notices"), 0);
    let got = wait_for(&r, 1).await;
    let event: Value = serde_json::from_str(&got[0].1).expect("json");
    assert_eq!((event["type"].as_str(), event["data"]["days"].as_i64()), (Some("key.expiring"), Some(7)));
    assert_eq!(event["data"]["key_id"], key_id.as_str());
    sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE id = $2")
        .bind(now_ms() + 20 * HOUR)
        .bind(&key_id)
        .execute(app.db.pool())
        .await
        .expect("sooner");
    assert_eq!(notify_expiring_keys(&app.db, now_ms()).await.expect("notices"), 1);
    assert_eq!(notify_expiring_keys(&app.db, now_ms()).await.expect("notices"), 0);
    let got = wait_for(&r, 2).await;
    let event: Value = serde_json::from_str(&got[1].1).expect("json");
    assert_eq!(event["data"]["days"], 1);

    // The daily threshold: a bad value is refused and stores nothing; reached once, announced once.
    for bad in ["-5", "0", "many"] {
        let res = app.call("/api/webhooks/threshold", &[("slug", &slug), ("threshold", bad)]).await;
        assert_eq!(res.status(), 422, "{bad}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM workspaces WHERE usage_threshold_daily IS NOT NULL").await, 0);
    assert_eq!(app.call("/api/webhooks/threshold", &[("slug", &slug), ("threshold", "3")]).await.status(), 200);
    let page: Value = app.call("/api/webhooks/list", &[("slug", &slug)]).await.json().await.expect("json");
    assert_eq!(page["usage_threshold"], 3);
    sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE id = $2")
        .bind(now_ms() + 20 * HOUR)
        .bind(&key_id)
        .execute(app.db.pool())
        .await
        .expect("valid");
    assert_eq!(notify_usage_thresholds(&app.db, now_ms()).await.expect("thresholds"), 0, "no calls yet");
    let secret = key["secret"].as_str().expect("secret").to_owned();
    for _ in 0..3 {
        let (status, _, _) =
            mcp_call(&app, &secret, "tools/call", serde_json::json!({"name": "whoami", "arguments": {}})).await;
        assert_eq!(status, 200);
    }
    for _ in 0..40 {
        if app.count("SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes").await >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(notify_usage_thresholds(&app.db, now_ms()).await.expect("thresholds"), 1);
    assert_eq!(notify_usage_thresholds(&app.db, now_ms()).await.expect("thresholds"), 0, "once a day");
    let got = wait_for(&r, 3).await;
    let event: Value = serde_json::from_str(&got[2].1).expect("json");
    assert_eq!(
        (event["type"].as_str(), event["data"]["threshold"].as_i64(), event["data"]["calls"].as_i64()),
        (Some("usage.threshold"), Some(3), Some(3))
    );
}
