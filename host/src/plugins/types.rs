//! The host's own view of the plugin contract's types. They are independent of any one WIT
//! version: each version's bindings convert to and from these (see `wit/`).

use crate::core::{DialogKey, Message};

/// A request for hints, as the hint pipeline builds it.
#[derive(Debug, Clone, PartialEq)]
pub struct HintRequest {
    /// Platform request id, or one hintd made.
    pub request_id: String,
    /// Source, account and dialog.
    pub dialog: DialogKey,
    /// Client of the dialog.
    pub client_id: String,
    /// Operator asking, when known.
    pub operator_id: Option<String>,
    /// Platform channel, when known.
    pub channel_id: Option<String>,
    /// Messenger transport, when known.
    pub transport: Option<String>,
    /// Message the hints answer.
    pub message_id: String,
    /// Integration key, when the platform gave one.
    pub external_key: Option<String>,
    /// Context, oldest first, private notes already removed.
    pub context: Vec<Message>,
    /// Most hints that will be shown.
    pub max_hints: u32,
    /// Milliseconds the plugin has.
    pub deadline_ms: u32,
}

/// One hint as a plugin returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    /// Plugin-local id.
    pub id: String,
    /// Suggested reply.
    pub text: String,
    /// URL for the operator.
    pub url: Option<String>,
    /// Link to send along.
    pub link: Option<String>,
    /// 0–100.
    pub relevance: u8,
}

/// The operator's choice, as one plugin receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    /// Request the hints answered.
    pub request_id: String,
    /// Dialog of the request.
    pub dialog_id: String,
    /// The dialog's account: with `instance = "reuse"` the call goes to an instance of that
    /// account's pool, as `suggest` and `observe` do (the 0.1.0 contract does not pass it on).
    pub account: String,
    /// Message the hints answered.
    pub message_id: String,
    /// The chosen hint (possibly another plugin's).
    pub chosen: Hint,
    /// Whether `chosen` came from the receiving plugin.
    pub chosen_is_mine: bool,
    /// The receiving plugin's hints that were shown.
    pub shown: Vec<Hint>,
    /// Context the hints came from.
    pub context: Vec<Message>,
}

/// A conversation change delivered to `observe`.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationEvent {
    /// A message was added.
    MessageAdded(DialogRef, Message),
    /// A message was edited.
    MessageUpdated(DialogRef, Message),
    /// A message was deleted.
    MessageDeleted(DialogRef, String),
    /// A dialog was opened.
    DialogOpened(DialogRef),
    /// A dialog was closed.
    DialogClosed(DialogRef),
    /// A dialog was transferred to an operator.
    DialogTransferred(DialogRef, Option<String>),
}

/// Where a conversation event happened.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogRef {
    /// Source, account, dialog.
    pub dialog: DialogKey,
    /// Client, when known.
    pub client_id: Option<String>,
}

/// Why `suggest` produced no hints, as the plugin said.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// The request lacked something the plugin needs.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// An upstream service failed.
    #[error("upstream failure: {0}")]
    Upstream(String),
    /// The plugin's configuration is unusable.
    #[error("misconfigured: {0}")]
    Misconfigured(String),
    /// Anything else.
    #[error("internal: {0}")]
    Internal(String),
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PluginInfo {
    /// Machine name.
    pub name: String,
    /// Version.
    pub version: String,
    /// One line for humans.
    pub description: String,
}

impl ConversationEvent {
    /// The plugin-facing form of an ingested event; `None` for events plugins do not observe
    /// (typing, tags, hint requests, unknown types) or that belong to no dialog.
    pub fn from_event(event: &crate::ingest::Event) -> Option<Self> {
        use crate::ingest::EventKind as K;
        let at = DialogRef {
            dialog: event.meta.dialog_key()?,
            client_id: event.meta.client_id.clone(),
        };
        Some(match &event.kind {
            K::MessageAdded { message } => ConversationEvent::MessageAdded(at, message.clone()),
            K::MessageUpdated { message } => ConversationEvent::MessageUpdated(at, message.clone()),
            K::MessageDeleted { message_id } => {
                ConversationEvent::MessageDeleted(at, message_id.clone())
            }
            K::DialogOpened => ConversationEvent::DialogOpened(at),
            K::DialogClosed => ConversationEvent::DialogClosed(at),
            K::DialogTransferred { to_operator } => {
                ConversationEvent::DialogTransferred(at, to_operator.clone())
            }
            _ => return None,
        })
    }
}
