//! Plugins' key-value writes on the write thread.

use super::super::kv::{UPSERT_KV, USAGE};
use crate::store::{KvWrite, StoreError};
use rusqlite::{OptionalExtension, Transaction, params};

/// Stores `value` under (`plugin`, `key`) unless the plugin's usage would then exceed
/// `quota_bytes`. The transaction holds the write lock from its start, so usage read here
/// cannot change before the write.
pub(crate) fn set(
    tx: &Transaction<'_>,
    plugin: &str,
    key: &str,
    value: &[u8],
    quota_bytes: u64,
) -> Result<KvWrite, StoreError> {
    let bytes = (key.len() + value.len()) as i64;
    let used: i64 = tx
        .prepare_cached(USAGE)?
        .query_row(params![plugin], |r| r.get(0))?;
    let replaced: i64 = tx
        .prepare_cached("SELECT bytes FROM plugin_kv WHERE plugin = $1 AND key = $2")?
        .query_row(params![plugin, key], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    if (used - replaced + bytes).max(0) as u64 > quota_bytes {
        return Ok(KvWrite::QuotaExceeded);
    }
    tx.prepare_cached(UPSERT_KV)?.execute(params![
        plugin,
        key,
        value,
        bytes,
        crate::core::now_ms()
    ])?;
    Ok(KvWrite::Stored)
}
