//! The in-process load generator: a fixed number of keep-alive connections each sending its
//! next request as soon as the previous one is answered (closed loop, for maximum
//! throughput), or requests sent on a fixed schedule (open loop, for latency at a given load,
//! measured from the scheduled send time so a stalled server is not hidden).

use super::stats::{Latencies, micros};
use futures::future::BoxFuture;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// What one request reports beside its latency.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// Time the server says it spent waiting for plugins (from `Server-Timing`), when it
    /// says so: the host's own overhead is the latency minus this.
    pub plugin_time: Option<Duration>,
}

/// One request of a load test, given its sequence number. An `Err` is a failed request (its
/// text is kept for the report).
pub type Job = Arc<dyn Fn(u64) -> BoxFuture<'static, Result<Outcome, String>> + Send + Sync>;

/// The result of one load run.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    /// Requests answered as expected.
    pub completed: u64,
    /// Requests that failed.
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latency of every successful request.
    pub latencies: Latencies,
    /// Latency minus reported plugin time, for requests that reported one.
    pub overheads: Latencies,
}

impl LoadResult {
    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        if self.elapsed.is_zero() {
            0.0
        } else {
            self.completed as f64 / self.elapsed.as_secs_f64()
        }
    }
}

/// Samples gathered by the workers of one run.
#[derive(Default)]
struct Collector {
    latencies: Vec<u32>,
    overheads: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

impl Collector {
    fn record(&mut self, latency: Duration, result: Result<Outcome, String>) {
        match result {
            Ok(outcome) => {
                self.latencies.push(micros(latency));
                if let Some(p) = outcome.plugin_time {
                    self.overheads.push(micros(latency.saturating_sub(p)));
                }
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }

    fn merge(&mut self, other: Collector) {
        self.latencies.extend(other.latencies);
        self.overheads.extend(other.overheads);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn finish(self, elapsed: Duration) -> LoadResult {
        LoadResult {
            completed: self.latencies.len() as u64,
            errors: self.errors,
            first_error: self.first_error,
            elapsed,
            latencies: Latencies::from_micros(self.latencies),
            overheads: Latencies::from_micros(self.overheads),
        }
    }
}

/// When a closed-loop run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// After this long.
    After(Duration),
    /// After this many requests (sequence numbers `0..n`).
    Count(u64),
}

/// Runs `concurrency` workers until `stop`, each sending its next request when the last one
/// is answered. Sequence numbers start at `first`.
pub async fn closed_loop(concurrency: usize, stop: Stop, first: u64, job: Job) -> LoadResult {
    let seq = Arc::new(AtomicU64::new(first));
    let start = Instant::now();
    let (end, last) = match stop {
        Stop::After(d) => (Some(start + d), u64::MAX),
        Stop::Count(n) => (None, first.saturating_add(n)),
    };
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let (seq, job) = (seq.clone(), job.clone());
        workers.push(tokio::spawn(async move {
            let mut local = Collector::default();
            while end.is_none_or(|end| Instant::now() < end) {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                if n >= last {
                    break;
                }
                let t = Instant::now();
                let result = job(n).await;
                local.record(t.elapsed(), result);
            }
            local
        }));
    }
    let mut all = Collector::default();
    for w in workers {
        if let Ok(local) = w.await {
            all.merge(local);
        }
    }
    all.finish(start.elapsed())
}

/// Sends `rate` requests per second for `duration` on a fixed schedule, at most `max_in_flight`
/// at once (a request over that waits, and its wait counts in its latency). Sequence numbers
/// start at `first`.
pub async fn open_loop(
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    first: u64,
    job: Job,
) -> LoadResult {
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let total = (duration.as_secs_f64() * rate.max(1.0)).ceil() as u64;
    let permits = Arc::new(tokio::sync::Semaphore::new(max_in_flight.max(1)));
    let collector = Arc::new(Mutex::new(Collector::default()));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        let scheduled = start + interval.mul_f64(n as f64);
        tokio::time::sleep_until(scheduled).await;
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let (job, collector) = (job.clone(), collector.clone());
        tasks.push(tokio::spawn(async move {
            let result = job(first + n).await;
            let latency = scheduled.elapsed();
            drop(permit);
            collector.lock().record(latency, result);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed();
    let collector = std::mem::take(&mut *collector.lock());
    collector.finish(elapsed)
}

/// Reads the plugin time from a `Server-Timing` value (`plugins;dur=<ms>`), when present.
pub fn server_timing_plugins(value: Option<&str>) -> Option<Duration> {
    for metric in value?.split(',') {
        let mut parts = metric.split(';').map(str::trim);
        if parts.next() != Some("plugins") {
            continue;
        }
        for p in parts {
            if let Some(ms) = p.strip_prefix("dur=").and_then(|v| v.parse::<f64>().ok())
                && ms.is_finite()
                && ms >= 0.0
            {
                return Some(Duration::from_secs_f64(ms / 1000.0));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_plugins_is_read() {
        assert_eq!(
            server_timing_plugins(Some("db;dur=1.5, plugins;desc=\"wasm\";dur=2.25")),
            Some(Duration::from_micros(2250))
        );
        assert_eq!(server_timing_plugins(Some("plugins;dur=-1")), None);
        assert_eq!(server_timing_plugins(None), None);
    }

    #[tokio::test]
    async fn closed_loop_counts_successes_and_errors() {
        let job: Job = Arc::new(|n| {
            Box::pin(async move {
                if n % 2 == 0 {
                    Ok(Outcome::default())
                } else {
                    Err(format!("odd {n}"))
                }
            })
        });
        let r = closed_loop(2, Stop::After(Duration::from_millis(50)), 0, job.clone()).await;
        assert!(r.completed > 0 && r.errors > 0);
        assert!(r.first_error.unwrap().starts_with("odd"));
        let r = closed_loop(3, Stop::Count(10), 100, job).await;
        assert_eq!((r.completed, r.errors), (5, 5));
    }

    #[tokio::test]
    async fn open_loop_sends_on_schedule() {
        let job: Job = Arc::new(|_| {
            Box::pin(async {
                Ok(Outcome {
                    plugin_time: Some(Duration::ZERO),
                })
            })
        });
        let r = open_loop(200.0, Duration::from_millis(100), 4, 0, job).await;
        assert_eq!(r.completed, 20);
        assert_eq!(r.overheads.len(), 20);
    }
}
