//! The SQL implementation of [`Store`](super::Store) shared by SQLite and PostgreSQL.

mod dispatch;
mod events;
mod hints;
mod kv;

use super::{Backend, Store, StoreConfig, StoreError};
use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use std::time::Duration;

/// Which SQL dialect a statement must be written in, where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.35+.
    Sqlite,
    /// PostgreSQL 12+.
    Postgres,
}

/// A [`Store`] over an sqlx `Any` pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    pub(crate) dialect: Dialect,
    /// The connection ingest batches are written on (see `events.rs`), kept out of the pool.
    pub(crate) ingest_conn: events::IngestConnection,
}

impl SqlStore {
    /// Connects, creates the database file if needed (SQLite) and applies migrations.
    pub async fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        install_default_drivers();
        let url = config.url.as_str();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::InvalidUrl {
                url: redact(url),
                reason: "expected sqlite://PATH or postgres://USER@HOST:PORT/DB".into(),
            });
        };
        let url = match dialect {
            Dialect::Sqlite => prepare_sqlite_url(url)?,
            Dialect::Postgres => url.to_string(),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(Duration::from_millis(config.acquire_timeout_ms));
        if dialect == Dialect::Sqlite {
            // WAL lets readers proceed beside the writer; NORMAL syncs at checkpoints, which
            // keeps every committed transaction across a process crash (not a power cut).
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;").await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", redact(&url))))?;
        let migrator = match dialect {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(SqlStore {
            pool,
            dialect,
            ingest_conn: Default::default(),
        })
    }
}

/// Creates the parent directory of an SQLite file and asks sqlx to create the file.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Ok("sqlite::memory:".into());
    }
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|e| StoreError::InvalidUrl {
            url: url.into(),
            reason: format!("cannot create directory {}: {e}", parent.display()),
        })?;
    }
    let mode = if query.contains("mode=") {
        String::new()
    } else {
        "mode=rwc".into()
    };
    let query = [query, mode.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("&");
    Ok(format!("sqlite://{path}?{query}"))
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> Backend {
        match self.dialect {
            Dialect::Sqlite => Backend::Sqlite,
            Dialect::Postgres => Backend::Postgres,
        }
    }
}
