//! Retention of the outbox: payloads of finished messages are dropped after
//! `payload_retention`, finished messages and attempts deleted after `attempt_retention`.
//! Pending messages are never purged.

use super::service::Dispatcher;
use crate::core::now_ms;
use crate::store::{PurgeStats, StoreError};

impl Dispatcher {
    /// Runs one purge now.
    pub async fn purge(&self) -> Result<PurgeStats, StoreError> {
        let c = &self.inner.config;
        let now = now_ms();
        let stats = self
            .inner
            .store
            .dispatch_purge(
                now - c.payload_retention.as_millis() as i64,
                now - c.attempt_retention.as_millis() as i64,
            )
            .await?;
        if stats != PurgeStats::default() {
            tracing::info!(?stats, "webhook outbox purged");
        }
        Ok(stats)
    }
}

/// The purge loop: once per `purge_interval` (first run one interval after start).
pub(crate) async fn run(dispatcher: Dispatcher) {
    let every = dispatcher.inner.config.purge_interval;
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = dispatcher.purge().await {
            tracing::warn!(error = %e, "webhook outbox purge failed");
        }
    }
}
