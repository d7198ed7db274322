//! SQL for the conversation list: dialogs newest activity first, paged by keyset so that a
//! dialog inserted or touched while someone pages lands before their position rather than
//! shifting the rest of the list. The statement runs unchanged on SQLite and PostgreSQL (both
//! compare row values).

use crate::store::sql::SqlStore;
use crate::store::{DialogListFilter, DialogSummary, StoreError};
use sqlx::Row;

/// A page of dialogs: `$1`/`$2` source/account (empty: any), `$3` 1 when a cursor follows in
/// `$4..$7`, `$8` the limit. The counters are per-dialog subqueries over the messages'
/// primary-key prefix, so they cost one index range per listed dialog, not a scan.
const LIST_DIALOGS: &str = "SELECT d.source AS source, d.account AS account, d.dialog_id AS dialog_id, \
       d.client_id AS client_id, d.status AS status, d.updated_at_ms AS updated_at_ms, \
       (SELECT COUNT(*) FROM messages m WHERE m.source = d.source AND m.account = d.account \
          AND m.dialog_id = d.dialog_id AND m.deleted = 0) AS message_count, \
       (SELECT MAX(m.sent_at_ms) FROM messages m WHERE m.source = d.source \
          AND m.account = d.account AND m.dialog_id = d.dialog_id AND m.deleted = 0) AS last_message_at_ms, \
       (SELECT m.text FROM messages m WHERE m.source = d.source AND m.account = d.account \
          AND m.dialog_id = d.dialog_id AND m.deleted = 0 AND m.private = 0 AND m.role = 'client' \
          ORDER BY m.sent_at_ms DESC, m.message_id DESC LIMIT 1) AS last_client_text \
     FROM dialogs d \
     WHERE ($1 = '' OR d.source = $1) AND ($2 = '' OR d.account = $2) \
       AND ($3 = 0 OR (d.updated_at_ms, d.source, d.account, d.dialog_id) < ($4, $5, $6, $7)) \
     ORDER BY d.updated_at_ms DESC, d.source DESC, d.account DESC, d.dialog_id DESC \
     LIMIT $8";

impl SqlStore {
    /// See [`crate::store::EventStore::list_dialogs`].
    pub(crate) async fn dialog_page(
        &self,
        f: &DialogListFilter,
    ) -> Result<Vec<DialogSummary>, StoreError> {
        let after = f.after.clone();
        let rows = sqlx::query(LIST_DIALOGS)
            .bind(f.source.clone().unwrap_or_default())
            .bind(f.account.clone().unwrap_or_default())
            .bind(i64::from(after.is_some()))
            .bind(after.as_ref().map_or(0, |c| c.updated_at_ms))
            .bind(after.as_ref().map(|c| c.source.clone()).unwrap_or_default())
            .bind(
                after
                    .as_ref()
                    .map(|c| c.account.clone())
                    .unwrap_or_default(),
            )
            .bind(after.map(|c| c.dialog_id).unwrap_or_default())
            .bind(i64::from(f.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DialogSummary {
                    source: r.try_get("source")?,
                    account: r.try_get("account")?,
                    dialog_id: r.try_get("dialog_id")?,
                    client_id: r.try_get("client_id")?,
                    status: r.try_get("status")?,
                    updated_at_ms: r.try_get("updated_at_ms")?,
                    message_count: r.try_get("message_count")?,
                    last_message_at_ms: r.try_get("last_message_at_ms")?,
                    last_client_text: r.try_get("last_client_text")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}
