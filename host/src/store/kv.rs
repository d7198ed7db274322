//! Plugins' key-value data.
//!
//! Semantics: one namespace per plugin; last writer wins per key; keys are any UTF-8 string
//! (NUL included), compared and ordered by their bytes — code-point order — on every backend.
//! A plugin's usage is the sum of `len(key) + len(value)` over its entries, kept in a row of
//! its own that every write updates in the write's transaction: the quota check reads that row
//! (its cost does not grow with the plugin's entries), and concurrent writers can never take a
//! plugin over its quota together. The writes the quota refused are counted in the same row.

use super::StoreError;

/// What a quota-checked write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvWrite {
    /// The value was stored.
    Stored,
    /// Nothing was stored: the write would exceed the quota. The refusal is recorded
    /// ([`KvStore::kv_quota_refusals`]).
    QuotaExceeded,
}

/// A plugin whose writes the quota refused, as [`KvStore::kv_quota_refusals`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvQuotaRefusals {
    /// The plugin.
    pub plugin: String,
    /// Bytes (keys + values) it uses now.
    pub used_bytes: u64,
    /// Writes the quota refused since its kv data was created (all time, all replicas).
    pub refusals: u64,
    /// When the last refusal happened, ms since the Unix epoch.
    pub last_refusal_ms: i64,
}

/// Per-plugin key-value storage behind the `kv` import.
#[async_trait::async_trait]
pub trait KvStore {
    /// Reads one value.
    async fn kv_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes (or replaces) one value unless that grows the plugin's usage beyond
    /// `quota_bytes` (a write that does not grow it, such as a replacement by a shorter value,
    /// is stored even over the quota). The check, the write and the usage update are one
    /// transaction; a refusal is recorded for [`KvStore::kv_quota_refusals`].
    async fn kv_set(
        &self,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota_bytes: u64,
    ) -> Result<KvWrite, StoreError>;
    /// Removes one key; an absent key is not an error.
    async fn kv_delete(&self, plugin: &str, key: &str) -> Result<(), StoreError>;
    /// Up to `limit` entries whose key starts with `prefix` (any prefix; the empty one
    /// matches every key), in key order.
    async fn kv_scan(
        &self,
        plugin: &str,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Bytes (keys + values) the plugin uses.
    async fn kv_usage(&self, plugin: &str) -> Result<u64, StoreError>;
    /// The plugins whose last quota refusal happened at or after `since_ms` (ms since the
    /// Unix epoch), by name: "which plugins hit their kv quota recently". One small read,
    /// cheap enough for every health check.
    async fn kv_quota_refusals(&self, since_ms: i64) -> Result<Vec<KvQuotaRefusals>, StoreError>;
}
