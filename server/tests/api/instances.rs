//! Two Gatehouse processes on one PostgreSQL database, sharing one Redis for rate limits: what is
//! done through one is enforced by the other within the change feed's delay, and limits hold
//! across both.

use gatehouse::Config;
use serde_json::{Value, json};

use crate::{
    helpers::{
        Engine, FEED_BOUND, TestApp, eventually, mcp_call, spawn_app_with, spawn_instance_of, unique_email,
        within_limit,
    },
    keys::create_key,
};

fn redis_url() -> String {
    std::env::var("GATEHOUSE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Both processes' settings: the same Redis and namespace, three registrations a minute per address.
fn shared(namespace: &str) -> impl Fn(&mut Config) + '_ {
    move |c: &mut Config| {
        c.redis_url = Some(redis_url());
        c.redis_namespace = namespace.to_owned();
        c.registrations_per_minute = 3;
    }
}

async fn whoami(app: &TestApp, bearer: &str) -> (u16, Value) {
    let (status, _, body) = mcp_call(app, bearer, "tools/call", json!({"name": "whoami", "arguments": {}})).await;
    (status, body)
}

async fn register(app: &TestApp) -> u16 {
    let metadata = json!({"client_name": "Spare", "redirect_uris": ["http://127.0.0.1:9/cb"],
                          "token_endpoint_auth_method": "none"});
    app.client.post(app.url("/oauth/register")).json(&metadata).send().await.expect("POST").status().as_u16()
}

#[tokio::test]
async fn two_instances_enforce_each_others_revocations_removals_and_rate_limits() {
    within_limit(async {
        let namespace = format!("gatehouse-test-{}", gatehouse_core::ids::random_base62(10));
        let a = spawn_app_with(Engine::Postgres, shared(&namespace)).await;
        // Behind one load balancer both processes have the same public URL (tokens name it).
        let public_url = a.base.clone();
        let b = spawn_instance_of(&a, |c| {
            shared(&namespace)(c);
            c.public_url = public_url;
        })
        .await;
        assert_ne!(a.base, b.base);
        let slug = a.sign_up(&unique_email("two")).await;

        // A key made through A works through B; revoked through A, B refuses it as soon as the
        // change feed brings the news.
        let (key_id, key) = create_key(&a, &slug, "Shared", &["runs:read"], "live", "30d").await;
        assert_eq!(whoami(&b, &key).await.0, 200);
        assert_eq!(a.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &key_id)]).await.status(), 200);
        assert!(eventually(FEED_BOUND, || async { whoami(&b, &key).await.0 == 410 }).await.is_some());
        let (status, body) = whoami(&b, &key).await;
        assert_eq!((status, body["code"].as_str()), (410, Some("KEY_REVOKED")), "{body}");

        // A connector approved through A works through B; removed through A, B refuses its token.
        let (_, tokens) = crate::oauth::connect(&a, &slug, "agents:read").await;
        let token = tokens["access_token"].as_str().expect("token").to_owned();
        assert_eq!(whoami(&b, &token).await.0, 200);
        let list: Value = a.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
        let connector = list["connectors"][0]["id"].as_str().expect("connector id").to_owned();
        let removed = a.call("/api/connectors/remove", &[("slug", &slug), ("connector_id", &connector)]).await;
        assert_eq!(removed.status(), 200);
        assert!(eventually(FEED_BOUND, || async { whoami(&b, &token).await.0 == 401 }).await.is_some());

        // A key allowed three calls a minute gets three in all, whichever process answers.
        let (busy_id, busy) = create_key(&a, &slug, "Busy", &["runs:read"], "live", "30d").await;
        let form = [("slug", slug.as_str()), ("key_id", &busy_id), ("name", "Busy"), ("scopes[]", "runs:read")];
        let edited = a.call("/api/keys/update", &[&form[..], &[("rate_limit", "3")]].concat()).await;
        assert_eq!(edited.status(), 200);
        assert_eq!(whoami(&a, &busy).await.0, 200);
        assert_eq!(whoami(&b, &busy).await.0, 200);
        assert_eq!(whoami(&a, &busy).await.0, 200);
        let (status, body) = whoami(&b, &busy).await;
        assert_eq!((status, body["code"].as_str()), (429, Some("RATE_LIMITED")), "{body}");

        // Twenty device-flow starts a minute per client, across both processes.
        let device = crate::oauth::device_client(&a).await;
        for n in 0..20 {
            let app = if n % 2 == 0 { &a } else { &b };
            crate::oauth::device_start(app, &device, "agents:read").await;
        }
        let res = b.client.post(b.url("/oauth/device_authorization")).form(&[("client_id", device.as_str())]);
        let res = res.send().await.expect("POST");
        assert_eq!(res.status(), 429);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "slow_down");

        // Three client registrations a minute per address across both processes; connecting and
        // the device client above made two.
        assert_eq!(register(&b).await, 201);
        assert_eq!(register(&a).await, 429);
        assert_eq!(register(&b).await, 429);
    })
    .await;
}
