//! Reading a key's row for verification, fresh from the database on every request.
//!
//! On PostgreSQL this is one query on the shared pool. On SQLite, any query through sqlx costs
//! about 50 µs here in hand-offs to its connection thread alone (docs/benchmarks.md) — more than all
//! the rest of verification — so the row is read on the calling thread through one of a few reused
//! read-only rusqlite connections to the same file. In WAL mode readers never wait for the writer;
//! should a read still fail, the pool answers instead.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
    time::Duration,
};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sqlx::Row;

use crate::Db;

const KEY_ROW_SQL: &str =
    "SELECT k.id, k.name, k.environment, k.scopes, k.resources, k.digest, k.expires_at, k.revoked_at,
        k.rate_limit_per_minute, w.id AS workspace_id, w.slug, w.name AS workspace_name, w.key_rate_limit_per_minute
     FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.id = $1";

/// Idle read connections kept for reuse.
const MAX_IDLE: usize = 8;

/// What verification needs of a key and its workspace.
#[derive(Debug, Clone)]
pub(crate) struct KeyRow {
    pub id: String,
    pub name: String,
    pub environment: String,
    pub scopes: String,
    pub resources: Option<String>,
    pub digest: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub rate_limit_per_minute: Option<i64>,
    pub workspace_id: String,
    pub workspace_slug: String,
    pub workspace_name: String,
    pub workspace_rate_limit: i64,
}

#[derive(Debug)]
pub(crate) struct Lookup {
    db: Db,
    sqlite: Option<SqliteReaders>,
}

#[derive(Debug)]
struct SqliteReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Lookup {
    pub fn new(db: Db) -> Self {
        let sqlite = db.sqlite_path().map(|path| SqliteReaders { path: path.to_owned(), idle: Mutex::new(Vec::new()) });
        Lookup { db, sqlite }
    }

    /// The key's row, or `None` when no key has this id.
    pub async fn find(&self, id: &str) -> Result<Option<KeyRow>, sqlx::Error> {
        if let Some(readers) = &self.sqlite {
            match readers.find(id) {
                Ok(row) => return Ok(row),
                Err(e) => tracing::debug!(error = %e, "direct SQLite read failed; asking the pool"),
            }
        }
        let row = sqlx::query(KEY_ROW_SQL).bind(id).fetch_optional(self.db.pool()).await?;
        row.map(|r| {
            Ok(KeyRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                environment: r.try_get("environment")?,
                scopes: r.try_get("scopes")?,
                resources: r.try_get("resources")?,
                digest: r.try_get("digest")?,
                expires_at: r.try_get("expires_at")?,
                revoked_at: r.try_get("revoked_at")?,
                rate_limit_per_minute: r.try_get("rate_limit_per_minute")?,
                workspace_id: r.try_get("workspace_id")?,
                workspace_slug: r.try_get("slug")?,
                workspace_name: r.try_get("workspace_name")?,
                workspace_rate_limit: r.try_get("key_rate_limit_per_minute")?,
            })
        })
        .transpose()
    }
}

impl SqliteReaders {
    fn find(&self, id: &str) -> rusqlite::Result<Option<KeyRow>> {
        let conn = match self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            Some(conn) => conn,
            None => open_reader(&self.path)?,
        };
        let result = read_row(&conn, id);
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
    Ok(conn)
}

fn read_row(conn: &Connection, id: &str) -> rusqlite::Result<Option<KeyRow>> {
    let mut statement = conn.prepare_cached(KEY_ROW_SQL)?;
    statement
        .query_row([id], |r| {
            Ok(KeyRow {
                id: r.get("id")?,
                name: r.get("name")?,
                environment: r.get("environment")?,
                scopes: r.get("scopes")?,
                resources: r.get("resources")?,
                digest: r.get("digest")?,
                expires_at: r.get("expires_at")?,
                revoked_at: r.get("revoked_at")?,
                rate_limit_per_minute: r.get("rate_limit_per_minute")?,
                workspace_id: r.get("workspace_id")?,
                workspace_slug: r.get("slug")?,
                workspace_name: r.get("workspace_name")?,
                workspace_rate_limit: r.get("key_rate_limit_per_minute")?,
            })
        })
        .optional()
}
