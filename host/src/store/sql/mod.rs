//! The SQL implementation of [`Store`](super::Store) shared by SQLite and PostgreSQL.

mod dispatch;
mod events;
mod hints;
mod kv;
mod upkeep;

#[cfg(test)]
pub(crate) mod test_postgres;

use super::{Backend, Store, StoreConfig, StoreError};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Transaction};
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
    /// Reads, and on PostgreSQL everything.
    pub(crate) pool: AnyPool,
    /// Where every write runs. On SQLite this is the write gate: a pool of one connection.
    /// SQLite admits one writer at a time; a writer queued in the pool's FIFO starts the
    /// moment the previous commit ends, where one left to SQLite's busy handler sleeps up to
    /// 100 ms between retries (that sleep was the hint path's p99). One writing connection
    /// also keeps its page cache warm: a connection another one wrote behind must drop its
    /// cache at its next transaction. On PostgreSQL it is the same pool as `pool`.
    pub(crate) writes: AnyPool,
    pub(crate) dialect: Dialect,
    /// WAL checkpoints (SQLite files only).
    checkpoints: Option<upkeep::Checkpointer>,
    /// Vacuums of the outbox (PostgreSQL only).
    pub(crate) outbox_vacuum: Option<upkeep::OutboxVacuum>,
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
        // sqlx names each in-memory SQLite database anew per parsed URL, so a second pool
        // would open a second, empty database: one shared pool of one connection instead.
        let in_memory = url == "sqlite::memory:";
        let pool_size = if in_memory {
            1
        } else {
            config.max_connections.max(1)
        };
        let pool = pool_options(dialect, pool_size, config, "")
            .connect(&url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", redact(&url))))?;
        let write_gate = dialect == Dialect::Sqlite && !in_memory;
        let writes = if write_gate {
            pool_options(dialect, 1, config, "PRAGMA wal_autocheckpoint=0;")
                .connect(&url)
                .await
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", redact(&url))))?
        } else {
            pool.clone()
        };
        let migrator = match dialect {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(&writes)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(SqlStore {
            pool,
            writes,
            dialect,
            checkpoints: write_gate.then(upkeep::Checkpointer::new),
            outbox_vacuum: (dialect == Dialect::Postgres).then(upkeep::OutboxVacuum::new),
        })
    }

    /// Begins a write transaction (through the write gate on SQLite).
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        if let Some(c) = &self.checkpoints {
            c.on_write(&self.pool);
        }
        self.writes.begin().await
    }
}

/// Pool settings for `size` connections; on SQLite every connection gets the same pragmas
/// followed by `extra_pragmas`.
fn pool_options(
    dialect: Dialect,
    size: u32,
    config: &StoreConfig,
    extra_pragmas: &'static str,
) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_millis(config.acquire_timeout_ms));
    if dialect != Dialect::Sqlite {
        return options;
    }
    // WAL lets readers proceed beside the writer; NORMAL syncs at checkpoints, which keeps
    // every committed transaction across a process crash (not a power cut). The busy timeout
    // only matters for another process on the same file: in this one, writes queue in the
    // write gate.
    options.after_connect(move |conn, _| {
        Box::pin(async move {
            use sqlx::Executor;
            conn.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;").await?;
            if !extra_pragmas.is_empty() {
                conn.execute(extra_pragmas).await?;
            }
            Ok(())
        })
    })
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
