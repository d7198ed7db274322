//! SQL for served answers and feedback.

mod sqlite;

use crate::store::sql::SqlStore;
use crate::store::{
    AnswerRecord, ChoiceRecord, HintStats, HintStore, PluginAcceptance, SeriesFilter, SeriesPoint,
    ServedHintRecord, StatsFilter, StoreError,
};
use sqlx::Row;
use sqlx::any::AnyRow;

const ANSWER_COLUMNS: &str = "id, source, account, dialog_id, client_id, message_id, request_id, request_key, \
                              created_at_ms, replay_until_ms, body, context";

/// The `WHERE` clause of a statistics filter over `hint_answers` aliased `a`; binds `$1..$3`
/// (empty string / 0 mean "any").
/// (`SUM` is cast back to `BIGINT`: PostgreSQL sums `BIGINT`s into `NUMERIC`, which the `Any`
/// driver cannot decode.)
const FILTER: &str =
    "($1 = '' OR a.source = $1) AND ($2 = '' OR a.account = $2) AND a.created_at_ms >= $3";

fn answer_from_row(r: &AnyRow) -> Result<AnswerRecord, sqlx::Error> {
    Ok(AnswerRecord {
        id: r.try_get("id")?,
        source: r.try_get("source")?,
        account: r.try_get("account")?,
        dialog_id: r.try_get("dialog_id")?,
        client_id: r.try_get("client_id")?,
        message_id: r.try_get("message_id")?,
        request_id: r.try_get("request_id")?,
        request_key: r.try_get("request_key")?,
        created_at_ms: r.try_get("created_at_ms")?,
        replay_until_ms: r.try_get("replay_until_ms")?,
        body: r.try_get("body")?,
        context: r.try_get("context")?,
        hints: Vec::new(),
    })
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl SqlStore {
    /// Runs a statistics query whose `WHERE` is [`FILTER`].
    async fn filtered_rows(
        &self,
        sql: &str,
        f: &(String, String, i64),
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        sqlx::query(sql)
            .bind(f.0.as_str())
            .bind(f.1.as_str())
            .bind(f.2)
            .fetch_all(&self.pool)
            .await
    }

    async fn with_hints(
        &self,
        answer: Option<AnswerRecord>,
    ) -> Result<Option<AnswerRecord>, StoreError> {
        let Some(mut answer) = answer else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT hint_id, plugin, local_id, text, url, link, relevance, score, origins \
             FROM hint_answer_hints WHERE answer_id = $1 ORDER BY hint_id",
        )
        .bind(&answer.id)
        .fetch_all(&self.pool)
        .await?;
        answer.hints = rows
            .iter()
            .map(|r| {
                Ok(ServedHintRecord {
                    hint_id: r.try_get("hint_id")?,
                    plugin: r.try_get("plugin")?,
                    local_id: r.try_get("local_id")?,
                    text: r.try_get("text")?,
                    url: r.try_get("url")?,
                    link: r.try_get("link")?,
                    relevance: r.try_get("relevance")?,
                    score: r.try_get("score")?,
                    origins: r.try_get("origins")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Some(answer))
    }
}

/// Gives up an expired answer's request key, so a late repeat of a request is recomputed.
pub(crate) const RELEASE_EXPIRED_KEY: &str =
    "UPDATE hint_answers SET request_key = NULL WHERE request_key = $1 AND replay_until_ms <= $2";

/// One served answer; nothing when its id or its (still held) request key exists.
pub(crate) const INSERT_ANSWER: &str = "INSERT INTO hint_answers (id, source, account, dialog_id, client_id, message_id, request_id, \
     request_key, created_at_ms, replay_until_ms, hint_count, body, context) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING";

/// One hint of a served answer.
pub(crate) const INSERT_ANSWER_HINT: &str = "INSERT INTO hint_answer_hints (answer_id, hint_id, plugin, local_id, text, url, link, relevance, \
     score, origins) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Inserts one answer and its hints inside `tx`; `false` (nothing inserted) when its
/// `request_key` is held by an answer that may still be replayed.
async fn insert_answer(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    a: &AnswerRecord,
) -> Result<bool, StoreError> {
    if let Some(key) = &a.request_key {
        sqlx::query(RELEASE_EXPIRED_KEY)
            .bind(key)
            .bind(a.created_at_ms)
            .execute(&mut **tx)
            .await?;
    }
    let inserted = sqlx::query(INSERT_ANSWER)
        .bind(&a.id)
        .bind(&a.source)
        .bind(&a.account)
        .bind(&a.dialog_id)
        .bind(&a.client_id)
        .bind(&a.message_id)
        .bind(&a.request_id)
        .bind(&a.request_key)
        .bind(a.created_at_ms)
        .bind(a.replay_until_ms)
        .bind(a.hints.len() as i64)
        .bind(&a.body)
        .bind(&a.context)
        .execute(&mut **tx)
        .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    for h in &a.hints {
        sqlx::query(INSERT_ANSWER_HINT)
            .bind(&a.id)
            .bind(h.hint_id)
            .bind(&h.plugin)
            .bind(&h.local_id)
            .bind(&h.text)
            .bind(&h.url)
            .bind(&h.link)
            .bind(h.relevance)
            .bind(h.score)
            .bind(&h.origins)
            .execute(&mut **tx)
            .await?;
    }
    Ok(true)
}

#[async_trait::async_trait]
impl HintStore for SqlStore {
    async fn save_answers(&self, answers: Vec<AnswerRecord>) -> Result<Vec<bool>, StoreError> {
        if let Some(writer) = self.sqlite_writer() {
            return writer
                .transaction(move |tx| sqlite::save_answers(tx, &answers))
                .await;
        }
        let mut tx = self.begin_write().await?;
        let mut saved = Vec::with_capacity(answers.len());
        for a in &answers {
            saved.push(insert_answer(&mut tx, a).await?);
        }
        tx.commit().await?;
        Ok(saved)
    }

    async fn answer_by_request(
        &self,
        request_key: &str,
        now_ms: i64,
    ) -> Result<Option<AnswerRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ANSWER_COLUMNS} FROM hint_answers WHERE request_key = $1 AND replay_until_ms > $2"
        ))
        .bind(request_key)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        let answer = row.as_ref().map(answer_from_row).transpose()?;
        self.with_hints(answer).await
    }

    async fn replayable_keys(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT request_key, replay_until_ms FROM hint_answers \
             WHERE request_key IS NOT NULL AND replay_until_ms > $1 LIMIT $2",
        )
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("request_key")?, r.try_get("replay_until_ms")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn answer_by_message(
        &self,
        source: &str,
        account: &str,
        message_id: &str,
        client_id: Option<&str>,
    ) -> Result<Option<AnswerRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ANSWER_COLUMNS} FROM hint_answers \
             WHERE source = $1 AND account = $2 AND message_id = $3 AND ($4 = '' OR client_id = $4) \
             ORDER BY created_at_ms DESC LIMIT 1"
        ))
        .bind(source)
        .bind(account)
        .bind(message_id)
        .bind(client_id.unwrap_or(""))
        .fetch_optional(&self.pool)
        .await?;
        let answer = row.as_ref().map(answer_from_row).transpose()?;
        self.with_hints(answer).await
    }

    async fn record_choice(&self, c: &ChoiceRecord) -> Result<bool, StoreError> {
        let _gate = self.enter_gate().await;
        let done = sqlx::query(
            "INSERT INTO hint_choices (answer_id, hint_id, plugin, position, chosen_at_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (answer_id, hint_id) DO NOTHING",
        )
        .bind(&c.answer_id)
        .bind(c.hint_id)
        .bind(&c.plugin)
        .bind(c.position)
        .bind(c.chosen_at_ms)
        .execute(&self.writes)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn hint_stats(&self, f: &StatsFilter) -> Result<HintStats, StoreError> {
        let source = f.source.clone().unwrap_or_default();
        let account = f.account.clone().unwrap_or_default();
        let since = f.since_ms.unwrap_or(0);
        let filter = (source, account, since);

        let q = format!(
            "SELECT CAST(COALESCE(SUM(CASE WHEN a.hint_count > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS shown, \
                    CAST(COALESCE(SUM(CASE WHEN a.hint_count = 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS empty \
             FROM hint_answers a WHERE {FILTER}"
        );
        let totals = self
            .filtered_rows(&q, &filter)
            .await?
            .pop()
            .ok_or_else(|| StoreError::Database("no totals row".into()))?;
        let answers_shown: i64 = totals.try_get("shown")?;
        let answers_empty: i64 = totals.try_get("empty")?;

        let q = format!(
            "SELECT COUNT(DISTINCT c.answer_id) AS answers, COUNT(*) AS choices, \
                    CAST(COALESCE(SUM(c.position), 0) AS BIGINT) AS position_sum \
             FROM hint_choices c JOIN hint_answers a ON a.id = c.answer_id WHERE {FILTER}"
        );
        let chosen = self
            .filtered_rows(&q, &filter)
            .await?
            .pop()
            .ok_or_else(|| StoreError::Database("no choices row".into()))?;
        let answers_chosen: i64 = chosen.try_get("answers")?;
        let choices: i64 = chosen.try_get("choices")?;
        let position_sum: i64 = chosen.try_get("position_sum")?;

        let q = format!(
            "SELECT c.position AS position, COUNT(*) AS n \
             FROM hint_choices c JOIN hint_answers a ON a.id = c.answer_id WHERE {FILTER} \
             GROUP BY c.position ORDER BY c.position"
        );
        let positions = self
            .filtered_rows(&q, &filter)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("position")?, r.try_get("n")?)))
            .collect::<Result<Vec<(i64, i64)>, sqlx::Error>>()?;

        let q = format!(
            "SELECT h.plugin AS plugin, COUNT(DISTINCT h.answer_id) AS answers, COUNT(*) AS hints \
             FROM hint_answer_hints h JOIN hint_answers a ON a.id = h.answer_id WHERE {FILTER} \
             GROUP BY h.plugin ORDER BY h.plugin"
        );
        let shown_rows = self.filtered_rows(&q, &filter).await?;
        let q = format!(
            "SELECT c.plugin AS plugin, COUNT(*) AS n \
             FROM hint_choices c JOIN hint_answers a ON a.id = c.answer_id WHERE {FILTER} GROUP BY c.plugin"
        );
        let chosen_rows = self.filtered_rows(&q, &filter).await?;
        let mut chosen_by_plugin = std::collections::HashMap::new();
        for r in &chosen_rows {
            chosen_by_plugin.insert(r.try_get::<String, _>("plugin")?, r.try_get::<i64, _>("n")?);
        }
        let mut plugins = Vec::with_capacity(shown_rows.len());
        for r in &shown_rows {
            let plugin: String = r.try_get("plugin")?;
            let answers: i64 = r.try_get("answers")?;
            let chosen = chosen_by_plugin.remove(&plugin).unwrap_or(0);
            plugins.push(PluginAcceptance {
                acceptance_rate: rate(chosen, answers),
                plugin,
                answers_shown: answers,
                hints_shown: r.try_get("hints")?,
                chosen,
            });
        }
        Ok(HintStats {
            answers_shown,
            answers_empty,
            answers_chosen,
            acceptance_rate: rate(answers_chosen, answers_shown),
            mean_chosen_position: if choices == 0 {
                0.0
            } else {
                position_sum as f64 / choices as f64
            },
            chosen_positions: positions,
            plugins,
        })
    }

    async fn hint_series(&self, f: &SeriesFilter) -> Result<Vec<SeriesPoint>, StoreError> {
        self.series(f).await
    }

    async fn purge_answers(&self, before_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let old = "SELECT id FROM hint_answers WHERE created_at_ms < $1";
        sqlx::query(&format!(
            "DELETE FROM hint_choices WHERE answer_id IN ({old})"
        ))
        .bind(before_ms)
        .execute(&mut **tx)
        .await?;
        sqlx::query(&format!(
            "DELETE FROM hint_answer_hints WHERE answer_id IN ({old})"
        ))
        .bind(before_ms)
        .execute(&mut **tx)
        .await?;
        let done = sqlx::query("DELETE FROM hint_answers WHERE created_at_ms < $1")
            .bind(before_ms)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

/// Answers showing each plugin per bucket: [`FILTER`] plus `$4` (until, exclusive) and `$5`
/// (bucket width). Integer division floors the non-negative times on both engines.
const SERIES_SHOWN: &str = "SELECT h.plugin AS plugin, (a.created_at_ms / $5) * $5 AS bucket, \
     COUNT(DISTINCT h.answer_id) AS n \
     FROM hint_answer_hints h JOIN hint_answers a ON a.id = h.answer_id \
     WHERE ($1 = '' OR a.source = $1) AND ($2 = '' OR a.account = $2) AND a.created_at_ms >= $3 \
       AND a.created_at_ms < $4 \
     GROUP BY h.plugin, (a.created_at_ms / $5) * $5";

/// Answers in which each plugin's hint was chosen, bucketed by when the answer was served
/// (as the totals count them), so a bucket's rate never exceeds 1.
const SERIES_CHOSEN: &str = "SELECT c.plugin AS plugin, (a.created_at_ms / $5) * $5 AS bucket, \
     COUNT(DISTINCT c.answer_id) AS n \
     FROM hint_choices c JOIN hint_answers a ON a.id = c.answer_id \
     WHERE ($1 = '' OR a.source = $1) AND ($2 = '' OR a.account = $2) AND a.created_at_ms >= $3 \
       AND a.created_at_ms < $4 \
     GROUP BY c.plugin, (a.created_at_ms / $5) * $5";

impl SqlStore {
    async fn series_counts(
        &self,
        sql: &str,
        f: &SeriesFilter,
    ) -> Result<std::collections::BTreeMap<(String, i64), i64>, StoreError> {
        let rows = sqlx::query(sql)
            .bind(f.stats.source.clone().unwrap_or_default())
            .bind(f.stats.account.clone().unwrap_or_default())
            .bind(f.stats.since_ms.unwrap_or(0))
            .bind(f.until_ms)
            .bind(f.bucket_ms)
            .fetch_all(&self.pool)
            .await?;
        let mut out = std::collections::BTreeMap::new();
        for r in &rows {
            out.insert(
                (
                    r.try_get::<String, _>("plugin")?,
                    r.try_get::<i64, _>("bucket")?,
                ),
                r.try_get::<i64, _>("n")?,
            );
        }
        Ok(out)
    }

    /// See [`HintStore::hint_series`].
    pub(crate) async fn series(&self, f: &SeriesFilter) -> Result<Vec<SeriesPoint>, StoreError> {
        let shown = self.series_counts(SERIES_SHOWN, f).await?;
        let chosen = self.series_counts(SERIES_CHOSEN, f).await?;
        Ok(shown
            .into_iter()
            .map(|((plugin, bucket), n)| {
                let c = chosen.get(&(plugin.clone(), bucket)).copied().unwrap_or(0);
                SeriesPoint {
                    plugin,
                    bucket_start_ms: bucket,
                    answers_shown: n,
                    answers_chosen: c,
                    acceptance_rate: rate(c, n),
                }
            })
            .collect())
    }
}
