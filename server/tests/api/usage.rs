//! Usage over HTTP: N calls in → N counted, by key, connector, tool and outcome, live and test
//! apart; the Usage page's numbers, its CSV, the Overview's; bad ranges; roll-ups that keep totals.

use serde_json::{Value, json};

use crate::{
    both_engines,
    helpers::{Engine, TestApp, mcp_call, spawn_app, spawn_app_with, unique_email},
    keys::create_key,
};

both_engines!(
    calls_are_reported_by_key_connector_tool_and_outcome,
    busiest_callers_are_chosen_among_many_and_ranges_stay_apart,
    old_minutes_roll_up_without_changing_totals,
    recording_turned_off_counts_nothing
);

/// The Usage page's numbers, as its server function answers them.
async fn usage_report(app: &TestApp, slug: &str, range: &str, environment: &str) -> Value {
    let res = app.call("/api/usage/report", &[("slug", slug), ("range", range), ("environment", environment)]).await;
    assert_eq!(res.status(), 200, "usage report for {range} {environment}");
    res.json().await.expect("json")
}

async fn call(app: &TestApp, bearer: &str, tool: &str, arguments: Value) {
    let (status, _, _) = mcp_call(app, bearer, "tools/call", json!({"name": tool, "arguments": arguments})).await;
    assert_eq!(status, 200);
}

/// Waits for the recorder's periodic flush to have written `expected` calls.
async fn wait_for_calls(app: &TestApp, expected: i64) {
    for _ in 0..40 {
        if app.count("SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM usage_minutes").await >= expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("usage was not flushed");
}

async fn calls_are_reported_by_key_connector_tool_and_outcome(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("use")).await;
    let live = create_key(&app, &slug, "Nightly", &["runs:read"], "live", "30d").await.1;
    let test = create_key(&app, &slug, "Sandbox", &["runs:read"], "test", "30d").await.1;
    for _ in 0..5 {
        call(&app, &live, "whoami", json!({})).await;
    }
    for _ in 0..2 {
        call(&app, &live, "create_agent", json!({"name": "x"})).await;
    }
    call(&app, &live, "get_run", json!({"run_id": "run_nope"})).await;
    for _ in 0..3 {
        call(&app, &test, "whoami", json!({})).await;
    }
    let (_, tokens) = crate::oauth::connect(&app, &slug, "agents:read").await;
    for _ in 0..2 {
        call(&app, tokens["access_token"].as_str().expect("token"), "whoami", json!({})).await;
    }
    wait_for_calls(&app, 13).await;

    let report = usage_report(&app, &slug, "24h", "live").await;
    assert_eq!(report["total"]["calls"], 10, "{report}");
    assert_eq!(report["total"]["errors"], 3);
    assert_eq!(report["total"]["p50_ms"], 1, "calls this fast fall in the first bucket");
    assert_eq!(report["points"].as_array().expect("points").len(), 24);
    let sum: i64 =
        report["points"].as_array().expect("points").iter().map(|p| p["numbers"]["calls"].as_i64().unwrap_or(0)).sum();
    assert_eq!(sum, 10);
    let callers = report["callers"].as_array().expect("callers");
    assert_eq!(
        (callers[0]["name"].as_str(), callers[0]["kind"].as_str(), callers[0]["calls"].as_i64()),
        (Some("Nightly"), Some("key"), Some(8))
    );
    assert_eq!(
        (callers[1]["name"].as_str(), callers[1]["kind"].as_str(), callers[1]["calls"].as_i64()),
        (Some("Claude"), Some("connector"), Some(2))
    );
    let tools = report["tools"].as_array().expect("tools");
    let tool =
        |name: &str| tools.iter().find(|t| t["name"] == name).map(|t| (t["calls"].as_i64(), t["errors"].as_i64()));
    assert_eq!(tool("whoami"), Some((Some(7), Some(0))));
    assert_eq!(tool("create_agent"), Some((Some(2), Some(2))));
    assert_eq!(tool("get_run"), Some((Some(1), Some(1))));

    let test_report = usage_report(&app, &slug, "7d", "test").await;
    assert_eq!(test_report["total"]["calls"], 3, "test traffic apart");
    assert_eq!(test_report["points"].as_array().expect("points").len(), 28);

    // The Overview: live calls over 24 hours, 7 and 30 days; the busiest this week.
    let overview: Value = app.call("/api/usage/overview", &[("slug", &slug)]).await.json().await.expect("json");
    for period in overview["periods"].as_array().expect("periods") {
        assert_eq!(period[1]["calls"], 10, "{period}");
    }
    assert_eq!(overview["tools"][0]["name"], "whoami");
    assert_eq!(overview["callers"][0]["name"], "Nightly");

    // The CSV: a header and one row per period, the same totals.
    let res = app.get(&format!("/w/{slug}/usage.csv?range=24h&environment=live")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().expect("ascii").starts_with("text/csv"));
    assert!(res.headers()["content-disposition"].to_str().expect("ascii").contains("attachment"));
    let csv = res.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "period_start_utc,calls,errors,p50_ms_at_most,p95_ms_at_most");
    assert_eq!(lines.len(), 25);
    let total: i64 =
        lines[1..].iter().map(|l| l.split(',').nth(1).and_then(|c| c.parse::<i64>().ok()).unwrap_or(0)).sum();
    assert_eq!(total, 10);

    // A custom range of whole days: today alone holds the calls.
    let today = gatehouse_app::components::format_date(gatehouse_core::clock::now_ms());
    let custom: Value = app
        .call(
            "/api/usage/report",
            &[("slug", &slug), ("range", ""), ("environment", "live"), ("from", &today), ("to", &today)],
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(custom["total"]["calls"], 10, "{custom}");
    assert_eq!(custom["points"].as_array().expect("points").len(), 24, "hourly for one day");
    let res = app.get(&format!("/w/{slug}/usage.csv?from={today}&to={today}&environment=live")).await;
    assert_eq!(res.status(), 200);
    for (from, to, names) in [
        ("2026-11-20", "2026-11-01", "before the start"),
        ("2026-01-01", "2026-12-31", "at most 90 days"),
        ("2026-02-30", "2026-03-01", "YYYY-MM-DD"),
        ("", "2026-03-01", "YYYY-MM-DD"),
    ] {
        let res = app
            .call(
                "/api/usage/report",
                &[("slug", &slug), ("range", ""), ("environment", "live"), ("from", from), ("to", to)],
            )
            .await;
        assert_eq!(res.status(), 422, "{from}..{to}");
        assert!(res.text().await.expect("body").contains(names), "{from}..{to}");
        let res = app.get(&format!("/w/{slug}/usage.csv?from={from}&to={to}")).await;
        assert_eq!(res.status(), 400, "{from}..{to}");
    }

    // Bad input: a clear error, nothing else.
    assert_eq!(
        app.call("/api/usage/report", &[("slug", &slug), ("range", "1y"), ("environment", "live")]).await.status(),
        422
    );
    assert_eq!(
        app.call("/api/usage/report", &[("slug", &slug), ("range", "7d"), ("environment", "prod")]).await.status(),
        422
    );
    assert_eq!(app.get(&format!("/w/{slug}/usage.csv?range=-7d")).await.status(), 400);
    let stranger = app.other_client();
    assert_eq!(stranger.get(&format!("/w/{slug}/usage.csv")).await.status(), 401);
    stranger.sign_up(&unique_email("str")).await;
    assert_eq!(stranger.get(&format!("/w/{slug}/usage.csv")).await.status(), 404);
    assert_eq!(
        stranger
            .call("/api/usage/report", &[("slug", &slug), ("range", "24h"), ("environment", "live")])
            .await
            .status(),
        404
    );
}

/// 25 keys with calls, older calls an hour row and a day row away: the Usage page names the 20
/// busiest with every call in its total, and the Overview's 24 hours, 7 and 30 days each sum what
/// they cover.
async fn busiest_callers_are_chosen_among_many_and_ranges_stay_apart(engine: Engine) {
    use gatehouse_core::clock::{DAY, HOUR, MINUTE, now_ms};
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("many")).await;
    let workspace = gatehouse_core::workspaces::find_by_slug(&app.db, &slug).await.expect("workspace").id;
    let mut ids = Vec::new();
    for n in 0..25 {
        ids.push(create_key(&app, &slug, &format!("K{n}"), &["agents:read"], "live", "30d").await.0);
    }
    let now = now_ms();
    let insert = |table: &'static str, column: &'static str, at: i64, caller: String, calls: i64| {
        let db = app.db.clone();
        let workspace = workspace.clone();
        async move {
            sqlx::query(&format!(
                "INSERT INTO {table} (workspace_id, environment, {column}, caller, tool, outcome, calls, latency_ms_sum, latency_ms_max, lat_b0)
                 VALUES ($1, 'live', $2, $3, 'whoami', 'ok', $4, $4, 1, $4)"
            ))
            .bind(workspace)
            .bind(at)
            .bind(caller)
            .bind(calls)
            .execute(db.pool())
            .await
            .expect("insert");
        }
    };
    // Key n made n + 1 calls this minute: 325 in all.
    for (n, id) in ids.iter().enumerate() {
        insert("usage_minutes", "minute", now - now.rem_euclid(MINUTE), id.clone(), n as i64 + 1).await;
    }
    let two_days_ago = now - 2 * DAY;
    insert("usage_hours", "hour", two_days_ago - two_days_ago.rem_euclid(HOUR), ids[1].clone(), 100).await;
    let ten_days_ago = now - 10 * DAY;
    insert("usage_days", "day", ten_days_ago - ten_days_ago.rem_euclid(DAY), ids[0].clone(), 1000).await;

    let report = usage_report(&app, &slug, "24h", "live").await;
    assert_eq!(report["total"]["calls"], 325, "{report}");
    let callers = report["callers"].as_array().expect("callers");
    let named: Vec<(&str, i64)> =
        callers.iter().map(|c| (c["name"].as_str().unwrap_or(""), c["calls"].as_i64().unwrap_or(0))).collect();
    let expected: Vec<(String, i64)> = (5..25).rev().map(|n| (format!("K{n}"), n as i64 + 1)).collect();
    assert_eq!(named, expected.iter().map(|(name, calls)| (name.as_str(), *calls)).collect::<Vec<_>>());

    let month = usage_report(&app, &slug, "30d", "live").await;
    assert_eq!(month["total"]["calls"], 1425);
    assert_eq!((month["callers"][0]["name"].as_str(), month["callers"][0]["calls"].as_i64()), (Some("K0"), Some(1001)));
    assert_eq!((month["callers"][1]["name"].as_str(), month["callers"][1]["calls"].as_i64()), (Some("K1"), Some(102)));

    let overview: Value = app.call("/api/usage/overview", &[("slug", &slug)]).await.json().await.expect("json");
    let periods: Vec<i64> =
        overview["periods"].as_array().expect("periods").iter().map(|p| p[1]["calls"].as_i64().unwrap_or(-1)).collect();
    assert_eq!(periods, [325, 425, 1425], "{overview}");
    let week: Vec<&str> =
        overview["callers"].as_array().expect("callers").iter().map(|c| c["name"].as_str().unwrap_or("")).collect();
    assert_eq!(week, ["K1", "K24", "K23", "K22", "K21"], "the key ten days back is not this week's");
}

async fn old_minutes_roll_up_without_changing_totals(engine: Engine) {
    use gatehouse_core::{
        clock::{DAY, HOUR, MINUTE, now_ms},
        keys::Environment,
        usage::{Range, Window, report, roll_up},
    };
    let app = spawn_app(engine).await;
    let now = now_ms();
    let three_days_ago = now - 3 * DAY;
    let base = three_days_ago - three_days_ago.rem_euclid(HOUR);
    // Six minutes in one hour, two outcomes; latencies in buckets 0 and 6.
    for i in 0..6 {
        let outcome = if i < 4 { "ok" } else { "NOT_FOUND" };
        sqlx::query(
            "INSERT INTO usage_minutes (workspace_id, environment, minute, caller, tool, outcome, calls, latency_ms_sum, latency_ms_max, lat_b0, lat_b6)
             VALUES ('ws_x', 'live', $1, 'key_a', 'whoami', $2, 10, 100, 90, 9, 1)",
        )
        .bind(base + i * MINUTE)
        .bind(outcome)
        .execute(app.db.pool())
        .await
        .expect("insert");
    }
    // A recent minute stays a minute.
    sqlx::query(
        "INSERT INTO usage_minutes (workspace_id, environment, minute, caller, tool, outcome, calls, latency_ms_sum, latency_ms_max, lat_b0)
         VALUES ('ws_x', 'live', $1, 'key_a', 'whoami', 'ok', 5, 5, 1, 5)",
    )
    .bind(now - now.rem_euclid(MINUTE))
    .execute(app.db.pool())
    .await
    .expect("insert");
    let before = report(&app.db, "ws_x", Environment::Live, Window::preset(Range::Week, now)).await.expect("report");
    assert_eq!((before.total.calls, before.total.errors), (65, 20));
    assert_eq!(before.total.p95_ms, Some(100), "6 of 65 calls in the ≤100 ms bucket put p95 there");

    let folded = roll_up(&app.db, now).await.expect("roll up");
    assert_eq!(folded, 6);
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_minutes").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_hours").await, 2, "one hour row per outcome");
    assert_eq!(app.count("SELECT CAST(SUM(calls) AS BIGINT) FROM usage_hours").await, 60);
    assert_eq!(app.count("SELECT CAST(SUM(lat_b6) AS BIGINT) FROM usage_hours").await, 6);
    let after = report(&app.db, "ws_x", Environment::Live, Window::preset(Range::Week, now)).await.expect("report");
    assert_eq!(after.total, before.total, "the same totals and percentiles after the roll-up");
    // Rolling up again changes nothing.
    assert_eq!(roll_up(&app.db, now).await.expect("roll up"), 0);
    // Hours older than 90 days become days.
    sqlx::query("UPDATE usage_hours SET hour = hour - $1").bind(100 * DAY).execute(app.db.pool()).await.expect("age");
    roll_up(&app.db, now).await.expect("roll up");
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_hours").await, 0);
    assert_eq!(app.count("SELECT CAST(SUM(calls) AS BIGINT) FROM usage_days").await, 60);
}

/// `GATEHOUSE_USAGE_RECORDING=false`: calls are served as usual and nothing is counted, even after
/// the flush at shutdown.
async fn recording_turned_off_counts_nothing(engine: Engine) {
    let mut app = spawn_app_with(engine, |c| c.usage_recording = false).await;
    let slug = app.sign_up(&unique_email("off")).await;
    let key = create_key(&app, &slug, "Quiet", &["runs:read"], "live", "30d").await.1;
    for _ in 0..3 {
        call(&app, &key, "whoami", json!({})).await;
    }
    let db = app.shut_down().await;
    use sqlx::Row;
    let counted: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM usage_minutes")
        .fetch_one(db.pool())
        .await
        .expect("count")
        .try_get(0)
        .expect("count");
    assert_eq!(counted, 0);
}
