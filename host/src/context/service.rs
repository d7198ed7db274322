//! The context service: stores ingested events with their conversation changes (through the
//! group-commit writer) and keeps each dialog's recent messages hot in memory. The store is
//! the source of truth: memory that misses a dialog (after a restart, or an eviction) loads
//! it back on first read.

use super::changes::{KnownRow, changes_for};
use super::watch::{DialogWatch, WatchError};
use super::window::DialogWindow;
use super::writer::EventWriter;
use super::{ContextConfig, ContextError};
use crate::core::{DialogKey, Message, Source};
use crate::ingest::{Event, EventKind};
use crate::store::{Appended, DialogRecord, Erasure, IngestRecord, NewEvent, Store};
use dashmap::DashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Prefix of the dialog id given to Chat2Desk messages that name their client but no
/// dialog, until a later event names the client's real dialog.
pub const PENDING_DIALOG_PREFIX: &str = "client:";

/// The newest client message of a dialog (for stale-hint suppression).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClientMessageRef {
    /// Platform message id.
    pub id: String,
    /// Sent time, unix ms.
    pub sent_at_ms: i64,
}

/// What the hint pipeline reads of a dialog for one request ([`ContextService::snapshot`]).
#[derive(Debug, Clone, Default)]
pub struct DialogSnapshot {
    /// The plugin-visible window, oldest first, private notes removed.
    pub window: Vec<Message>,
    /// The newest client message.
    pub latest_client: Option<ClientMessageRef>,
}

/// A dialog as the conversations API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Conversation {
    /// The stored dialog row, when there is one.
    pub dialog: Option<DialogRecord>,
    /// The newest messages, private notes included (flagged), oldest first.
    pub messages: Vec<Message>,
    /// What plugins see: no private notes, within the character budget, oldest first.
    pub context: Vec<Message>,
}

/// Each dialog's context. Cheap to clone.
#[derive(Clone)]
pub struct ContextService {
    inner: Arc<Inner>,
}

struct Inner {
    config: ContextConfig,
    store: Arc<dyn Store>,
    writer: EventWriter,
    dialogs: DashMap<DialogKey, DialogWindow>,
    /// (source, account, client) → the client's current dialog, for events without a dialog.
    client_dialogs: DashMap<(Source, Box<str>, Box<str>), Box<str>>,
    /// Whether any pending (`client:`) dialog may exist, so the common path skips the check.
    pending_dialogs: AtomicBool,
    /// Whether other processes write the same store (PostgreSQL with several replicas): then
    /// memory is never trusted as complete and reads go to the store.
    shared_store: bool,
    started: Instant,
    /// Open hint panels waiting for their dialog's next client message.
    watch: DialogWatch,
}

impl ContextService {
    /// Builds the service and starts its writer task.
    pub fn new(config: ContextConfig, store: Arc<dyn Store>) -> ContextService {
        let writer = EventWriter::spawn(store.clone(), config.write_batch_max, config.write_queue);
        let shared_store = store.backend() == crate::store::Backend::Postgres;
        ContextService {
            inner: Arc::new(Inner {
                config,
                store,
                writer,
                dialogs: DashMap::new(),
                client_dialogs: DashMap::new(),
                // Set by `check_pending_dialogs` at start and whenever one is created.
                pending_dialogs: AtomicBool::new(true),
                started: Instant::now(),
                shared_store,
                watch: DialogWatch::default(),
            }),
        }
    }

    /// Looks once whether the store holds pending (`client:`) dialogs, so that the common
    /// path skips merging when none do.
    pub async fn check_pending_dialogs(&self) -> Result<(), ContextError> {
        let any = self
            .inner
            .store
            .has_dialogs_with_prefix(PENDING_DIALOG_PREFIX)
            .await?;
        self.inner.pending_dialogs.store(any, Ordering::Relaxed);
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &ContextConfig {
        &self.inner.config
    }

    /// Gives a message event that names its client but no dialog the client's current
    /// dialog (or a pending `client:<id>` one), and merges a pending dialog into the real one
    /// when an event first names both.
    pub async fn resolve_dialog(&self, event: &mut Event) -> Result<(), ContextError> {
        // Only Chat2Desk sends messages without their dialog; the others' parsers require it.
        let Some(source) = event.meta.source.filter(|s| *s == Source::Chat2desk) else {
            return Ok(());
        };
        let Some(client) = event.meta.client_id.clone() else {
            return Ok(());
        };
        let account = event.meta.account.clone();
        let index_key = (
            source,
            Box::<str>::from(account.as_str()),
            Box::<str>::from(client.as_str()),
        );
        match event.meta.dialog_id.clone() {
            Some(dialog) => {
                let known = self
                    .inner
                    .client_dialogs
                    .get(&index_key)
                    .map(|d| &**d.value() == dialog.as_str());
                if known != Some(true) {
                    self.inner
                        .client_dialogs
                        .insert(index_key, dialog.as_str().into());
                    if self.inner.pending_dialogs.load(Ordering::Relaxed) {
                        self.merge_pending(source, &account, &client, &dialog)
                            .await?;
                    }
                }
            }
            None if is_message(&event.kind) => {
                let cached = self
                    .inner
                    .client_dialogs
                    .get(&index_key)
                    .map(|d| d.value().to_string());
                let dialog = match cached {
                    Some(d) => d,
                    None => match self
                        .inner
                        .store
                        .dialog_of_client(source.as_str(), &account, &client)
                        .await?
                    {
                        Some(d) => d,
                        None => {
                            self.inner.pending_dialogs.store(true, Ordering::Relaxed);
                            format!("{PENDING_DIALOG_PREFIX}{client}")
                        }
                    },
                };
                self.inner
                    .client_dialogs
                    .insert(index_key, dialog.as_str().into());
                event.meta.dialog_id = Some(dialog);
            }
            None => {}
        }
        Ok(())
    }

    async fn merge_pending(
        &self,
        source: Source,
        account: &str,
        client: &str,
        dialog: &str,
    ) -> Result<(), ContextError> {
        let pending = DialogKey::new(source, account, format!("{PENDING_DIALOG_PREFIX}{client}"));
        let in_memory = self.inner.dialogs.contains_key(&pending);
        if !in_memory && self.inner.store.dialog(&pending).await?.is_none() {
            return Ok(());
        }
        let real = DialogKey::new(source, account, dialog);
        self.inner.store.merge_dialog(&pending, &real).await?;
        self.inner.dialogs.remove(&pending);
        // The real dialog's window now misses the merged messages: reload it on next read.
        if let Some(mut w) = self.inner.dialogs.get_mut(&real) {
            w.complete = false;
        }
        Ok(())
    }

    /// Stores an ingested event (raw payload + conversation changes, one transaction) and
    /// then applies it to memory. Duplicates change nothing.
    pub async fn record(
        &self,
        event: &Event,
        payload: Vec<u8>,
        received_at_ms: i64,
    ) -> Result<Appended, ContextError> {
        let key = event.meta.dialog_key();
        let changes = match &key {
            Some(key) => {
                // With other writers, memory's view of the row may be stale: always write it.
                let known = if self.inner.shared_store {
                    None
                } else {
                    self.inner.dialogs.get(key)
                };
                let row = known.as_deref().map_or(KnownRow::default(), |w| KnownRow {
                    written: w.row_written,
                    closed: w.closed,
                    operator_id: w.operator_id.as_deref(),
                });
                changes_for(event, key, row)
            }
            None => Vec::new(),
        };
        let record = IngestRecord {
            event: NewEvent {
                source: event
                    .meta
                    .source
                    .map_or("hintd", |s| s.as_str())
                    .to_string(),
                account: event.meta.account.clone(),
                event_type: event.meta.event_type.clone(),
                dialog_id: event.meta.dialog_id.clone(),
                dedup_key: event.meta.dedup_key.clone(),
                received_at_ms,
                payload,
            },
            client_id: event.meta.client_id.clone(),
            changes,
        };
        let appended = self.inner.writer.write(record).await?;
        if appended != Appended::Duplicate
            && let Some(key) = key
        {
            let client_message = match &event.kind {
                EventKind::MessageAdded { message }
                    if message.role == crate::core::Role::Client && !message.private =>
                {
                    Some(ClientMessageRef {
                        id: message.id.clone(),
                        sent_at_ms: message.sent_at_ms,
                    })
                }
                _ => None,
            };
            // Told after `apply`, so that a watcher reading the context finds the message.
            let watched = client_message.map(|m| (key.clone(), m));
            self.apply(event, key);
            if let Some((key, message)) = watched {
                self.inner.watch.notify(&key, message);
            }
        }
        Ok(appended)
    }

    /// Subscribes to the client messages stored for `key` from now on (only those this
    /// process ingests). Bounded per dialog and in total.
    pub fn watch(
        &self,
        key: &DialogKey,
    ) -> Result<tokio::sync::broadcast::Receiver<ClientMessageRef>, WatchError> {
        self.inner.watch.subscribe(key)
    }

    /// Ends every watch and refuses new ones (the server is stopping).
    pub fn stop_watching(&self) {
        self.inner.watch.close();
    }

    /// Dialogs watched (entries of the watch registry).
    pub fn watched_dialogs(&self) -> usize {
        self.inner.watch.len()
    }

    /// Applies a committed event to the dialog's window.
    fn apply(&self, event: &Event, key: DialogKey) {
        let max = self.inner.config.max_messages;
        let now_s = self.inner.started.elapsed().as_secs() as u32;
        let mut w = self.inner.dialogs.entry(key).or_default();
        w.row_written = true;
        w.touched_s = now_s;
        if let Some(op) = &event.meta.operator_id
            && w.operator_id.as_deref() != Some(op.as_str())
        {
            w.operator_id = Some(op.as_str().into());
        }
        match &event.kind {
            EventKind::MessageAdded { message } | EventKind::MessageUpdated { message } => {
                if message.role == crate::core::Role::Client || event.meta.opens_dialog {
                    w.closed = false;
                }
                w.upsert(
                    message.clone(),
                    matches!(event.kind, EventKind::MessageUpdated { .. }),
                    max,
                );
            }
            EventKind::MessageDeleted { message_id } => w.delete(message_id),
            EventKind::DialogClosed => w.closed = true,
            EventKind::DialogOpened => w.closed = false,
            EventKind::DialogTransferred {
                to_operator: Some(op),
            } => w.operator_id = Some(op.as_str().into()),
            _ => {}
        }
    }

    /// Makes sure memory holds the dialog's stored messages; returns nothing, callers read
    /// the window right after.
    async fn ensure_loaded(&self, key: &DialogKey) -> Result<(), ContextError> {
        if !self.inner.shared_store && self.inner.dialogs.get(key).is_some_and(|w| w.complete) {
            return Ok(());
        }
        let loaded = self
            .inner
            .store
            .recent_messages(key, self.inner.config.max_messages as u32)
            .await?;
        if loaded.is_empty() && !self.inner.dialogs.contains_key(key) {
            // Unknown dialog: nothing to cache.
            return Ok(());
        }
        let mut w = self.inner.dialogs.entry(key.clone()).or_default();
        if self.inner.shared_store {
            // Another replica may have written since: the store's copy replaces memory's.
            w.replace_with(loaded, self.inner.config.max_messages);
        } else if !w.complete {
            w.merge_loaded(loaded, self.inner.config.max_messages);
        }
        Ok(())
    }

    /// What plugins see of a dialog: its newest messages without private notes, within the
    /// character budget, oldest first. Empty for an unknown dialog.
    pub async fn window(&self, key: &DialogKey) -> Result<Vec<Message>, ContextError> {
        self.ensure_loaded(key).await?;
        Ok(self
            .inner
            .dialogs
            .get(key)
            .map(|w| w.visible(self.inner.config.max_chars))
            .unwrap_or_default())
    }

    /// The plugin-visible window and the newest client message of a dialog, read together:
    /// one load from the store at most (on a shared store, one query per hint request
    /// instead of two).
    pub async fn snapshot(&self, key: &DialogKey) -> Result<DialogSnapshot, ContextError> {
        self.ensure_loaded(key).await?;
        Ok(match self.inner.dialogs.get(key) {
            Some(w) => DialogSnapshot {
                window: w.visible(self.inner.config.max_chars),
                latest_client: w
                    .latest_client()
                    .map(|(id, sent_at_ms)| ClientMessageRef { id, sent_at_ms }),
            },
            None => DialogSnapshot::default(),
        })
    }

    /// The newest client message of a dialog, if any.
    pub async fn latest_client_message(
        &self,
        key: &DialogKey,
    ) -> Result<Option<ClientMessageRef>, ContextError> {
        self.ensure_loaded(key).await?;
        Ok(self
            .inner
            .dialogs
            .get(key)
            .and_then(|w| w.latest_client())
            .map(|(id, sent_at_ms)| ClientMessageRef { id, sent_at_ms }))
    }

    /// The dialog as the conversations API shows it; `None` when hintd knows nothing of it.
    pub async fn conversation(
        &self,
        key: &DialogKey,
    ) -> Result<Option<Conversation>, ContextError> {
        let dialog = self.inner.store.dialog(key).await?;
        self.ensure_loaded(key).await?;
        let (messages, context) = match self.inner.dialogs.get(key) {
            Some(w) => (w.all(), w.visible(self.inner.config.max_chars)),
            None => (Vec::new(), Vec::new()),
        };
        if dialog.is_none() && messages.is_empty() {
            return Ok(None);
        }
        Ok(Some(Conversation {
            dialog,
            messages,
            context,
        }))
    }

    /// Erases a client everywhere: stored dialogs, messages and raw payloads, and memory.
    pub async fn erase_client(
        &self,
        source: Source,
        account: &str,
        client_id: &str,
    ) -> Result<Erasure, ContextError> {
        let erasure = self
            .inner
            .store
            .erase_client(source.as_str(), account, client_id)
            .await?;
        for dialog_id in &erasure.dialog_ids {
            self.inner
                .dialogs
                .remove(&DialogKey::new(source, account, dialog_id.as_str()));
        }
        self.inner.dialogs.remove(&DialogKey::new(
            source,
            account,
            format!("{PENDING_DIALOG_PREFIX}{client_id}"),
        ));
        self.inner
            .client_dialogs
            .remove(&(source, Box::from(account), Box::from(client_id)));
        Ok(erasure)
    }

    /// Deletes messages older than the retention age from the store and memory, and drops
    /// idle dialogs from memory. Returns the number of stored messages deleted.
    pub async fn purge(&self, now_ms: i64) -> Result<u64, ContextError> {
        let cfg = &self.inner.config;
        let mut deleted = 0;
        if cfg.retention_days > 0 {
            let cutoff = now_ms - i64::from(cfg.retention_days) * 86_400_000;
            deleted = self.inner.store.purge_messages_before(cutoff).await?;
            self.inner
                .dialogs
                .retain(|_, w| w.purge_before(cutoff) || w.row_written);
        }
        if cfg.idle_evict_secs > 0 {
            let now_s = self.inner.started.elapsed().as_secs();
            let idle = cfg.idle_evict_secs;
            self.inner
                .dialogs
                .retain(|_, w| now_s.saturating_sub(u64::from(w.touched_s)) < idle);
        }
        Ok(deleted)
    }

    /// Number of dialogs held in memory.
    pub fn cached_dialogs(&self) -> usize {
        self.inner.dialogs.len()
    }
}

fn is_message(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::MessageAdded { .. }
            | EventKind::MessageUpdated { .. }
            | EventKind::MessageDeleted { .. }
    )
}
