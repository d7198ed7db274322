//! Served answers on the write thread, with the shared SQL's statements (`super`).

use super::{INSERT_ANSWER, INSERT_ANSWER_HINT, RELEASE_EXPIRED_KEY};
use crate::store::{AnswerRecord, StoreError};
use rusqlite::{Transaction, params};

/// Inserts each answer with its hints; per answer, `false` when its `request_key` is held
/// by an answer that may still be replayed (nothing of it is stored then).
pub(crate) fn save_answers(
    tx: &Transaction<'_>,
    answers: &[AnswerRecord],
) -> Result<Vec<bool>, StoreError> {
    let mut release = tx.prepare_cached(RELEASE_EXPIRED_KEY)?;
    let mut insert = tx.prepare_cached(INSERT_ANSWER)?;
    let mut insert_hint = tx.prepare_cached(INSERT_ANSWER_HINT)?;
    let mut saved = Vec::with_capacity(answers.len());
    for a in answers {
        if let Some(key) = &a.request_key {
            release.execute(params![key, a.created_at_ms])?;
        }
        let inserted = insert.execute(params![
            a.id,
            a.source,
            a.account,
            a.dialog_id,
            a.client_id,
            a.message_id,
            a.request_id,
            a.request_key,
            a.created_at_ms,
            a.replay_until_ms,
            a.hints.len() as i64,
            a.body,
            a.context,
        ])? == 1;
        if inserted {
            for h in &a.hints {
                insert_hint.execute(params![
                    a.id,
                    h.hint_id,
                    h.plugin,
                    h.local_id,
                    h.text,
                    h.url,
                    h.link,
                    h.relevance,
                    h.score,
                    h.origins,
                ])?;
            }
        }
        saved.push(inserted);
    }
    Ok(saved)
}
