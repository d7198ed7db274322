//! The retention task: deletes old messages on a schedule.

use super::ContextService;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Runs [`ContextService::purge`] every `purge_interval_secs` until the task is aborted.
pub fn spawn_retention(context: ContextService) -> JoinHandle<()> {
    let every = Duration::from_secs(context.config().purge_interval_secs.max(1));
    tokio::spawn(async move {
        // The first purge waits one interval: a server that just started (often to be
        // inspected, or with back-dated test data) keeps what it has until then.
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match context.purge(crate::core::now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "retention purge deleted old messages"),
                Err(e) => tracing::warn!("retention purge failed: {e}"),
            }
        }
    })
}
