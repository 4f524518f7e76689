//! The mixed load, against the real binary: MCP calls with keys and an OAuth access token, keys
//! created and revoked, dashboard pages, all at once for GATEHOUSE_SOAK_SECONDS (20 by default;
//! docs/benchmarks.md records a 600-second run). No answer is a 5xx, resident memory stays flat,
//! and the usage counted equals the MCP calls served.
//! Beside it, checks that the binary keeps to small memory pages and to one C allocator arena
//! (`server/src/memory.rs`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    helpers::{Engine, TestApp, fresh_database, mcp_call, unique_email},
    process::Process,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_sqlite() {
    mixed_load(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_postgres() {
    mixed_load(Engine::Postgres).await;
}

/// The server keeps to small memory pages (`server/src/memory.rs`): Linux reports
/// `THP_enabled: 0` for it, where a process otherwise has 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_to_small_pages() {
    let (url, _dir) = fresh_database(Engine::Sqlite).await;
    let mut server = Process::start(Engine::Sqlite, &url, &[]).await;
    let thp = server.status_field("THP_enabled");
    server.stop();
    assert_eq!(thp.as_deref(), Some("0"), "transparent huge pages are off for the server");
}

/// The server's C allocations (SQLite's) share glibc's main arena (`server/src/memory.rs`): no
/// per-thread arena exists once SQLite's connections, each on its own thread, are open. Such an
/// arena is a 64 MiB-aligned anonymous region of 64 MiB, writable at its start and reserved after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_c_allocations_in_one_arena() {
    let (url, _dir) = fresh_database(Engine::Sqlite).await;
    let mut server = Process::start(Engine::Sqlite, &url, &[]).await;
    let email = unique_email("arena");
    server.app.sign_up(&email).await;
    let maps = server.maps();
    server.stop();
    assert!(!maps.is_empty(), "the server's memory map was readable");
    let arenas = thread_arenas(&maps);
    assert!(arenas.is_empty(), "the server has per-thread C arenas at {arenas:?}");
}

/// The start addresses of the glibc per-thread arenas ("heaps") in a `/proc/<pid>/maps` text.
fn thread_arenas(maps: &str) -> Vec<String> {
    const HEAP: u64 = 64 << 20;
    let regions: Vec<(u64, u64, &str, bool)> = maps
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            let perms = fields.next()?;
            let anonymous = fields.nth(3).is_none();
            Some((u64::from_str_radix(start, 16).ok()?, u64::from_str_radix(end, 16).ok()?, perms, anonymous))
        })
        .collect();
    regions
        .iter()
        .enumerate()
        .filter(|(i, (start, end, perms, anonymous))| {
            *anonymous
                && perms.starts_with("rw")
                && start % HEAP == 0
                && (end - start == HEAP
                    || regions.get(i + 1).is_some_and(|(next_start, next_end, next_perms, next_anonymous)| {
                        next_start == end && *next_perms == "---p" && *next_anonymous && next_end - start == HEAP
                    }))
        })
        .map(|(_, (start, ..))| format!("{start:x}"))
        .collect()
}

#[derive(Default)]
struct Tally {
    /// MCP tool calls answered 200: each must be counted once in usage.
    served: AtomicU64,
    pages: AtomicU64,
    churned: AtomicU64,
    /// Answers of 500 or more, anywhere.
    server_errors: AtomicU64,
}

impl Tally {
    fn status(&self, status: u16) {
        if status >= 500 {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn seconds() -> u64 {
    std::env::var("GATEHOUSE_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20)
}

async fn mcp(app: &TestApp, tally: &Tally, bearer: &str, tool: &str, arguments: Value) -> u16 {
    let (status, _, _) = mcp_call(app, bearer, "tools/call", json!({"name": tool, "arguments": arguments})).await;
    tally.status(status);
    if status == 200 {
        tally.served.fetch_add(1, Ordering::Relaxed);
    }
    status
}

async fn create_key(app: &TestApp, tally: &Tally, slug: &str, name: &str) -> (String, String) {
    let form =
        [("slug", slug), ("name", name), ("environment", "live"), ("expiry", "30d"), ("scopes[]", "agents:read")];
    let res = app.call("/api/keys/create", &form).await;
    tally.status(res.status().as_u16());
    assert_eq!(res.status(), 200, "key creation");
    let body: Value = res.json().await.expect("json");
    (body["id"].as_str().expect("id").to_owned(), body["secret"].as_str().expect("secret").to_owned())
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

async fn mixed_load(engine: Engine) {
    let seconds = seconds();
    let run = async {
        let (url, _dir) = fresh_database(engine).await;
        let mut server = Process::start(engine, &url, &[]).await;
        let app = Arc::new(server.app.same_session());
        let slug = app.sign_up(&unique_email("soak")).await;
        // The load is the point, not the rate limiter: the highest workspace limit.
        let policy = [("slug", slug.as_str()), ("max_lifetime_days", ""), ("rate_limit", "100000")];
        assert_eq!(app.call("/api/keys/policy", &policy).await.status(), 200);
        let tally = Arc::new(Tally::default());
        let mut bearers = Vec::new();
        for n in 0..2 {
            bearers.push(create_key(&app, &tally, &slug, &format!("Load {n}")).await.1);
        }
        let (_, tokens) = crate::oauth::connect(&app, &slug, "agents:read agents:write").await;
        bearers.push(tokens["access_token"].as_str().expect("access token").to_owned());
        mcp(&app, &tally, &bearers[0], "whoami", json!({})).await;

        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = tokio::task::JoinSet::new();
        for worker in 0..6 {
            let (app, tally, stop) = (app.clone(), tally.clone(), stop.clone());
            let bearer = bearers[worker % bearers.len()].clone();
            workers.spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    match n % 10 {
                        0 if bearer.starts_with("gat_") => {
                            mcp(&app, &tally, &bearer, "create_agent", json!({"name": format!("Soak {n}")})).await
                        }
                        1 | 4 | 7 => mcp(&app, &tally, &bearer, "list_agents", json!({"limit": 5})).await,
                        2 => mcp(&app, &tally, &bearer, "get_agent", json!({"agent_id": "agt_missing"})).await,
                        _ => mcp(&app, &tally, &bearer, "whoami", json!({})).await,
                    };
                }
            });
        }
        {
            // Keys made, used once, revoked, and refused from then on.
            let (app, tally, stop, slug) = (app.clone(), tally.clone(), stop.clone(), slug.clone());
            workers.spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let (id, secret) = create_key(&app, &tally, &slug, &format!("Churn {n}")).await;
                    assert_eq!(mcp(&app, &tally, &secret, "whoami", json!({})).await, 200);
                    let revoked = app.call("/api/keys/revoke", &[("slug", &slug), ("key_id", &id)]).await;
                    tally.status(revoked.status().as_u16());
                    assert_eq!(revoked.status(), 200);
                    let (status, _, _) = mcp_call(&app, &secret, "tools/call", json!({"name": "whoami"})).await;
                    assert_eq!(status, 410, "a revoked key is refused on its next call");
                    tally.churned.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            });
        }
        {
            let (app, tally, stop, slug) = (app.clone(), tally.clone(), stop.clone(), slug.clone());
            workers.spawn(async move {
                let pages = ["", "/keys", "/usage", "/connectors", "/audit", "/webhooks"];
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let res = app.get(&format!("/w/{slug}{}", pages[n % pages.len()])).await;
                    tally.status(res.status().as_u16());
                    assert_eq!(res.status(), 200, "page {}", pages[n % pages.len()]);
                    tally.pages.fetch_add(1, Ordering::Relaxed);
                }
            });
        }

        let started = Instant::now();
        let every = Duration::from_secs(if seconds > 60 { 5 } else { 1 });
        let mut rss = vec![];
        while started.elapsed() < Duration::from_secs(seconds) {
            tokio::time::sleep(every).await;
            rss.push(server.rss_kib());
        }
        stop.store(true, Ordering::Relaxed);
        while let Some(done) = workers.join_next().await {
            done.expect("a load worker failed");
        }
        let elapsed = started.elapsed().as_secs_f64();
        assert!(server.stop().success(), "graceful shutdown:\n{}", server.log());

        use sqlx::Row;
        let counted: i64 = sqlx::query("SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes")
            .fetch_one(app.db.pool())
            .await
            .expect("usage")
            .try_get(0)
            .expect("sum");
        let served = tally.served.load(Ordering::Relaxed);
        let warm = &rss[rss.len() / 4..];
        let (early, late) = warm.split_at(warm.len() / 2);
        let (early, late) = (median(early.to_vec()), median(late.to_vec()));
        eprintln!(
            "mixed load on {engine:?}: {elapsed:.0} s; {served} MCP calls served ({:.0}/s), {} pages, {} keys created, used and revoked; \
             {} answers of 5xx; usage counted {counted}; resident memory MiB: first {:.1}, median early {:.1}, median late {:.1}, max {:.1}",
            served as f64 / elapsed,
            tally.pages.load(Ordering::Relaxed),
            tally.churned.load(Ordering::Relaxed),
            tally.server_errors.load(Ordering::Relaxed),
            rss[0] as f64 / 1024.0,
            early as f64 / 1024.0,
            late as f64 / 1024.0,
            rss.iter().max().copied().unwrap_or(0) as f64 / 1024.0,
        );
        let tenths: Vec<String> = rss
            .chunks(rss.len().div_ceil(10).max(1))
            .map(|tenth| format!("{:.0}", median(tenth.to_vec()) as f64 / 1024.0))
            .collect();
        eprintln!("resident memory MiB, median of each tenth of the run: {}", tenths.join(" "));
        assert_eq!(tally.server_errors.load(Ordering::Relaxed), 0, "answers of 500 or more");
        assert_eq!(counted, served as i64, "usage counted = MCP calls served");
        assert!(late <= early + early / 4 + 8 * 1024, "memory grew from {early} KiB to {late} KiB");
    };
    if tokio::time::timeout(Duration::from_secs(seconds + 180), run).await.is_err() {
        panic!("the mixed load did not finish in time");
    }
}
