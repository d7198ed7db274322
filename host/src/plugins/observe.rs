//! `observe` delivery queues: each plugin has its own bounded queue and its own worker, so a
//! slow plugin delays and drops only its own events, never another plugin's. Events are
//! delivered to a plugin in the order they were ingested.

use super::types::ConversationEvent;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// One plugin's queue of events waiting for its `observe`.
pub type ObserveReceiver = mpsc::Receiver<Arc<ConversationEvent>>;

/// The queues of the loaded plugins, by name.
pub struct ObserveQueues {
    size: usize,
    by_plugin: parking_lot::RwLock<HashMap<String, mpsc::Sender<Arc<ConversationEvent>>>>,
}

impl ObserveQueues {
    /// No queues yet; each will hold `size` events.
    pub fn new(size: usize) -> Self {
        ObserveQueues {
            size: size.max(1),
            by_plugin: parking_lot::RwLock::default(),
        }
    }

    /// Queues `event` for every plugin; never waits. `full` is told each plugin whose queue
    /// had no room (the event is dropped for that plugin only).
    pub fn send(&self, event: ConversationEvent, mut full: impl FnMut(&str)) {
        let event = Arc::new(event);
        for (plugin, tx) in self.by_plugin.read().iter() {
            if tx.try_send(event.clone()).is_err() {
                full(plugin);
            }
        }
    }

    /// Whether any plugin has a queue.
    pub fn any(&self) -> bool {
        !self.by_plugin.read().is_empty()
    }

    /// Makes the queues those of `plugins`: a plugin new here gets a queue, whose receiving
    /// end `start` gets to serve; a plugin gone loses its queue, and its worker ends once it
    /// has drained what was queued.
    pub fn sync<'a>(
        &self,
        plugins: impl Iterator<Item = &'a str>,
        mut start: impl FnMut(String, ObserveReceiver),
    ) {
        let mut by_plugin = self.by_plugin.write();
        let mut kept = HashMap::with_capacity(by_plugin.len());
        for name in plugins {
            let tx = match by_plugin.remove(name) {
                Some(tx) => tx,
                None => {
                    let (tx, rx) = mpsc::channel(self.size);
                    start(name.to_string(), rx);
                    tx
                }
            };
            kept.insert(name.to_string(), tx);
        }
        *by_plugin = kept;
    }
}
