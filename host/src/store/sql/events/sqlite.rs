//! Ingest batches on the write thread: the same statements as the shared SQL
//! (`super`), one row each, prepared once per connection.

use super::{DELETE_MESSAGE, INSERT_EVENT_ROW, UPSERT_DIALOG, UPSERT_MESSAGE};
use crate::store::{
    Appended, ConversationChange, DialogStatus, IngestRecord, NewEvent, StoreError, StoredEvent,
};
use rusqlite::{Transaction, params};

/// Appends every record's event and applies the conversation changes of those that were
/// not duplicates, in order.
pub(crate) fn ingest(
    tx: &Transaction<'_>,
    records: &[IngestRecord],
) -> Result<Vec<Appended>, StoreError> {
    let mut insert = tx.prepare_cached(INSERT_EVENT_ROW)?;
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        let e = &record.event;
        let inserted = insert.execute(params![
            e.source,
            e.account,
            e.event_type,
            e.dialog_id,
            e.dedup_key,
            e.received_at_ms,
            e.payload,
            record.client_id,
        ])?;
        // One row inserted, or none when the dedup key was stored before.
        let seq = (inserted == 1).then(|| tx.last_insert_rowid());
        match seq {
            Some(seq) => {
                out.push(Appended::Stored { seq });
                for change in &record.changes {
                    apply(tx, change)?;
                }
            }
            None => out.push(Appended::Duplicate),
        }
    }
    Ok(out)
}

fn apply(tx: &Transaction<'_>, change: &ConversationChange) -> Result<(), StoreError> {
    match change {
        ConversationChange::UpsertMessage {
            dialog,
            client_id,
            message: m,
            edit,
        } => {
            tx.prepare_cached(UPSERT_MESSAGE)?.execute(params![
                dialog.source.as_str(),
                dialog.account,
                dialog.dialog_id,
                m.id,
                client_id,
                m.role.as_str(),
                m.text,
                m.sent_at_ms,
                m.private as i64,
                m.media_type,
                m.media_url,
                edit.then(crate::core::now_ms),
            ])?;
        }
        ConversationChange::DeleteMessage {
            dialog,
            message_id,
            at_ms,
        } => {
            tx.prepare_cached(DELETE_MESSAGE)?.execute(params![
                dialog.source.as_str(),
                dialog.account,
                dialog.dialog_id,
                message_id,
                at_ms,
            ])?;
        }
        ConversationChange::Dialog(d) => {
            tx.prepare_cached(UPSERT_DIALOG)?.execute(params![
                d.key.source.as_str(),
                d.key.account,
                d.key.dialog_id,
                d.client_id,
                d.operator_id,
                d.channel_id,
                d.transport,
                d.external_key,
                d.status.map(DialogStatus::as_str),
                d.at_ms,
            ])?;
        }
    }
    Ok(())
}

/// A row of `events` (the columns of [`super::EVENTS_AFTER`]).
pub(crate) fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: r.get("seq")?,
        event: NewEvent {
            source: r.get("source")?,
            account: r.get("account")?,
            event_type: r.get("event_type")?,
            dialog_id: r.get("dialog_id")?,
            dedup_key: r.get("dedup_key")?,
            received_at_ms: r.get("received_at_ms")?,
            payload: r.get("payload")?,
        },
    })
}
