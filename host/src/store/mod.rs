//! Persistence behind one trait, [`Store`], with an embedded SQLite backend (the default)
//! and a PostgreSQL backend for several replicas. Both run the same SQL ([`sql`]): through
//! sqlx's `Any` driver, except SQLite's hot writes, which run whole on a write thread of
//! their own (`sql::sqlite`); the few statements that differ are chosen by [`sql::Dialect`].
//!
//! The store sits under every other layer, so it speaks only in its own record types and the
//! value types of [`crate::core`].

mod dispatch;
mod error;
mod events;
mod hints;
mod kv;
pub mod sql;

pub use dispatch::*;
pub use error::StoreError;
pub use events::*;
pub use hints::*;
pub use kv::*;

use serde::Deserialize;
use std::sync::Arc;

/// Everything hintd persists. One implementation per backend family; handed around as
/// `Arc<dyn Store>`.
#[async_trait::async_trait]
pub trait Store: EventStore + KvStore + HintStore + DispatchStore + Send + Sync + 'static {
    /// Checks that the database answers (used by `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
    /// Which backend this is.
    fn backend(&self) -> Backend;
}

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file, one process.
    Sqlite,
    /// PostgreSQL server, any number of replicas.
    Postgres,
}

/// Connection settings of the store (`[store]` in the config file).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://path/to/file.db` or `postgres://user@host:port/db`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before failing, in ms.
    pub acquire_timeout_ms: u64,
    /// SQLite: WAL size, MiB, at which a checkpoint is finished on the write thread so the
    /// WAL starts over (see `sql::upkeep`). Only reached under writes that never pause.
    pub wal_restart_mib: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: "sqlite://./hintd-data/hintd.db".into(),
            max_connections: 8,
            acquire_timeout_ms: 5_000,
            wal_restart_mib: 256,
        }
    }
}

/// Opens the store named by `config.url`, creating and migrating it as needed.
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(sql::SqlStore::connect(config).await?))
}
