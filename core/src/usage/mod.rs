//! Usage recording: every MCP call is noted in memory (one map update, no I/O) and the counts are
//! written to `usage_minutes` in one batch every few seconds and at shutdown. Each bucket keeps a
//! latency histogram, so p50 and p95 can be read back after any aggregation; old minutes roll up
//! into hours and days (`rollup`), and `report` reads them for the dashboard.

mod report;
mod rollup;

pub use report::{
    BUILT_IN_SERVER, Breakdown, MAX_CUSTOM_DAYS, Point, Range, Report, Summary, TopItem, Window, calls_by_server,
    overview, report,
};
pub use rollup::roll_up;

/// Upper bounds (ms, inclusive) of the latency histogram's buckets; the last bucket takes the rest.
pub const LATENCY_BOUNDS_MS: [i64; 11] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];
/// Number of histogram buckets.
pub const BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// The histogram bucket of a latency.
pub fn bucket_of(latency_ms: i64) -> usize {
    LATENCY_BOUNDS_MS.iter().position(|b| latency_ms <= *b).unwrap_or(BUCKETS - 1)
}

use std::{collections::HashMap, sync::Mutex};

use crate::{
    Db,
    clock::{MINUTE, Millis},
    error::CoreResult,
    keys::Environment,
};

/// One call, as the endpoint saw it.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub workspace_id: &'a str,
    pub environment: Environment,
    /// The key (or, with OAuth, the connector) that called.
    pub caller: &'a str,
    /// The upstream server's slug, `""` for the built-in catalog.
    pub server: &'a str,
    /// The tool's name; an upstream tool's as `/mcp` shows it (`crm__search_contacts`).
    pub tool: &'a str,
    /// `ok`, or the error code (`SCOPE_MISSING`, `NOT_FOUND`, …).
    pub outcome: &'a str,
    pub latency_ms: i64,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Bucket {
    workspace_id: String,
    environment: Environment,
    minute: Millis,
    caller: String,
    server: String,
    tool: String,
    outcome: String,
}

impl Bucket {
    /// The row's primary key, in the order rows are written.
    fn order_key(&self) -> (&str, &str, Millis, &str, &str, &str, &str) {
        let Bucket { workspace_id, environment, minute, caller, server, tool, outcome } = self;
        (workspace_id, environment.as_str(), *minute, caller, tool, outcome, server)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    calls: i64,
    latency_sum: i64,
    latency_max: i64,
    histogram: [i64; BUCKETS],
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.calls += other.calls;
        self.latency_sum += other.latency_sum;
        self.latency_max = self.latency_max.max(other.latency_max);
        for (a, b) in self.histogram.iter_mut().zip(other.histogram) {
            *a += b;
        }
    }
}

/// The histogram's column names, `lat_b0, lat_b1, …`.
pub(crate) fn histogram_columns() -> String {
    (0..BUCKETS).map(|i| format!("lat_b{i}")).collect::<Vec<_>>().join(", ")
}

/// Adds a minute's counts to its row (or makes the row).
static UPSERT_MINUTE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| upsert("usage_minutes", "minute", "$"));

/// `INSERT … ON CONFLICT DO UPDATE` adding counts into `table`; `values` is `$` for placeholders.
pub(crate) fn upsert(table: &str, time_column: &str, values: &str) -> String {
    let placeholders: Vec<String> = (1..=10 + BUCKETS).map(|i| format!("{values}{i}")).collect();
    format!(
        "{} VALUES ({}) {}",
        insert_head(table, time_column),
        placeholders.join(", "),
        add_on_conflict(table, time_column)
    )
}

/// `INSERT INTO table (columns…)`.
pub(crate) fn insert_head(table: &str, time_column: &str) -> String {
    format!(
        "INSERT INTO {table} (workspace_id, environment, {time_column}, caller, tool, outcome, calls, latency_ms_sum, latency_ms_max, {}, server)",
        histogram_columns()
    )
}

/// The `ON CONFLICT` clause that adds a row's counts to the one already there.
pub(crate) fn add_on_conflict(table: &str, time_column: &str) -> String {
    let adds: Vec<String> = (0..BUCKETS).map(|i| format!("lat_b{i} = {table}.lat_b{i} + excluded.lat_b{i}")).collect();
    format!(
        "ON CONFLICT (workspace_id, environment, {time_column}, caller, tool, outcome) DO UPDATE SET
           calls = {table}.calls + excluded.calls,
           latency_ms_sum = {table}.latency_ms_sum + excluded.latency_ms_sum,
           latency_ms_max = CASE WHEN excluded.latency_ms_max > {table}.latency_ms_max
                                 THEN excluded.latency_ms_max ELSE {table}.latency_ms_max END,
           {}",
        adds.join(", ")
    )
}

#[derive(Debug, Default)]
pub struct UsageRecorder {
    pending: Mutex<HashMap<Bucket, Counts>>,
    /// The addresses credentials are used from (`watch`).
    addresses: crate::watch::AddressBook,
    /// Set when the operator turned recording off (for benchmarks or by choice): calls are not noted.
    off: bool,
}

impl UsageRecorder {
    /// A recorder that notes nothing: the Usage and Overview pages stay empty.
    pub fn off() -> Self {
        UsageRecorder { off: true, ..UsageRecorder::default() }
    }

    /// Notes a call. Never touches the database.
    pub fn record(&self, call: Call<'_>) {
        if self.off {
            return;
        }
        let bucket = Bucket {
            workspace_id: call.workspace_id.to_owned(),
            environment: call.environment,
            minute: call.at - call.at.rem_euclid(MINUTE),
            caller: call.caller.to_owned(),
            server: call.server.to_owned(),
            tool: call.tool.chars().take(80).collect(),
            outcome: call.outcome.to_owned(),
        };
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let counts = pending.entry(bucket).or_default();
        counts.calls += 1;
        counts.latency_sum += call.latency_ms.max(0);
        counts.latency_max = counts.latency_max.max(call.latency_ms);
        counts.histogram[bucket_of(call.latency_ms)] += 1;
    }

    /// Notes the address a credential was used from. Never touches the database.
    pub fn note_address(&self, workspace_id: &str, caller: &str, address: std::net::IpAddr, at: Millis) {
        if !self.off {
            self.addresses.note(workspace_id, caller, address, at);
        }
    }

    /// Adds what was noted to the database (counts, then addresses), then sends the alerts they
    /// call for (`watch`); on failure what was noted is kept for the next try.
    pub async fn flush(&self, db: &Db) -> CoreResult<usize> {
        let (written, failing) = self.flush_counts(db).await?;
        let now = crate::clock::now_ms();
        let new_networks = self.addresses.flush(db).await?;
        crate::watch::new_networks(db, &new_networks, now).await?;
        crate::watch::error_spikes(db, &failing, now).await?;
        Ok(written)
    }

    /// Writes the counts; returns how many rows, and the credentials that had failing calls.
    async fn flush_counts(&self, db: &Db) -> CoreResult<(usize, Vec<(String, String)>)> {
        let mut batch: Vec<(Bucket, Counts)> = self.pending.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        if batch.is_empty() {
            return Ok((0, Vec::new()));
        }
        // Rows in one order in every process: two processes flushing the same minute's rows in
        // their own (hash) orders deadlock on PostgreSQL.
        batch.sort_by(|(a, _), (b, _)| a.order_key().cmp(&b.order_key()));
        let written = async {
            let mut tx = db.pool().begin().await?;
            for (b, c) in &batch {
                let mut query = sqlx::query(&UPSERT_MINUTE)
                    .bind(&b.workspace_id)
                    .bind(b.environment.as_str())
                    .bind(b.minute)
                    .bind(&b.caller)
                    .bind(&b.tool)
                    .bind(&b.outcome)
                    .bind(c.calls)
                    .bind(c.latency_sum)
                    .bind(c.latency_max);
                for n in c.histogram {
                    query = query.bind(n);
                }
                query.bind(&b.server).execute(&mut *tx).await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = written {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (b, c) in batch {
                pending.entry(b).or_default().add(&c);
            }
            return Err(e.into());
        }
        let mut failing: Vec<(String, String)> = batch
            .iter()
            .filter(|(b, _)| b.outcome != "ok")
            .map(|(b, _)| (b.workspace_id.clone(), b.caller.clone()))
            .collect();
        failing.sort();
        failing.dedup();
        Ok((batch.len(), failing))
    }
}
