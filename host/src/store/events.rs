//! Raw events (the durable event log), messages and dialogs.

use super::StoreError;
use crate::core::{DialogKey, Message};
use std::sync::Arc;

/// One event as received, appended to the event log. The log is what dispatch delivers
/// from, so an event is durable once `ingest_batch` returns.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `chat2desk`, `chatwoot`, `whazing`, or `hintd` for hintd's own events.
    pub source: String,
    /// Account inside the source.
    pub account: String,
    /// The platform's own event name (`inbox`, `message_created`, `NewTicket`, ...) or
    /// hintd's (`hints.generated`, ...).
    pub event_type: String,
    /// Dialog the event belongs to, when it has one.
    pub dialog_id: Option<String>,
    /// Redelivery key: the same (source, account, key) is stored once.
    pub dedup_key: Option<String>,
    /// When hintd received it, unix ms.
    pub received_at_ms: i64,
    /// The body exactly as received (or hintd's own JSON).
    pub payload: Vec<u8>,
}

/// An event read back from the log.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Position in the log, increasing.
    pub seq: i64,
    /// The event as appended.
    pub event: NewEvent,
}

/// What appending an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored at this log position.
    Stored {
        /// Position in the log.
        seq: i64,
    },
    /// An event with the same (source, account, dedup key) is already stored; nothing changed.
    Duplicate,
}

/// Whether a dialog is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DialogStatus {
    /// Open (the default once any event is seen).
    Open,
    /// Closed or resolved.
    Closed,
}

impl DialogStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DialogStatus::Open => "open",
            DialogStatus::Closed => "closed",
        }
    }
}

/// A change to a dialog's stored state. `None` fields leave the stored value as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogChange {
    /// The dialog.
    pub key: DialogKey,
    /// Its client.
    pub client_id: Option<String>,
    /// Its operator (after a transfer: the new one).
    pub operator_id: Option<String>,
    /// Platform channel.
    pub channel_id: Option<String>,
    /// Messenger transport.
    pub transport: Option<String>,
    /// Integration key.
    pub external_key: Option<String>,
    /// New status, when the event changes it.
    pub status: Option<DialogStatus>,
    /// When the change happened, unix ms.
    pub at_ms: i64,
}

/// A change to a dialog's messages or state, applied in the same transaction as the event
/// that caused it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationChange {
    /// Insert a message, or replace its content (an edit). A message once deleted stays
    /// deleted.
    UpsertMessage {
        /// The dialog.
        dialog: DialogKey,
        /// The dialog's client, for erasure.
        client_id: Option<String>,
        /// The message.
        message: Message,
        /// Whether this is an edit (sets `edited_at_ms`).
        edit: bool,
    },
    /// Mark a message deleted and clear its text (a placeholder row is written when the
    /// message is not stored, so that it cannot appear later).
    DeleteMessage {
        /// The dialog.
        dialog: DialogKey,
        /// The message.
        message_id: String,
        /// When, unix ms.
        at_ms: i64,
    },
    /// Create or update the dialog row.
    Dialog(DialogChange),
}

/// A platform event with the conversation changes it causes: stored all or nothing.
#[derive(Debug, Clone)]
pub struct IngestRecord {
    /// The raw event for the log.
    pub event: NewEvent,
    /// The event's client, kept beside the raw event so that erasure can find it.
    pub client_id: Option<String>,
    /// Applied only when the event is not a duplicate.
    pub changes: Vec<ConversationChange>,
}

/// A dialog's stored state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DialogRecord {
    /// The dialog.
    pub key: DialogKey,
    /// Its client.
    pub client_id: Option<String>,
    /// Its current operator.
    pub operator_id: Option<String>,
    /// Platform channel.
    pub channel_id: Option<String>,
    /// Messenger transport.
    pub transport: Option<String>,
    /// Integration key.
    pub external_key: Option<String>,
    /// Open or closed.
    pub status: DialogStatus,
    /// First seen, unix ms.
    pub opened_at_ms: i64,
    /// Closed at, unix ms.
    pub closed_at_ms: Option<i64>,
    /// Last change, unix ms.
    pub updated_at_ms: i64,
}

/// What erasing a client removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erasure {
    /// Dialogs of the client (their rows are deleted, their messages too).
    pub dialog_ids: Vec<String>,
    /// Messages deleted.
    pub messages: u64,
    /// Raw events whose payload was replaced by `{"erased":true}`.
    pub events: u64,
}

/// The payload an erased raw event keeps.
pub const ERASED_PAYLOAD: &[u8] = br#"{"erased":true}"#;

/// Where a page of the conversation list starts: the sort key of the last dialog of the
/// previous page (newest activity first, ties broken by the dialog key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogCursor {
    /// Last change of that dialog, unix ms.
    pub updated_at_ms: i64,
    /// Its source.
    pub source: String,
    /// Its account.
    pub account: String,
    /// Its dialog id.
    pub dialog_id: String,
}

/// Which dialogs a page of the conversation list holds.
#[derive(Debug, Clone, Default)]
pub struct DialogListFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only this account.
    pub account: Option<String>,
    /// Only dialogs after this one in the list order.
    pub after: Option<DialogCursor>,
    /// At most this many.
    pub limit: u32,
}

/// One dialog of the conversation list.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogSummary {
    /// Source name.
    pub source: String,
    /// Account.
    pub account: String,
    /// Dialog id.
    pub dialog_id: String,
    /// Its client.
    pub client_id: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// Last change, unix ms (the list order).
    pub updated_at_ms: i64,
    /// Stored messages that are not deleted.
    pub message_count: i64,
    /// When the newest of them was sent, unix ms.
    pub last_message_at_ms: Option<i64>,
    /// Text of the newest client message that is neither deleted nor private (whole; callers
    /// shorten it).
    pub last_client_text: Option<String>,
}

/// Event log, messages and dialogs.
#[async_trait::async_trait]
pub trait EventStore {
    /// Events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// Stores many platform events in ONE transaction: each record's event is appended and,
    /// unless it is a duplicate, its changes applied. On error nothing is stored. The records
    /// are shared so that a backend may hand them to a writer thread of its own.
    async fn ingest_batch(&self, records: Arc<[IngestRecord]>)
    -> Result<Vec<Appended>, StoreError>;

    /// The newest `limit` messages of a dialog that are not deleted, oldest first (private
    /// notes included).
    async fn recent_messages(
        &self,
        dialog: &DialogKey,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;

    /// A dialog's state.
    async fn dialog(&self, dialog: &DialogKey) -> Result<Option<DialogRecord>, StoreError>;

    /// The most recently updated dialog of a client (for events that name the client only).
    async fn dialog_of_client(
        &self,
        source: &str,
        account: &str,
        client_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Whether any dialog id starts with `prefix`.
    async fn has_dialogs_with_prefix(&self, prefix: &str) -> Result<bool, StoreError>;

    /// Moves every message of dialog `from` into dialog `to` (a dialog first known only by
    /// its client gets its real id).
    async fn merge_dialog(&self, from: &DialogKey, to: &DialogKey) -> Result<(), StoreError>;

    /// Erases a client: their dialogs and those dialogs' messages are deleted, and the
    /// payloads of their raw events replaced by [`ERASED_PAYLOAD`]. One transaction.
    async fn erase_client(
        &self,
        source: &str,
        account: &str,
        client_id: &str,
    ) -> Result<Erasure, StoreError>;

    /// A page of dialogs, newest activity first (see [`DialogListFilter`]).
    async fn list_dialogs(
        &self,
        filter: &DialogListFilter,
    ) -> Result<Vec<DialogSummary>, StoreError>;

    /// Deletes messages sent before `cutoff_ms`; returns how many.
    async fn purge_messages_before(&self, cutoff_ms: i64) -> Result<u64, StoreError>;
}
