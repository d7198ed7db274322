//! The SQL implementation of [`Store`](super::Store) shared by SQLite and PostgreSQL.

mod dispatch;
mod events;
mod hints;
mod kv;
mod sqlite;
mod upkeep;

#[cfg(test)]
pub(crate) mod test_postgres;

use super::{Backend, Store, StoreConfig, StoreError};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Transaction};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;

/// Which SQL dialect a statement must be written in, where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.35+.
    Sqlite,
    /// PostgreSQL 12+.
    Postgres,
}

/// A [`Store`] over an sqlx `Any` pool, with SQLite's hot writes on a thread of their own.
#[derive(Debug, Clone)]
pub struct SqlStore {
    /// Reads, and on PostgreSQL everything.
    pub(crate) pool: AnyPool,
    /// Where sqlx's writes run. On SQLite a pool of one connection; on PostgreSQL the same
    /// pool as `pool`.
    pub(crate) writes: AnyPool,
    pub(crate) dialect: Dialect,
    /// SQLite only: the thread that runs the hot write transactions whole, and the write
    /// gate every writer of the process queues on.
    sqlite: Option<Arc<sqlite::SqliteWriter>>,
    /// WAL checkpoints (SQLite only).
    checkpoints: Option<upkeep::Checkpointer>,
    /// Vacuums of the outbox (PostgreSQL only).
    pub(crate) outbox_vacuum: Option<upkeep::OutboxVacuum>,
    /// The directory of an SQLite database asked for as `sqlite::memory:`, removed with the
    /// last clone of the store.
    _scratch: Option<Arc<tempfile::TempDir>>,
}

/// A write transaction of sqlx; on SQLite it holds the write gate until it ends.
pub(crate) struct WriteTx {
    // Declared first so it ends (commit, or rollback on drop) before the gate opens.
    tx: Transaction<'static, Any>,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits the transaction.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Rolls the transaction back.
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
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
        let (url, sqlite_file, scratch) = match dialect {
            Dialect::Sqlite => {
                let (url, file, scratch) = prepare_sqlite_url(url)?;
                (url, Some(file), scratch)
            }
            Dialect::Postgres => (url.to_string(), None, None),
        };
        let unavailable =
            |e: sqlx::Error| StoreError::Unavailable(format!("{}: {e}", redact(&url)));
        let pool = pool_options(dialect, config.max_connections.max(1), config, "")
            .connect(&url)
            .await
            .map_err(unavailable)?;
        let writes = match dialect {
            Dialect::Sqlite => pool_options(dialect, 1, config, "PRAGMA wal_autocheckpoint=0;")
                .connect(&url)
                .await
                .map_err(unavailable)?,
            Dialect::Postgres => pool.clone(),
        };
        let migrator = match dialect {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(&writes)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let sqlite = match &sqlite_file {
            Some(file) => Some(Arc::new(sqlite::SqliteWriter::open(file)?)),
            None => None,
        };
        Ok(SqlStore {
            pool,
            writes,
            dialect,
            checkpoints: sqlite
                .clone()
                .map(|w| upkeep::Checkpointer::new(w, config.wal_restart_mib)),
            sqlite,
            outbox_vacuum: (dialect == Dialect::Postgres).then(upkeep::OutboxVacuum::new),
            _scratch: scratch.map(Arc::new),
        })
    }

    /// Waits for the write gate (SQLite); the guard opens it again when dropped.
    pub(crate) async fn enter_gate(&self) -> Option<OwnedMutexGuard<()>> {
        if let Some(c) = &self.checkpoints {
            c.on_write(&self.pool);
        }
        match &self.sqlite {
            Some(writer) => Some(writer.enter_gate().await),
            None => None,
        }
    }

    /// Begins a write transaction of sqlx (through the write gate on SQLite).
    pub(crate) async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let gate = self.enter_gate().await;
        Ok(WriteTx {
            tx: self.writes.begin().await?,
            _gate: gate,
        })
    }

    /// SQLite's write thread, with the checkpoint it may make due (`None` on PostgreSQL).
    pub(crate) fn sqlite_writer(&self) -> Option<&sqlite::SqliteWriter> {
        let writer = self.sqlite.as_deref()?;
        if let Some(c) = &self.checkpoints {
            c.on_write(&self.pool);
        }
        Some(writer)
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

/// The sqlx URL of an SQLite database, the file it names, and — for `sqlite::memory:` — the
/// temporary directory holding the file that stands in for it. (A file rather than memory:
/// the write thread and sqlx's connections must open the same database, and sqlx names each
/// in-memory database anew per connection string.) Creates the parent directory of the file.
fn prepare_sqlite_url(
    url: &str,
) -> Result<(String, PathBuf, Option<tempfile::TempDir>), StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (file, scratch) = if path.is_empty() || path == ":memory:" {
        let dir = tempfile::Builder::new()
            .prefix("hintd-store-")
            .tempdir()
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot create a temporary store: {e}"))
            })?;
        (dir.path().join("hintd.db"), Some(dir))
    } else {
        (PathBuf::from(path), None)
    };
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
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
    Ok((
        format!("sqlite://{}?{query}", file.display()),
        file,
        scratch,
    ))
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
