//! What one connection is doing — waiting for a request, receiving a request head, or
//! serving requests — and so which deadline applies to it and whether it may be evicted.
//!
//! The connection's reads, its requests and its responses report here (see `tracked`); the
//! connection's task asks [`Activity::due`] when to look again and whether to close.

use super::limits::Limits;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// `head_started_ms` when no head is being received.
const NO_HEAD: u64 = u64::MAX;

/// Why a connection is closed before its client closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CloseReason {
    /// No request for `idle_timeout`.
    Idle,
    /// A request head still incomplete `header_read_timeout` after its first byte.
    HeaderTimeout,
}

impl CloseReason {
    /// The metric label.
    pub(super) fn label(self) -> &'static str {
        match self {
            CloseReason::Idle => "idle",
            CloseReason::HeaderTimeout => "header_timeout",
        }
    }
}

/// What the connection's task should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Due {
    /// Look again after this long (a deadline, or a periodic look while requests run).
    LookAgainIn(Duration),
    /// Close now.
    Close(CloseReason),
}

/// One connection's activity. Shared by its task, its I/O, its requests and the registry.
pub(super) struct Activity {
    /// The registry's clock origin: every `_ms` below counts from it.
    epoch: Instant,
    /// Requests whose response has not been fully sent.
    in_flight: AtomicU32,
    /// When the connection last started waiting (accepted, or its last response sent).
    waiting_since_ms: AtomicU64,
    /// When the first byte of the head being received arrived; [`NO_HEAD`] when none is.
    head_started_ms: AtomicU64,
    /// Wakes the task when a head starts: its deadline is nearer than the idle one.
    head_began: Notify,
    /// Asks the task to close the connection at once (eviction).
    evicted: Notify,
}

impl Activity {
    /// A connection accepted now.
    pub(super) fn new(epoch: Instant) -> Activity {
        let activity = Activity {
            epoch,
            in_flight: AtomicU32::new(0),
            waiting_since_ms: AtomicU64::new(0),
            head_started_ms: AtomicU64::new(NO_HEAD),
            head_began: Notify::new(),
            evicted: Notify::new(),
        };
        activity
            .waiting_since_ms
            .store(activity.now_ms(), Ordering::Relaxed);
        activity
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Bytes arrived from the client. Between requests, they start a head.
    pub(super) fn on_read(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_started_ms.load(Ordering::Relaxed) == NO_HEAD
        {
            self.head_started_ms.store(self.now_ms(), Ordering::Relaxed);
            self.head_began.notify_one();
        }
    }

    /// A request head is complete and its request starts.
    pub(super) fn on_request(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started_ms.store(NO_HEAD, Ordering::Relaxed);
    }

    /// A request's response was sent (or the request abandoned).
    pub(super) fn on_response_done(&self) {
        // Stamp first: a connection seen idle must never carry an old waiting time.
        self.waiting_since_ms
            .store(self.now_ms(), Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    /// Since when the connection waits without a request in progress (ms on the registry's
    /// clock); `None` while a request is in progress. Evicting the longest waiter first
    /// spares connections that are being served.
    pub(super) fn waiting_since_ms(&self) -> Option<u64> {
        (self.in_flight.load(Ordering::Acquire) == 0)
            .then(|| self.waiting_since_ms.load(Ordering::Relaxed))
    }

    /// Which deadline applies now.
    pub(super) fn due(&self, limits: &Limits) -> Due {
        self.due_at(limits, self.now_ms())
    }

    fn due_at(&self, limits: &Limits, now_ms: u64) -> Due {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            // No deadline while serving; look again when an idle one could fall due.
            return Due::LookAgainIn(limits.idle_timeout);
        }
        let head_started = self.head_started_ms.load(Ordering::Relaxed);
        let (since, limit, reason) = if head_started != NO_HEAD {
            (
                head_started,
                limits.header_read_timeout,
                CloseReason::HeaderTimeout,
            )
        } else {
            (
                self.waiting_since_ms.load(Ordering::Relaxed),
                limits.idle_timeout,
                CloseReason::Idle,
            )
        };
        let deadline = since.saturating_add(limit.as_millis() as u64);
        if now_ms >= deadline {
            Due::Close(reason)
        } else {
            Due::LookAgainIn(Duration::from_millis(deadline - now_ms))
        }
    }

    /// Resolves when a head starts (after the last look).
    pub(super) async fn head_began(&self) {
        self.head_began.notified().await
    }

    /// Asks the connection's task to close the connection.
    pub(super) fn evict(&self) {
        self.evicted.notify_one();
    }

    /// Resolves once the connection was evicted.
    pub(super) async fn evicted(&self) {
        self.evicted.notified().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_connections: 10,
            header_read_timeout: Duration::from_millis(1_000),
            idle_timeout: Duration::from_millis(5_000),
            max_header_bytes: 16 * 1024,
            body_read_timeout: Duration::from_millis(30_000),
        }
    }

    #[test]
    fn each_phase_has_its_deadline() {
        let a = Activity::new(Instant::now());
        let l = limits();
        a.waiting_since_ms.store(0, Ordering::Relaxed);
        // Waiting: the idle deadline.
        assert_eq!(
            a.due_at(&l, 4_000),
            Due::LookAgainIn(Duration::from_secs(1))
        );
        assert_eq!(a.due_at(&l, 5_000), Due::Close(CloseReason::Idle));
        // A head's first byte: the header deadline, counted from that byte.
        a.head_started_ms.store(4_500, Ordering::Relaxed);
        assert_eq!(
            a.due_at(&l, 5_000),
            Due::LookAgainIn(Duration::from_millis(500))
        );
        assert_eq!(a.due_at(&l, 5_500), Due::Close(CloseReason::HeaderTimeout));
        // Serving: no deadline, and not evictable.
        a.on_request();
        assert_eq!(a.due_at(&l, 60_000), Due::LookAgainIn(l.idle_timeout));
        assert_eq!(a.waiting_since_ms(), None);
        // Bytes during a request do not start a head (pipelining).
        a.on_read();
        assert_eq!(a.head_started_ms.load(Ordering::Relaxed), NO_HEAD);
        a.on_response_done();
        let since = a.waiting_since_ms().expect("waiting again");
        assert_eq!(
            a.due_at(&l, since + 1_000),
            Due::LookAgainIn(Duration::from_secs(4))
        );
        // The next request's first byte starts its head.
        a.on_read();
        assert_ne!(a.head_started_ms.load(Ordering::Relaxed), NO_HEAD);
    }
}
