//! The one normalised event every platform's webhook becomes.

use crate::core::{DialogKey, Message, Source};
use serde::Serialize;

/// A platform event, normalised. The raw body is kept beside it (see [`super::Parsed`]), so
/// nothing a platform sent is lost even where this model has no field for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Who sent it and where it belongs.
    pub meta: EventMeta,
    /// What happened.
    pub kind: EventKind,
}

/// Routing facts common to every event.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct EventMeta {
    /// The platform.
    pub source: Option<Source>,
    /// The account inside the platform (`default` when none is configured).
    pub account: String,
    /// The platform's own event name (`inbox`, `message_created`, `NewTicket`, `message`).
    pub event_type: String,
    /// Dialog (conversation, ticket) id, when the event has one.
    pub dialog_id: Option<String>,
    /// Client (contact) id.
    pub client_id: Option<String>,
    /// Operator (agent, user) id.
    pub operator_id: Option<String>,
    /// Platform channel (inbox, WhatsApp number) id.
    pub channel_id: Option<String>,
    /// Messenger transport (`whatsapp`, `telegram`, `widget`, ...).
    pub transport: Option<String>,
    /// Integration key the platform attaches (Whazing `ticket.apiConfig.externalKey`).
    pub external_key: Option<String>,
    /// When the platform says the event happened, unix ms (receive time when it does not say).
    pub occurred_at_ms: i64,
    /// Redelivery key: a second event with the same key is acknowledged and not stored again.
    pub dedup_key: Option<String>,
    /// The event starts a new request in its dialog (Chat2Desk `is_new_request`): the dialog
    /// is open from here on.
    pub opens_dialog: bool,
}

impl EventMeta {
    /// The dialog key, when the event belongs to a dialog of a known source.
    pub fn dialog_key(&self) -> Option<DialogKey> {
        Some(DialogKey::new(
            self.source?,
            self.account.clone(),
            self.dialog_id.clone()?,
        ))
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A message was added to a dialog.
    MessageAdded {
        /// The message.
        message: Message,
    },
    /// A message was edited (or its delivery status changed).
    MessageUpdated {
        /// The new version.
        message: Message,
    },
    /// A message was deleted.
    MessageDeleted {
        /// Its id.
        message_id: String,
    },
    /// A dialog was opened.
    DialogOpened,
    /// A dialog was closed or resolved.
    DialogClosed,
    /// A dialog moved to another operator or queue.
    DialogTransferred {
        /// The new operator, when known.
        to_operator: Option<String>,
    },
    /// Client profile data changed, or a client appeared.
    ClientUpdated,
    /// Tags were added to or removed from a client or a request.
    TagsChanged {
        /// Tag names added.
        added: Vec<String>,
        /// Tag names removed.
        removed: Vec<String>,
    },
    /// Someone started or stopped typing.
    Typing {
        /// `true` for typing on.
        on: bool,
    },
    /// The operator asked for hints (Chat2Desk `ai_hints_requested`, first form).
    HintsRequested {
        /// The platform's request id.
        request_id: String,
        /// The message the hints should answer.
        message_id: String,
    },
    /// The operator chose a hint (Chat2Desk `ai_hints_requested` with `hint_id`).
    HintChosen {
        /// The message the chosen hint answered.
        message_id: String,
        /// The numeric hint id hintd gave in its answer.
        hint_id: i64,
    },
    /// Anything else: accepted, stored raw, relayed to subscribers.
    Other,
}
