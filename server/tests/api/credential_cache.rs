//! The credential cache: a credential verified once is answered from memory, and every change
//! that ends or narrows it is refused on the very next request of the process that made it, and
//! within the change feed's delay by another process; a lost feed drops the cache.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    both_engines,
    gateway::{add_server, rpc},
    helpers::{
        Engine, FEED_BOUND, TestApp, eventually, mcp_call, spawn_app, spawn_app_with, spawn_instance_of, unique_email,
    },
    keys::create_key,
    oauth::connect,
};

both_engines!(every_change_is_refused_on_the_next_request_in_the_same_process, the_clock_ends_a_cached_key);

/// A tool call: the HTTP status and the `structuredContent` (or the error body).
async fn tool(app: &TestApp, bearer: &str, name: &str) -> (u16, Value) {
    let (status, _, body) = mcp_call(app, bearer, "tools/call", json!({"name": name, "arguments": {}})).await;
    (status, if status == 200 { body["result"]["structuredContent"].clone() } else { body })
}

/// Calls `whoami` and checks that the call left the credential in the cache (or found it there).
async fn cached_call(app: &TestApp, bearer: &str) -> Value {
    let before = app.cached_credentials();
    let (status, who) = tool(app, bearer, "whoami").await;
    assert_eq!(status, 200, "{who}");
    let (again, _) = tool(app, bearer, "whoami").await;
    assert_eq!(again, 200);
    assert!(app.cached_credentials() >= before.max(1), "the credential is held in the cache");
    who
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

async fn every_change_is_refused_on_the_next_request_in_the_same_process(engine: Engine) {
    let app = spawn_app(engine).await;
    app.feed_up().await;
    let slug = app.sign_up(&unique_email("cache")).await;

    // Revoked.
    let (id, key) = create_key(&app, &slug, "revoked", &["agents:read"], "live", "30d").await;
    let before = app.cached_credentials();
    cached_call(&app, &key).await;
    assert_eq!(app.cached_credentials(), before + 1, "one more credential held");
    assert_eq!(app.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &id)]).await.status(), 200);
    let (status, body) = tool(&app, &key, "whoami").await;
    assert_eq!((status, code(&body)), (410, "KEY_REVOKED"), "{body}");

    // Rolled without grace.
    let (id, key) = create_key(&app, &slug, "rolled", &["agents:read"], "live", "30d").await;
    cached_call(&app, &key).await;
    let res = app.call("/api/keys/roll", &[("slug", &slug), ("key_id", &id), ("grace", "none")]).await;
    assert_eq!(res.status(), 200);
    let (status, body) = tool(&app, &key, "whoami").await;
    assert_eq!((status, code(&body)), (410, "KEY_REVOKED"), "{body}");

    // Scopes narrowed: the tool the removed scope allowed is refused.
    let (id, key) = create_key(&app, &slug, "narrowed", &["agents:read", "runs:read"], "live", "30d").await;
    cached_call(&app, &key).await;
    assert_eq!(tool(&app, &key, "list_agents").await.1["code"], Value::Null, "allowed before the edit");
    let form = [("slug", slug.as_str()), ("key_id", &id), ("name", "narrowed"), ("scopes[]", "runs:read")];
    assert_eq!(app.call("/api/keys/update", &form).await.status(), 200);
    let (status, body) = tool(&app, &key, "list_agents").await;
    assert_eq!((status, code(&body)), (200, "SCOPE_MISSING"), "{body}");

    // Servers narrowed: the upstream server it reached is refused.
    add_server(&app, &slug, "crm", "http://127.0.0.1:9/mcp", gatehouse_core::keys::Environment::Live, "").await;
    let (id, key) = create_key(&app, &slug, "servers", &["agents:read"], "live", "30d").await;
    let with = [
        ("slug", slug.as_str()),
        ("key_id", &id),
        ("name", "servers"),
        ("scopes[]", "agents:read"),
        ("servers_shown", "1"),
        ("servers[]", "crm"),
    ];
    assert_eq!(app.call("/api/keys/update", &with).await.status(), 200);
    cached_call(&app, &key).await;
    let (_, body) = rpc(&app, "/mcp/crm", &key, "tools/list", json!({})).await;
    assert_ne!(body["error"]["data"]["code"], "FORBIDDEN", "reached before the edit: {body}");
    assert_eq!(app.call("/api/keys/update", &with[..5]).await.status(), 200);
    let (status, body) = rpc(&app, "/mcp/crm", &key, "tools/list", json!({})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")), "{body}");

    // The workspace's default rate limit lowered to one a minute.
    let (_, key) = create_key(&app, &slug, "limited", &["agents:read"], "live", "30d").await;
    cached_call(&app, &key).await;
    let policy = [("slug", slug.as_str()), ("max_lifetime_days", ""), ("rate_limit", "1")];
    assert_eq!(app.call("/api/keys/policy", &policy).await.status(), 200);
    let first = tool(&app, &key, "whoami").await.0;
    let (status, body) = tool(&app, &key, "whoami").await;
    assert!(first == 429 || (status, code(&body)) == (429, "RATE_LIMITED"), "{first} {status} {body}");
    let policy = [("slug", slug.as_str()), ("max_lifetime_days", ""), ("rate_limit", "600")];
    assert_eq!(app.call("/api/keys/policy", &policy).await.status(), 200);

    // A connector removed.
    let (_, tokens) = connect(&app, &slug, "agents:read").await;
    let access = tokens["access_token"].as_str().expect("token").to_owned();
    cached_call(&app, &access).await;
    let list: Value = app.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    let connector = list["connectors"][0]["id"].as_str().expect("connector").to_owned();
    let res = app.call("/api/connectors/remove", &[("slug", &slug), ("connector_id", &connector)]).await;
    assert_eq!(res.status(), 200);
    let (status, body) = tool(&app, &access, "whoami").await;
    assert_eq!((status, code(&body)), (401, "UNAUTHORIZED"), "{body}");

    // A connector moved: the next call acts in the other workspace.
    let second = crate::helpers::slug_of(&app.call("/api/workspaces/create", &[("name", "Second")]).await);
    let (_, tokens) = connect(&app, &slug, "agents:read").await;
    let access = tokens["access_token"].as_str().expect("token").to_owned();
    assert_eq!(cached_call(&app, &access).await["workspace"]["slug"], slug.as_str());
    let list: Value = app.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    let connector = list["connectors"][0]["id"].as_str().expect("connector").to_owned();
    let rebind = [("slug", slug.as_str()), ("connector_id", &connector), ("to", &second)];
    assert_eq!(app.call("/api/connectors/rebind", &rebind).await.status(), 200);
    let (status, who) = tool(&app, &access, "whoami").await;
    assert_eq!((status, who["workspace"]["slug"].as_str()), (200, Some(second.as_str())), "{who}");

    // A member removed: the connector they approved stops.
    let member = app.other_client();
    let member_email = unique_email("member");
    member.sign_up(&member_email).await;
    let add = [("slug", slug.as_str()), ("email", &member_email), ("role", "admin")];
    assert_eq!(app.call("/api/workspaces/members/add", &add).await.status(), 200);
    let (_, tokens) = connect(&member, &slug, "agents:read").await;
    let access = tokens["access_token"].as_str().expect("token").to_owned();
    cached_call(&app, &access).await;
    let members: Value = app.call("/api/workspaces/members", &[("slug", &slug)]).await.json().await.expect("json");
    let user_id = members
        .as_array()
        .and_then(|m| m.iter().find(|m| m["email"] == member_email.as_str()))
        .and_then(|m| m["user_id"].as_str())
        .expect("the member")
        .to_owned();
    let res = app.call("/api/workspaces/members/remove", &[("slug", &slug), ("user_id", &user_id)]).await;
    assert_eq!(res.status(), 200);
    let (status, body) = tool(&app, &access, "whoami").await;
    assert_eq!((status, code(&body)), (401, "UNAUTHORIZED"), "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("no longer a member"), "{body}");
}

/// Expiry is the clock's, checked on every call: a cached key stops at its expiry with no change
/// made, and answers from the cache until then.
async fn the_clock_ends_a_cached_key(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("clock")).await;
    let (id, key) = create_key(&app, &slug, "short", &["agents:read"], "live", "30d").await;
    let ends = gatehouse_core::clock::now_ms() + 2_000;
    sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE id = $2")
        .bind(ends)
        .bind(&id)
        .execute(app.db.pool())
        .await
        .expect("a short life");
    // Let the feed carry that write before the key is first used, so nothing later changes it.
    app.feed_up().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    cached_call(&app, &key).await;
    let held = app.cached_credentials();
    while gatehouse_core::clock::now_ms() <= ends {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = tool(&app, &key, "whoami").await;
    assert_eq!((status, code(&body)), (401, "KEY_EXPIRED"), "{body}");
    assert_eq!(app.cached_credentials(), held, "the cached entry answered: nothing was read again");
}

/// Two processes on one PostgreSQL database: what one changes, the other refuses within the
/// feed's bound, for every kind of change; the delays are printed (the benchmark reports them
/// under load, docs/benchmarks.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_refuses_within_the_feed_delay() {
    crate::helpers::within_limit(async {
        let a = spawn_app(Engine::Postgres).await;
        let public_url = a.base.clone();
        let b = spawn_instance_of(&a, |c| c.public_url = public_url).await;
        a.feed_up().await;
        b.feed_up().await;
        let slug = a.sign_up(&unique_email("two")).await;
        let mut delays = Vec::new();

        let refused_by_b = |bearer: String, expect: u16| {
            let b = &b;
            async move {
                eventually(FEED_BOUND, || {
                    let bearer = bearer.clone();
                    async move { tool(b, &bearer, "whoami").await.0 == expect }
                })
                .await
            }
        };

        // Revoked.
        let (id, key) = create_key(&a, &slug, "revoked", &["agents:read"], "live", "30d").await;
        cached_call(&b, &key).await;
        assert_eq!(a.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &id)]).await.status(), 200);
        delays.push(("revoke", refused_by_b(key.clone(), 410).await.expect("B refuses the revoked key")));

        // Rolled.
        let (id, key) = create_key(&a, &slug, "rolled", &["agents:read"], "live", "30d").await;
        cached_call(&b, &key).await;
        let res = a.call("/api/keys/roll", &[("slug", &slug), ("key_id", &id), ("grace", "none")]).await;
        assert_eq!(res.status(), 200);
        delays.push(("roll", refused_by_b(key.clone(), 410).await.expect("B refuses the rolled key")));

        // Scopes narrowed.
        let (id, key) = create_key(&a, &slug, "narrowed", &["agents:read", "runs:read"], "live", "30d").await;
        cached_call(&b, &key).await;
        let form = [("slug", slug.as_str()), ("key_id", &id), ("name", "narrowed"), ("scopes[]", "runs:read")];
        assert_eq!(a.call("/api/keys/update", &form).await.status(), 200);
        let narrowed =
            eventually(FEED_BOUND, || async { code(&tool(&b, &key, "list_agents").await.1) == "SCOPE_MISSING" });
        delays.push(("scope edit", narrowed.await.expect("B refuses the removed scope")));

        // A connector removed.
        let (_, tokens) = connect(&a, &slug, "agents:read").await;
        let access = tokens["access_token"].as_str().expect("token").to_owned();
        cached_call(&b, &access).await;
        let list: Value = a.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
        let connector = list["connectors"][0]["id"].as_str().expect("connector").to_owned();
        let res = a.call("/api/connectors/remove", &[("slug", &slug), ("connector_id", &connector)]).await;
        assert_eq!(res.status(), 200);
        delays.push(("connector removal", refused_by_b(access, 401).await.expect("B refuses the removed connector")));

        // A member removed.
        let member = a.other_client();
        let member_email = unique_email("member");
        member.sign_up(&member_email).await;
        let add = [("slug", slug.as_str()), ("email", &member_email), ("role", "admin")];
        assert_eq!(a.call("/api/workspaces/members/add", &add).await.status(), 200);
        let (_, tokens) = connect(&member, &slug, "agents:read").await;
        let access = tokens["access_token"].as_str().expect("token").to_owned();
        cached_call(&b, &access).await;
        let members: Value = a.call("/api/workspaces/members", &[("slug", &slug)]).await.json().await.expect("json");
        let user_id = members
            .as_array()
            .and_then(|m| m.iter().find(|m| m["email"] == member_email.as_str()))
            .and_then(|m| m["user_id"].as_str())
            .expect("the member")
            .to_owned();
        let res = a.call("/api/workspaces/members/remove", &[("slug", &slug), ("user_id", &user_id)]).await;
        assert_eq!(res.status(), 200);
        delays.push(("member removal", refused_by_b(access, 401).await.expect("B refuses the ex-member's connector")));

        println!("delays from the change's answer (A) to the first refusal (B): {delays:?}");
    })
    .await;
}

/// A lost notification connection drops the cache: a revocation whose message never arrives
/// (written with triggers off, as if the message were lost) is honoured from the cache until the
/// listening connection is cut, and refused right after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_feed_connection_drops_the_cache() {
    crate::helpers::within_limit(async {
        let app = spawn_app_with(Engine::Postgres, |_| {}).await;
        app.feed_up().await;
        let slug = app.sign_up(&unique_email("lost")).await;
        let (id, key) = create_key(&app, &slug, "lost", &["agents:read"], "live", "30d").await;
        cached_call(&app, &key).await;

        // The message is lost: the revocation is written with the triggers switched off.
        let mut tx = app.db.pool().begin().await.expect("tx");
        sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.expect("no triggers");
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
            .bind(gatehouse_core::clock::now_ms())
            .bind(&id)
            .execute(&mut *tx)
            .await
            .expect("revoke quietly");
        tx.commit().await.expect("commit");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(tool(&app, &key, "whoami").await.0, 200, "no message came: the cache still answers");

        // Cut the listening connection.
        let cut: i64 = sqlx::query_scalar(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = $1 AND datname = current_database()",
        )
        .bind(gatehouse_core::changes::feed::LISTENER_NAME)
        .fetch_one(app.db.pool())
        .await
        .expect("terminate the listener");
        assert_eq!(cut, 1, "one listening connection");
        let started = Instant::now();
        let refused = eventually(FEED_BOUND, || async { tool(&app, &key, "whoami").await.0 == 410 }).await;
        assert!(refused.is_some(), "the cache was dropped with the connection");
        println!("refused {:?} after the connection was cut", started.elapsed());
        // The feed comes back by itself.
        app.feed_up().await;
    })
    .await;
}

/// `gatehouse …` against a database; the last line of its output.
fn cli(database_url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("GATEHOUSE_PASSWORD", crate::helpers::PASSWORD)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run gatehouse");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_owned()
}

/// Every place `needle` stands in the process's writable memory (`/proc/<pid>/mem`), each with
/// the 64 bytes before it.
fn occurrences(pid: u32, needle: &[u8]) -> Vec<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).expect("mem");
    let mut found = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        if !perms.starts_with("rw") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16)) else { continue };
        let Ok(len) = usize::try_from(end - start) else { continue };
        let mut region = vec![0u8; len];
        if mem.seek(SeekFrom::Start(start)).is_err() || mem.read_exact(&mut region).is_err() {
            continue;
        }
        for (at, window) in region.windows(needle.len()).enumerate() {
            if window == needle {
                found.push(region[at.saturating_sub(64)..at].to_vec());
            }
        }
    }
    found
}

/// After a key has been verified (and cached) by a real `gatehouse` process, the only copies of
/// it in the process's memory are the request bytes as they came off the socket (the HTTP
/// server's read buffer of the connection, `authorization: Bearer pk_…`): the cache, the verifier
/// and everything else of Gatehouse's hold none. Its non-secret id, which the cache holds, shows
/// the scan reads the heap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_holds_no_secret() {
    crate::helpers::within_limit(async {
        let (url, _dir) = crate::helpers::fresh_database(Engine::Sqlite).await;
        let server = crate::process::Process::start(Engine::Sqlite, &url, &[]).await;
        // The keys are made by the CLI, another process: the server never handles them but as
        // the callers' credentials.
        let email = unique_email("memory");
        cli(&url, &["user", "create", "--email", &email]);
        let slug = cli(&url, &["workspace", "create", "--name", "Memory", "--owner", &email]);
        let create =
            |name: &str| cli(&url, &["key", "create", "--workspace", &slug, "--name", name, "--scopes", "agents:read"]);
        let (key, other) = (create("watched"), create("other"));
        assert!(key.starts_with("pk_live_") && other.starts_with("pk_live_"));
        let app = &server.app;
        app.feed_up().await;
        for _ in 0..20 {
            assert_eq!(tool(app, &key, "whoami").await.0, 200);
        }
        // The same connection goes on with another key, as a client's next requests would.
        for _ in 0..20 {
            assert_eq!(tool(app, &other, "whoami").await.0, 200);
        }
        let pid = server.pid();
        let lookup_id = &key[8..20];
        let secret = &key[20..63];
        assert!(!occurrences(pid, lookup_id.as_bytes()).is_empty(), "the scan sees the cached key's id");
        let header = format!("authorization: Bearer {}", &key[..20]);
        for before in occurrences(pid, secret.as_bytes()) {
            assert!(
                before.ends_with(header.as_bytes()),
                "a copy of the key's secret outside the request bytes: …{:?}",
                String::from_utf8_lossy(&before)
            );
        }
    })
    .await;
}
