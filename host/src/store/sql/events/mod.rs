//! SQL for the event log, messages and dialogs. The same statements run on SQLite and
//! PostgreSQL (`ON CONFLICT ... DO UPDATE` and `RETURNING` exist in both). Ingest batches run
//! on SQLite's write thread one row at a time (`sqlite`); on PostgreSQL, where
//! every statement is a network round trip, as multi-row statements.

mod dialog_list;
pub(super) mod sqlite;

use crate::core::{DialogKey, Message, Role};
use crate::store::sql::SqlStore;
use crate::store::{
    Appended, ConversationChange, DialogChange, DialogListFilter, DialogRecord, DialogStatus,
    DialogSummary, ERASED_PAYLOAD, Erasure, EventStore, IngestRecord, NewEvent, StoreError,
    StoredEvent,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::sync::Arc;

/// Up to `$2` events after position `$1`, oldest first.
pub(crate) const EVENTS_AFTER: &str = "SELECT seq, source, account, event_type, dialog_id, dedup_key, \
     received_at_ms, payload FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";

/// Appends one event; a redelivery (same dedup key) inserts nothing.
macro_rules! insert_event_row {
    () => {
        "INSERT INTO events \
         (source, account, event_type, dialog_id, dedup_key, received_at_ms, payload, client_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
    };
}

/// [`INSERT_EVENT`] without `RETURNING`, for SQLite's write thread: there the new position is
/// `last_insert_rowid()`, and `RETURNING` would gather its row in a temporary table on every
/// insert (measured: ≈ 12 % of the write thread's time per ingested event).
pub(crate) const INSERT_EVENT_ROW: &str = insert_event_row!();

/// Appends one event and returns its position; no row on a redelivery.
pub(crate) const INSERT_EVENT: &str = concat!(insert_event_row!(), " RETURNING seq");

// An add arriving after an edit of the same message keeps the edited text; a deleted
// message stays deleted.
pub(crate) const UPSERT_MESSAGE: &str = "INSERT INTO messages \
    (source, account, dialog_id, message_id, client_id, role, text, sent_at_ms, private, media_type, media_url, deleted, edited_at_ms) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12) \
    ON CONFLICT (source, account, dialog_id, message_id) DO UPDATE SET \
      client_id = COALESCE(excluded.client_id, messages.client_id), \
      text = CASE WHEN excluded.edited_at_ms IS NULL AND messages.edited_at_ms IS NOT NULL THEN messages.text ELSE excluded.text END, \
      private = excluded.private, \
      media_type = COALESCE(excluded.media_type, messages.media_type), \
      media_url = COALESCE(excluded.media_url, messages.media_url), \
      edited_at_ms = COALESCE(excluded.edited_at_ms, messages.edited_at_ms) \
    WHERE messages.deleted = 0";

pub(crate) const DELETE_MESSAGE: &str = "INSERT INTO messages \
    (source, account, dialog_id, message_id, client_id, role, text, sent_at_ms, private, media_type, media_url, deleted, edited_at_ms) \
    VALUES ($1, $2, $3, $4, NULL, 'system', '', $5, 0, NULL, NULL, 1, $5) \
    ON CONFLICT (source, account, dialog_id, message_id) DO UPDATE SET \
      deleted = 1, text = '', media_url = NULL, edited_at_ms = excluded.edited_at_ms";

pub(crate) const UPSERT_DIALOG: &str = "INSERT INTO dialogs \
    (source, account, dialog_id, client_id, operator_id, channel_id, transport, external_key, status, opened_at_ms, closed_at_ms, updated_at_ms) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, 'open'), $10, CASE WHEN $9 = 'closed' THEN $10 ELSE NULL END, $10) \
    ON CONFLICT (source, account, dialog_id) DO UPDATE SET \
      client_id = COALESCE(excluded.client_id, dialogs.client_id), \
      operator_id = COALESCE(excluded.operator_id, dialogs.operator_id), \
      channel_id = COALESCE(excluded.channel_id, dialogs.channel_id), \
      transport = COALESCE(excluded.transport, dialogs.transport), \
      external_key = COALESCE(excluded.external_key, dialogs.external_key), \
      status = COALESCE($9, dialogs.status), \
      closed_at_ms = CASE WHEN $9 = 'closed' THEN $10 WHEN $9 = 'open' THEN NULL ELSE dialogs.closed_at_ms END, \
      updated_at_ms = $10";

/// Appends one event inside `tx`.
async fn insert_event(
    tx: &mut Transaction<'_, Any>,
    e: &NewEvent,
    client_id: Option<&str>,
) -> Result<Appended, sqlx::Error> {
    let row = sqlx::query(INSERT_EVENT)
        .bind(e.source.as_str())
        .bind(e.account.as_str())
        .bind(e.event_type.as_str())
        .bind(e.dialog_id.as_deref())
        .bind(e.dedup_key.as_deref())
        .bind(e.received_at_ms)
        .bind(e.payload.as_slice())
        .bind(client_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => Appended::Stored {
            seq: r.try_get("seq")?,
        },
        None => Appended::Duplicate,
    })
}

/// Largest number of rows in one multi-row statement. Batches are split into power-of-two
/// chunks so that only a handful of distinct statements exist (each prepared once per
/// connection and cached).
const MAX_CHUNK: usize = 256;

/// Splits `n` rows into power-of-two chunk sizes, largest first.
fn chunk_sizes(mut n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    while n > 0 {
        let size = if n >= MAX_CHUNK {
            MAX_CHUNK
        } else {
            1 << (usize::BITS - 1 - n.leading_zeros())
        };
        out.push(size);
        n -= size;
    }
    out
}

/// `($1, $2, $3), ($4, $5, $6)` for `rows` rows of `cols` placeholders. `literal_at` puts a
/// literal instead of a placeholder at that column.
fn placeholders(rows: usize, cols: usize, literal_at: Option<(usize, &str)>) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            match literal_at {
                Some((at, literal)) if at == c => s.push_str(literal),
                _ => {
                    n += 1;
                    s.push('$');
                    s.push_str(&n.to_string());
                }
            }
        }
        s.push(')');
    }
    s
}

/// Appends many events with multi-row statements (PostgreSQL). Each record gets `Stored` with its
/// position, or `Duplicate` when its (source, account, dedup key) was stored before or earlier
/// in the same batch. Records without a dedup key take the one-row path.
async fn insert_events_bulk(
    tx: &mut Transaction<'_, Any>,
    records: &[IngestRecord],
) -> Result<Vec<Appended>, sqlx::Error> {
    use std::collections::HashMap;
    let mut out = vec![Appended::Duplicate; records.len()];
    let (keyed, unkeyed): (Vec<usize>, Vec<usize>) =
        (0..records.len()).partition(|&i| records[i].event.dedup_key.is_some());
    for i in unkeyed {
        out[i] = insert_event(tx, &records[i].event, records[i].client_id.as_deref()).await?;
    }
    // Each key's first record in the batch; later records with the same key are duplicates.
    let mut first: HashMap<(&str, &str, &str), usize> = HashMap::with_capacity(keyed.len());
    for &i in &keyed {
        let e = &records[i].event;
        first
            .entry((
                e.source.as_str(),
                e.account.as_str(),
                e.dedup_key.as_deref().unwrap_or_default(),
            ))
            .or_insert(i);
    }
    let mut offset = 0;
    for size in chunk_sizes(keyed.len()) {
        let chunk = &keyed[offset..offset + size];
        offset += size;
        let sql = format!(
            "INSERT INTO events (source, account, event_type, dialog_id, dedup_key, received_at_ms, payload, client_id) \
             VALUES {} ON CONFLICT DO NOTHING RETURNING seq, source, account, dedup_key",
            placeholders(size, 8, None)
        );
        let mut q = sqlx::query(&sql);
        for &i in chunk {
            let e = &records[i].event;
            q = q
                .bind(e.source.as_str())
                .bind(e.account.as_str())
                .bind(e.event_type.as_str())
                .bind(e.dialog_id.as_deref())
                .bind(e.dedup_key.as_deref())
                .bind(e.received_at_ms)
                .bind(e.payload.as_slice())
                .bind(records[i].client_id.as_deref());
        }
        for row in q.fetch_all(&mut **tx).await? {
            let seq: i64 = row.try_get("seq")?;
            let (source, account, key): (String, String, String) = (
                row.try_get("source")?,
                row.try_get("account")?,
                row.try_get("dedup_key")?,
            );
            if let Some(&i) = first.get(&(source.as_str(), account.as_str(), key.as_str())) {
                out[i] = Appended::Stored { seq };
            }
        }
    }
    Ok(out)
}

/// One message upsert's row.
type MessageRow<'a> = (&'a DialogKey, Option<&'a str>, &'a Message, bool);

/// Upserts many messages with multi-row statements (no message twice in one statement;
/// PostgreSQL).
async fn upsert_messages_bulk(
    tx: &mut Transaction<'_, Any>,
    rows: &[MessageRow<'_>],
) -> Result<(), sqlx::Error> {
    let mut offset = 0;
    let edited_at = crate::core::now_ms();
    for size in chunk_sizes(rows.len()) {
        let chunk = &rows[offset..offset + size];
        offset += size;
        let sql = format!(
            "INSERT INTO messages \
             (source, account, dialog_id, message_id, client_id, role, text, sent_at_ms, private, media_type, media_url, deleted, edited_at_ms) \
             VALUES {} {}",
            placeholders(size, 13, Some((11, "0"))),
            &UPSERT_MESSAGE[UPSERT_MESSAGE
                .find("ON CONFLICT")
                .expect("upsert has a conflict clause")..]
        );
        let mut q = sqlx::query(&sql);
        for (dialog, client_id, m, edit) in chunk {
            q = q
                .bind(dialog.source.as_str())
                .bind(dialog.account.as_str())
                .bind(dialog.dialog_id.as_str())
                .bind(m.id.as_str())
                .bind(*client_id)
                .bind(m.role.as_str())
                .bind(m.text.as_str())
                .bind(m.sent_at_ms)
                .bind(m.private as i64)
                .bind(m.media_type.as_deref())
                .bind(m.media_url.as_deref())
                .bind(edit.then_some(edited_at));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Applies the changes of a batch in an order equivalent to one by one: message upserts are
/// gathered into multi-row statements, flushed before anything that touches a message
/// already gathered; dialog rows are independent of messages and written as they come.
async fn apply_all(
    tx: &mut Transaction<'_, Any>,
    changes: &[&ConversationChange],
) -> Result<(), sqlx::Error> {
    use std::collections::HashSet;
    let mut run: Vec<MessageRow<'_>> = Vec::new();
    let mut in_run: HashSet<(&DialogKey, &str)> = HashSet::new();
    for change in changes {
        match change {
            ConversationChange::UpsertMessage {
                dialog,
                client_id,
                message,
                edit,
            } => {
                if !in_run.insert((dialog, message.id.as_str())) {
                    upsert_messages_bulk(tx, &run).await?;
                    run.clear();
                    in_run.clear();
                    in_run.insert((dialog, message.id.as_str()));
                }
                run.push((dialog, client_id.as_deref(), message, *edit));
            }
            ConversationChange::DeleteMessage {
                dialog, message_id, ..
            } => {
                if in_run.contains(&(dialog, message_id.as_str())) {
                    upsert_messages_bulk(tx, &run).await?;
                    run.clear();
                    in_run.clear();
                }
                apply(tx, change).await?;
            }
            ConversationChange::Dialog(_) => apply(tx, change).await?,
        }
    }
    upsert_messages_bulk(tx, &run).await
}

/// Applies one conversation change inside `tx`.
async fn apply(
    tx: &mut Transaction<'_, Any>,
    change: &ConversationChange,
) -> Result<(), sqlx::Error> {
    match change {
        ConversationChange::UpsertMessage {
            dialog,
            client_id,
            message: m,
            edit,
        } => {
            sqlx::query(UPSERT_MESSAGE)
                .bind(dialog.source.as_str())
                .bind(dialog.account.as_str())
                .bind(dialog.dialog_id.as_str())
                .bind(m.id.as_str())
                .bind(client_id.as_deref())
                .bind(m.role.as_str())
                .bind(m.text.as_str())
                .bind(m.sent_at_ms)
                .bind(m.private as i64)
                .bind(m.media_type.as_deref())
                .bind(m.media_url.as_deref())
                .bind(edit.then(crate::core::now_ms))
                .execute(&mut **tx)
                .await?;
        }
        ConversationChange::DeleteMessage {
            dialog,
            message_id,
            at_ms,
        } => {
            sqlx::query(DELETE_MESSAGE)
                .bind(dialog.source.as_str())
                .bind(dialog.account.as_str())
                .bind(dialog.dialog_id.as_str())
                .bind(message_id.as_str())
                .bind(*at_ms)
                .execute(&mut **tx)
                .await?;
        }
        ConversationChange::Dialog(d) => upsert_dialog(tx, d).await?,
    }
    Ok(())
}

async fn upsert_dialog(tx: &mut Transaction<'_, Any>, d: &DialogChange) -> Result<(), sqlx::Error> {
    sqlx::query(UPSERT_DIALOG)
        .bind(d.key.source.as_str())
        .bind(d.key.account.as_str())
        .bind(d.key.dialog_id.as_str())
        .bind(d.client_id.as_deref())
        .bind(d.operator_id.as_deref())
        .bind(d.channel_id.as_deref())
        .bind(d.transport.as_deref())
        .bind(d.external_key.as_deref())
        .bind(d.status.map(DialogStatus::as_str))
        .bind(d.at_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A row of `events` (the columns of [`EVENTS_AFTER`]).
pub(super) fn event_from_row(r: &AnyRow) -> Result<StoredEvent, sqlx::Error> {
    Ok(StoredEvent {
        seq: r.try_get("seq")?,
        event: NewEvent {
            source: r.try_get("source")?,
            account: r.try_get("account")?,
            event_type: r.try_get("event_type")?,
            dialog_id: r.try_get("dialog_id")?,
            dedup_key: r.try_get("dedup_key")?,
            received_at_ms: r.try_get("received_at_ms")?,
            payload: r.try_get("payload")?,
        },
    })
}

fn message_from_row(r: &AnyRow) -> Result<Message, sqlx::Error> {
    Ok(Message {
        id: r.try_get("message_id")?,
        role: Role::parse(r.try_get::<String, _>("role")?.as_str()),
        text: r.try_get("text")?,
        sent_at_ms: r.try_get("sent_at_ms")?,
        private: r.try_get::<i64, _>("private")? != 0,
        media_type: r.try_get("media_type")?,
        media_url: r.try_get("media_url")?,
    })
}

fn dialog_from_row(key: &DialogKey, r: &AnyRow) -> Result<DialogRecord, sqlx::Error> {
    Ok(DialogRecord {
        key: key.clone(),
        client_id: r.try_get("client_id")?,
        operator_id: r.try_get("operator_id")?,
        channel_id: r.try_get("channel_id")?,
        transport: r.try_get("transport")?,
        external_key: r.try_get("external_key")?,
        status: if r.try_get::<String, _>("status")? == "closed" {
            DialogStatus::Closed
        } else {
            DialogStatus::Open
        },
        opened_at_ms: r.try_get("opened_at_ms")?,
        closed_at_ms: r.try_get("closed_at_ms")?,
        updated_at_ms: r.try_get("updated_at_ms")?,
    })
}

#[async_trait::async_trait]
impl EventStore for SqlStore {
    async fn list_dialogs(
        &self,
        filter: &DialogListFilter,
    ) -> Result<Vec<DialogSummary>, StoreError> {
        self.dialog_page(filter).await
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(EVENTS_AFTER)
            .bind(after)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(event_from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn ingest_batch(
        &self,
        records: Arc<[IngestRecord]>,
    ) -> Result<Vec<Appended>, StoreError> {
        if let Some(writer) = self.sqlite_writer() {
            return writer
                .transaction(move |tx| sqlite::ingest(tx, &records))
                .await;
        }
        let mut tx = self.begin_write().await?;
        let out = insert_events_bulk(&mut tx, &records).await?;
        let changes: Vec<&ConversationChange> = records
            .iter()
            .zip(&out)
            .filter(|(_, a)| **a != Appended::Duplicate)
            .flat_map(|(r, _)| r.changes.iter())
            .collect();
        apply_all(&mut tx, &changes).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn recent_messages(
        &self,
        dialog: &DialogKey,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query(
            "SELECT message_id, role, text, sent_at_ms, private, media_type, media_url FROM messages \
             WHERE source = $1 AND account = $2 AND dialog_id = $3 AND deleted = 0 \
             ORDER BY sent_at_ms DESC, message_id DESC LIMIT $4",
        )
        .bind(dialog.source.as_str())
        .bind(dialog.account.as_str())
        .bind(dialog.dialog_id.as_str())
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut messages = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn dialog(&self, dialog: &DialogKey) -> Result<Option<DialogRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, operator_id, channel_id, transport, external_key, status, opened_at_ms, closed_at_ms, updated_at_ms \
             FROM dialogs WHERE source = $1 AND account = $2 AND dialog_id = $3",
        )
        .bind(dialog.source.as_str())
        .bind(dialog.account.as_str())
        .bind(dialog.dialog_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| dialog_from_row(dialog, &r)).transpose()?)
    }

    async fn dialog_of_client(
        &self,
        source: &str,
        account: &str,
        client_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT dialog_id FROM dialogs WHERE source = $1 AND account = $2 AND client_id = $3 \
             ORDER BY updated_at_ms DESC LIMIT 1",
        )
        .bind(source)
        .bind(account)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("dialog_id")).transpose()?)
    }

    async fn has_dialogs_with_prefix(&self, prefix: &str) -> Result<bool, StoreError> {
        // `substr` instead of LIKE: the prefix is data, not a pattern.
        let row = sqlx::query("SELECT 1 AS one FROM dialogs WHERE substr(dialog_id, 1, CAST($2 AS INTEGER)) = $1 LIMIT 1")
            .bind(prefix)
            .bind(prefix.chars().count() as i64)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn merge_dialog(&self, from: &DialogKey, to: &DialogKey) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // Messages already present under the real id win over their copies.
        sqlx::query(
            "DELETE FROM messages WHERE source = $1 AND account = $2 AND dialog_id = $3 AND message_id IN \
             (SELECT message_id FROM messages WHERE source = $1 AND account = $2 AND dialog_id = $4)",
        )
        .bind(from.source.as_str())
        .bind(from.account.as_str())
        .bind(from.dialog_id.as_str())
        .bind(to.dialog_id.as_str())
        .execute(&mut **tx)
        .await?;
        for table in ["messages", "events"] {
            sqlx::query(&format!(
                "UPDATE {table} SET dialog_id = $4 WHERE source = $1 AND account = $2 AND dialog_id = $3"
            ))
            .bind(from.source.as_str())
            .bind(from.account.as_str())
            .bind(from.dialog_id.as_str())
            .bind(to.dialog_id.as_str())
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query("DELETE FROM dialogs WHERE source = $1 AND account = $2 AND dialog_id = $3")
            .bind(from.source.as_str())
            .bind(from.account.as_str())
            .bind(from.dialog_id.as_str())
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn erase_client(
        &self,
        source: &str,
        account: &str,
        client_id: &str,
    ) -> Result<Erasure, StoreError> {
        let mut tx = self.begin_write().await?;
        // A write first: on SQLite a transaction that reads first and writes later fails
        // when another connection committed in between (SQLITE_BUSY_SNAPSHOT).
        let done = sqlx::query(
            "UPDATE events SET payload = $4 WHERE source = $1 AND account = $2 AND client_id = $3 AND payload <> $4",
        )
        .bind(source)
        .bind(account)
        .bind(client_id)
        .bind(ERASED_PAYLOAD)
        .execute(&mut **tx)
        .await?;
        let mut erasure = Erasure {
            events: done.rows_affected(),
            ..Erasure::default()
        };
        // Every message row was written by an event of the same client and dialog (a merge
        // moves both), so the client's events name every dialog holding their messages.
        let rows = sqlx::query(
            "SELECT dialog_id FROM dialogs WHERE source = $1 AND account = $2 AND client_id = $3 \
             UNION SELECT dialog_id FROM events WHERE source = $1 AND account = $2 AND client_id = $3 \
             AND dialog_id IS NOT NULL",
        )
        .bind(source)
        .bind(account)
        .bind(client_id)
        .fetch_all(&mut **tx)
        .await?;
        erasure.dialog_ids = rows
            .iter()
            .map(|r| r.try_get::<String, _>("dialog_id"))
            .collect::<Result<Vec<_>, _>>()?;
        for dialog_id in &erasure.dialog_ids {
            let done = sqlx::query(
                "DELETE FROM messages WHERE source = $1 AND account = $2 AND dialog_id = $3",
            )
            .bind(source)
            .bind(account)
            .bind(dialog_id.as_str())
            .execute(&mut **tx)
            .await?;
            erasure.messages += done.rows_affected();
            let done = sqlx::query(
                "UPDATE events SET payload = $4 WHERE source = $1 AND account = $2 AND dialog_id = $3 AND payload <> $4",
            )
            .bind(source)
            .bind(account)
            .bind(dialog_id.as_str())
            .bind(ERASED_PAYLOAD)
            .execute(&mut **tx)
            .await?;
            erasure.events += done.rows_affected();
        }
        sqlx::query("DELETE FROM dialogs WHERE source = $1 AND account = $2 AND client_id = $3")
            .bind(source)
            .bind(account)
            .bind(client_id)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(erasure)
    }

    async fn purge_messages_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let _gate = self.enter_gate().await;
        let done = sqlx::query("DELETE FROM messages WHERE sent_at_ms < $1")
            .bind(cutoff_ms)
            .execute(&self.writes)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two() {
        assert_eq!(chunk_sizes(0), Vec::<usize>::new());
        assert_eq!(chunk_sizes(37), vec![32, 4, 1]);
        assert_eq!(chunk_sizes(600), vec![256, 256, 64, 16, 8]);
        assert_eq!(placeholders(2, 2, None), "($1, $2), ($3, $4)");
        assert!(placeholders(2, 13, Some((11, "0"))).ends_with("$22, $23, 0, $24)"));
    }
}
