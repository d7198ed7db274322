//! Plugins' key-value writes on the write thread. Each transaction holds SQLite's write lock
//! from its start (`BEGIN IMMEDIATE`), so the usage read here cannot change before the write.

use super::{ADD_USAGE, DELETE_KV, ENTRY_BYTES, RECORD_REFUSAL, UPSERT_KV, USAGE, exceeds_quota};
use crate::store::{KvWrite, StoreError};
use rusqlite::{OptionalExtension, Transaction, params};

/// Stores `value` under (`plugin`, `key`) unless that grows the plugin's usage beyond
/// `quota_bytes`, and keeps the usage row in step; a refusal is counted instead.
pub(crate) fn set(
    tx: &Transaction<'_>,
    plugin: &str,
    key: &[u8],
    value: &[u8],
    quota_bytes: u64,
) -> Result<KvWrite, StoreError> {
    let bytes = (key.len() + value.len()) as i64;
    let used: i64 = tx
        .prepare_cached(USAGE)?
        .query_row(params![plugin], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let replaced: i64 = tx
        .prepare_cached(ENTRY_BYTES)?
        .query_row(params![plugin, key], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let now = crate::core::now_ms();
    if exceeds_quota(used, replaced, bytes, quota_bytes) {
        tx.prepare_cached(RECORD_REFUSAL)?
            .execute(params![plugin, now])?;
        return Ok(KvWrite::QuotaExceeded);
    }
    tx.prepare_cached(UPSERT_KV)?
        .execute(params![plugin, key, value, bytes, now])?;
    tx.prepare_cached(ADD_USAGE)?
        .execute(params![plugin, bytes - replaced])?;
    Ok(KvWrite::Stored)
}

/// Removes (`plugin`, `key`) if present and frees its bytes from the plugin's usage.
pub(crate) fn delete(tx: &Transaction<'_>, plugin: &str, key: &[u8]) -> Result<(), StoreError> {
    let freed: Option<i64> = tx
        .prepare_cached(DELETE_KV)?
        .query_row(params![plugin, key], |r| r.get(0))
        .optional()?;
    if let Some(freed) = freed {
        tx.prepare_cached(ADD_USAGE)?
            .execute(params![plugin, -freed])?;
    }
    Ok(())
}
