//! SQL for webhook subscriptions, the outbox and attempts.

mod sqlite;

use crate::core::now_ms;
use crate::store::sql::events::event_from_row;
use crate::store::sql::{Dialect, SqlStore};
use crate::store::{
    AttemptRecord, AttemptResult, ClaimedMessage, DispatchStore, FailingWebhook, FanoutPlan,
    FanoutStats, MessageNext, MessageRecord, NewEvent, NewMessage, PurgeStats, StoreError,
    StoredEvent, WebhookRecord, WebhookStatus,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

pub(crate) const WEBHOOK_COLUMNS: &str = "id, account, name, url, events, status, disabled_reason, disabled_at_ms, secret, \
     old_secret, old_secret_until_ms, created_at_ms, updated_at_ms, last_success_ms, failing_since_ms";

/// New outbox messages; the `VALUES` rows follow.
pub(crate) const INSERT_MESSAGES: &str = "INSERT INTO webhook_messages (id, webhook_id, event_seq, event_type, \
     order_key, payload, status, attempts, next_attempt_ms, created_at_ms) VALUES";

const MESSAGE_COLUMNS: &str = "id, webhook_id, event_seq, event_type, status, attempts, next_attempt_ms, created_at_ms, \
     finished_at_ms, CASE WHEN payload IS NULL THEN 0 ELSE 1 END AS has_payload, last_error";

/// Rows per multi-row INSERT. Small on purpose: SQLite looks bound parameters up by name
/// in a list, so one statement's binding cost grows with the square of its parameter count.
const INSERT_CHUNK: usize = 25;
/// Ids per `IN (...)` update, for the same reason.
const UPDATE_CHUNK: usize = 64;

fn webhook_from_row(r: &AnyRow) -> Result<WebhookRecord, sqlx::Error> {
    let events: String = r.try_get("events")?;
    Ok(WebhookRecord {
        id: r.try_get("id")?,
        account: r.try_get("account")?,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        events: serde_json::from_str(&events).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        status: WebhookStatus::parse(&r.try_get::<String, _>("status")?),
        disabled_reason: r.try_get("disabled_reason")?,
        disabled_at_ms: r.try_get("disabled_at_ms")?,
        secret: r.try_get("secret")?,
        old_secret: r.try_get("old_secret")?,
        old_secret_until_ms: r.try_get("old_secret_until_ms")?,
        created_at_ms: r.try_get("created_at_ms")?,
        updated_at_ms: r.try_get("updated_at_ms")?,
        last_success_ms: r.try_get("last_success_ms")?,
        failing_since_ms: r.try_get("failing_since_ms")?,
    })
}

fn message_from_row(r: &AnyRow) -> Result<MessageRecord, sqlx::Error> {
    Ok(MessageRecord {
        id: r.try_get("id")?,
        webhook_id: r.try_get("webhook_id")?,
        event_seq: r.try_get("event_seq")?,
        event_type: r.try_get("event_type")?,
        status: r.try_get("status")?,
        attempts: int(r, "attempts")?,
        next_attempt_ms: r.try_get("next_attempt_ms")?,
        created_at_ms: r.try_get("created_at_ms")?,
        finished_at_ms: r.try_get("finished_at_ms")?,
        has_payload: int(r, "has_payload")? != 0,
        last_error: r.try_get("last_error")?,
    })
}

fn attempt_from_row(r: &AnyRow) -> Result<AttemptRecord, sqlx::Error> {
    Ok(AttemptRecord {
        id: r.try_get("id")?,
        message_id: r.try_get("message_id")?,
        attempt: int(r, "attempt")?,
        at_ms: r.try_get("at_ms")?,
        duration_ms: r.try_get("duration_ms")?,
        outcome: r.try_get("outcome")?,
        http_status: opt_int(r, "http_status")?,
        error: r.try_get("error")?,
        response_snippet: r.try_get("response_snippet")?,
    })
}

/// An INTEGER column: i64 on SQLite, i32 (`INTEGER`) on PostgreSQL.
fn int(r: &AnyRow, col: &str) -> Result<i64, sqlx::Error> {
    r.try_get::<i64, _>(col)
        .or_else(|_| r.try_get::<i32, _>(col).map(i64::from))
}

fn opt_int(r: &AnyRow, col: &str) -> Result<Option<i64>, sqlx::Error> {
    r.try_get::<Option<i64>, _>(col)
        .or_else(|_| r.try_get::<Option<i32>, _>(col).map(|v| v.map(i64::from)))
}

/// `$start, $start+1, ...` for `n` values.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SqlStore {
    /// Serialises a section across PostgreSQL replicas (no-op on SQLite, whose writes are
    /// serialised already).
    async fn pg_lock(&self, tx: &mut Transaction<'_, Any>, key: &str) -> Result<(), StoreError> {
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(key)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Events after the cursor that fan-out may read now, in cursor order.
    async fn events_for_fanout(
        &self,
        tx: &mut Transaction<'_, Any>,
        last_tx: i64,
        last_seq: i64,
        limit: u32,
    ) -> Result<Vec<(i64, StoredEvent)>, StoreError> {
        const COLS: &str =
            "seq, source, account, event_type, dialog_id, dedup_key, received_at_ms, payload";
        // Only transactions finished before every running one: their events are final, so
        // the cursor never passes an event that commits later. The row comparison is a range
        // on the (tx_id, seq) index; the equivalent OR is a filter over the whole log, which
        // made each fan-out read every event ever stored. (SQLite fans out on its write
        // thread: `sqlite`.)
        let rows = sqlx::query(&format!(
            "SELECT {COLS}, tx_id::text AS tx FROM events \
             WHERE (tx_id, seq) > ($1::xid8, $2) \
               AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY tx_id, seq LIMIT $3"
        ))
        .bind(last_tx.to_string())
        .bind(last_seq)
        .bind(limit as i64)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| {
                let tx_id = r.try_get::<String, _>("tx")?.parse().unwrap_or(0);
                Ok((tx_id, event_from_row(r)?))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn insert_messages(
        &self,
        tx: &mut Transaction<'_, Any>,
        msgs: &[NewMessage],
        now: i64,
    ) -> Result<(), StoreError> {
        for chunk in msgs.chunks(INSERT_CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("({}, 'pending', 0, $1, $1)", placeholders(2 + i * 6, 6)))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("{INSERT_MESSAGES} {values} ON CONFLICT (id) DO NOTHING");
            let mut q = sqlx::query(&sql).bind(now);
            for m in chunk {
                q = q
                    .bind(m.id.as_str())
                    .bind(m.webhook_id.as_str())
                    .bind(m.event_seq)
                    .bind(m.event_type.as_str())
                    .bind(m.order_key.as_deref())
                    .bind(m.payload.as_slice());
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn insert_attempts(
        &self,
        tx: &mut Transaction<'_, Any>,
        results: &[&AttemptResult],
    ) -> Result<(), StoreError> {
        for chunk in results.chunks(INSERT_CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("({})", placeholders(1 + i * 9, 9)))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO webhook_attempts (webhook_id, message_id, attempt, at_ms, duration_ms, outcome, http_status, \
                 error, response_snippet) VALUES {values}"
            );
            let mut q = sqlx::query(&sql);
            for a in chunk {
                let outcome = if a.next == MessageNext::Delivered {
                    "success"
                } else {
                    "failure"
                };
                q = q
                    .bind(a.webhook_id.as_str())
                    .bind(a.message_id.as_str())
                    .bind(a.attempt)
                    .bind(a.at_ms)
                    .bind(a.duration_ms)
                    .bind(outcome)
                    .bind(a.http_status)
                    .bind(a.error.as_deref())
                    .bind(a.response_snippet.as_deref());
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn fail_pending(
        &self,
        tx: &mut Transaction<'_, Any>,
        webhook_id: &str,
        now: i64,
        why: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE webhook_messages SET status = 'failed', finished_at_ms = $1, lease_owner = NULL, lease_until_ms = NULL, \
             last_error = $2 WHERE webhook_id = $3 AND status = 'pending'",
        )
        .bind(now)
        .bind(why)
        .bind(webhook_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl DispatchStore for SqlStore {
    async fn webhook_insert(&self, w: &WebhookRecord, limit: u32) -> Result<(), StoreError> {
        let limit_key = w.account.clone().unwrap_or_else(|| "*".into());
        let mut tx = self.begin_write().await?;
        self.pg_lock(&mut tx, &format!("hintd.webhooks.{limit_key}"))
            .await?;
        // One statement counts and inserts, so two concurrent creations cannot both pass.
        let done = sqlx::query(
            "INSERT INTO webhooks (id, account, limit_key, name, url, events, status, disabled_reason, disabled_at_ms, \
             secret, old_secret, old_secret_until_ms, created_at_ms, updated_at_ms, last_success_ms, failing_since_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 \
             WHERE (SELECT COUNT(*) FROM webhooks WHERE limit_key = $3) < $17",
        )
        .bind(w.id.as_str())
        .bind(w.account.as_deref())
        .bind(limit_key.as_str())
        .bind(w.name.as_str())
        .bind(w.url.as_str())
        .bind(serde_json::to_string(&w.events).expect("strings serialise"))
        .bind(w.status.as_str())
        .bind(w.disabled_reason.as_deref())
        .bind(w.disabled_at_ms)
        .bind(w.secret.as_slice())
        .bind(w.old_secret.as_deref())
        .bind(w.old_secret_until_ms)
        .bind(w.created_at_ms)
        .bind(w.updated_at_ms)
        .bind(w.last_success_ms)
        .bind(w.failing_since_ms)
        .bind(limit as i64)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "limit of {limit} webhooks reached"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn webhook_get(&self, id: &str) -> Result<Option<WebhookRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(webhook_from_row).transpose()?)
    }

    async fn webhook_list(&self, account: Option<&str>) -> Result<Vec<WebhookRecord>, StoreError> {
        let rows = match account {
            Some(a) => {
                sqlx::query(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE account = $1 ORDER BY created_at_ms, id"
                ))
                .bind(a)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at_ms, id"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows
            .iter()
            .map(webhook_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn webhook_update(
        &self,
        w: &WebhookRecord,
        fail_pending: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE webhooks SET name = $1, url = $2, events = $3, status = $4, disabled_reason = $5, disabled_at_ms = $6, \
             secret = $7, old_secret = $8, old_secret_until_ms = $9, updated_at_ms = $10, last_success_ms = $11, \
             failing_since_ms = $12 WHERE id = $13",
        )
        .bind(w.name.as_str())
        .bind(w.url.as_str())
        .bind(serde_json::to_string(&w.events).expect("strings serialise"))
        .bind(w.status.as_str())
        .bind(w.disabled_reason.as_deref())
        .bind(w.disabled_at_ms)
        .bind(w.secret.as_slice())
        .bind(w.old_secret.as_deref())
        .bind(w.old_secret_until_ms)
        .bind(w.updated_at_ms)
        .bind(w.last_success_ms)
        .bind(w.failing_since_ms)
        .bind(w.id.as_str())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if fail_pending {
            self.fail_pending(&mut tx, &w.id, w.updated_at_ms, "webhook disabled")
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn webhook_delete(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM webhook_messages WHERE webhook_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM webhook_attempts WHERE webhook_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn webhook_disable(
        &self,
        id: &str,
        reason: &str,
        now: i64,
        event: &NewEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE webhooks SET status = 'disabled', disabled_reason = $1, disabled_at_ms = $2, updated_at_ms = $2 \
             WHERE id = $3 AND status = 'active'",
        )
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.fail_pending(&mut tx, id, now, &format!("webhook disabled ({reason})"))
            .await?;
        sqlx::query(
            "INSERT INTO events (source, account, event_type, dialog_id, dedup_key, received_at_ms, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(event.source.as_str())
        .bind(event.account.as_str())
        .bind(event.event_type.as_str())
        .bind(event.dialog_id.as_deref())
        .bind(event.dedup_key.as_deref())
        .bind(event.received_at_ms)
        .bind(event.payload.as_slice())
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn fanout(&self, limit: u32, plan: FanoutPlan) -> Result<FanoutStats, StoreError> {
        let now = now_ms();
        if let Some(writer) = self.sqlite_writer() {
            return writer
                .transaction(move |tx| sqlite::fanout(tx, limit, plan, now))
                .await;
        }
        let mut tx = self.begin_write().await?;
        // Writing first takes the row lock on the cursor, so two fan-outs (replicas) never
        // read the same events.
        sqlx::query("UPDATE dispatch_cursor SET updated_at_ms = $1 WHERE name = 'fanout'")
            .bind(now)
            .execute(&mut **tx)
            .await?;
        let cursor =
            sqlx::query("SELECT last_tx, last_seq FROM dispatch_cursor WHERE name = 'fanout'")
                .fetch_one(&mut **tx)
                .await?;
        let (last_tx, last_seq): (i64, i64) =
            (cursor.try_get("last_tx")?, cursor.try_get("last_seq")?);
        let events = self
            .events_for_fanout(&mut tx, last_tx, last_seq, limit)
            .await?;
        let Some((end_tx, end_event)) = events.last().map(|(t, e)| (*t, e.seq)) else {
            tx.rollback().await?;
            return Ok(FanoutStats::default());
        };
        let hooks = sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE status = 'active'"
        ))
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(webhook_from_row)
        .collect::<Result<Vec<_>, _>>()?;
        let messages: Vec<NewMessage> = events.iter().flat_map(|(_, e)| plan(e, &hooks)).collect();
        self.insert_messages(&mut tx, &messages, now).await?;
        sqlx::query("UPDATE dispatch_cursor SET last_tx = $1, last_seq = $2 WHERE name = 'fanout'")
            .bind(end_tx)
            .bind(end_event)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(FanoutStats {
            events: events.len(),
            messages: messages.len(),
            active_webhooks: Some(hooks.len()),
        })
    }

    async fn claim_due(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        let lock = if self.dialect == Dialect::Postgres {
            "FOR UPDATE OF m SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE webhook_messages SET lease_owner = $1, lease_until_ms = $2 WHERE id IN ( \
               SELECT m.id FROM webhook_messages m JOIN webhooks w ON w.id = m.webhook_id AND w.status = 'active' \
               WHERE m.status = 'pending' AND m.next_attempt_ms <= $3 \
                 AND (m.lease_until_ms IS NULL OR m.lease_until_ms < $3) \
                 AND (m.order_key IS NULL OR NOT EXISTS ( \
                   SELECT 1 FROM webhook_messages p WHERE p.webhook_id = m.webhook_id AND p.order_key = m.order_key \
                     AND p.status = 'pending' AND p.event_seq < m.event_seq \
                     AND ((p.lease_owner <> $1 AND p.lease_until_ms >= $3) \
                       OR (p.lease_owner IS NULL AND p.next_attempt_ms > $3)))) \
               ORDER BY m.next_attempt_ms, m.event_seq LIMIT $4 {lock}) \
             RETURNING id, webhook_id, event_seq, order_key, payload, attempts"
        );
        let mut tx = self.begin_write().await?;
        // Claims are serialised across replicas so the in-order rule sees every lease.
        self.pg_lock(&mut tx, "hintd.outbox.claim").await?;
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit as i64)
            .fetch_all(&mut **tx)
            .await?;
        tx.commit().await?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                Ok(ClaimedMessage {
                    id: r.try_get("id")?,
                    webhook_id: r.try_get("webhook_id")?,
                    event_seq: r.try_get("event_seq")?,
                    order_key: r.try_get("order_key")?,
                    payload: r.try_get("payload")?,
                    attempts: int(r, "attempts")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        claimed.sort_by_key(|m| m.event_seq);
        Ok(claimed)
    }

    async fn release_all_leases(&self) -> Result<u64, StoreError> {
        let _gate = self.enter_gate().await;
        let done = sqlx::query(
            "UPDATE webhook_messages SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner IS NOT NULL",
        )
        .execute(&self.writes)
        .await?;
        Ok(done.rows_affected())
    }

    async fn release_leases(&self, owner: &str) -> Result<u64, StoreError> {
        let _gate = self.enter_gate().await;
        let done = sqlx::query("UPDATE webhook_messages SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = $1")
            .bind(owner)
            .execute(&self.writes)
            .await?;
        Ok(done.rows_affected())
    }

    async fn record_results(
        &self,
        owner: &str,
        results: &[AttemptResult],
    ) -> Result<Vec<FailingWebhook>, StoreError> {
        if results.is_empty() {
            return Ok(vec![]);
        }
        let now = now_ms();
        let attempted: Vec<&AttemptResult> = results
            .iter()
            .filter(|r| !matches!(r.next, MessageNext::Release(_)))
            .collect();
        let mut tx = self.begin_write().await?;
        self.insert_attempts(&mut tx, &attempted).await?;
        let delivered: Vec<&str> = results
            .iter()
            .filter(|r| r.next == MessageNext::Delivered)
            .map(|r| r.message_id.as_str())
            .collect();
        for chunk in delivered.chunks(UPDATE_CHUNK) {
            let sql = format!(
                "UPDATE webhook_messages SET status = 'delivered', attempts = attempts + 1, finished_at_ms = $1, \
                 lease_owner = NULL, lease_until_ms = NULL, last_error = NULL WHERE lease_owner = $2 AND id IN ({})",
                placeholders(3, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(now).bind(owner);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut **tx).await?;
        }
        for r in results {
            let q = match r.next {
                MessageNext::Delivered => continue,
                MessageNext::Retry(at) => sqlx::query(
                    "UPDATE webhook_messages SET attempts = attempts + 1, next_attempt_ms = $1, lease_owner = NULL, \
                     lease_until_ms = NULL, last_error = $2 WHERE id = $3 AND lease_owner = $4",
                )
                .bind(at)
                .bind(r.error.as_deref()),
                MessageNext::Failed => sqlx::query(
                    "UPDATE webhook_messages SET status = 'failed', attempts = attempts + 1, finished_at_ms = $1, \
                     lease_owner = NULL, lease_until_ms = NULL, last_error = $2 WHERE id = $3 AND lease_owner = $4",
                )
                .bind(now)
                .bind(r.error.as_deref()),
                MessageNext::Release(at) => sqlx::query(
                    "UPDATE webhook_messages SET next_attempt_ms = $1, lease_owner = NULL, lease_until_ms = NULL, \
                     last_error = $2 WHERE id = $3 AND lease_owner = $4",
                )
                .bind(at)
                .bind(r.error.as_deref()),
            };
            q.bind(r.message_id.as_str())
                .bind(owner)
                .execute(&mut **tx)
                .await?;
        }
        // Health per webhook: the last success, and the first failure after it.
        let mut health: HashMap<&str, (Option<i64>, Option<i64>)> = HashMap::new();
        for r in &attempted {
            let entry = health.entry(r.webhook_id.as_str()).or_default();
            if r.next == MessageNext::Delivered {
                entry.0 = Some(entry.0.map_or(r.at_ms, |s| s.max(r.at_ms)));
            }
        }
        for r in &attempted {
            let entry = health
                .get_mut(r.webhook_id.as_str())
                .expect("inserted above");
            if r.next != MessageNext::Delivered && entry.0.is_none_or(|s| r.at_ms > s) {
                entry.1 = Some(entry.1.map_or(r.at_ms, |f| f.min(r.at_ms)));
            }
        }
        let mut failing = Vec::new();
        for (id, (success, failure)) in health {
            match success {
                Some(s) => {
                    sqlx::query(
                        "UPDATE webhooks SET last_success_ms = CASE WHEN last_success_ms IS NULL OR last_success_ms < $1 \
                         THEN $1 ELSE last_success_ms END, failing_since_ms = $2 WHERE id = $3",
                    )
                    .bind(s)
                    .bind(failure)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                    if let Some(f) = failure {
                        failing.push(FailingWebhook {
                            webhook_id: id.to_string(),
                            failing_since_ms: f,
                        });
                    }
                }
                None => {
                    let Some(f) = failure else { continue };
                    let row = sqlx::query(
                        "UPDATE webhooks SET failing_since_ms = COALESCE(failing_since_ms, $1) WHERE id = $2 \
                         RETURNING failing_since_ms",
                    )
                    .bind(f)
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?;
                    if let Some(row) = row {
                        let since: Option<i64> = row.try_get("failing_since_ms")?;
                        failing.push(FailingWebhook {
                            webhook_id: id.to_string(),
                            failing_since_ms: since.unwrap_or(f),
                        });
                    }
                }
            }
        }
        tx.commit().await?;
        if let Some(vacuum) = &self.outbox_vacuum {
            let finished = results
                .iter()
                .filter(|r| matches!(r.next, MessageNext::Delivered | MessageNext::Failed))
                .count();
            vacuum.on_finished(finished as u64, &self.pool);
        }
        Ok(failing)
    }

    async fn attempts_list(
        &self,
        webhook_id: &str,
        message_id: Option<&str>,
        only_failures: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        let sql = format!(
            "SELECT id, message_id, attempt, at_ms, duration_ms, outcome, http_status, error, response_snippet \
             FROM webhook_attempts WHERE webhook_id = $1 AND (CAST($2 AS TEXT) IS NULL OR message_id = $2) AND id < $3 {} \
             ORDER BY id DESC LIMIT $4",
            if only_failures {
                "AND outcome <> 'success'"
            } else {
                ""
            }
        );
        let rows = sqlx::query(&sql)
            .bind(webhook_id)
            .bind(message_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(attempt_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn message_get(
        &self,
        webhook_id: &str,
        message_id: &str,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM webhook_messages WHERE webhook_id = $1 AND id = $2"
        ))
        .bind(webhook_id)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(message_from_row).transpose()?)
    }

    async fn messages_list(
        &self,
        webhook_id: &str,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM webhook_messages WHERE webhook_id = $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2) \
             ORDER BY event_seq DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(webhook_id)
            .bind(status)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn message_resend(
        &self,
        webhook_id: &str,
        message_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let _gate = self.enter_gate().await;
        let done = sqlx::query(
            "UPDATE webhook_messages SET status = 'pending', attempts = 0, next_attempt_ms = $1, lease_owner = NULL, \
             lease_until_ms = NULL, finished_at_ms = NULL WHERE webhook_id = $2 AND id = $3 AND payload IS NOT NULL \
             AND (status <> 'pending' OR lease_owner IS NULL)",
        )
        .bind(now)
        .bind(webhook_id)
        .bind(message_id)
        .execute(&self.writes)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn messages_recover(
        &self,
        webhook_id: &str,
        since: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        let _gate = self.enter_gate().await;
        let done = sqlx::query(
            "UPDATE webhook_messages SET status = 'pending', attempts = 0, next_attempt_ms = $1, lease_owner = NULL, \
             lease_until_ms = NULL, finished_at_ms = NULL WHERE webhook_id = $2 AND status = 'failed' \
             AND created_at_ms >= $3 AND payload IS NOT NULL",
        )
        .bind(now)
        .bind(webhook_id)
        .bind(since)
        .execute(&self.writes)
        .await?;
        Ok(done.rows_affected())
    }

    async fn dispatch_purge(
        &self,
        payloads_before: i64,
        rows_before: i64,
    ) -> Result<PurgeStats, StoreError> {
        let mut tx = self.begin_write().await?;
        let payloads = sqlx::query(
            "UPDATE webhook_messages SET payload = NULL WHERE status <> 'pending' AND finished_at_ms < $1 AND payload IS NOT NULL",
        )
        .bind(payloads_before)
        .execute(&mut **tx)
        .await?;
        let messages = sqlx::query(
            "DELETE FROM webhook_messages WHERE status <> 'pending' AND finished_at_ms < $1",
        )
        .bind(rows_before)
        .execute(&mut **tx)
        .await?;
        let attempts = sqlx::query("DELETE FROM webhook_attempts WHERE at_ms < $1")
            .bind(rows_before)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(PurgeStats {
            payloads_dropped: payloads.rows_affected(),
            messages_deleted: messages.rows_affected(),
            attempts_deleted: attempts.rows_affected(),
        })
    }

    async fn pending_count(&self) -> Result<u64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM webhook_messages WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get::<i64, _>("n")? as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreConfig};

    async fn sqlite() -> (tempfile::TempDir, SqlStore) {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            url: format!("sqlite://{}/t.db", dir.path().display()),
            ..StoreConfig::default()
        };
        (dir, SqlStore::connect(&config).await.unwrap())
    }

    fn hook(id: &str, account: Option<&str>) -> WebhookRecord {
        WebhookRecord {
            id: id.into(),
            account: account.map(Into::into),
            name: id.into(),
            url: "https://example.com/".into(),
            events: vec!["*".into()],
            status: WebhookStatus::Active,
            disabled_reason: None,
            disabled_at_ms: None,
            secret: vec![1, 2, 3],
            old_secret: None,
            old_secret_until_ms: None,
            created_at_ms: 0,
            updated_at_ms: 0,
            last_success_ms: None,
            failing_since_ms: None,
        }
    }

    async fn append(store: &SqlStore, dialog: &str) {
        sqlx::query(
            "INSERT INTO events (source, account, event_type, dialog_id, received_at_ms, payload) VALUES ('chat2desk', 'a', 'inbox', $1, $2, $3)",
        )
        .bind(dialog)
        .bind(now_ms())
        .bind(b"{}".as_slice())
        .execute(&store.pool)
        .await
        .unwrap();
    }

    fn every_hook(e: &StoredEvent, hooks: &[WebhookRecord]) -> Vec<NewMessage> {
        hooks
            .iter()
            .map(|h| NewMessage {
                id: format!("msg_{}_{}", h.id, e.seq),
                webhook_id: h.id.clone(),
                event_seq: e.seq,
                event_type: e.event.event_type.clone(),
                order_key: e.event.dialog_id.clone(),
                payload: e.event.payload.clone(),
            })
            .collect()
    }

    fn result(m: &ClaimedMessage, next: MessageNext) -> AttemptResult {
        AttemptResult {
            message_id: m.id.clone(),
            webhook_id: m.webhook_id.clone(),
            attempt: m.attempts + 1,
            at_ms: now_ms(),
            duration_ms: 1,
            http_status: Some(500),
            error: Some("HTTP 500".into()),
            response_snippet: None,
            next,
        }
    }

    pub(crate) async fn outbox_round_trip(store: &dyn Store) {
        store
            .webhook_insert(&hook("w1", Some("a")), 2)
            .await
            .unwrap();
        store
            .webhook_insert(&hook("w2", Some("a")), 2)
            .await
            .unwrap();
        assert!(matches!(
            store.webhook_insert(&hook("w3", Some("a")), 2).await,
            Err(StoreError::Conflict(_))
        ));
        store.webhook_insert(&hook("w3", None), 2).await.unwrap();
        assert_eq!(store.webhook_list(Some("a")).await.unwrap().len(), 2);
        store.webhook_delete("w3").await.unwrap();
        // On PostgreSQL the fan-out takes an event only once no older transaction is open
        // anywhere on the server, other tests' included: wait for that rather than assume it.
        let mut fanned = 0;
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while fanned < 6 && std::time::Instant::now() < until {
            fanned += store.fanout(100, every_hook).await.unwrap().messages;
            if fanned < 6 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        assert_eq!(fanned, 6);
        let idle = store.fanout(100, every_hook).await.unwrap();
        assert_eq!((idle.events, idle.messages), (0, 0));
        // Dialog d1 has two events per webhook: only the first may be claimed while leased.
        let now = now_ms();
        let first = store.claim_due("me", now, now + 60_000, 100).await.unwrap();
        assert_eq!(
            first.len(),
            6,
            "unleased messages of one dialog are claimed together, in order"
        );
        assert!(
            store
                .claim_due("other", now, now + 60_000, 100)
                .await
                .unwrap()
                .is_empty()
        );
        let (d1, rest): (Vec<_>, Vec<_>) = first
            .iter()
            .partition(|m| m.order_key.as_deref() == Some("d1") && m.webhook_id == "w1");
        assert_eq!(d1.len(), 2);
        let mut results = vec![
            result(d1[0], MessageNext::Retry(now + 60_000)),
            result(d1[1], MessageNext::Release(now + 60_000)),
        ];
        results.extend(rest.iter().map(|m| result(m, MessageNext::Delivered)));
        results[0].at_ms += 1_000; // w1 failed after its other message succeeded
        let failing = store.record_results("me", &results).await.unwrap();
        assert_eq!(failing.len(), 1);
        assert_eq!(failing[0].webhook_id, "w1");
        let w2 = store.webhook_get("w2").await.unwrap().unwrap();
        assert!(w2.last_success_ms.is_some() && w2.failing_since_ms.is_none());
        assert_eq!(store.pending_count().await.unwrap(), 2);
        let atts = store
            .attempts_list("w1", None, true, None, 10)
            .await
            .unwrap();
        assert_eq!(atts.len(), 1);
        assert_eq!(atts[0].http_status, Some(500));
        let msg = store.message_get("w1", &d1[1].id).await.unwrap().unwrap();
        assert_eq!(msg.attempts, 0, "a release does not count as an attempt");
        assert!(store.message_resend("w1", &d1[0].id, now).await.unwrap());
        let again = store
            .claim_due("me", now + 1, now + 60_000, 100)
            .await
            .unwrap();
        assert_eq!(
            again.len(),
            1,
            "the second message waits for the retried first one"
        );
        store
            .record_results("me", &[result(&again[0], MessageNext::Failed)])
            .await
            .unwrap();
        assert_eq!(
            store
                .messages_list("w1", Some("failed"), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(store.messages_recover("w1", 0, now).await.unwrap(), 1);
        let event = NewEvent {
            source: "hintd".into(),
            account: "a".into(),
            event_type: "webhook.disabled".into(),
            dialog_id: None,
            dedup_key: Some("x".into()),
            received_at_ms: now,
            payload: b"{}".to_vec(),
        };
        assert!(
            store
                .webhook_disable("w1", "failing", now, &event)
                .await
                .unwrap()
        );
        assert!(
            !store
                .webhook_disable("w1", "failing", now, &event)
                .await
                .unwrap()
        );
        assert_eq!(store.pending_count().await.unwrap(), 0);
        let purged = store.dispatch_purge(now_ms() + 1, 0).await.unwrap();
        assert!(purged.payloads_dropped >= 4);
        assert!(
            !store.message_resend("w1", &d1[0].id, now).await.unwrap(),
            "purged payload"
        );
    }

    #[tokio::test]
    async fn outbox_round_trip_on_sqlite() {
        let (_dir, store) = sqlite().await;
        for d in ["d1", "d1", "d2"] {
            append(&store, d).await;
        }
        outbox_round_trip(&store).await;
    }

    #[tokio::test]
    async fn outbox_round_trip_on_postgres() {
        let Some(pg) = crate::store::sql::test_postgres::TestSchema::create("dispatch").await
        else {
            return;
        };
        for d in ["d1", "d1", "d2"] {
            append(&pg.store, d).await;
        }
        outbox_round_trip(&pg.store).await;
        pg.remove().await;
    }
}
