//! What an ingested event changes in the stored conversation: pure, so the rules are
//! tested without a database.

use crate::core::{DialogKey, Role};
use crate::ingest::{Event, EventKind};
use crate::store::{ConversationChange, DialogChange, DialogStatus};

/// What memory knows of a dialog's row, to skip rewriting a row that would not change.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KnownRow<'a> {
    /// Whether this process wrote the row already.
    pub written: bool,
    /// Whether the dialog is closed.
    pub closed: bool,
    /// The operator last written.
    pub operator_id: Option<&'a str>,
}

/// The stored changes `event` causes on dialog `key`.
pub(crate) fn changes_for(
    event: &Event,
    key: &DialogKey,
    known: KnownRow<'_>,
) -> Vec<ConversationChange> {
    let meta = &event.meta;
    let mut out = Vec::with_capacity(2);
    let status = match &event.kind {
        EventKind::DialogOpened => Some(DialogStatus::Open),
        _ if meta.opens_dialog => Some(DialogStatus::Open),
        EventKind::DialogClosed => Some(DialogStatus::Closed),
        // A client writing into a closed dialog reopens it (platforms open a new request).
        // When memory does not know the row, the database decides: writing `open` is then
        // right whatever the row said.
        EventKind::MessageAdded { message }
            if message.role == Role::Client && (known.closed || !known.written) =>
        {
            Some(DialogStatus::Open)
        }
        _ => None,
    };
    let operator_changed = meta
        .operator_id
        .as_deref()
        .is_some_and(|o| Some(o) != known.operator_id);
    if !known.written
        || status.is_some()
        || operator_changed
        || matches!(event.kind, EventKind::DialogTransferred { .. })
    {
        out.push(ConversationChange::Dialog(DialogChange {
            key: key.clone(),
            client_id: meta.client_id.clone(),
            operator_id: match &event.kind {
                EventKind::DialogTransferred { to_operator } => {
                    to_operator.clone().or(meta.operator_id.clone())
                }
                _ => meta.operator_id.clone(),
            },
            channel_id: meta.channel_id.clone(),
            transport: meta.transport.clone(),
            external_key: meta.external_key.clone(),
            status,
            at_ms: meta.occurred_at_ms,
        }));
    }
    match &event.kind {
        EventKind::MessageAdded { message } | EventKind::MessageUpdated { message } => {
            out.push(ConversationChange::UpsertMessage {
                dialog: key.clone(),
                client_id: meta.client_id.clone(),
                message: message.clone(),
                edit: matches!(event.kind, EventKind::MessageUpdated { .. }),
            });
        }
        EventKind::MessageDeleted { message_id } => out.push(ConversationChange::DeleteMessage {
            dialog: key.clone(),
            message_id: message_id.clone(),
            at_ms: meta.occurred_at_ms,
        }),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Message, Source};
    use crate::ingest::EventMeta;

    fn event(kind: EventKind, operator: Option<&str>) -> Event {
        Event {
            meta: EventMeta {
                source: Some(Source::Chat2desk),
                account: "default".into(),
                dialog_id: Some("1".into()),
                operator_id: operator.map(str::to_string),
                ..Default::default()
            },
            kind,
        }
    }

    fn message(role: Role) -> EventKind {
        EventKind::MessageAdded {
            message: Message {
                id: "m".into(),
                role,
                text: "t".into(),
                sent_at_ms: 1,
                private: false,
                media_type: None,
                media_url: None,
            },
        }
    }

    #[test]
    fn rows_are_written_only_when_they_change() {
        let key = DialogKey::new(Source::Chat2desk, "default", "1");
        let known = KnownRow {
            written: true,
            closed: false,
            operator_id: Some("7"),
        };
        assert_eq!(
            changes_for(&event(message(Role::Client), None), &key, known).len(),
            1
        );
        assert_eq!(
            changes_for(&event(message(Role::Operator), Some("7")), &key, known).len(),
            1
        );
        assert_eq!(
            changes_for(&event(message(Role::Operator), Some("8")), &key, known).len(),
            2
        );
        assert_eq!(
            changes_for(
                &event(message(Role::Client), None),
                &key,
                KnownRow::default()
            )
            .len(),
            2
        );
        let reopen = changes_for(
            &event(message(Role::Client), None),
            &key,
            KnownRow {
                closed: true,
                ..known
            },
        );
        assert!(
            matches!(&reopen[0], ConversationChange::Dialog(d) if d.status == Some(DialogStatus::Open))
        );
        let closed = changes_for(&event(EventKind::DialogClosed, None), &key, known);
        assert!(
            matches!(&closed[..], [ConversationChange::Dialog(d)] if d.status == Some(DialogStatus::Closed))
        );
        assert!(changes_for(&event(EventKind::Typing { on: true }, None), &key, known).is_empty());
    }
}
