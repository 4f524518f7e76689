//! Reads on the calling thread, for the hot paths on SQLite (verifying a key, the MCP read tools).
//!
//! Every query through sqlx's SQLite driver is handed to the connection's own thread and its rows
//! handed back: two thread wake-ups that cost more than the query itself (about a third of the
//! server's CPU under the MCP benchmark, docs/benchmarks.md). A few reused read-only rusqlite
//! connections to the same file answer these reads directly. In WAL mode readers never wait for
//! the writer and see every committed transaction; should a read still fail (a busy file, a
//! schema change), [`Db::read_direct`](crate::Db::read_direct) answers `None` and the caller asks
//! the pool instead. PostgreSQL has no such hand-off, so there the pool always answers.
//!
//! Callers use [`fetch_all`] and [`fetch_optional`]: one SQL text, one set of [`Param`]s, and a
//! [`FromColumns`] type that reads a row of either kind, so each query and mapping is written once.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
    time::Duration,
};

use rusqlite::{Connection, OpenFlags};
use sqlx::{Any, Row, any::AnyRow};

use crate::{
    Db,
    error::{CoreError, CoreResult},
};

/// Idle read connections kept for reuse.
const MAX_IDLE: usize = 8;

/// Read-only connections to one SQLite file, reused across requests.
#[derive(Debug)]
pub(crate) struct SqliteReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteReaders {
    pub fn new(path: &Path) -> Self {
        SqliteReaders { path: path.to_owned(), idle: Mutex::new(Vec::new()) }
    }

    /// Runs `read` on an idle connection (or a new one); a connection whose read failed is dropped.
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> CoreResult<T>) -> CoreResult<T> {
        let conn = match self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            Some(conn) => conn,
            None => open_reader(&self.path).map_err(direct_error)?,
        };
        let result = read(&conn);
        if result.is_ok() {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        result
    }
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    // Never hold an async worker thread for long: on a busy file, give up and let the pool answer.
    conn.busy_timeout(Duration::from_millis(20))?;
    conn.pragma_update(None, "cache_size", -i64::from(crate::db::SQLITE_CACHE_KIB))?;
    Ok(conn)
}

/// A result row, from the pool or from a direct read: typed columns by name.
pub(crate) trait Columns {
    fn col<T>(&self, name: &str) -> CoreResult<T>
    where
        T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + rusqlite::types::FromSql;
}

impl Columns for AnyRow {
    fn col<T>(&self, name: &str) -> CoreResult<T>
    where
        T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + rusqlite::types::FromSql,
    {
        Ok(self.try_get(name)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn col<T>(&self, name: &str) -> CoreResult<T>
    where
        T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + rusqlite::types::FromSql,
    {
        self.get(name).map_err(direct_error)
    }
}

/// A failed direct read; the caller asks the pool, whose answer is the one that counts.
pub(crate) fn direct_error(e: rusqlite::Error) -> CoreError {
    CoreError::Internal(format!("direct SQLite read: {e}"))
}

/// A value bound to a read that may run on either path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Text(&'a str),
    Int(i64),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(text: &'a str) -> Self {
        Param::Text(text)
    }
}

impl From<i64> for Param<'_> {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Param::Text(text) => text.to_sql(),
            Param::Int(n) => n.to_sql(),
        }
    }
}

/// A domain value read from one row, whichever path the row came by.
pub(crate) trait FromColumns: Sized {
    fn from_columns(row: &impl Columns) -> CoreResult<Self>;
}

fn pool_query<'q>(sql: &'q str, params: &[Param<'q>]) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    params.iter().fold(sqlx::query(sql), |query, param| match *param {
        Param::Text(text) => query.bind(text),
        Param::Int(n) => query.bind(n),
    })
}

/// Binds `params` to the statement's `$n` placeholders by their number, as sqlx does. (SQLite
/// numbers `$n` parameters in the order they first appear in the text, which need not be `$1, $2`.)
fn bind(statement: &mut rusqlite::CachedStatement<'_>, params: &[Param<'_>]) -> CoreResult<()> {
    for index in 1..=statement.parameter_count() {
        let param = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$')?.parse::<usize>().ok())
            .and_then(|number| params.get(number.checked_sub(1)?))
            .copied()
            .ok_or_else(|| CoreError::Internal(format!("placeholder {index} of a direct read has no parameter")))?;
        statement.raw_bind_parameter(index, param).map_err(direct_error)?;
    }
    Ok(())
}

/// Every row of a read: directly on SQLite, through the pool on PostgreSQL or when that fails.
pub(crate) async fn fetch_all<T: FromColumns>(db: &Db, sql: &str, params: &[Param<'_>]) -> CoreResult<Vec<T>> {
    let direct = db.read_direct(|conn| {
        let mut statement = conn.prepare_cached(sql).map_err(direct_error)?;
        bind(&mut statement, params)?;
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(direct_error)? {
            out.push(T::from_columns(row)?);
        }
        Ok(out)
    });
    if let Some(values) = direct {
        return Ok(values);
    }
    pool_query(sql, params).fetch_all(db.pool()).await?.iter().map(T::from_columns).collect()
}

/// The one row of a read, if any: directly on SQLite, through the pool on PostgreSQL or when that fails.
pub(crate) async fn fetch_optional<T: FromColumns>(db: &Db, sql: &str, params: &[Param<'_>]) -> CoreResult<Option<T>> {
    let direct = db.read_direct(|conn| {
        let mut statement = conn.prepare_cached(sql).map_err(direct_error)?;
        bind(&mut statement, params)?;
        let mut rows = statement.raw_query();
        rows.next().map_err(direct_error)?.map(T::from_columns).transpose()
    });
    if let Some(value) = direct {
        return Ok(value);
    }
    pool_query(sql, params).fetch_optional(db.pool()).await?.map(|row| T::from_columns(&row)).transpose()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{
        agents::{self, Tenant},
        error::CoreError,
        keys::Environment,
        testing::sqlite_with_workspace,
    };

    fn tenant() -> Tenant<'static> {
        Tenant { workspace_id: "ws_1", environment: Environment::Live }
    }

    /// Direct reads answer exactly what the pool answers, and see a write the moment it commits.
    #[tokio::test]
    async fn direct_reads_match_the_pool_and_see_every_commit() {
        let (_dir, db) = sqlite_with_workspace().await;
        let graph = json!({"nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output"}],
                           "edges": [{"from": "in", "to": "out"}]});
        for i in 0..3 {
            let made = agents::create(&db, tenant(), &format!("Agent {i}"), &graph).await.expect("create");
            let direct = agents::get(&db, tenant(), &made.id).await.expect("direct get");
            assert_eq!(direct, agents::get(&db.pool_only(), tenant(), &made.id).await.expect("pool get"));
            assert_eq!(direct.graph.as_ref(), Some(&graph));
        }
        let direct = agents::list(&db, tenant(), None, 2).await.expect("direct list");
        assert_eq!(direct, agents::list(&db.pool_only(), tenant(), None, 2).await.expect("pool list"));
        assert_eq!(direct.agents.len(), 2);
        assert_eq!(direct.next_cursor.as_deref(), Some("2"));
        let other = Tenant { workspace_id: "ws_1", environment: Environment::Test };
        assert!(agents::list(&db, other, None, 20).await.expect("test list").agents.is_empty());
        assert!(matches!(agents::get(&db, other, &direct.agents[0].id).await, Err(CoreError::NotFound)));
        db.close().await;
    }

    /// `$n` is the n-th parameter wherever it first appears (SQLite numbers them by appearance);
    /// a placeholder without a parameter fails the direct read rather than binding NULL.
    #[tokio::test]
    async fn placeholders_bind_by_their_number() {
        let (_dir, db) = sqlite_with_workspace().await;
        let read = |sql: &'static str| {
            db.read_direct(|conn| {
                let mut statement = conn.prepare_cached(sql).map_err(super::direct_error)?;
                super::bind(&mut statement, &[super::Param::Text("a"), super::Param::Int(7)])?;
                let mut rows = statement.raw_query();
                let row = rows.next().map_err(super::direct_error)?.ok_or(CoreError::NotFound)?;
                row.get::<_, String>(0).map_err(super::direct_error)
            })
        };
        assert_eq!(read("SELECT $2 || '-' || $1 || '-' || $2").as_deref(), Some("7-a-7"));
        assert_eq!(read("SELECT $1 || $3"), None);
        db.close().await;
    }

    /// Every SQLite connection, the pool's and the direct readers', bounds its page cache.
    #[tokio::test]
    async fn every_connection_bounds_its_page_cache() {
        let (_dir, db) = sqlite_with_workspace().await;
        let expected = -i64::from(crate::db::SQLITE_CACHE_KIB);
        for _ in 0..3 {
            let pooled: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(db.pool()).await.expect("pool pragma");
            assert_eq!(pooled, expected);
        }
        let direct = db.read_direct(|conn| {
            conn.query_row("PRAGMA cache_size", [], |row| row.get::<_, i64>(0)).map_err(super::direct_error)
        });
        assert_eq!(direct, Some(expected));
        db.close().await;
    }

    /// A direct read that fails hands the request to the pool: a broken statement answers `None`,
    /// and a row the domain cannot read gets the pool's own error, not a different one.
    #[tokio::test]
    async fn a_failed_direct_read_falls_back_to_the_pool() {
        let (_dir, db) = sqlite_with_workspace().await;
        assert!(
            db.read_direct(|conn| conn.execute_batch("SELECT nothing FROM nowhere").map_err(super::direct_error))
                .is_none()
        );
        let graph = json!({"nodes": [{"id": "in", "type": "input"}], "edges": []});
        let made = agents::create(&db, tenant(), "Broken", &graph).await.expect("create");
        sqlx::query("UPDATE agent_versions SET graph = 'not json' WHERE agent_id = $1")
            .bind(&made.id)
            .execute(db.pool())
            .await
            .expect("break");
        assert!(matches!(agents::get(&db, tenant(), &made.id).await, Err(CoreError::Internal(_))));
        // The readers still work afterwards.
        assert_eq!(agents::list(&db, tenant(), None, 20).await.expect("list").agents.len(), 1);
        db.close().await;
    }
}
