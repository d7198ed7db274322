//! Call outcomes per plugin: exported through the `metrics` crate
//! (`hintd_plugin_calls_total{plugin,outcome}`, `hintd_plugin_call_duration_seconds{plugin}`,
//! `hintd_plugin_observe_dropped_total{plugin}`) and kept as an in-process snapshot for the API.

use super::latency::LatencyHistogram;
use dashmap::DashMap;
use parking_lot::Mutex;
use serde::Serialize;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How one call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered within limits.
    Ok,
    /// Answered with a provider error.
    Error,
    /// Passed its deadline.
    Timeout,
    /// Trapped, or could not be instantiated.
    Trap,
    /// Ran out of memory.
    Oom,
    /// Answered, but over the output limits.
    Rejected,
    /// Not called: circuit open.
    Skipped,
    /// Not called: the plugin had too many calls running and waiting.
    Busy,
}

impl Outcome {
    /// Every outcome, in declaration order.
    pub const ALL: [Outcome; 8] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Timeout,
        Outcome::Trap,
        Outcome::Oom,
        Outcome::Rejected,
        Outcome::Skipped,
        Outcome::Busy,
    ];

    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Trap => "trap",
            Outcome::Oom => "oom",
            Outcome::Rejected => "rejected",
            Outcome::Skipped => "skipped",
            Outcome::Busy => "busy",
        }
    }

    /// Whether the call was made (not skipped before reaching the plugin).
    fn made(self) -> bool {
        !matches!(self, Outcome::Skipped | Outcome::Busy)
    }
}

/// One plugin's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PluginStats {
    /// The plugin.
    pub plugin: String,
    /// Calls that answered.
    pub ok: u64,
    /// Calls that answered with a provider error.
    pub error: u64,
    /// Calls past their deadline.
    pub timeout: u64,
    /// Calls that trapped or could not instantiate.
    pub trap: u64,
    /// Calls that ran out of memory.
    pub oom: u64,
    /// Answers refused for breaking output limits.
    pub rejected: u64,
    /// Calls skipped while the circuit was open.
    pub skipped: u64,
    /// Calls skipped because too many of the plugin's calls were running and waiting.
    pub busy: u64,
    /// Events dropped because the plugin's `observe` queue was full.
    pub observe_dropped: u64,
    /// Mean latency of the calls made (skipped excluded), microseconds.
    pub mean_latency_us: u64,
    /// Slowest call, microseconds.
    pub max_latency_us: u64,
    /// Median latency of the calls made, microseconds (within 25 %, erring high).
    pub p50_latency_us: u64,
    /// 99th-percentile latency of the calls made, microseconds (within 25 %, erring high).
    pub p99_latency_us: u64,
    /// Whether the circuit breaker currently skips the plugin's `suggest`.
    pub circuit_open: bool,
    /// The functions whose circuit is open now.
    pub open_circuits: Vec<&'static str>,
    /// Whether its calls start on the guest threads now (a recent call outlived its first
    /// slice on the caller's thread).
    pub offloaded: bool,
}

#[derive(Default)]
struct Counters {
    stats: PluginStats,
    latency_sum_us: u64,
    made: u64,
    latency: LatencyHistogram,
}

/// One plugin's metric handles, resolved once: the `metrics!` macros would allocate the label
/// and look the series up on every call.
struct Meters {
    /// `hintd_plugin_calls_total{plugin, outcome}`, indexed by [`Outcome`].
    calls: [metrics::Counter; Outcome::ALL.len()],
    /// `hintd_plugin_call_duration_seconds{plugin}`.
    duration: metrics::Histogram,
    /// `hintd_plugin_observe_dropped_total{plugin}`.
    observe_dropped: metrics::Counter,
}

impl Meters {
    fn new(plugin: &str) -> Meters {
        Meters {
            calls: Outcome::ALL.map(|o| {
                metrics::counter!("hintd_plugin_calls_total", "plugin" => plugin.to_string(), "outcome" => o.as_str())
            }),
            duration: metrics::histogram!("hintd_plugin_call_duration_seconds", "plugin" => plugin.to_string()),
            observe_dropped: metrics::counter!("hintd_plugin_observe_dropped_total", "plugin" => plugin.to_string()),
        }
    }
}

/// One plugin's counters. A loaded plugin holds its own handle, so a call counts its outcome
/// without looking the plugin up by name.
pub struct PluginCounters {
    plugin: String,
    /// Resolved on the first call rather than at load: plugins load before the process
    /// installs its metrics recorder, and a handle taken earlier would count into nothing.
    meters: OnceLock<Meters>,
    counters: Mutex<Counters>,
}

impl PluginCounters {
    /// Counts one call.
    pub fn record(&self, outcome: Outcome, took: Duration) {
        let meters = self.meters.get_or_init(|| Meters::new(&self.plugin));
        meters.calls[outcome as usize].increment(1);
        if outcome.made() {
            meters.duration.record(took.as_secs_f64());
        }
        let mut c = self.counters.lock();
        let s = &mut c.stats;
        match outcome {
            Outcome::Ok => s.ok += 1,
            Outcome::Error => s.error += 1,
            Outcome::Timeout => s.timeout += 1,
            Outcome::Trap => s.trap += 1,
            Outcome::Oom => s.oom += 1,
            Outcome::Rejected => s.rejected += 1,
            Outcome::Skipped => s.skipped += 1,
            Outcome::Busy => s.busy += 1,
        }
        if outcome.made() {
            let us = took.as_micros().min(u128::from(u64::MAX)) as u64;
            c.latency_sum_us = c.latency_sum_us.saturating_add(us);
            c.made += 1;
            c.stats.max_latency_us = c.stats.max_latency_us.max(us);
            c.latency.record(us);
        }
    }

    /// Counts one event dropped from the plugin's full `observe` queue.
    pub fn observe_dropped(&self) {
        let meters = self.meters.get_or_init(|| Meters::new(&self.plugin));
        meters.observe_dropped.increment(1);
        self.counters.lock().stats.observe_dropped += 1;
    }
}

/// All plugins' counters, by plugin name; kept across reloads, so a new version of a plugin
/// goes on counting where the old one stopped.
#[derive(Default)]
pub struct Stats {
    by_plugin: DashMap<String, Arc<PluginCounters>>,
}

impl Stats {
    /// The counters of `plugin`, created on first use.
    pub fn of(&self, plugin: &str) -> Arc<PluginCounters> {
        self.by_plugin
            .entry(plugin.to_string())
            .or_insert_with(|| {
                Arc::new(PluginCounters {
                    plugin: plugin.to_string(),
                    meters: OnceLock::new(),
                    counters: Mutex::default(),
                })
            })
            .clone()
    }

    /// A snapshot, one entry per plugin that was ever loaded, sorted by name.
    pub fn snapshot(&self) -> Vec<PluginStats> {
        let mut out: Vec<PluginStats> = self
            .by_plugin
            .iter()
            .map(|e| {
                let c = e.counters.lock();
                let mut s = c.stats.clone();
                s.plugin = e.key().clone();
                s.mean_latency_us = c.latency_sum_us.checked_div(c.made).unwrap_or(0);
                s.p50_latency_us = c.latency.quantile(0.5).min(s.max_latency_us);
                s.p99_latency_us = c.latency.quantile(0.99).min(s.max_latency_us);
                s
            })
            .collect();
        out.sort_by(|a, b| a.plugin.cmp(&b.plugin));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_outcome() {
        let s = Stats::default();
        s.of("a").record(Outcome::Ok, Duration::from_micros(10));
        s.of("a")
            .record(Outcome::Timeout, Duration::from_micros(30));
        s.of("a").record(Outcome::Skipped, Duration::ZERO);
        let snap = s.snapshot();
        assert_eq!(snap.len(), 1);
        assert_eq!((snap[0].ok, snap[0].timeout, snap[0].skipped), (1, 1, 1));
        assert_eq!(snap[0].mean_latency_us, 20);
        assert_eq!(snap[0].max_latency_us, 30);
    }

    #[test]
    fn all_outcomes_index_their_own_meter() {
        for (i, o) in Outcome::ALL.iter().enumerate() {
            assert_eq!(*o as usize, i, "{o:?}");
        }
    }
}
