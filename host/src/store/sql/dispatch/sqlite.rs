//! The outbox fan-out on the write thread: cursor, active webhooks, new events and the
//! messages they become, in one transaction.

use super::{INSERT_MESSAGES, WEBHOOK_COLUMNS};
use crate::store::sql::events::EVENTS_AFTER;
use crate::store::sql::events::sqlite::event_from_row;
use crate::store::{FanoutPlan, FanoutStats, StoreError, WebhookRecord, WebhookStatus};
use rusqlite::{Row, Transaction, params};

/// Turns up to `limit` events after the cursor into messages per `plan` and advances the
/// cursor. With no active webhook there is nothing to plan: the cursor moves past the
/// events without reading them (a webhook only receives events from its creation on).
pub(crate) fn fanout(
    tx: &Transaction<'_>,
    limit: u32,
    plan: FanoutPlan,
    now: i64,
) -> Result<FanoutStats, StoreError> {
    let last_seq: i64 = tx
        .prepare_cached("SELECT last_seq FROM dispatch_cursor WHERE name = 'fanout'")?
        .query_row([], |r| r.get(0))?;
    let hooks = tx
        .prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE status = 'active'"
        ))?
        .query_map([], webhook_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let (events, end, messages) = if hooks.is_empty() {
        let (events, end): (i64, Option<i64>) = tx
            .prepare_cached(
                "SELECT COUNT(*), MAX(seq) FROM (SELECT seq FROM events WHERE seq > $1 ORDER BY seq LIMIT $2)",
            )?
            .query_row(params![last_seq, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        (events as usize, end, 0)
    } else {
        let events = tx
            .prepare_cached(EVENTS_AFTER)?
            .query_map(params![last_seq, limit], event_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut insert = tx.prepare_cached(&format!(
            "{INSERT_MESSAGES} ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7) ON CONFLICT (id) DO NOTHING"
        ))?;
        let mut messages = 0;
        for m in events.iter().flat_map(|e| plan(e, &hooks)) {
            insert.execute(params![
                m.id,
                m.webhook_id,
                m.event_seq,
                m.event_type,
                m.order_key,
                m.payload,
                now
            ])?;
            messages += 1;
        }
        (events.len(), events.last().map(|e| e.seq), messages)
    };
    let active_webhooks = Some(hooks.len());
    let Some(end) = end else {
        return Ok(FanoutStats {
            active_webhooks,
            ..FanoutStats::default()
        });
    };
    tx.prepare_cached(
        "UPDATE dispatch_cursor SET last_seq = $1, updated_at_ms = $2 WHERE name = 'fanout'",
    )?
    .execute(params![end, now])?;
    Ok(FanoutStats {
        events,
        messages,
        active_webhooks,
    })
}

fn webhook_from_row(r: &Row<'_>) -> rusqlite::Result<WebhookRecord> {
    let events: String = r.get("events")?;
    Ok(WebhookRecord {
        id: r.get("id")?,
        account: r.get("account")?,
        name: r.get("name")?,
        url: r.get("url")?,
        events: serde_json::from_str(&events).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })?,
        status: WebhookStatus::parse(&r.get::<_, String>("status")?),
        disabled_reason: r.get("disabled_reason")?,
        disabled_at_ms: r.get("disabled_at_ms")?,
        secret: r.get("secret")?,
        old_secret: r.get("old_secret")?,
        old_secret_until_ms: r.get("old_secret_until_ms")?,
        created_at_ms: r.get("created_at_ms")?,
        updated_at_ms: r.get("updated_at_ms")?,
        last_success_ms: r.get("last_success_ms")?,
        failing_since_ms: r.get("failing_since_ms")?,
    })
}
