//! The open connections, at most `max_connections` of them. At the limit a new connection
//! takes the place of those that have waited longest without a request in progress (idle
//! ones, or ones still sending a head): a flood of idle or slow clients can then never
//! keep a real request out. Only when every connection is being served is the newcomer
//! turned away.

use super::activity::Activity;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::Notify;

/// Every open connection.
pub(super) struct Connections {
    limit: usize,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Activity>>>,
    /// Notified whenever the last connection closes.
    drained: Notify,
}

/// A connection's place among the open ones; dropping it gives the place back.
pub(super) struct Slot {
    connections: Arc<Connections>,
    id: u64,
    /// The connection's activity.
    pub(super) activity: Arc<Activity>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.connections.open.lock();
        open.remove(&self.id);
        if open.is_empty() {
            self.connections.drained.notify_waiters();
        }
        metrics::gauge!("hintd_http_connections_open").set(open.len() as f64);
    }
}

impl Connections {
    /// An empty registry of at most `limit` connections.
    pub(super) fn new(limit: usize) -> Arc<Connections> {
        Arc::new(Connections {
            limit: limit.max(1),
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            drained: Notify::new(),
        })
    }

    /// A place for a newly accepted connection, evicting waiting connections when the
    /// registry is full; `None` when it is full of connections being served.
    pub(super) fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut open = self.open.lock();
        if open.len() >= self.limit && evict_longest_waiting(&mut open, self.batch()) == 0 {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new(self.epoch));
        open.insert(id, activity.clone());
        metrics::gauge!("hintd_http_connections_open").set(open.len() as f64);
        Some(Slot {
            connections: self.clone(),
            id,
            activity,
        })
    }

    /// Evicts waiting connections to give back file descriptors (the process ran out of
    /// them); returns how many were asked to close.
    pub(super) fn shed(&self) -> usize {
        let mut open = self.open.lock();
        evict_longest_waiting(&mut open, self.batch())
    }

    /// Connections evicted at once when room is needed: one scan of the registry then
    /// serves a batch of newcomers (under a flood, one scan per accept would cost
    /// `limit` per connection).
    fn batch(&self) -> usize {
        (self.limit / 64).clamp(1, 256)
    }

    /// Open connections.
    pub(super) fn len(&self) -> usize {
        self.open.lock().len()
    }

    /// Resolves once no connection is open.
    pub(super) async fn drained(&self) {
        loop {
            let notified = self.drained.notified();
            if self.open.lock().is_empty() {
                return;
            }
            notified.await;
        }
    }
}

/// Removes up to `n` of the connections that have waited longest and asks them to close.
fn evict_longest_waiting(open: &mut HashMap<u64, Arc<Activity>>, n: usize) -> usize {
    let mut waiting: Vec<(u64, u64)> = open
        .iter()
        .filter_map(|(id, a)| a.waiting_since_ms().map(|since| (since, *id)))
        .collect();
    let n = n.min(waiting.len());
    if n == 0 {
        return 0;
    }
    if n < waiting.len() {
        waiting.select_nth_unstable(n - 1);
    }
    for (_, id) in &waiting[..n] {
        if let Some(activity) = open.remove(id) {
            activity.evict();
        }
    }
    metrics::counter!("hintd_http_connections_closed_total", "reason" => "evicted")
        .increment(n as u64);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_waiter_makes_room_and_served_connections_stay() {
        let c = Connections::new(2);
        let first = c.admit().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let second = c.admit().unwrap();
        second.activity.on_request();
        // Full: the waiting one (first) is evicted, the served one stays.
        let third = c.admit().unwrap();
        assert_eq!(c.len(), 2);
        assert!(!c.open.lock().contains_key(&first.id));
        assert!(c.open.lock().contains_key(&second.id));
        third.activity.on_request();
        // Full of served connections: the newcomer is turned away.
        assert!(c.admit().is_none());
        drop(first);
        assert_eq!(c.len(), 2, "an evicted slot was already given back");
        drop(third);
        assert!(c.admit().is_some());
    }
}
