//! Per-conversation debounce of private notes: several client messages arriving close together
//! get one note, computed once the conversation has been quiet for the configured time.

use crate::core::{DialogKey, now_ms};
use dashmap::DashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The conversations waiting for quiet, with the time of their latest message.
pub(super) struct Debouncer {
    pending: DashMap<DialogKey, Arc<AtomicI64>>,
    quiet_ms: i64,
}

/// The waiting slot of one conversation, held by the one task that settles it.
pub(super) struct Slot(Arc<AtomicI64>);

impl Debouncer {
    /// A debouncer waiting `quiet` after the latest message.
    pub(super) fn new(quiet: Duration) -> Debouncer {
        Debouncer {
            pending: DashMap::new(),
            quiet_ms: quiet.as_millis().min(i64::MAX as u128) as i64,
        }
    }

    /// Records a message of `key`. Returns a slot when no task waits for this conversation
    /// yet: the caller then [`Debouncer::settle`]s it; otherwise the waiting task waits longer.
    pub(super) fn touch(&self, key: &DialogKey) -> Option<Slot> {
        match self.pending.entry(key.clone()) {
            dashmap::Entry::Occupied(e) => {
                e.get().store(now_ms(), Ordering::Release);
                None
            }
            dashmap::Entry::Vacant(v) => {
                let last = Arc::new(AtomicI64::new(now_ms()));
                v.insert(last.clone());
                Some(Slot(last))
            }
        }
    }

    /// Waits until `key` has had no message for the quiet time, then frees its slot (a later
    /// message starts a new window).
    pub(super) async fn settle(&self, key: &DialogKey, slot: Slot) {
        loop {
            let due = slot.0.load(Ordering::Acquire).saturating_add(self.quiet_ms);
            let wait = due - now_ms();
            if wait > 0 {
                tokio::time::sleep(Duration::from_millis(wait as u64)).await;
                continue;
            }
            // Removed under the map's lock only if no message came meanwhile.
            let quiet = self.quiet_ms;
            if self
                .pending
                .remove_if(key, |_, last| {
                    last.load(Ordering::Acquire).saturating_add(quiet) <= now_ms()
                })
                .is_some()
                || !self.pending.contains_key(key)
            {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Source;

    #[tokio::test]
    async fn quick_messages_share_one_window() {
        let d = Arc::new(Debouncer::new(Duration::from_millis(80)));
        let key = DialogKey::new(Source::Chatwoot, "shop", "7");
        let slot = d.touch(&key).expect("first message opens a window");
        let started = std::time::Instant::now();
        let d2 = d.clone();
        let k2 = key.clone();
        let settled = tokio::spawn(async move { d2.settle(&k2, slot).await });
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert!(d.touch(&key).is_none(), "a window is open");
        }
        settled.await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(170));
        assert!(
            d.touch(&key).is_some(),
            "a later message opens a new window"
        );
    }
}
