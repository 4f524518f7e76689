//! One page of a workspace's keys, chosen and counted by the database: the dashboard's list shows
//! 50 keys of possibly thousands, so only those 50 rows (and five counts) leave the database.
//!
//! A key's status is decided twice, by [`ApiKey::status`] for one key in Rust and by
//! [`STATUS_SQL`] for filtering and counting in SQL; the test below holds the two to one rule.

use serde::{Deserialize, Serialize};

use super::{ApiKey, EXPIRING_WITHIN, KEY_COLUMNS, KeyStatus};
use crate::{
    Db,
    clock::Millis,
    direct::{self, Columns, FromColumns},
    error::CoreResult,
    paging::Seek,
};

/// [`ApiKey::status`] as an SQL expression over `api_keys k`, with `$2` the time now and `$3`
/// [`EXPIRING_WITHIN`].
const STATUS_SQL: &str = "CASE \
     WHEN k.revoked_at IS NOT NULL AND k.revoked_at <= $2 THEN 'revoked' \
     WHEN k.expires_at IS NOT NULL AND k.expires_at <= $2 THEN 'expired' \
     WHEN k.revoked_at IS NOT NULL OR (k.expires_at IS NOT NULL AND k.expires_at - $2 <= $3) THEN 'expiring' \
     ELSE 'active' END";

/// How many keys the workspace has in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub active: usize,
    pub expiring: usize,
    pub expired: usize,
    pub revoked: usize,
}

impl StatusCounts {
    pub fn of(&self, status: KeyStatus) -> usize {
        match status {
            KeyStatus::Active => self.active,
            KeyStatus::Expiring => self.expiring,
            KeyStatus::Expired => self.expired,
            KeyStatus::Revoked => self.revoked,
        }
    }

    pub fn total(&self) -> usize {
        self.active + self.expiring + self.expired + self.revoked
    }

    fn slot(&mut self, status: KeyStatus) -> &mut usize {
        match status {
            KeyStatus::Active => &mut self.active,
            KeyStatus::Expiring => &mut self.expiring,
            KeyStatus::Expired => &mut self.expired,
            KeyStatus::Revoked => &mut self.revoked,
        }
    }
}

/// One page of keys, newest first, with the counts the filter shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPage {
    pub keys: Vec<ApiKey>,
    pub counts: StatusCounts,
    /// The page shown, from 1: the one asked for, kept within `1..=pages`.
    pub page: usize,
    /// At least 1, also when no key matches.
    pub pages: usize,
}

/// One status and its number of keys, a row of the count query.
struct StatusCount(Option<KeyStatus>, i64);

impl FromColumns for StatusCount {
    fn from_columns(row: &impl Columns) -> CoreResult<Self> {
        Ok(StatusCount(KeyStatus::parse(&row.col::<String>("status")?), row.col("n")?))
    }
}

/// The keys of the workspace in `status` (all when `None`), `per_page` to a page, the `page`-th
/// of them (the first when 0, the last when past it); as the time was at `now`.
pub async fn page_in(
    db: &Db,
    workspace_id: &str,
    status: Option<KeyStatus>,
    page: usize,
    per_page: usize,
    now: Millis,
) -> CoreResult<KeyPage> {
    let count_sql = format!(
        "SELECT status, COUNT(*) AS n FROM (SELECT {STATUS_SQL} AS status FROM api_keys k WHERE k.workspace_id = $1) s \
         GROUP BY status"
    );
    let params = [workspace_id.into(), now.into(), EXPIRING_WITHIN.into()];
    let mut counts = StatusCounts::default();
    for StatusCount(status, n) in direct::fetch_all::<StatusCount>(db, &count_sql, &params).await? {
        if let Some(status) = status {
            *counts.slot(status) = usize::try_from(n).unwrap_or(0);
        }
    }
    let matching = status.map_or(counts.total(), |s| counts.of(s));
    let per_page = per_page.max(1);
    let pages = matching.div_ceil(per_page).max(1);
    let page = page.clamp(1, pages);
    let keys = if matching == 0 {
        Vec::new()
    } else {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k LEFT JOIN users u ON u.id = k.created_by
             WHERE k.workspace_id = $1 AND ($4 = '' OR {STATUS_SQL} = $4)
             ORDER BY k.created_at DESC, k.id LIMIT $5 OFFSET $6"
        );
        let wanted = status.map_or("", KeyStatus::as_str);
        let (limit, offset) = (to_i64(per_page), to_i64((page - 1) * per_page));
        let params =
            [workspace_id.into(), now.into(), EXPIRING_WITHIN.into(), wanted.into(), limit.into(), offset.into()];
        direct::fetch_all(db, &sql, &params).await?
    };
    Ok(KeyPage { keys, counts, page, pages })
}

/// What the management API's key list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct KeyQuery {
    pub status: Option<KeyStatus>,
    pub environment: Option<super::Environment>,
    /// Keys whose name contains this (case-insensitive), or all when empty.
    pub name: String,
}

/// Up to `limit` keys of the workspace matching `query`, newest first, after `after` (a seek
/// cursor), and the cursor of the page that follows, if any.
pub async fn seek_in(
    db: &Db,
    workspace_id: &str,
    query: &KeyQuery,
    after: Option<&Seek>,
    limit: i64,
    now: Millis,
) -> CoreResult<(Vec<ApiKey>, Option<Seek>)> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k LEFT JOIN users u ON u.id = k.created_by
         WHERE k.workspace_id = $1 AND ($4 = '' OR {STATUS_SQL} = $4) AND ($5 = '' OR k.environment = $5)
           AND ($6 = '' OR LOWER(k.name) LIKE $7 ESCAPE '!')
           AND ($8 = '' OR k.created_at < $9 OR (k.created_at = $9 AND k.id > $8))
         ORDER BY k.created_at DESC, k.id LIMIT $10"
    );
    let name = query.name.trim().to_lowercase();
    // The name is matched as typed: `%` and `_` in it are escaped, not wildcards.
    let escaped: String =
        name.chars().flat_map(|c| if matches!(c, '!' | '%' | '_') { vec!['!', c] } else { vec![c] }).collect();
    let pattern = format!("%{escaped}%");
    let (after_id, after_at) = after.map_or((String::new(), 0), |s| (s.id.clone(), s.at));
    let params = [
        workspace_id.into(),
        now.into(),
        EXPIRING_WITHIN.into(),
        query.status.map_or("", KeyStatus::as_str).into(),
        query.environment.map_or("", |e| e.as_str()).into(),
        name.as_str().into(),
        pattern.as_str().into(),
        after_id.as_str().into(),
        after_at.into(),
        (limit + 1).into(),
    ];
    let mut keys: Vec<ApiKey> = direct::fetch_all(db, &sql, &params).await?;
    let next = Seek::after(&mut keys, limit, |k| Seek { at: k.created_at, id: k.id.clone() });
    Ok((keys, next))
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clock::DAY, testing::sqlite_with_workspace};

    /// Every way a key can stand (revoked or rolled, expiring or not, at and around each edge):
    /// the page's filter and counts in SQL put each key where `ApiKey::status` puts it, on
    /// both read paths.
    #[tokio::test]
    async fn sql_status_is_the_status_of_each_key() {
        let (_dir, db) = sqlite_with_workspace().await;
        let now: Millis = 1_000 * DAY;
        let times = [
            None,
            Some(now - DAY),
            Some(now),
            Some(now + 1),
            Some(now + EXPIRING_WITHIN),
            Some(now + EXPIRING_WITHIN + 1),
            Some(now + 30 * DAY),
        ];
        let mut n: i64 = 0;
        for revoked_at in times {
            for expires_at in times {
                n += 1;
                sqlx::query(
                    "INSERT INTO api_keys (id, workspace_id, name, environment, scopes, digest, last4, created_at,
                                           expires_at, revoked_at)
                     VALUES ($1, 'ws_1', $2, 'live', 'runs:read', 'x', 'abcd', $3, $4, $5)",
                )
                .bind(format!("key_{n:03}"))
                .bind(format!("Key {n}"))
                .bind(n)
                .bind(expires_at)
                .bind(revoked_at)
                .execute(db.pool())
                .await
                .expect("insert");
            }
        }
        for db in [db.clone(), db.pool_only()] {
            let all = page_in(&db, "ws_1", None, 1, 1_000, now).await.expect("all");
            assert_eq!(all.keys.len(), n as usize);
            let mut expected = StatusCounts::default();
            for key in &all.keys {
                *expected.slot(key.status(now)) += 1;
                // When a key stops agrees with where it stands.
                let stops = key.stops_at();
                match key.status(now) {
                    KeyStatus::Revoked | KeyStatus::Expired => assert!(stops.is_some_and(|at| at <= now), "{key:?}"),
                    KeyStatus::Expiring => assert!(stops.is_some_and(|at| at > now), "{key:?}"),
                    KeyStatus::Active => assert!(stops.is_none_or(|at| at > now + EXPIRING_WITHIN), "{key:?}"),
                }
            }
            assert_eq!(all.counts, expected);
            for status in KeyStatus::ALL {
                let chosen = page_in(&db, "ws_1", Some(status), 1, 1_000, now).await.expect("status");
                assert!(chosen.keys.iter().all(|k| k.status(now) == status), "{status:?}");
                assert_eq!(chosen.keys.len(), expected.of(status), "{status:?}");
                assert!(expected.of(status) > 0, "the cases cover {status:?}");
            }
        }
        db.close().await;
    }

    /// Pages are newest first, kept within range, and a workspace without keys has one empty page.
    #[tokio::test]
    async fn pages_are_newest_first_and_within_range() {
        let (_dir, db) = sqlite_with_workspace().await;
        for n in 0..5_i64 {
            sqlx::query(
                "INSERT INTO api_keys (id, workspace_id, name, environment, scopes, digest, last4, created_at)
                 VALUES ($1, 'ws_1', $2, 'live', 'runs:read', 'x', 'abcd', $3)",
            )
            .bind(format!("key_{n}"))
            .bind(format!("Key {n}"))
            .bind(n)
            .execute(db.pool())
            .await
            .expect("insert");
        }
        let names = |page: &KeyPage| page.keys.iter().map(|k| k.name.clone()).collect::<Vec<_>>();
        let first = page_in(&db, "ws_1", None, 0, 2, 10).await.expect("first");
        assert_eq!((names(&first), first.page, first.pages), (vec!["Key 4".into(), "Key 3".into()], 1, 3));
        let last = page_in(&db, "ws_1", None, 9, 2, 10).await.expect("last");
        assert_eq!((names(&last), last.page), (vec!["Key 0".into()], 3));
        let none = page_in(&db, "ws_2", None, 1, 2, 10).await.expect("none");
        assert_eq!((none.keys.len(), none.counts.total(), none.page, none.pages), (0, 0, 1, 1));
        db.close().await;
    }
}
