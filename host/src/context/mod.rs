//! Each dialog's recent messages: the context plugins see.
//!
//! [`ContextService`] stores every ingested event with the conversation changes it causes
//! (one transaction, group-committed with its neighbours) and keeps each dialog's newest
//! messages in memory; the store stays the source of truth, so a restart loses nothing.
//! Open hint panels [watch](ContextService::watch) their dialog for new client messages.

mod changes;
mod retention;
mod service;
mod watch;
mod window;
mod writer;

pub use retention::spawn_retention;
pub use service::{
    ClientMessageRef, ContextService, Conversation, DialogSnapshot, PENDING_DIALOG_PREFIX,
};
pub use watch::{MAX_WATCHED_DIALOGS, MAX_WATCHERS_PER_DIALOG, WatchError};

use crate::store::StoreError;
use serde::Deserialize;

/// `[context]`: window size, retention and the writer's batching.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContextConfig {
    /// Messages kept per dialog (newest).
    pub max_messages: usize,
    /// Characters of message text plugins receive per request (newest messages first).
    pub max_chars: usize,
    /// Messages older than this many days are deleted; 0 keeps them forever.
    pub retention_days: u32,
    /// How often the retention purge runs, seconds.
    pub purge_interval_secs: u64,
    /// Dialogs without activity for this long are dropped from memory (reloaded from the
    /// store when needed); 0 keeps them.
    pub idle_evict_secs: u64,
    /// Most events written in one transaction.
    pub write_batch_max: usize,
    /// Most events waiting for the writer before callers wait for room.
    pub write_queue: usize,
}

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            max_messages: 50,
            max_chars: 15_000,
            retention_days: 90,
            purge_interval_secs: 3_600,
            idle_evict_secs: 0,
            write_batch_max: 512,
            write_queue: 16_384,
        }
    }
}

impl ContextConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_messages == 0 || self.max_messages > 10_000 {
            return Err("context.max_messages must be between 1 and 10000".into());
        }
        if self.max_chars == 0 {
            return Err("context.max_chars must be at least 1".into());
        }
        if self.write_batch_max == 0 || self.write_queue == 0 {
            return Err(
                "context.write_batch_max and context.write_queue must be at least 1".into(),
            );
        }
        if self.purge_interval_secs == 0 {
            return Err("context.purge_interval_secs must be at least 1".into());
        }
        Ok(())
    }
}

/// Why a context operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
