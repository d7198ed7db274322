//! Plugins' key-value data.
//!
//! Semantics: one namespace per plugin; last writer wins per key; a plugin's usage is the sum
//! of `len(key) + len(value)` over its entries, and `kv_set` checks the quota and writes in
//! one transaction, so concurrent writers can never take a plugin over its quota together.

use super::StoreError;

/// What a quota-checked write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvWrite {
    /// The value was stored.
    Stored,
    /// Nothing was stored: the write would exceed the quota.
    QuotaExceeded,
}

/// Per-plugin key-value storage behind the `kv` import.
#[async_trait::async_trait]
pub trait KvStore {
    /// Reads one value.
    async fn kv_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes (or replaces) one value unless the plugin's usage afterwards would exceed
    /// `quota_bytes`; the check and the write are one transaction.
    async fn kv_set(
        &self,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota_bytes: u64,
    ) -> Result<KvWrite, StoreError>;
    /// Removes one key; an absent key is not an error.
    async fn kv_delete(&self, plugin: &str, key: &str) -> Result<(), StoreError>;
    /// Up to `limit` entries whose key starts with `prefix`, in key order.
    async fn kv_scan(
        &self,
        plugin: &str,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Bytes (keys + values) the plugin uses.
    async fn kv_usage(&self, plugin: &str) -> Result<u64, StoreError>;
}
