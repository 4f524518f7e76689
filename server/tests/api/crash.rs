//! Crash safety: `kill -9` during a stream of key creations and connector approvals. After a
//! restart every key and access token whose creation was answered works, and nothing half-written
//! exists: each key has its audit entry, each token its grant, each grant its client and approval.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};

use crate::{
    both_engines,
    helpers::{Engine, TestApp, fresh_database, mcp_call, unique_email},
    process::Process,
};

both_engines!(a_kill_during_writes_loses_nothing_that_was_answered);

/// One key creation; the secret if the server answered it.
async fn create_key(app: Arc<TestApp>, slug: String, n: usize) -> Option<String> {
    let name = format!("Stream {n}");
    let form = [("slug", slug.as_str()), ("name", &name), ("environment", "live"), ("expiry", "30d")];
    let res = app.client.post(app.url("/api/keys/create")).form(&[&form[..], &[("scopes[]", "runs:read")]].concat());
    let res = res.send().await.ok()?;
    if res.status() != 200 {
        return None;
    }
    let body: Value = res.json().await.ok()?;
    body["secret"].as_str().map(str::to_owned)
}

async fn works(app: &TestApp, bearer: &str) -> bool {
    mcp_call(app, bearer, "tools/call", json!({"name": "whoami", "arguments": {}})).await.0 == 200
}

async fn a_kill_during_writes_loses_nothing_that_was_answered(engine: Engine) {
    let (url, _dir) = fresh_database(engine).await;
    let mut first = Process::start(engine, &url, &[]).await;
    let slug = first.app.sign_up(&unique_email("crash")).await;
    // The same signed-in session for every stream.
    let app = Arc::new(first.app.same_session());
    let keys: Arc<Mutex<Vec<String>>> = Arc::default();
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();

    let mut streams = tokio::task::JoinSet::new();
    for stream in 0..4 {
        let (app, slug, keys) = (app.clone(), slug.clone(), keys.clone());
        streams.spawn(async move {
            for n in 0.. {
                match create_key(app.clone(), slug.clone(), stream * 100_000 + n).await {
                    Some(secret) => keys.lock().expect("lock").push(secret),
                    None => break,
                }
            }
        });
    }
    for _ in 0..2 {
        let (app, slug, tokens) = (app.clone(), slug.clone(), tokens.clone());
        streams.spawn(async move {
            loop {
                // The flow's helper fails loudly when the server vanishes mid-way; that ends the stream.
                let (app, slug) = (app.clone(), slug.clone());
                let flow = tokio::spawn(async move { crate::oauth::connect(&app, &slug, "agents:read").await });
                match flow.await {
                    Ok((_, answer)) => {
                        tokens.lock().expect("lock").push(answer["access_token"].as_str().unwrap_or("").to_owned())
                    }
                    Err(_) => break,
                }
            }
        });
    }
    // Kill once the streams are well under way.
    for _ in 0..600 {
        if keys.lock().expect("lock").len() >= 40 && tokens.lock().expect("lock").len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill_hard();
    while streams.join_next().await.is_some() {}
    let keys = keys.lock().expect("lock").clone();
    let tokens = tokens.lock().expect("lock").clone();
    assert!(keys.len() >= 40 && tokens.len() >= 4, "{} keys and {} tokens before the kill", keys.len(), tokens.len());

    let second = Process::start_on(first.port(), engine, &url, &[]).await;
    for key in &keys {
        assert!(works(&second.app, key).await, "an answered key does not work after the restart");
    }
    for token in &tokens {
        assert!(works(&second.app, token).await, "an answered access token does not work after the restart");
    }
    let orphans = [
        // A key without its key.created entry (they are one transaction).
        "SELECT COUNT(*) FROM api_keys k WHERE NOT EXISTS
           (SELECT 1 FROM audit_events e WHERE e.target_id = k.id AND e.action = 'key.created')",
        "SELECT COUNT(*) FROM oauth_tokens t WHERE NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.id = t.grant_id)",
        "SELECT COUNT(*) FROM oauth_grants g WHERE NOT EXISTS (SELECT 1 FROM oauth_clients c WHERE c.id = g.client_id)",
        "SELECT COUNT(*) FROM oauth_grants g WHERE NOT EXISTS
           (SELECT 1 FROM audit_events e WHERE e.target_id = g.id AND e.action = 'connector.approved')",
        "SELECT COUNT(*) FROM oauth_grants g WHERE NOT EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = g.id)",
    ];
    for sql in orphans {
        assert_eq!(second.app.count(sql).await, 0, "half-written rows: {sql}");
    }
    assert!(second.app.count("SELECT COUNT(*) FROM api_keys").await >= keys.len() as i64);
    if engine == Engine::Sqlite {
        use sqlx::Row;
        let check: String = sqlx::query("PRAGMA integrity_check")
            .fetch_one(second.app.db.pool())
            .await
            .expect("integrity check")
            .try_get(0)
            .expect("text");
        assert_eq!(check, "ok");
    }
}
