//! `spawn_app`: a running server with a fresh database, and a cookie-keeping HTTP client for it.

use gatehouse::{Config, build_server};
use reqwest::{Client, Response, redirect::Policy};
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per engine: `both_engines!(name);` makes `name::sqlite` and
/// `name::postgres` from `async fn name(engine: Engine)`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { $crate::helpers::within_limit(super::$name($crate::helpers::Engine::Sqlite)).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { $crate::helpers::within_limit(super::$name($crate::helpers::Engine::Postgres)).await }
        }
    )*};
}

/// Runs a test body, failing it (rather than hanging the whole run) after three minutes.
pub async fn within_limit(body: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(std::time::Duration::from_secs(180), body).await.is_err() {
        panic!("the test did not finish within three minutes");
    }
}

pub struct TestApp {
    pub base: String,
    /// The database this server uses, for running the CLI against it.
    pub database_url: String,
    pub client: Client,
    pub db: gatehouse_core::Db,
    pub engine: Engine,
    /// The server's verifier (in-process servers only), to see what its credential cache holds.
    pub verifier: Option<gatehouse_core::keys::KeyVerifier>,
    stop: Option<oneshot::Sender<()>>,
    running: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The server for PostgreSQL tests; `GATEHOUSE_TEST_POSTGRES_URL` overrides it. An unreachable
/// server fails the test: it is never skipped.
fn postgres_admin_url() -> String {
    std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, |_| {}).await
}

pub async fn spawn_app_with(engine: Engine, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let (url, dir) = fresh_database(engine).await;
    start_on(engine, url, dir, adjust).await
}

/// A new, empty database: an SQLite file in a temporary folder (kept while the folder lives) or a
/// new PostgreSQL database.
pub async fn fresh_database(engine: Engine) -> (String, Option<tempfile::TempDir>) {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (format!("sqlite://{}/gatehouse.db", dir.path().display()), Some(dir))
        }
        Engine::Postgres => {
            let admin = postgres_admin_url();
            let name = format!("gatehouse_test_{}", gatehouse_core::ids::random_base62(12).to_lowercase());
            let mut conn = PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required for these tests: {e}"));
            conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).expect("database url with a path");
            (format!("{base}/{name}"), None)
        }
    }
}

/// Another Gatehouse process on `other`'s database: it shares nothing with `other` but the
/// database (and whatever `adjust` configures, such as a Redis).
pub async fn spawn_instance_of(other: &TestApp, adjust: impl FnOnce(&mut Config)) -> TestApp {
    start_on(other.engine, other.database_url.clone(), None, adjust).await
}

async fn start_on(
    engine: Engine,
    url: String,
    dir: Option<tempfile::TempDir>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let database_url = url.clone();
    let mut config = Config::for_tests(&url);
    adjust(&mut config);
    let server = build_server(config).await.expect("server starts");
    let base = format!("http://{}", server.local_addr());
    let db = server.db().clone();
    let verifier = Some(server.keys().clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(server.run_with_shutdown(async {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        database_url,
        client: new_client(),
        db,
        engine,
        verifier,
        stop: Some(stop),
        running: Some(running),
        _dir: dir,
    }
}

/// A client that keeps cookies and does not follow redirects (tests look at them). A request
/// that gets no answer fails its test after a minute instead of hanging the run.
pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client")
}

impl TestApp {
    /// Stops the server gracefully and waits until it has finished; returns a fresh connection
    /// to its database.
    pub async fn shut_down(&mut self) -> gatehouse_core::Db {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(running) = self.running.take() {
            running.await.expect("server task").expect("clean shutdown");
        }
        gatehouse_core::Db::connect(&self.database_url).await.expect("reopen the database")
    }

    /// A server started elsewhere (another process) on `database_url`, with a fresh client.
    pub async fn running_at(base: String, engine: Engine, database_url: &str) -> TestApp {
        TestApp {
            base,
            database_url: database_url.to_owned(),
            client: new_client(),
            db: gatehouse_core::Db::connect(database_url).await.expect("open the database"),
            engine,
            verifier: None,
            stop: None,
            running: None,
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Calls a server function the way the dashboard's JavaScript does.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Response {
        call_with(&self.client, &self.url(endpoint), form).await
    }

    /// Signs up a new account in this app's client; returns the personal workspace's slug.
    pub async fn sign_up(&self, email: &str) -> String {
        let res = self.call("/api/auth/sign_up", &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(res.status(), 200, "sign-up of {email} failed: {}", res.text().await.unwrap_or_default());
        slug_of(&res)
    }

    /// Another handle on the same server and the same signed-in session (one cookie jar).
    pub fn same_session(&self) -> TestApp {
        TestApp {
            base: self.base.clone(),
            database_url: self.database_url.clone(),
            client: self.client.clone(),
            db: self.db.clone(),
            engine: self.engine,
            verifier: self.verifier.clone(),
            stop: None,
            running: None,
            _dir: None,
        }
    }

    /// A second, independent browser session against the same server.
    pub fn other_client(&self) -> TestApp {
        TestApp {
            base: self.base.clone(),
            database_url: self.database_url.clone(),
            client: new_client(),
            db: self.db.clone(),
            engine: self.engine,
            verifier: self.verifier.clone(),
            stop: None,
            running: None,
            _dir: None,
        }
    }

    /// How many credentials the (in-process) server holds verified in its cache.
    pub fn cached_credentials(&self) -> usize {
        self.verifier.as_ref().map_or(0, gatehouse_core::keys::KeyVerifier::cached_credentials)
    }

    /// Waits until the server's change feed is connected (its caches are in use), as `/readyz`
    /// reports it.
    pub async fn feed_up(&self) {
        let up = eventually(FEED_BOUND, || async {
            let Ok(res) = self.client.get(self.url("/readyz")).send().await else { return false };
            res.json::<serde_json::Value>().await.is_ok_and(|v| v["change_feed"] == "connected")
        });
        assert!(up.await.is_some(), "the change feed did not connect");
    }

    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql).fetch_one(self.db.pool()).await.expect("count query").try_get::<i64, _>(0).expect("count")
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

/// How long a change made outside a serving process (another process, the CLI, SQL written by a
/// test) may take to reach it through the change feed, in these tests: a bound far above what
/// is measured (docs/benchmarks.md), so that a loaded machine does not fail them.
pub const FEED_BOUND: std::time::Duration = std::time::Duration::from_secs(3);

/// Asks `check` again and again until it holds or `within` has passed; how long it took, or
/// `None` if it never held. For what arrives through the change feed, not for anything the
/// serving process does itself (that must hold on the very next request).
pub async fn eventually<F, Fut>(within: std::time::Duration, mut check: F) -> Option<std::time::Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    loop {
        if check().await {
            return Some(start.elapsed());
        }
        if start.elapsed() > within {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

pub async fn call_with(client: &Client, url: &str, form: &[(&str, &str)]) -> Response {
    client.post(url).form(form).send().await.expect("POST")
}

/// The `gatehouse_session=…` pair an answer sets, ready for a `Cookie` header.
pub fn session_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gatehouse_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// The workspace slug of a `Location: /w/<slug>` redirect.
pub fn slug_of(res: &Response) -> String {
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
    location
        .strip_prefix("/w/")
        .unwrap_or_else(|| panic!("expected a redirect to a workspace, got {location:?}"))
        .to_owned()
}

/// The server function's JSON error body.
pub async fn error_json(res: Response) -> serde_json::Value {
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

pub fn unique_email(name: &str) -> String {
    format!("{name}.{}@example.com", gatehouse_core::ids::random_base62(8).to_lowercase())
}

/// One JSON-RPC call to `/mcp` with a bearer (key or access token): status, headers, body.
pub async fn mcp_call(
    app: &TestApp,
    bearer: &str,
    method: &str,
    params: serde_json::Value,
) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let res = app
        .client
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .bearer_auth(bearer)
        .body(body.to_string())
        .send()
        .await
        .expect("POST /mcp");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(serde_json::Value::Null))
}
