//! The database: one pool for SQLite or PostgreSQL, which engine it is, and the migrations of each.
//!
//! Queries elsewhere are written once, in portable SQL (`$1` placeholders, text ids, integer unix
//! milliseconds), and run on sqlx's `Any` driver. Engine-specific SQL stays in this file.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    AnyPool, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

use crate::{
    changes::{Changes, Topic},
    direct::SqliteReaders,
    error::{CoreError, CoreResult},
};

/// SQLite's page cache per connection, in KiB (its default is 2,000). Up to 18 connections are
/// open (the pool's 8, the direct readers' 8 and the session store's 2), and each one's cache fills
/// as the file grows, so this bounds what SQLite keeps in memory: 4.5 MiB at most, reached within
/// minutes of load. The hot reads touch a few pages each; the kernel's file cache holds the rest.
pub const SQLITE_CACHE_KIB: u32 = 256;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbEngine {
    Sqlite,
    Postgres,
}

impl DbEngine {
    /// The engine of a `DATABASE_URL`, or an error naming what is accepted.
    pub fn of_url(url: &str) -> CoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(DbEngine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbEngine::Postgres)
        } else {
            Err(CoreError::invalid("DATABASE_URL", "must start with sqlite: or postgres:// (or postgresql://)"))
        }
    }
}

/// The shared connection pool and the engine behind it, and this process's record of changes
/// (`crate::changes`). Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    engine: DbEngine,
    /// Direct readers of the SQLite file (`crate::direct`).
    readers: Option<Arc<SqliteReaders>>,
    /// What changed since cached values were read; fed by this process and the change feed.
    changes: Arc<Changes>,
    /// PostgreSQL: where the change feed listens (a connection of its own).
    listen_url: Option<Arc<str>>,
}

impl std::fmt::Debug for Db {
    // Never the URL: it may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("engine", &self.engine).finish_non_exhaustive()
    }
}

impl Db {
    /// Opens a pool. An SQLite file (and its folder) is created when missing and put in WAL mode.
    pub async fn connect(url: &str) -> CoreResult<Self> {
        sqlx::any::install_default_drivers();
        let engine = DbEngine::of_url(url)?;
        let (url, sqlite_path) = match engine {
            DbEngine::Sqlite => {
                let prepared = prepare_sqlite_url(url)?;
                let path = sqlite_file(&prepared).map(std::path::PathBuf::from);
                (prepared, path)
            }
            DbEngine::Postgres => (url.to_owned(), None),
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|e| CoreError::invalid("DATABASE_URL", e.to_string()))?;
        let pool_options = AnyPoolOptions::new()
            .max_connections(match engine {
                DbEngine::Sqlite => 8,
                DbEngine::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10));
        let pool_options = if engine == DbEngine::Sqlite {
            pool_options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers work beside the one writer; NORMAL sync is safe under WAL.
                    let pragmas = format!(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                         PRAGMA busy_timeout = 5000; PRAGMA cache_size = -{SQLITE_CACHE_KIB};"
                    );
                    conn.execute(pragmas.as_str()).await?;
                    Ok(())
                })
            })
        } else {
            pool_options
        };
        let pool = pool_options.connect_with(options).await?;
        let readers = sqlite_path.as_deref().map(|path| Arc::new(SqliteReaders::new(path)));
        let listen_url = (engine == DbEngine::Postgres).then(|| Arc::from(url.as_str()));
        Ok(Db { pool, engine, readers, changes: Arc::default(), listen_url })
    }

    /// Applies the migrations of this engine that have not run yet.
    pub async fn migrate(&self) -> CoreResult<()> {
        let migrator = match self.engine {
            DbEngine::Sqlite => &SQLITE_MIGRATIONS,
            DbEngine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.map_err(|e| CoreError::Internal(format!("migration failed: {e}")))
    }

    /// True when a trivial query succeeds.
    pub async fn is_reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// On SQLite, runs `read` on the calling thread through a reused read-only connection
    /// (`crate::direct`). `None` when the database is PostgreSQL or the read failed: the caller
    /// then asks the pool, whose answer (or error) is the one that counts.
    pub(crate) fn read_direct<T>(&self, read: impl FnOnce(&rusqlite::Connection) -> CoreResult<T>) -> Option<T> {
        let readers = self.readers.as_ref()?;
        match readers.read(read) {
            Ok(value) => Some(value),
            Err(e) => {
                tracing::debug!(error = %e, "direct SQLite read failed; asking the pool");
                None
            }
        }
    }

    pub fn engine(&self) -> DbEngine {
        self.engine
    }

    /// This process's record of changes, which the caches consult.
    pub fn changes(&self) -> &Arc<Changes> {
        &self.changes
    }

    /// Records, for this process's caches and at once, that what a credential may reach has
    /// changed: `id` is the key's or grant's id, or a workspace's id for what touches all of its
    /// credentials (its key policy, its members). Domain functions call it after they commit such
    /// a change, before their answer is sent; other processes learn of it from the change feed
    /// (`crate::changes::feed`).
    pub fn access_changed(&self, id: &str) {
        self.changes.changed(Topic::Access, id);
    }

    /// The same for a workspace's upstream servers (the gateway's cached registry).
    pub fn servers_changed(&self, workspace_id: &str) {
        self.changes.changed(Topic::Servers, workspace_id);
    }

    /// The same for a workspace's agents (the cached pages of `list_agents`).
    pub fn agents_changed(&self, workspace_id: &str) {
        self.changes.changed(Topic::Agents, workspace_id);
    }

    /// Where the change feed listens (PostgreSQL only).
    pub(crate) fn listen_url(&self) -> Option<&str> {
        self.listen_url.as_deref()
    }

    /// The same database with direct reads turned off: every read goes through the pool.
    #[cfg(test)]
    pub(crate) fn pool_only(&self) -> Db {
        Db { readers: None, ..self.clone() }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The file path of a prepared `sqlite://path?query` URL.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://")?;
    Some(rest.split_once('?').map_or(rest, |(path, _)| path))
}

/// Creates the folder of an SQLite file and asks SQLite to create the file when it is missing.
fn prepare_sqlite_url(url: &str) -> CoreResult<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(CoreError::invalid(
            "DATABASE_URL",
            "an SQLite URL needs a file path, e.g. sqlite://data/gatehouse.db",
        ));
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| CoreError::Internal(format!("cannot create the folder {}: {e}", parent.display())))?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_of_url() {
        assert_eq!(DbEngine::of_url("sqlite://data/x.db").ok(), Some(DbEngine::Sqlite));
        assert_eq!(DbEngine::of_url("postgres://u@h/db").ok(), Some(DbEngine::Postgres));
        assert!(DbEngine::of_url("mysql://h/db").is_err());
    }

    #[test]
    fn sqlite_url_gets_create_mode() {
        let dir = std::env::temp_dir().join(format!("gh-db-{}", crate::ids::random_base62(8)));
        let url = format!("sqlite://{}/g.db", dir.display());
        let prepared = prepare_sqlite_url(&url).expect("valid url");
        assert!(prepared.ends_with("g.db?mode=rwc"));
        assert!(dir.is_dir());
        assert!(prepare_sqlite_url("sqlite::memory:").is_err());
    }
}
