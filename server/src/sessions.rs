//! The session store: tower-sessions' sqlx store for whichever engine `DATABASE_URL` names.
//!
//! tower-sessions-sqlx-store takes a concrete SQLite or PostgreSQL pool, not sqlx's `Any` pool the
//! domain uses, so the store keeps a small pool of its own to the same database.

use async_trait::async_trait;
use gatehouse_core::DbEngine;
use sqlx::{postgres::PgPoolOptions, sqlite::SqlitePoolOptions};
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
                let opts: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
                let opts = opts.pragma("cache_size", format!("-{}", gatehouse_core::db::SQLITE_CACHE_KIB));
                let pool = SqlitePoolOptions::new()
                    .max_connections(2)
                    .connect_with(opts.busy_timeout(std::time::Duration::from_secs(5)))
                    .await?;
                let store = SqliteStore::new(pool);
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
