//! The session store: tower-sessions' sqlx store for whichever engine `DATABASE_URL` names.
//!
//! tower-sessions-sqlx-store takes a concrete SQLite or PostgreSQL pool, not sqlx's `Any` pool the
//! domain uses, so the store keeps a small pool of its own to the same database.

use async_trait::async_trait;
use gatehouse_core::DbEngine;
use sqlx::{
    SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqlitePoolOptions},
};
use tower_sessions::{
    ExpiredDeletion, SessionStore,
    session::{Id, Record},
    session_store,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Sessions {
    /// Connects to the database of `url` and creates the session table when missing.
    /// The domain pool must have been opened first (it creates an SQLite file and folder).
    pub async fn connect(engine: DbEngine, url: &str) -> anyhow::Result<Self> {
        let store = match engine {
            DbEngine::Sqlite => {
                let store = SqliteStore::new(sqlite_pool(url).await?);
                store.migrate().await?;
                Sessions::Sqlite(store)
            }
            DbEngine::Postgres => {
                let pool = PgPoolOptions::new().max_connections(4).connect(url).await?;
                let store = PostgresStore::new(pool);
                store.migrate().await?;
                Sessions::Postgres(store)
            }
        };
        Ok(store)
    }
}

/// The store's own two connections to the SQLite file, with the domain pool's bounded page cache.
async fn sqlite_pool(url: &str) -> anyhow::Result<SqlitePool> {
    let opts: SqliteConnectOptions = url.parse()?;
    let opts = opts
        .pragma("cache_size", format!("-{}", gatehouse_core::db::SQLITE_CACHE_KIB))
        .busy_timeout(std::time::Duration::from_secs(5));
    Ok(SqlitePoolOptions::new().max_connections(2).connect_with(opts).await?)
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.create(record).await,
            Sessions::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.save(record).await,
            Sessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s) => s.load(id).await,
            Sessions::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete(id).await,
            Sessions::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete_expired().await,
            Sessions::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_store_bounds_sqlites_page_cache_like_the_domain_pool() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("sessions.db").display());
        let pool = sqlite_pool(&url).await.expect("pool");
        let cache: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&pool).await.expect("pragma");
        assert_eq!(cache, -i64::from(gatehouse_core::db::SQLITE_CACHE_KIB));
    }
}
