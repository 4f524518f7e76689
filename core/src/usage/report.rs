//! Reading usage back for the dashboard: a series of calls, errors and latency (p50, p95) over a
//! range, the busiest keys, connectors and tools, and the Overview's summaries. Minute, hour and
//! day rows are read together, so a range gives the same totals before and after a roll-up.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{BUCKETS, LATENCY_BOUNDS_MS};
use crate::{
    Db,
    clock::{DAY, HOUR, Millis, parse_utc_day},
    error::{CoreError, CoreResult},
    keys::Environment,
};

/// The ranges the Usage page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Range {
    Day,
    Week,
    Month,
}

impl Range {
    pub const ALL: [Range; 3] = [Range::Day, Range::Week, Range::Month];

    pub fn parse(value: &str) -> CoreResult<Self> {
        match value {
            "" | "24h" => Ok(Range::Day),
            "7d" => Ok(Range::Week),
            "30d" => Ok(Range::Month),
            _ => Err(CoreError::invalid("range", "Choose 24h, 7d or 30d.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Range::Day => "Last 24 hours",
            Range::Week => "Last 7 days",
            Range::Month => "Last 30 days",
        }
    }

    pub fn length(self) -> Millis {
        match self {
            Range::Day => DAY,
            Range::Week => 7 * DAY,
            Range::Month => 30 * DAY,
        }
    }

    /// The width of one point of the series.
    pub fn step(self) -> Millis {
        match self {
            Range::Day => HOUR,
            Range::Week => 6 * HOUR,
            Range::Month => DAY,
        }
    }
}

/// The longest custom range.
pub const MAX_CUSTOM_DAYS: i64 = 90;

/// The stretch of time a report covers, cut into points of `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: Millis,
    pub to: Millis,
    pub step: Millis,
}

impl Window {
    /// The preset `range` ending with the period that holds `now`.
    pub fn preset(range: Range, now: Millis) -> Self {
        let step = range.step();
        let to = now - now.rem_euclid(step) + step;
        Window { from: to - range.length(), to, step }
    }

    /// Whole UTC days from `from` to `to` (both `YYYY-MM-DD`, inclusive), at most 90 days.
    pub fn days(from: &str, to: &str) -> CoreResult<Self> {
        let start = parse_utc_day(from.trim())
            .ok_or_else(|| CoreError::invalid("from", "Enter the start date as YYYY-MM-DD."))?;
        let end = parse_utc_day(to.trim())
            .ok_or_else(|| CoreError::invalid("to", "Enter the end date as YYYY-MM-DD."))?
            + DAY;
        if end <= start {
            return Err(CoreError::invalid("to", "The end date is before the start date."));
        }
        if end - start > MAX_CUSTOM_DAYS * DAY {
            return Err(CoreError::invalid("to", format!("Choose at most {MAX_CUSTOM_DAYS} days.")));
        }
        let length = end - start;
        let step = if length <= 2 * DAY {
            HOUR
        } else if length <= 14 * DAY {
            6 * HOUR
        } else {
            DAY
        };
        Ok(Window { from: start, to: end, step })
    }
}

/// Calls, errors and latency over some stretch of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub calls: i64,
    pub errors: i64,
    /// Upper bound of the histogram bucket holding the median call, in ms.
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
}

/// One point of a series: the stretch starting at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub at: Millis,
    #[serde(flatten)]
    pub summary: Summary,
}

/// A key, connector or tool and its share of the calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopItem {
    pub id: String,
    pub name: String,
    /// key, connector or tool.
    pub kind: String,
    pub calls: i64,
    pub errors: i64,
}

/// The busiest callers and tools.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub callers: Vec<TopItem>,
    pub tools: Vec<TopItem>,
    /// Calls by upstream server; the built-in catalog's calls are named `gatehouse (built-in)`.
    #[serde(default)]
    pub servers: Vec<TopItem>,
}

/// How the by-server breakdown names the built-in catalog's calls.
pub const BUILT_IN_SERVER: &str = "gatehouse (built-in)";

/// Everything the Usage page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub from: Millis,
    pub to: Millis,
    pub step: Millis,
    pub points: Vec<Point>,
    pub total: Summary,
    pub breakdown: Breakdown,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    calls: i64,
    errors: i64,
    max: i64,
    histogram: [i64; BUCKETS],
}

impl Acc {
    fn merge(&mut self, other: &Acc) {
        self.calls += other.calls;
        self.errors += other.errors;
        self.max = self.max.max(other.max);
        for (a, b) in self.histogram.iter_mut().zip(&other.histogram) {
            *a += b;
        }
    }

    fn percentile(&self, q: f64) -> Option<i64> {
        let total: i64 = self.histogram.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as i64;
        let mut seen = 0;
        for (i, n) in self.histogram.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(LATENCY_BOUNDS_MS.get(i).copied().unwrap_or(self.max));
            }
        }
        Some(self.max)
    }

    fn summary(&self) -> Summary {
        Summary { calls: self.calls, errors: self.errors, p50_ms: self.percentile(0.5), p95_ms: self.percentile(0.95) }
    }
}

/// What a report groups the calls by.
#[derive(Clone, Copy)]
enum By {
    /// The start of each `step` (a bound parameter).
    Step(Millis),
    /// Fixed marks in time, newest first: 0 from the first (a bound parameter), 1 from the second,
    /// 2 before them.
    Since(Millis, Millis),
    Caller,
    Tool,
    Server,
}

/// Calls summed per group over the minute, hour and day tables in `[from, to)`, the busiest
/// `limit` groups (all when `None`), busiest first. The database does the summing, so a read
/// holds one row per group however many keys, tools and minutes the range has.
async fn grouped(
    db: &Db,
    workspace_id: &str,
    env: Environment,
    (from, to): (Millis, Millis),
    by: By,
    limit: Option<i64>,
) -> CoreResult<Vec<(String, Acc)>> {
    let key = |time: &str| match by {
        By::Step(_) => format!("CAST({time} - ({time} % $5) AS TEXT)"),
        By::Since(..) => format!("CASE WHEN {time} >= $5 THEN '0' WHEN {time} >= $6 THEN '1' ELSE '2' END"),
        By::Caller => "caller".to_owned(),
        By::Tool => "tool".to_owned(),
        By::Server => "server".to_owned(),
    };
    let columns: Vec<String> = (0..BUCKETS).map(|i| format!("lat_b{i} AS b{i}")).collect();
    let part = |table: &str, time: &str| {
        format!(
            "SELECT {} AS k, calls, CASE WHEN outcome = 'ok' THEN 0 ELSE calls END AS errors, latency_ms_max AS max_ms, {}
             FROM {table} WHERE workspace_id = $1 AND environment = $2 AND {time} >= $3 AND {time} < $4",
            key(time),
            columns.join(", ")
        )
    };
    let sums: Vec<String> = (0..BUCKETS).map(|i| format!("CAST(SUM(b{i}) AS BIGINT) AS b{i}")).collect();
    let mut sql = format!(
        "SELECT k, CAST(SUM(calls) AS BIGINT) AS calls, CAST(SUM(errors) AS BIGINT) AS errors,
                CAST(MAX(max_ms) AS BIGINT) AS max_ms, {}
         FROM ({} UNION ALL {} UNION ALL {}) u GROUP BY k",
        sums.join(", "),
        part("usage_minutes", "minute"),
        part("usage_hours", "hour"),
        part("usage_days", "day")
    );
    if let Some(limit) = limit {
        sql.push_str(&format!(" ORDER BY calls DESC, k LIMIT {}", limit.max(0)));
    }
    let mut query = sqlx::query(&sql).bind(workspace_id).bind(env.as_str()).bind(from).bind(to);
    match by {
        By::Step(step) => query = query.bind(step),
        By::Since(first, second) => query = query.bind(first).bind(second),
        By::Caller | By::Tool | By::Server => {}
    }
    query
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| {
            let mut acc = Acc {
                calls: r.try_get("calls")?,
                errors: r.try_get("errors")?,
                max: r.try_get("max_ms")?,
                ..Acc::default()
            };
            for (i, slot) in acc.histogram.iter_mut().enumerate() {
                *slot = r.try_get(format!("b{i}").as_str())?;
            }
            Ok((r.try_get("k")?, acc))
        })
        .collect()
}

/// Names of the given keys and connectors, by id.
async fn caller_names(
    db: &Db,
    workspace_id: &str,
    ids: &[&str],
) -> CoreResult<HashMap<String, (String, &'static str)>> {
    let mut names = HashMap::new();
    if ids.is_empty() {
        return Ok(names);
    }
    let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let list = list.join(", ");
    let keys = format!("SELECT id, name FROM api_keys WHERE workspace_id = $1 AND id IN ({list})");
    let connectors = format!(
        "SELECT g.id, c.name FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id
         WHERE g.workspace_id = $1 AND g.id IN ({list})"
    );
    for (sql, kind) in [(keys, "key"), (connectors, "connector")] {
        let mut query = sqlx::query(&sql).bind(workspace_id);
        for id in ids {
            query = query.bind(*id);
        }
        for row in query.fetch_all(db.pool()).await? {
            names.insert(row.try_get("id")?, (row.try_get("name")?, kind));
        }
    }
    Ok(names)
}

/// The busiest callers and tools over `[from, to)`, `limit` of each, named.
async fn breakdown(
    db: &Db,
    workspace_id: &str,
    env: Environment,
    span: (Millis, Millis),
    limit: i64,
) -> CoreResult<Breakdown> {
    let callers = grouped(db, workspace_id, env, span, By::Caller, Some(limit)).await?;
    let tools = grouped(db, workspace_id, env, span, By::Tool, Some(limit)).await?;
    let servers = grouped(db, workspace_id, env, span, By::Server, Some(limit)).await?;
    let ids: Vec<&str> = callers.iter().map(|(id, _)| id.as_str()).collect();
    let names = caller_names(db, workspace_id, &ids).await?;
    Ok(Breakdown {
        callers: top(callers, |id| caller_name(&names, id)),
        tools: top(tools, |id| (id.to_owned(), "tool".to_owned())),
        servers: top(servers, |id| {
            let name = if id.is_empty() { BUILT_IN_SERVER.to_owned() } else { id.to_owned() };
            (name, "server".to_owned())
        }),
    })
}

fn top(groups: Vec<(String, Acc)>, name_of: impl Fn(&str) -> (String, String)) -> Vec<TopItem> {
    let mut items: Vec<TopItem> = groups
        .into_iter()
        .map(|(id, acc)| {
            let (name, kind) = name_of(&id);
            TopItem { id, name, kind, calls: acc.calls, errors: acc.errors }
        })
        .collect();
    items.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.name.cmp(&b.name)));
    items
}

/// The Usage page's numbers for one environment over `window`.
pub async fn report(db: &Db, workspace_id: &str, env: Environment, window: Window) -> CoreResult<Report> {
    let Window { from, to, step } = window;
    let mut points: Vec<Acc> = vec![Acc::default(); usize::try_from((to - from) / step).unwrap_or(0)];
    let mut total = Acc::default();
    for (start, acc) in grouped(db, workspace_id, env, (from, to), By::Step(step), None).await? {
        let slot = start.parse::<Millis>().ok().and_then(|at| usize::try_from((at - from) / step).ok());
        if let Some(slot) = slot.and_then(|i| points.get_mut(i)) {
            slot.merge(&acc);
        }
        total.merge(&acc);
    }
    Ok(Report {
        from,
        to,
        step,
        points: points
            .iter()
            .enumerate()
            .map(|(i, acc)| Point { at: from + i as i64 * step, summary: acc.summary() })
            .collect(),
        total: total.summary(),
        breakdown: breakdown(db, workspace_id, env, (from, to), 20).await?,
    })
}

/// A caller's name and kind; an id no longer found (a deleted key, a connector moved away)
/// stands for itself.
fn caller_name(names: &HashMap<String, (String, &'static str)>, id: &str) -> (String, String) {
    match names.get(id) {
        Some((name, kind)) => (name.clone(), (*kind).to_owned()),
        None => (id.to_owned(), if id.starts_with("con_") { "connector" } else { "key" }.to_owned()),
    }
}

/// The Overview's numbers: live calls and errors over the last 24 hours, 7 and 30 days (whole
/// hours), and the week's five busiest keys, connectors and tools.
pub async fn overview(db: &Db, workspace_id: &str, now: Millis) -> CoreResult<(Vec<(Range, Summary)>, Breakdown)> {
    let to = now - now.rem_euclid(HOUR) + HOUR;
    let (day, week, month) = (to - Range::Day.length(), to - Range::Week.length(), to - Range::Month.length());
    // Three stretches, newest first; each range sums those it covers.
    let mut stretches = [Acc::default(); 3];
    for (mark, acc) in grouped(db, workspace_id, Environment::Live, (month, to), By::Since(day, week), None).await? {
        if let Some(slot) = mark.parse::<usize>().ok().and_then(|i| stretches.get_mut(i)) {
            *slot = acc;
        }
    }
    let mut summaries = Vec::new();
    let mut running = Acc::default();
    for (range, stretch) in Range::ALL.into_iter().zip(&stretches) {
        running.merge(stretch);
        summaries.push((range, running.summary()));
    }
    let week = breakdown(db, workspace_id, Environment::Live, (week, to), 5).await?;
    Ok((summaries, week))
}

/// Calls to each upstream server since `from` (live and test), by slug, from the minute rows (the
/// last two days are always minutes).
pub async fn calls_by_server(
    db: &Db,
    workspace_id: &str,
    from: Millis,
) -> CoreResult<std::collections::HashMap<String, i64>> {
    let rows = sqlx::query(
        "SELECT server, CAST(SUM(calls) AS BIGINT) AS calls FROM usage_minutes
         WHERE workspace_id = $1 AND minute >= $2 AND server <> '' GROUP BY server",
    )
    .bind(workspace_id)
    .bind(from)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get::<String, _>("server")?, r.try_get::<i64, _>("calls")?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_windows() {
        assert_eq!(parse_utc_day("1970-01-02"), Some(DAY));
        assert_eq!(parse_utc_day("2026-11-23"), Some(1_795_392_000_000));
        assert_eq!(parse_utc_day("2024-02-29").map(|d| d % DAY), Some(0));
        assert!(parse_utc_day("2023-02-29").is_none());
        assert!(parse_utc_day("2026-13-01").is_none());
        assert!(parse_utc_day("yesterday").is_none());
        let w = Window::days("2026-11-01", "2026-11-01").expect("one day");
        assert_eq!((w.to - w.from, w.step), (DAY, HOUR));
        assert_eq!(Window::days("2026-11-01", "2026-11-10").expect("ten days").step, 6 * HOUR);
        assert!(Window::days("2026-11-10", "2026-11-01").is_err(), "reversed");
        assert!(Window::days("2026-01-01", "2026-06-01").is_err(), "too long");
    }

    #[test]
    fn percentiles_come_from_the_histogram() {
        let mut acc = Acc { calls: 100, max: 4000, ..Acc::default() };
        acc.histogram[0] = 90; // ≤ 1 ms
        acc.histogram[5] = 9; // ≤ 50 ms
        acc.histogram[BUCKETS - 1] = 1; // slower than 2.5 s
        assert_eq!(acc.percentile(0.5), Some(1));
        assert_eq!(acc.percentile(0.95), Some(50));
        assert_eq!(acc.percentile(1.0), Some(4000));
        assert_eq!(Acc::default().percentile(0.5), None);
        assert_eq!(super::super::bucket_of(0), 0);
        assert_eq!(super::super::bucket_of(3), 2);
        assert_eq!(super::super::bucket_of(99_999), BUCKETS - 1);
    }
}
