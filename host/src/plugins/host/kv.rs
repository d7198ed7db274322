//! The `kv` import: each plugin's own namespace in the store, bounded by a byte quota. A write
//! the quota refuses counts in `hintd_plugin_kv_quota_exceeded_total{plugin}`.

use super::HostState;
use crate::plugins::manifest::Capability;
use crate::plugins::wit::v0_1_0::hintd::provider::kv::{Host, KvError};
use crate::store::{KvWrite, StoreError};

impl HostState {
    fn kv_check(&self, key: &str) -> Result<(), KvError> {
        if !self.ctx.grants(Capability::Kv) {
            return Err(KvError::Denied);
        }
        if key.is_empty() || key.len() > self.ctx.limits.kv_max_key_bytes {
            return Err(KvError::InvalidKey);
        }
        Ok(())
    }
}

fn unavailable(e: StoreError) -> KvError {
    // The store's message may name the database; the plugin only learns that it failed.
    tracing::warn!(error = %e, "plugin kv call failed");
    KvError::Unavailable("store unavailable".into())
}

impl Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, KvError>> {
        if let Err(e) = self.kv_check(&key) {
            return Ok(Err(e));
        }
        Ok(self
            .ctx
            .store
            .kv_get(&self.ctx.name, &key)
            .await
            .map_err(unavailable))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), KvError>> {
        if let Err(e) = self.kv_check(&key) {
            return Ok(Err(e));
        }
        let quota = self.ctx.limits.kv_quota_bytes;
        Ok(
            match self
                .ctx
                .store
                .kv_set(&self.ctx.name, &key, &value, quota)
                .await
            {
                Ok(KvWrite::Stored) => Ok(()),
                Ok(KvWrite::QuotaExceeded) => {
                    // The store records the refusal too (`KvStore::kv_quota_refusals`, for
                    // health reports); the counter is what alerts watch.
                    metrics::counter!(
                        "hintd_plugin_kv_quota_exceeded_total",
                        "plugin" => self.ctx.name.clone()
                    )
                    .increment(1);
                    tracing::debug!(
                        plugin = %self.ctx.name,
                        key_bytes = key.len(),
                        value_bytes = value.len(),
                        "kv write refused: quota exceeded"
                    );
                    Err(KvError::QuotaExceeded)
                }
                Err(e) => Err(unavailable(e)),
            },
        )
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), KvError>> {
        if let Err(e) = self.kv_check(&key) {
            return Ok(Err(e));
        }
        Ok(self
            .ctx
            .store
            .kv_delete(&self.ctx.name, &key)
            .await
            .map_err(unavailable))
    }

    async fn scan(
        &mut self,
        prefix: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<(String, Vec<u8>)>, KvError>> {
        if !self.ctx.grants(Capability::Kv) {
            return Ok(Err(KvError::Denied));
        }
        if prefix.len() > self.ctx.limits.kv_max_key_bytes {
            return Ok(Err(KvError::InvalidKey));
        }
        let limit = limit.min(self.ctx.limits.kv_max_scan);
        Ok(self
            .ctx
            .store
            .kv_scan(&self.ctx.name, &prefix, limit)
            .await
            .map_err(unavailable))
    }
}
