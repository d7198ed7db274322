//! Per-plugin admission: at most `max_concurrent_calls` calls of one plugin run at once, at
//! most `max_queued_calls` wait for a slot, and a waiting call gives up at its deadline. A
//! plugin that hangs or spins therefore holds a bounded number of guest threads' turns and
//! never builds an unbounded queue; its excess calls are skipped and counted as `busy`.

use super::error::CallError;
use dashmap::DashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The gates of every plugin, by name; kept across reloads, so calls of an old version still
/// running count against the new version's slots.
pub struct Gates {
    max_running: usize,
    max_waiting: usize,
    by_plugin: DashMap<String, Arc<Gate>>,
}

impl Gates {
    /// Gates letting `max_running` calls run and `max_waiting` wait, per plugin.
    pub fn new(max_running: usize, max_waiting: usize) -> Self {
        Gates {
            max_running: max_running.max(1),
            max_waiting,
            by_plugin: DashMap::new(),
        }
    }

    /// The gate of `plugin`, created on first use.
    pub fn of(&self, plugin: &str) -> Arc<Gate> {
        self.by_plugin
            .entry(plugin.to_string())
            .or_insert_with(|| {
                Arc::new(Gate {
                    slots: Arc::new(Semaphore::new(self.max_running)),
                    waiting: AtomicUsize::new(0),
                    max_waiting: self.max_waiting,
                })
            })
            .clone()
    }
}

/// One plugin's gate.
pub struct Gate {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// A running call's slot; the slot frees when this is dropped (where the guest work ends).
pub type Slot = OwnedSemaphorePermit;

impl Gate {
    /// A slot for one call: at once when one is free, else after waiting in the queue until
    /// `deadline`. [`CallError::Busy`] when the queue is full or the deadline passes first.
    pub async fn enter(&self, deadline: Instant) -> Result<Slot, CallError> {
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            return Ok(slot);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(CallError::Busy);
        }
        // Counted out however the wait ends, including the caller giving up.
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout_at(deadline.into(), self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(slot),
            _ => Err(CallError::Busy),
        }
    }
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn bounds_running_and_waiting_calls() {
        let gates = Gates::new(2, 1);
        let gate = gates.of("p");
        let far = Instant::now() + Duration::from_secs(60);
        let a = gate.enter(far).await.unwrap();
        let _b = gate.enter(far).await.unwrap();
        // The third waits; a fourth finds the queue full and is refused at once.
        let g = gate.clone();
        let third = tokio::spawn(async move { g.enter(far).await.map(drop) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(gate.enter(far).await.unwrap_err(), CallError::Busy);
        drop(a);
        third.await.unwrap().unwrap();
        // A wait ends at the call's deadline.
        let _c = gate.enter(far).await.unwrap();
        let soon = Instant::now() + Duration::from_millis(10);
        assert_eq!(gate.enter(soon).await.unwrap_err(), CallError::Busy);
        assert!(Arc::ptr_eq(&gate, &gates.of("p")));
    }
}
